/**
 * Inline suppressions: whole-line comments (Apache allows no trailing comment), plus a trailing
 * `# why403-disable-line` in nginx only.
 *
 *   # why403-disable-next-line rule-a, rule-b -- reason
 *   # why403-disable [rules] -- reason   …   # why403-enable [rules]
 *   deny all;  # why403-disable-line rule-a          (nginx)
 *
 * No rule list means every rule. `disable-next-line` applies to the next line that is neither blank
 * nor a whole-line comment (so several directives can be stacked). A `disable` without `enable`
 * runs to the end of the file. Suppressions act only in the file they stand in, and are applied
 * after all rules ran (rules never see them). Directives that suppressed nothing, or name an unknown
 * rule, are reported as `unused-suppression`; the unused ones carry a fix that deletes the comment
 * (or just the unused rule names). An Apache comment ending in `\` runs on over the next physical
 * line (httpd joins them): the fix deletes all its lines, and `disable-next-line` looks past them.
 */
import type { Comment, Node, ParsedFile, ServerKind } from './ast.js';
import type { Fix, ReportSeverity } from './rule.js';
import type { SourceFile } from './source.js';
import { UNUSED_SUPPRESSION, toLocation, type FileEntry, type LintMessage } from './linter.js';

export type DirectiveKind = 'disable' | 'enable' | 'disable-line' | 'disable-next-line';

export interface RuleRef {
  name: string;
  /** Offsets of the name in the file's text. */
  start: number;
  end: number;
  /** The offsets are not known exactly: no fix may remove the name alone. */
  noFix?: boolean;
}

export interface SuppressionDirective {
  kind: DirectiveKind;
  /** null: every rule. */
  rules: RuleRef[] | null;
  reason: string | null;
  comment: Comment;
  line: number;
  /** The line a line-level directive applies to (0 when there is none). */
  target: number;
  usedNames: Set<string>;
  usedAll: boolean;
}

export type UnusedMode = 'off' | 'warn' | 'error';

export interface SuppressOptions {
  knownRules: ReadonlySet<string>;
  reportUnused: UnusedMode;
  server?: ServerKind;
}

export interface SuppressResult {
  messages: LintMessage[];
  suppressed: Array<LintMessage & { suppressions: Array<{ kind: DirectiveKind; justification: string }> }>;
}

const DIRECTIVE_RE = /^\s*why403-(disable-next-line|disable-line|disable|enable)(?=\s|$)/;

/** Every comment of a tree (an explicit stack: nesting depth is unbounded in the input). */
export function collectComments(nodes: Node[], out: Comment[] = []): Comment[] {
  const stack: Node[][] = [nodes];
  while (stack.length > 0) {
    for (const n of stack.pop()!) {
      if (n.type === 'comment') out.push(n);
      else if (n.block) stack.push(n.block);
    }
  }
  return out;
}

function isBlankOrComment(src: SourceFile, line: number): boolean {
  const t = src.lineText(line).trim();
  return t === '' || t.startsWith('#');
}

/** Offsets in the file of each character of a comment's text (and one past its end), or null when
 * they cannot be found. An Apache comment ending in `\` takes in the next physical line: its text
 * holds the lines joined, without the `\` and the line break. */
export function commentTextOffsets(src: SourceFile, c: Comment): number[] | null {
  const base = c.span.start.offset + 1;
  const n = c.text.length;
  if (c.span.end.line === c.span.start.line) return Array.from({ length: n + 1 }, (_, i) => base + i);
  const text = src.text;
  const out: number[] = [];
  let j = base;
  const joint = (k: number) =>
    text.charCodeAt(k) === 92 && (text.charCodeAt(k + 1) === 10 || (text.charCodeAt(k + 1) === 13 && text.charCodeAt(k + 2) === 10));
  for (let i = 0; i < n; i++) {
    while (joint(j)) j += text.charCodeAt(j + 1) === 13 ? 3 : 2;
    if (text[j] !== c.text[i]) return null;
    out.push(j++);
  }
  out.push(j);
  return out;
}

