/**
 * ESLint's default layout: a block per file with problems (path, then aligned rows
 * `line:col  severity  message  rule-id`), a summary line, and a "fixable" line. Nothing at all
 * when there is no problem. Colour only when `ctx.color` (the CLI decides: TTY, NO_COLOR, FORCE_COLOR).
 */
import type { Colors } from 'picocolors/types.js';
import { lazy } from '../lazy.js';
import type { Formatter } from './types.js';

// picocolors reads process.stdout.isTTY when it loads, which creates node's stdout stream (~10 % of
// a small run): loaded only for colour, when the CLI has found a terminal (src/cli.ts fdOutput)
const picocolors = lazy<typeof import('picocolors')>('picocolors');
const noColors = new Proxy({} as Colors, { get: () => String });

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Visible width (ANSI codes do not count). */
function width(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}

export const stylish: Formatter = (results, ctx) => {
  const c = ctx.color ? picocolors().createColors(true) : noColors;
  let out = '';
  let errors = 0;
  let warnings = 0;
  let infos = 0;
  let fixErrors = 0;
  let fixWarnings = 0;
  for (const r of results) {
    if (r.messages.length === 0) continue;
    errors += r.errorCount;
    warnings += r.warningCount;
    infos += r.infoCount;
    fixErrors += r.fixableErrorCount;
    fixWarnings += r.fixableWarningCount;
    const rows = r.messages.map((m) => [
      String(m.line),
      String(m.column),
      m.severity === 'error' ? c.red('error') : m.severity === 'warning' ? c.yellow('warning') : c.blue('info'),
      m.message.replace(/([^ ])\.$/, '$1').replace(/\r?\n/g, ' '),
      c.dim(m.ruleId),
    ]);
    const w = [0, 0, 0, 0];
    for (const row of rows) for (let i = 0; i < 4; i++) w[i] = Math.max(w[i], width(row[i]));
    out += `${c.underline(r.relativePath)}\n`;
    for (const [line, col, sev, msg, rule] of rows) {
      const pos = c.dim(`${' '.repeat(w[0] - line.length)}${line}:${col}`) + ' '.repeat(w[1] - col.length);
      out += `  ${pos}  ${sev}${' '.repeat(w[2] - width(sev))}  ${msg}${' '.repeat(w[3] - width(msg))}  ${rule}\n`;
    }
    out += '\n';
  }
  const total = errors + warnings + infos;
  if (total === 0) return '';
  const parts = [plural(errors, 'error'), plural(warnings, 'warning')];
  if (infos > 0) parts.push(plural(infos, 'info'));
  const colour = errors > 0 ? c.red : warnings > 0 ? c.yellow : c.blue;
  out += colour(c.bold(`\u2716 ${plural(total, 'problem')} (${parts.join(', ')})\n`));
  if (fixErrors + fixWarnings > 0) {
    out += colour(
      c.bold(`  ${plural(fixErrors, 'error')} and ${plural(fixWarnings, 'warning')} potentially fixable with the \`--fix\` option.\n`),
    );
  }
  return out;
};
