/** Text and JSON renderings of an Explanation. */
import { partialLines } from './partial.js';
import { fmtLoc, statusText } from './common.js';
import { causeTitle } from './causes.js';
import type { Explanation, PossibleOutcome } from './types.js';

/** ` (N12 directory index forbidden: …)`: the catalog id and its title (docs/403-causes.md), as in the verdict. */
function causeText(p: PossibleOutcome): string {
  if (!p.cause) return '';
  return ` (${`${p.cause} ${p.causeTitle ?? causeTitle(p.cause) ?? ''}`.trimEnd()})`;
}

/** Outcomes the status already says. */
const OBVIOUS = new Set(['forbidden', 'not-found', 'unauthorized', 'method-not-allowed', 'server-error', 'bad-request', 'gone']);

export function renderJson(e: Explanation): string {
  return JSON.stringify(e, null, 2) + '\n';
}

export interface TextStyle {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
}

export const PLAIN: TextStyle = { bold: (s) => s, dim: (s) => s, red: (s) => s, green: (s) => s, yellow: (s) => s };

export function renderText(e: Explanation, style: TextStyle = PLAIN): string {
  const out: string[] = [];
  const paint = e.status === 403 ? style.red : e.status === null ? style.yellow : e.status >= 400 ? style.yellow : style.green;
  out.push(paint(style.bold(e.verdict)));
  const q = e.request;
  const from = `from ${q.clientIp}${q.clientIpDefaulted ? ' (default)' : ''}`;
  const host = q.host ? `host ${q.host}${q.hostFrom === 'default' ? ' (default)' : ''}` : 'no Host';
  out.push(
    style.dim(
      `${e.server} ${e.config}: ${q.method} ${q.target} ${host}${q.port ? ` port ${q.port}` : ''} ${from}${q.user ? ` as user ${q.user}` : ''}`,
    ),
  );
  if (e.partial) {
    for (const l of partialLines(e.partial)) out.push(style.yellow(l));
  }
  out.push('');
  out.push(style.bold(e.traceAssumes.length ? `Trace (of one possibility: ${e.traceAssumes.join(', ')}):` : 'Trace:'));
  const width = String(e.trace.length).length;
  for (const s of e.trace) {
    const loc = s.at ? fmtLoc(s.at) + '  ' : '';
    const mark = s.decisive ? style.bold('  ← decided') : '';
    out.push(`${String(s.n).padStart(width)}. ${style.dim(loc)}[${s.phase}] ${s.message}${mark}`);
    for (const d of s.details ?? []) out.push(`${' '.repeat(width + 2)}   ${style.dim(d)}`);
  }
  if (e.possibleOutcomes.length) {
    out.push('');
    out.push(style.bold('Possible outcomes:'));
    for (const p of e.possibleOutcomes) {
      const kind = OBVIOUS.has(p.outcome) ? '' : ` (${p.outcome})`;
      out.push(`  - ${statusText(p.status)}${kind}${causeText(p)}${p.when.length ? ` if ${p.when.join(' and ')}` : ''}`);
    }
  }
  if (e.mayAlso.length) {
    out.push('');
    out.push(style.bold('Also possible:'));
    for (const p of e.mayAlso) out.push(`  - ${statusText(p.status)}${causeText(p)} when ${p.when.join(' and ')}`);
  }
  if (e.suggestions.length) {
    out.push('');
    out.push(style.bold('What would change the answer:'));
    for (const s of e.suggestions) out.push(`  - ${s}`);
  }
  const sections: [string, string[]][] = [
    ['Not known:', e.unknowns],
    ['Assumed:', e.assumptions],
    ['Config problems:', e.configErrors],
  ];
  for (const [title, items] of sections) {
    if (!items.length) continue;
    out.push('');
    out.push(style.bold(title));
    for (const n of items) out.push(`  - ${n}`);
  }
  return out.join('\n') + '\n';
}