/** Parse every `# why403-…` comment of a file. */
export function parseDirectives(parsed: ParsedFile): SuppressionDirective[] {
  const src = parsed.source;
  const out: SuppressionDirective[] = [];
  const comments = collectComments(parsed.nodes).sort((a, b) => a.span.start.offset - b.span.start.offset);
  // Lines that belong to a comment continued with `\` (Apache) are comment lines too.
  const continued = new Set<number>();
  for (const c of comments) for (let l = c.span.start.line + 1; l <= c.span.end.line; l++) continued.add(l);
  for (const c of comments) {
    const m = DIRECTIVE_RE.exec(c.text);
    if (!m) continue;
    const kind = m[1] as DirectiveKind;
    // Offsets of c.text's characters in the file (the comment span starts at '#').
    const at = commentTextOffsets(src, c);
    let rest = c.text.slice(m[0].length);
    let reason: string | null = null;
    const dash = /(?:^|\s)-{2,}(?:\s|$)/.exec(rest);
    if (dash) {
      reason = rest.slice(dash.index + dash[0].length).trim() || null;
      rest = rest.slice(0, dash.index);
    }
    const restStart = m[0].length;
    const rules: RuleRef[] = [];
    const nameRe = /[^\s,]+/g;
    let nm: RegExpExecArray | null;
    // Without offsets (never expected) a name points at the whole comment and gets no fix of its own.
    const off = (i: number) => (at ? at[i] : c.span.start.offset);
    const endOff = (i: number) => (at ? at[i - 1] + 1 : c.span.end.offset);
    while ((nm = nameRe.exec(rest))) {
      const i = restStart + nm.index;
      rules.push({ name: nm[0], start: off(i), end: endOff(i + nm[0].length), ...(at ? {} : { noFix: true }) });
    }
    const line = c.span.start.line;
    let target = 0;
    if (kind === 'disable-line') target = c.trailing ? line : 0;
    else if (kind === 'disable-next-line') {
      for (let l = c.span.end.line + 1; l <= src.lineCount; l++) {
        if (!isBlankOrComment(src, l) && !continued.has(l)) {
          target = l;
          break;
        }
      }
    }
    out.push({ kind, rules: rules.length ? rules : null, reason, comment: c, line, target, usedNames: new Set(), usedAll: false });
  }
  return out;
}

function covers(d: SuppressionDirective, rule: string): boolean {
  return d.rules === null || d.rules.some((r) => r.name === rule);
}

function markUsed(d: SuppressionDirective, rule: string): void {
  if (d.rules === null) d.usedAll = true;
  else d.usedNames.add(rule);
}

/** The directive that suppresses a finding, or null. */
function suppressor(dirs: SuppressionDirective[], m: LintMessage): SuppressionDirective | null {
  for (const d of dirs) {
    if ((d.kind === 'disable-line' || d.kind === 'disable-next-line') && d.target === m.line && covers(d, m.ruleId)) return d;
  }
  let by: SuppressionDirective | null = null;
  for (const d of dirs) {
    if (d.line >= m.line) break;
    if (d.kind === 'disable' && covers(d, m.ruleId)) by = d;
    else if (d.kind === 'enable' && covers(d, m.ruleId)) by = null;
  }
  return by;
}

/** The range that deletes a comment: its whole lines when it stands alone (every physical line of
 * an Apache comment continued with `\`), else the trailing part. */
export function commentDeletion(src: SourceFile, c: Comment): Fix {
  const text = src.text;
  if (c.trailing) {
    let s = c.span.start.offset;
    while (s > 0 && (text[s - 1] === ' ' || text[s - 1] === '\t')) s--;
    return { range: [s, c.span.end.offset], text: '' };
  }
  const starts = src.lineStarts;
  const from = starts[c.span.start.line - 1];
  const last = c.span.end.line;
  if (last < starts.length) return { range: [from, starts[last]], text: '' };
  // Last line without a terminator: take the preceding line break instead.
  let s = from;
  if (s > 0 && text[s - 1] === '\n') s--;
  if (s > 0 && text[s - 1] === '\r') s--;
  return { range: [s, text.length], text: '' };
}

function unusedMessage(
  src: SourceFile,
  d: SuppressionDirective,
  severity: ReportSeverity,
  messageId: string,
  message: string,
  startOff: number,
  endOff: number,
  fix?: Fix,
): LintMessage {
  const span = src.spanOf(startOff, endOff);
  const m: LintMessage = {
    ruleId: UNUSED_SUPPRESSION,
    severity,
    message,
    messageId,
    ...toLocation(span),
    offset: startOff,
    endOffset: endOff,
  };
  if (fix) m.fix = fix;
  void d;
  return m;
}

