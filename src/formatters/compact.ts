/** `path:line:col: severity: message [rule-id]`, one line per problem (gcc/actionlint style). */
import type { Formatter } from './types.js';

export const compact: Formatter = (results) => {
  let out = '';
  for (const r of results) {
    for (const m of r.messages) {
      out += `${r.relativePath}:${m.line}:${m.column}: ${m.severity}: ${m.message.replace(/\r?\n/g, ' ')} [${m.ruleId}]\n`;
    }
  }
  return out;
};
