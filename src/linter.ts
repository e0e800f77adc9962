/**
 * Running rules over one ConfigSet. Findings are attached to the file where the reported node
 * stands (an included file keeps its own path and positions). Parse and include problems become
 * findings of the reserved rule `syntax-error`. A rule that throws does not stop the run: the crash
 * is returned in `crashes` (the CLI prints it and exits 2) and the other rules still run.
 */
import type { ConfigSet, Diagnostic, Directive, Node, ParsedFile, ServerKind, Span } from './ast.js';
import type { SourceFile } from './source.js';
import { expansionOf } from './apache/macro.js';
import { walk, type WalkContext } from './walk.js';
import { modelFor, type Model, type ModelOptions } from './model/index.js';
import { basename } from 'node:path';
import { prove, shareSteps, type Proof } from './model/proof.js';
import type { ProofExpectation, SampleInput } from './model/types.js';
import {
  docsUrl,
  formatMessage,
  type Fix,
  type ReportDescriptor,
  type ReportSeverity,
  type Rule,
  type RuleContext,
  type Settings,
  type Severity,
  type Suggestion,
} from './rule.js';

export interface Location {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface RelatedLocation extends Location {
  file: string;
  message: string;
}

export interface LintMessage extends Location {
  ruleId: string;
  severity: ReportSeverity;
  message: string;
  messageId?: string;
  /** Offsets of the reported span in the file's text (used by suppressions and fixes). */
  offset: number;
  endOffset: number;
  fix?: Fix;
  suggestions?: Suggestion[];
  related?: RelatedLocation[];
  /** The sample request that shows what the finding claims, with the status explain predicts. */
  proof?: Proof;
  /** True for problems that kept the file from being read or parsed whole. */
  fatal?: boolean;
}

/** Everything known about one file after linting. */
export interface FileEntry {
  path: string;
  source: SourceFile | null;
  parsed: ParsedFile | null;
  messages: LintMessage[];
}

export interface RuleCrash {
  ruleId: string;
  file: string;
  error: string;
}

/** The per-file view of the configuration the linter needs. */
export interface RuleSetting {
  severity: Severity;
  options?: Record<string, unknown>;
}

export interface LintSetOptions {
  rules: readonly Rule<string, object>[];
  /** Severity/options of a rule for a file (the config that applies to that file). */
  ruleSetting(file: string, rule: Rule<string, object>): RuleSetting;
  settings: Settings;
  /** Load options that change the model (path map, nginx prefix, Apache ServerRoot and defines). */
  modelOptions?: Omit<ModelOptions, 'settings'>;
  /** Called before each rule that runs on the set (progress on a large tree: one set can take seconds). */
  onRule?: (done: number, total: number, ruleId: string) => void;
  /** Asked for each finding as it is reported: false when the run will never list it (src/listed-bound.ts),
   * and the finding then keeps no proof, related locations or suggestions (its counts need none). */
  listed?: (file: string, m: LintMessage) => boolean;
}

export interface LintSetResult {
  files: Map<string, FileEntry>;
  crashes: RuleCrash[];
}

export const SYNTAX_ERROR = 'syntax-error';
export const UNUSED_SUPPRESSION = 'unused-suppression';

/** The span a finding about a directive points at: a block directive's header, not its whole body. */
export function reportSpan(node: Node, arg?: number): Span {
  if (node.type === 'directive') {
    if (arg !== undefined && node.args[arg]) return node.args[arg].span;
    if (node.block) {
      const last = node.args[node.args.length - 1];
      return { start: node.nameSpan.start, end: last ? last.span.end : node.nameSpan.end };
    }
  }
  return node.span;
}

export function toLocation(span: Span): Location {
  return { line: span.start.line, column: span.start.column, endLine: span.end.line, endColumn: span.end.column };
}

export function diagnosticMessage(d: Diagnostic): LintMessage {
  return {
    ruleId: SYNTAX_ERROR,
    severity: d.severity,
    message: d.message,
    messageId: d.code,
    line: d.span.start.line,
    column: d.span.start.column,
    endLine: d.span.end.line,
    endColumn: d.span.end.column,
    offset: d.span.start.offset,
    endOffset: d.span.end.offset,
    // a warning (an unterminated quote httpd reads to the end of the line, …) leaves the file parsed
    fatal: d.severity === 'error',
  };
}

function entryFor(files: Map<string, FileEntry>, set: ConfigSet, path: string, source?: SourceFile | null): FileEntry {
  let e = files.get(path);
  if (!e) {
    const parsed = set.files.get(path) ?? (set.root.source.path === path ? set.root : null);
    e = { path, source: parsed?.source ?? source ?? null, parsed, messages: [] };
    files.set(path, e);
  }
  return e;
}

/** What every rule run on one set shares: the findings so far and the set's model (built on first use). */
interface SetState {
  set: ConfigSet;
  opts: LintSetOptions;
  files: Map<string, FileEntry>;
  /** The findings reported so far, by file and start offset: a finding equal to one of them in
   * rule, end, message id and message is not reported again. (A key string per finding, built from
   * ≈ 9 pieces, was ≈ 200 bytes of heap each until the set was done.) */
  reported: Map<string, Map<number, LintMessage | LintMessage[]>>;
  model: Model | null;
  /** The set's directives by key, each with its place in walk order (one walk per set, on first use). */
  byKey: Map<string, Walked[]> | null;
}

interface Walked {
  node: Directive;
  ctx: WalkContext;
  /** position in walk order */
  i: number;
}

function directivesByKey(s: SetState): Map<string, Walked[]> {
  if (s.byKey) return s.byKey;
  const m = new Map<string, Walked[]>();
  let i = 0;
  walk(s.set, (node, ctx) => {
    if (node.type !== 'directive') return;
    const w: Walked = { node, ctx, i: i++ };
    const l = m.get(node.key);
    if (l) l.push(w);
    else m.set(node.key, [w]);
  });
  return (s.byKey = m);
}

function modelOf(s: SetState): Model {
  return (s.model ??= modelFor(s.set, { ...(s.opts.modelOptions ?? {}), settings: s.opts.settings }));
}

/** The context one rule's check gets. A class (methods on the prototype) rather than an object
 * literal with a getter and six closures: a run makes one per rule and set (56,000 for 1,700
 * .htaccess files), and the literal with an accessor took the slow creation path every time. */
class RuleRun implements RuleContext<string, object> {
  readonly id: string;
  readonly set: ConfigSet;
  readonly server: ServerKind;
  readonly settings: Settings;
  constructor(
    private readonly rule: Rule<string, object>,
    readonly options: object,
    private readonly state: SetState,
  ) {
    this.id = rule.id;
    this.set = state.set;
    this.server = state.set.server;
    this.settings = state.opts.settings;
  }
  get model(): Model {
    return modelOf(this.state);
  }
  prove(sample: SampleInput | null | undefined, expect: ProofExpectation): Proof | null | false {
    // a finding shows the proof's disk assumptions (`assumes` in the output), so it may rest on them
    // with `listed`, a proof's steps join the model's shared ones only when its finding is kept (report)
    return sample ? prove(modelOf(this.state), sample, expect, { assumeDisk: true, unshared: !!this.state.opts.listed }) : null;
  }
  walk(visit: (node: Node, ctx: WalkContext) => boolean | void): void {
    walk(this.set, visit);
  }
  directives(...keys: string[]): Array<{ node: Directive; ctx: WalkContext }> {
    // from the per-key index instead of a filter over every node per call (markdownlint's habit:
    // shared, cached queries); several keys are merged back into walk order
    const byKey = directivesByKey(this.state);
    const out: Walked[] = [];
    for (const k of new Set(keys)) {
      const l = byKey.get(k);
      if (l) for (const w of l) out.push(w);
    }
    if (keys.length > 1) out.sort((a, b) => a.i - b.i);
    return out;
  }
  report(d: ReportDescriptor<string>): void {
    const { rule, state } = this;
    const { opts, files, reported, set } = state;
    const file = d.node.source.path;
    const setting = opts.ruleSetting(file, rule);
    if (setting.severity === 'off') return;
    const template = rule.messages[d.messageId];
    if (template === undefined) throw new Error(`rule ${rule.id} reported unknown messageId "${d.messageId}"`);
    if (d.fix && !rule.fixable) throw new Error(`rule ${rule.id} reported a fix but is not declared fixable`);
    const span = reportSpan(d.node, d.arg);
    // in the expansion of a mod_macro `Use`: said, and never fixed (a fix would edit the macro's body
    // for every use, at offsets of the expansion's text)
    const use = expansionOf(d.node);
    const message = use
      ? `${formatMessage(template, d.data)} (in macro ${use.args[0]?.value ?? ''} as used at ${basename(use.source.path)}:${use.span.start.line})`
      : formatMessage(template, d.data);
    let atFile = reported.get(file);
    if (atFile === undefined) reported.set(file, (atFile = new Map()));
    const so = span.start.offset;
    const eo = span.end.offset;
    const before = atFile.get(so);
    if (before !== undefined) {
      const same = (m: LintMessage) => m.endOffset === eo && m.ruleId === rule.id && m.messageId === d.messageId && m.message === message;
      if (Array.isArray(before) ? before.some(same) : same(before)) return;
    }
    // a literal, not `...toLocation(span)` (V8's slow path for a spread among properties); the
    // property order is the JSON output's
    const msg: LintMessage = {
      ruleId: rule.id,
      severity: setting.severity,
      message,
      messageId: d.messageId,
      line: span.start.line,
      column: span.start.column,
      endLine: span.end.line,
      endColumn: span.end.column,
      offset: so,
      endOffset: eo,
    };
    if (before === undefined) atFile.set(so, msg);
    else if (Array.isArray(before)) before.push(msg);
    else atFile.set(so, [before, msg]);
    if (d.fix && !use) msg.fix = d.fix;
    if (opts.listed && !opts.listed(file, msg)) {
      entryFor(files, set, file, d.node.source).messages.push(msg);
      return;
    }
    if (d.proof) msg.proof = opts.listed && state.model ? shareSteps(state.model, d.proof) : d.proof;
    if (d.suggest && d.suggest.length > 0 && !use) msg.suggestions = d.suggest;
    if (d.related && d.related.length > 0) {
      msg.related = d.related.map((r) => {
        const at = reportSpan(r.node, r.arg);
        return {
          file: r.node.source.path,
          message: r.message,
          line: at.start.line,
          column: at.start.column,
          endLine: at.end.line,
          endColumn: at.end.column,
        };
      });
    }
    entryFor(files, set, file, d.node.source).messages.push(msg);
  }
}

export function lintSet(set: ConfigSet, opts: LintSetOptions): LintSetResult {
  const files = new Map<string, FileEntry>();
  const crashes: RuleCrash[] = [];
  entryFor(files, set, set.root.source.path);
  for (const [path] of set.files) entryFor(files, set, path);

  for (const [path, parsed] of set.files) {
    for (const d of parsed.errors) entryFor(files, set, d.file || path).messages.push(diagnosticMessage(d));
  }
  if (!set.files.has(set.root.source.path)) {
    for (const d of set.root.errors) entryFor(files, set, d.file || set.root.source.path).messages.push(diagnosticMessage(d));
  }
  for (const d of set.errors) entryFor(files, set, d.file).messages.push(diagnosticMessage(d));

  // Rules walk the tree recursively; a pathological nesting depth is reported instead of run.
  for (const [path, parsed] of set.files) {
    const deep = firstTooDeep(parsed.nodes, MAX_DEPTH);
    if (!deep) continue;
    const span = reportSpan(deep);
    entryFor(files, set, path).messages.push(
      diagnosticMessage({
        code: 'too-deep',
        message: `blocks are nested more than ${MAX_DEPTH} levels deep here; why403 runs no rules on this configuration`,
        file: path,
        span,
        severity: 'error',
      }),
    );
    for (const e of files.values()) sortMessages(e.messages);
    return { files, crashes };
  }

  const paths = [...files.keys()];
  const state: SetState = { set, opts, files, reported: new Map(), model: null, byKey: null };
  const toRun = opts.rules.filter(
    (rule) => rule.servers.includes(set.server) && paths.some((p) => opts.ruleSetting(p, rule).severity !== 'off'),
  );
  for (const [i, rule] of toRun.entries()) {
    opts.onRule?.(i, toRun.length, rule.id);
    const rootSetting = opts.ruleSetting(set.root.source.path, rule);
    const options = { ...(rule.defaultOptions ?? {}), ...(rootSetting.options ?? {}) };
    const ctx = new RuleRun(rule, options, state);
    try {
      rule.check(ctx);
    } catch (e) {
      crashes.push({ ruleId: rule.id, file: set.root.source.path, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  }
  for (const e of files.values()) sortMessages(e.messages);
  return { files, crashes };
}

/** Deepest block nesting the rules are run on (real configs stay far below it). */
export const MAX_DEPTH = 1000;

/** The first directive nested deeper than `max` blocks, found without recursion. */
export function firstTooDeep(nodes: Node[], max: number): Directive | null {
  const stack: Array<{ nodes: Node[]; depth: number }> = [{ nodes, depth: 0 }];
  while (stack.length > 0) {
    const f = stack.pop()!;
    for (const n of f.nodes) {
      if (n.type !== 'directive') continue;
      if (f.depth > max) return n;
      if (n.block) stack.push({ nodes: n.block, depth: f.depth + 1 });
    }
  }
  return null;
}

/** Position, then rule id, then message text, compared by code units: no ICU collator (its first
 * use costs ~8 ms of startup), and the same order on every machine whatever its locale. */
export function sortMessages(m: LintMessage[]): LintMessage[] {
  return m.sort(compareMessages);
}

/** The order of a file's findings (`sortMessages`). */
export const compareMessages = (a: LintMessage, b: LintMessage): number =>
  a.line - b.line || a.column - b.column || cmp(a.ruleId, b.ruleId) || cmp(a.message, b.message);

/** Strings by code units. */
export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Merge one set's findings into the run's, dropping exact duplicates (a file included by two mains). */
export function mergeFindings(into: Map<string, FileEntry>, from: Map<string, FileEntry>): void {
  for (const [path, e] of from) {
    const have = into.get(path);
    if (!have) {
      into.set(path, { ...e, messages: [...e.messages] });
      continue;
    }
    if (!have.source && e.source) have.source = e.source;
    if (!have.parsed && e.parsed) have.parsed = e.parsed;
    const keys = new Set(have.messages.map(messageKey));
    for (const m of e.messages) {
      const k = messageKey(m);
      if (!keys.has(k)) {
        keys.add(k);
        have.messages.push(m);
      }
    }
    sortMessages(have.messages);
  }
}

function messageKey(m: LintMessage): string {
  return `${m.ruleId}\0${m.line}:${m.column}\0${m.message}`;
}

export { docsUrl };

const noCheck = (): void => {};

/** Rules the engine reports itself. They have docs but no check. */
export const engineRules: readonly Rule<string, object>[] = [
  {
    id: SYNTAX_ERROR,
    servers: ['nginx', 'apache'],
    severity: 'error',
    description: 'The file could not be read or parsed the way the server would read it.',
    category: 'syntax',
    fixable: false,
    proof: {
      none: 'A file the server cannot read or parse answers no request: nginx and apache2 refuse to start, a .htaccess answers 500.',
    },
    messages: {},
    check: noCheck,
    docsUrl: docsUrl(SYNTAX_ERROR),
  },
  {
    id: UNUSED_SUPPRESSION,
    servers: ['nginx', 'apache'],
    severity: 'warning',
    description: 'A why403-disable comment that suppressed nothing, or names an unknown rule.',
    category: 'suppression',
    fixable: true,
    proof: { none: 'It is about a comment of why403, not about what the server does.' },
    messages: {},
    check: noCheck,
    docsUrl: docsUrl(UNUSED_SUPPRESSION),
  },
];
