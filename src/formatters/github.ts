/**
 * GitHub Actions workflow commands (`::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::msg`),
 * escaped as actions/toolkit does, then the stylish report: GitHub shows at most 10 annotations of
 * each level per step, so everything is also in the log.
 */
import { stylish } from './stylish.js';
import type { Formatter } from './types.js';

export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export const github: Formatter = (results, ctx) => {
  let out = '';
  for (const r of results) {
    for (const m of r.messages) {
      const cmd = m.severity === 'error' ? 'error' : m.severity === 'warning' ? 'warning' : 'notice';
      const props = [`file=${escapeProperty(r.relativePath)}`, `line=${m.line}`, `endLine=${m.endLine}`];
      if (m.line === m.endLine) props.push(`col=${m.column}`, `endColumn=${m.endColumn}`);
      else props.push(`col=${m.column}`);
      props.push(`title=${escapeProperty(m.ruleId)}`);
      out += `::${cmd} ${props.join(',')}::${escapeData(`${m.message} [${m.ruleId}]`)}\n`;
    }
  }
  return out + stylish(results, ctx);
};