/** Apply a file's suppressions to its findings and report unused or unknown suppressions. */
export function applySuppressions(entry: FileEntry, opts: SuppressOptions): SuppressResult {
  const parsed = entry.parsed;
  if (!parsed) return { messages: entry.messages, suppressed: [] };
  const dirs = parseDirectives(parsed);
  if (dirs.length === 0) return { messages: entry.messages, suppressed: [] };
  const messages: LintMessage[] = [];
  const suppressed: SuppressResult['suppressed'] = [];
  for (const m of entry.messages) {
    const d = m.ruleId === UNUSED_SUPPRESSION ? null : suppressor(dirs, m);
    if (!d) {
      messages.push(m);
      continue;
    }
    markUsed(d, m.ruleId);
    suppressed.push({ ...m, suppressions: [{ kind: d.kind, justification: d.reason ?? '' }] });
  }
  if (opts.reportUnused === 'off') return { messages, suppressed };
  // A file that did not parse whole may have lost the findings its suppressions were for.
  if (entry.messages.some((m) => m.fatal)) return { messages, suppressed };
  const severity: ReportSeverity = opts.reportUnused === 'error' ? 'error' : 'warning';
  const src = parsed.source;
  const c0 = (d: SuppressionDirective) => d.comment.span.start.offset;
  const c1 = (d: SuppressionDirective) => d.comment.span.end.offset;
  for (const d of dirs) {
    const label = `why403-${d.kind}`;
    if (d.kind === 'disable-line' && !d.comment.trailing) {
      const hint = opts.server === 'apache' ? ' (Apache allows no trailing comments)' : '';
      messages.push(
        unusedMessage(
          src,
          d,
          severity,
          'misplaced',
          `${label} must follow a directive on the same line${hint}; use why403-disable-next-line`,
          c0(d),
          c1(d),
        ),
      );
      continue;
    }
    if (d.kind === 'disable-next-line' && d.target === 0) {
      messages.push(
        unusedMessage(
          src,
          d,
          severity,
          'unused',
          `unused ${label} directive (no line follows it)`,
          c0(d),
          c1(d),
          commentDeletion(src, d.comment),
        ),
      );
      continue;
    }
    if (d.rules) {
      for (const r of d.rules) {
        if (!opts.knownRules.has(r.name)) {
          messages.push(unusedMessage(src, d, severity, 'unknownRule', `${label} names unknown rule "${r.name}"`, r.start, r.end));
        }
      }
    }
    if (d.kind === 'enable') continue;
    if (d.rules === null) {
      if (!d.usedAll) {
        messages.push(
          unusedMessage(
            src,
            d,
            severity,
            'unused',
            `unused ${label} directive (no problems were reported)`,
            c0(d),
            c1(d),
            commentDeletion(src, d.comment),
          ),
        );
      }
      continue;
    }
    const known = d.rules.filter((r) => opts.knownRules.has(r.name));
    const unused = known.filter((r) => !d.usedNames.has(r.name));
    if (unused.length === 0) continue;
    const allUnused = d.usedNames.size === 0 && known.length === d.rules.length;
    if (allUnused) {
      const names = unused.map((r) => `'${r.name}'`).join(', ');
      messages.push(
        unusedMessage(
          src,
          d,
          severity,
          'unused',
          `unused ${label} directive (no problems were reported from ${names})`,
          c0(d),
          c1(d),
          commentDeletion(src, d.comment),
        ),
      );
      continue;
    }
    const all = d.rules;
    for (const r of unused) {
      const i = all.indexOf(r);
      const range: [number, number] = i > 0 ? [all[i - 1].end, r.end] : [r.start, all[i + 1].start];
      const exact = !r.noFix && !(i > 0 ? all[i - 1] : all[i + 1]).noFix;
      messages.push(
        unusedMessage(
          src,
          d,
          severity,
          'unused',
          `unused ${label} directive (no problems were reported from '${r.name}')`,
          r.start,
          r.end,
          exact ? { range, text: '' } : undefined,
        ),
      );
    }
  }
  messages.sort((a, b) => a.line - b.line || a.column - b.column || a.ruleId.localeCompare(b.ruleId));
  return { messages, suppressed };
}
