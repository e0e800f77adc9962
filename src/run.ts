/**
 * The lint pipeline: paths → files → configs → ConfigSets → rules → suppressions → fixes → results.
 * `lint()` is the library entry (no I/O besides reading configs and, with `fix`, writing files);
 * the CLI (`cli.ts`) adds formatting, output files and exit codes on top of it.
 *
 * Each main config is loaded with its includes, so findings in an included file are reported in
 * that file, in the context the server reads it in; a file already pulled in by an earlier main is
 * not linted again on its own.
 */
import type { ModelOptions } from './model/index.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import type { ConfigSet, Node, PathMapping, ServerKind } from './ast.js';
import { useColor as decideColor } from './color.js';
import { ConfigResolver, ruleEntry, type LoadedConfig } from './config.js';
import { expandPaths, isNormalAbsolute, normalBelow, realOrSelf } from './files.js';
import { MAX_FIX_PASSES, planFixes, withholdFixes, writeFixed } from './fix.js';
import {
  diagnosticMessage,
  cmp,
  engineRules,
  lintSet,
  mergeFindings,
  SYNTAX_ERROR,
  UNUSED_SUPPRESSION,
  type FileEntry,
  type LintMessage,
  type LintSetOptions,
  type LintSetResult,
  type RuleCrash,
} from './linter.js';
import { loadInfo, type LoadOptions, type ParseCache } from './load-options.js';
import { ListedBound } from './listed-bound.js';
import { fileDiagnostic, isDirectory, MAX_FILE_BYTES } from './read.js';
import { readRuleDoc, type Fix, type Rule, type Settings, type Severity } from './rule.js';
import { loadRules, RULE_IDS } from './rule-manifest.js';
import { packageVersion } from './version.js';
import { loadOptionsFor, modelOptionsOf, settingsFor, validationRules } from './settings.js';
import { applySuppressions, type UnusedMode } from './suppress.js';
import { compileIgnores } from './regex-engine.js';
import { firstWord, insideTree, knownName, redactPayload, treeRoots, WITHHELD, withheldMessage } from './outside.js';
import type { CliIO, LintArgs } from './cli-io.js';
import type { LintResult, LintRun, ResultMessage } from './results.js';
export type { LintResult, LintRun, ResultMessage } from './results.js';

export interface LintOptions {
  cwd?: string;
  /** Rules to run (default: every rule in rules/index.ts, each loaded only when a file for one of
   * its servers is linted: see src/rule-manifest.ts). */
  rules?: readonly Rule<string, object>[];
  /** Only these rule ids report (the others are off), whatever the config says. */
  only?: readonly string[];
  /** A config file that applies to every file (no lookup). */
  configFile?: string;
  /** Ignore config files entirely. */
  noConfig?: boolean;
  /** Text of `-`/stdin, with the name it pretends to have. */
  stdin?: { text: string; filename?: string };
  inlineConfig?: boolean;
  reportUnusedSuppressions?: UnusedMode;
  /** Errors only. */
  quiet?: boolean;
  fix?: boolean;
  fixDryRun?: boolean;
  server?: ServerKind;
  context?: string;
  pathMap?: PathMapping[];
  /** Read the disk the configs serve (`--fs`): the disk rules run, and Apache .htaccess files are
   * found where Apache looks for them and linted in that context. */
  fs?: boolean;
  /** The worker user the disk is checked as (`--user`; overrides the `user` setting). */
  user?: string;
  /** nginx `-p` prefix (absolute) for relative paths. */
  prefix?: string;
  /** Apache ServerRoot when the config sets none (absolute). */
  serverRoot?: string;
  /** Apache `-D` names (`apache2 -D NAME`, or `Define NAME VALUE` before the config): `<IfDefine>` and
   * `${NAME}` read them, as explain's and map's `--define`. */
  defines?: Record<string, string>;
  /** Called after each file is linted (progress). */
  onProgress?: (done: number, total: number) => void;
  /** Called before each rule run on a large config set (at least LARGE_SET_CHARS of text, which takes
   * seconds to lint): the file linted and the rule's place among the set's rules (progress). */
  onRule?: (file: string, done: number, total: number) => void;
  /** Lints one loaded set (default: src/linter.ts `lintSet`). The language server passes its own
   * (src/lsp/set-cache.ts), which keeps the sets for hover and reuses the findings of a set whose
   * files and options did not change since its last run. */
  lintSet?: (set: ConfigSet, opts: LintSetOptions) => LintSetResult;
  /** Parsed files kept between runs (the language server; src/load-options.ts `parseCached`). */
  parseCache?: ParseCache;
}

/** A set this large (characters of config text, includes counted) reports each rule to `onRule`. */
export const LARGE_SET_CHARS = 512 * 1024;

/** The most findings a run lists; the rest are counted and reported as a number. */
export const MAX_LISTED_FINDINGS = 10_000;

const STDIN_NAME = '<stdin>';

export function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

export function relativePath(cwd: string, file: string): string {
  if (!file.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(file)) return toPosix(file);
  // both normal: what relative() gives, without resolving both (per result and file)
  if (isNormalAbsolute(file) && isNormalAbsolute(cwd)) {
    const below = normalBelow(cwd, file);
    return below === null ? file : below === '' ? '.' : below;
  }
  const r = relative(cwd, file);
  return r === '' ? '.' : r.startsWith('..') ? toPosix(file) : toPosix(r);
}

/** Every rule (rules/index.ts order). */
export async function allRules(): Promise<readonly Rule<string, object>[]> {
  return loadRules();
}

/** Code-unit order: no ICU collator (its first use costs ~8 ms of startup), and the same order on
 * every machine whatever its locale. */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** realOrSelf, asked once per path in a pass (a file is looked up when named, when covered, and as a
 * file of its set), starting from the real paths expandPaths already knows. */
function realPaths(known: ReadonlyMap<string, string>): (p: string) => string {
  const cache = new Map(known);
  return (p) => {
    let r = cache.get(p);
    if (r === undefined) cache.set(p, (r = realOrSelf(p)));
    return r;
  };
}

/** Lint paths (files, directories, globs, `-`). Throws ConfigError for a bad config. */
export async function lint(paths: readonly string[], opts: LintOptions = {}): Promise<LintRun> {
  const cwd = opts.cwd ?? process.cwd();
  // Given rules are used as they are; otherwise each server's rules are loaded when a file for it comes.
  const given = opts.rules;
  const loadedRules: Rule<string, object>[] = given ? [...given] : [];
  const loadedServers = new Set<ServerKind>();
  const rulesFor = async (server: ServerKind): Promise<readonly Rule<string, object>[]> => {
    if (given || loadedServers.has(server)) return loadedRules;
    loadedServers.add(server);
    const have = new Set(loadedRules.map((r) => r.id));
    for (const r of await loadRules([server])) if (!have.has(r.id)) loadedRules.push(r);
    return loadedRules;
  };
  const ruleIds = given ? given.map((r) => r.id) : RULE_IDS;
  const resolver = opts.noConfig ? null : new ConfigResolver(given ?? (await validationRules()), { configFile: opts.configFile, cwd });
  const configFor = (file: string): LoadedConfig => resolver?.forFile(resolve(cwd, file)) ?? { file: null, dir: cwd, config: {} };
  const only = opts.only ? new Set(opts.only) : null;
  const enabled = new Map<string, Rule<string, object>>();

  const ruleSetting = (file: string, rule: Rule<string, object>): { severity: Severity; options?: Record<string, unknown> } => {
    if (only && !only.has(rule.id)) return { severity: 'off' };
    const e = ruleEntry(configFor(file).config.rules?.[rule.id]);
    const severity = e.severity ?? rule.severity;
    if (severity !== 'off') enabled.set(rule.id, rule);
    return { severity, options: e.options };
  };

  const expanded = await expandPaths(paths.length ? paths : opts.stdin ? ['-'] : ['.'], cwd);
  const inside = insideTree(treeRoots(cwd, paths, opts.stdin?.filename));
  let stdinText = opts.stdin?.text;
  const fixedFiles = new Set<string>();
  const fixErrors = new Map<string, string>();
  const stdinOutput: { text?: string } = {};

  let pass = 0;
  for (;;) {
    pass++;
    const state = await lintOnce(expanded.files, expanded.missing, expanded.real, {
      ...opts,
      cwd,
      rulesFor,
      ruleIds,
      configFor,
      ruleSetting,
      stdinText,
    });
    const entries = state.entries;
    const wantFix = opts.fix || opts.fixDryRun;
    if (!wantFix) return finish(entries, state.crashes, null);
    // Apply the fixes of this pass (planFixes withholds those that would change what the server reads).
    let changed = 0;
    const outputs = new Map<string, string>();
    for (const e of entries.values()) {
      const notWritten = fixErrors.get(e.path);
      if (notWritten !== undefined) withholdFixes(e, `not fixed: ${notWritten}`);
      const output = await planFixes(e);
      if (output === null || !e.source) continue;
      const isStdin = state.stdinPath === e.path;
      if (opts.fix && !opts.fixDryRun && !isStdin) {
        // A file that cannot be written is a problem of that file only: reported, and the run goes on.
        const w = writeFixed(e.source, output);
        if (!w.written && w.retry) {
          changed++; // read again in the next pass
          continue;
        }
        if (!w.written) {
          fixErrors.set(e.path, w.reason);
          withholdFixes(e, `not fixed: ${w.reason}`);
          continue;
        }
        outputs.set(e.path, output);
        fixedFiles.add(e.path);
        changed++;
      } else if (isStdin) {
        outputs.set(e.path, output);
        stdinText = output;
        stdinOutput.text = output;
        changed++;
      } else {
        outputs.set(e.path, output);
      }
    }
    if (opts.fixDryRun || changed === 0 || pass >= MAX_FIX_PASSES) {
      if (opts.fixDryRun) {
        // Dry run: one pass (other files are not re-read from memory); outputs are reported.
        return finish(entries, state.crashes, outputs);
      }
      if (changed === 0) {
        const out = new Map<string, string>();
        if (state.stdinPath && stdinOutput.text !== undefined) out.set(state.stdinPath, stdinOutput.text);
        return finish(entries, state.crashes, out);
      }
      const again = await lintOnce(expanded.files, expanded.missing, expanded.real, {
        ...opts,
        cwd,
        rulesFor,
        ruleIds,
        configFor,
        ruleSetting,
        stdinText,
      });
      for (const e of again.entries.values()) {
        const notWritten = fixErrors.get(e.path);
        if (notWritten !== undefined) withholdFixes(e, `not fixed: ${notWritten}`);
        await planFixes(e);
      }
      const out = new Map<string, string>();
      if (again.stdinPath && stdinOutput.text !== undefined) out.set(again.stdinPath, stdinOutput.text);
      return finish(again.entries, again.crashes, out);
    }
  }

  function finish(entries: Map<string, FileEntry>, crashes: RuleCrash[], outputs: Map<string, string> | null): LintRun {
    for (const r of engineRules) if (r.id === SYNTAX_ERROR || opts.reportUnusedSuppressions !== 'off') enabled.set(r.id, r);
    const byId = new Map<string, Rule<string, object>>([...loadedRules, ...engineRules].map((r) => [r.id, r]));
    // in the results' order (by relative path) first, so that only the listed findings are converted: a
    // cap on what is listed (the counts keep every finding): 200k findings would be ~100 MB of output
    // that nobody reads, and memory the formatters would need on top
    const order = [...entries.values()].map((e) => ({ e, rel: relativePath(cwd, e.path) }));
    order.sort((a, b) => cmp(a.rel, b.rel));
    const results: LintResult[] = [];
    let listed = 0;
    let omitted = 0;
    for (const { e, rel } of order) {
      const room = Math.max(MAX_LISTED_FINDINGS - listed, 0);
      const { result: r, unlisted } = toResult(e, rel, byId, opts.quiet ?? false, outputs?.get(e.path), opts.fixDryRun === true, room);
      results.push(inside(e.path) ? withheldRelated(r, inside) : withheldResult(r, e, byId, inside));
      omitted += unlisted;
      listed += r.messages.length;
    }
    return {
      ...(omitted > 0 ? { omittedMessages: omitted } : {}),
      results,
      crashes,
      unmatched: expanded.unmatched,
      enabledRules: [...enabled.values()].sort((a, b) => byCodeUnits(a.id, b.id)),
      fixedFiles: [...fixedFiles],
      fixErrors: [...fixErrors].map(([filePath, message]) => ({ filePath, message })),
      cwd,
    };
  }
}

interface OnceOptions extends LintOptions {
  cwd: string;
  /** The rules to run on a set of this server (loads them the first time). */
  rulesFor(server: ServerKind): Promise<readonly Rule<string, object>[]>;
  /** Every rule id of the run, loaded or not (suppression comments may name any). */
  ruleIds: readonly string[];
  configFor(file: string): LoadedConfig;
  ruleSetting(file: string, rule: Rule<string, object>): { severity: Severity; options?: Record<string, unknown> };
  stdinText?: string;
}

/** The per-rule progress callback for a large set (none for a small one, or without `onRule`). */
function ruleProgress(set: ConfigSet, o: LintOptions): LintSetOptions['onRule'] {
  const report = o.onRule;
  if (!report) return undefined;
  let chars = 0;
  for (const f of set.files.values()) chars += f.source.text.length;
  if (chars < LARGE_SET_CHARS) return undefined;
  const file = set.root.source.path;
  return (done, total) => report(file, done, total);
}

async function lintOnce(
  files: string[],
  missing: string[],
  known: ReadonlyMap<string, string>,
  o: OnceOptions,
): Promise<{ entries: Map<string, FileEntry>; crashes: RuleCrash[]; stdinPath: string | null }> {
  const realOf = realPaths(known);
  const load = await import('./load.js');
  const entries = new Map<string, FileEntry>();
  const crashes: RuleCrash[] = [];
  const covered = new Set<string>();
  let stdinPath: string | null = null;
  const total = files.length;
  let done = 0;
  const knownRules = new Set([...o.ruleIds, ...engineRules.map((r) => r.id)]);
  const apacheMains: Array<{ set: ConfigSet; settings: Settings; modelOptions: Omit<ModelOptions, 'settings'> }> = [];
  const htaccessSets: Array<{ set: ConfigSet; settings: Settings; modelOptions: Omit<ModelOptions, 'settings'> }> = [];
  const named = new Set(files.flatMap((f) => [f, realOf(f)]));
  const mainSets = new Map<string, ConfigSet>();
  // Findings past the listing cap drop their proofs as they are reported (src/listed-bound.ts). Not
  // with fixes (every pass re-lints, and a dry run removes the fixed findings after the rules ran) nor
  // with a caller's lintSet (the language server keeps a set's findings for later runs).
  const bound =
    o.lintSet || o.fix || o.fixDryRun
      ? null
      : new ListedBound({
          limit: MAX_LISTED_FINDINGS,
          relativePath: (f) => relativePath(o.cwd, f),
          suppressions: o.inlineConfig !== false,
          quiet: o.quiet === true,
        });
  const hadFindings = (f: string) => entries.has(f);
  /** Lints a loaded server-context set and merges its findings. */
  const lintLoaded = async (set: ConfigSet, settings: Settings, modelOptions: Omit<ModelOptions, 'settings'>) => {
    // a fragment loaded through the main config that includes it (src/load.ts): the files named in
    // the run are reported, not the rest of that main config
    const requested = !!loadInfo(set)?.requested;
    const kept = (p: string) => !requested || named.has(p) || named.has(realOf(p));
    const r = (o.lintSet ?? lintSet)(set, {
      rules: await o.rulesFor(set.server),
      ruleSetting: o.ruleSetting,
      settings,
      modelOptions,
      onRule: ruleProgress(set, o),
      ...(bound ? { listed: bound.forSet(set, hadFindings, kept) } : {}),
    });
    crashes.push(...r.crashes);
    for (const p of [...r.files.keys()]) if (!kept(p)) r.files.delete(p);
    mergeFindings(entries, r.files);
    o.onProgress?.(++done, total);
  };

  for (const f of files) {
    const isStdin = f === '-';
    const path = isStdin ? (o.stdin?.filename ? resolve(o.cwd, o.stdin.filename) : resolve(o.cwd, STDIN_NAME)) : f;
    if (!isStdin && (covered.has(path) || covered.has(realOf(path)))) {
      o.onProgress?.(++done, total);
      continue;
    }
    const cfg = o.configFor(path);
    if (!isStdin && isIgnored(path, cfg)) {
      o.onProgress?.(++done, total);
      continue;
    }
    const loadOpts = { ...loadOptionsFor(cfg, o, o.cwd), mainSets, ...(o.parseCache ? { parseCache: o.parseCache } : {}) };
    if (isStdin && (o.stdinText ?? '').slice(0, 8192).includes('\0')) {
      // The same test readSource applies to files (git's heuristic).
      const d = fileDiagnostic(
        path,
        'binary',
        `${relativePath(o.cwd, path)} looks like a binary file (it contains NUL bytes), not a config file`,
      );
      entries.set(path, { path, source: null, parsed: null, messages: [diagnosticMessage(d)] });
      o.onProgress?.(++done, total);
      continue;
    }
    let set: ConfigSet;
    try {
      set = isStdin ? load.loadText(path, o.stdinText ?? '', loadOpts) : load.loadConfig(path, loadOpts);
    } catch (e) {
      crashes.push({ ruleId: '(loader)', file: path, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      o.onProgress?.(++done, total);
      continue;
    }
    if (isStdin) stdinPath = set.root.source.path;
    for (const p of set.files.keys()) {
      covered.add(p);
      covered.add(realOf(p));
    }
    const settings: Settings = o.user ? { ...settingsFor(cfg), user: o.user } : settingsFor(cfg);
    const modelOptions = { ...modelOptionsOf(loadOpts), ...(o.fs ? { fs: true } : {}) };
    // Apache: every set of the run is loaded first; the .htaccess sets are then tied to the main configs
    // (src/apache/model/htaccess-link.ts), so that the mains' proofs are explained with the run's
    // .htaccess files in place and the .htaccess rules know the AllowOverride they are read under; the
    // mains are linted next, the .htaccess sets last
    if (set.server === 'apache') {
      if (set.root.context === 'htaccess') htaccessSets.push({ set, settings, modelOptions });
      else apacheMains.push({ set, settings, modelOptions });
      continue;
    }
    await lintLoaded(set, settings, modelOptions);
  }
  // --fs: the .htaccess files Apache reads under the directories each main config serves, linted in
  // that context whether or not they were named (the model's bounded disk scan finds them).
  if (o.fs && apacheMains.length) {
    const { discoverHtaccess } = await import('./model/disk-htaccess.js');
    for (const found of discoverHtaccess(apacheMains)) {
      if (covered.has(found.file) || covered.has(realOf(found.file))) continue;
      const cfg = o.configFor(found.file);
      if (isIgnored(found.file, cfg)) continue;
      const loadOpts = {
        ...loadOptionsFor(cfg, o, o.cwd),
        server: 'apache' as const,
        context: 'htaccess',
        ...(o.parseCache ? { parseCache: o.parseCache } : {}),
      };
      let set: ConfigSet;
      try {
        set = load.loadConfig(found.file, loadOpts);
      } catch (e) {
        crashes.push({ ruleId: '(loader)', file: found.file, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
        continue;
      }
      for (const p of set.files.keys()) {
        covered.add(p);
        covered.add(realOf(p));
      }
      const settings: Settings = o.user ? { ...settingsFor(cfg), user: o.user } : settingsFor(cfg);
      htaccessSets.push({ set, settings, modelOptions: { ...modelOptionsOf(loadOpts), fs: true } });
    }
  }
  if (htaccessSets.length) {
    const { linkHtaccess } = await import('./apache/model/htaccess-link.js');
    for (const { set } of htaccessSets) linkHtaccess(set, apacheMains);
  }
  for (const { set, settings, modelOptions } of [...apacheMains, ...htaccessSets]) await lintLoaded(set, settings, modelOptions);
  for (const m of missing) {
    const d = fileDiagnostic(m, 'not-found', `cannot read ${m}: no such file or directory`);
    entries.set(m, { path: m, source: null, parsed: null, messages: [diagnosticMessage(d)] });
  }
  // Suppressions, per file, once every set that touches the file has been linted.
  for (const e of entries.values()) {
    if (o.inlineConfig === false) continue;
    const cfg = o.configFor(e.path);
    const mode: UnusedMode = o.reportUnusedSuppressions ?? cfg.config.reportUnusedSuppressions ?? 'warn';
    const onlyUnused = o.only && !o.only.includes(UNUSED_SUPPRESSION) ? 'off' : mode;
    const r = applySuppressions(e, { knownRules, reportUnused: onlyUnused, server: e.parsed?.server });
    e.messages = r.messages;
    (e as FileEntry & { suppressed?: typeof r.suppressed }).suppressed = r.suppressed;
  }
  return { entries, crashes, stdinPath };
}

function isIgnored(path: string, cfg: LoadedConfig): boolean {
  const globs = cfg.config.ignores;
  if (!globs || globs.length === 0) return false;
  const rel = toPosix(relative(cfg.dir, path));
  if (rel.startsWith('..')) return false;
  return ignoreMatcher(cfg)(rel);
}

const matchers = new WeakMap<LoadedConfig, (p: string) => boolean>();
function ignoreMatcher(cfg: LoadedConfig): (p: string) => boolean {
  let m = matchers.get(cfg);
  if (!m) {
    // A linear glob matcher (src/regex-engine.ts), not picomatch: picomatch compiles to a backtracking
    // RegExp, and `*a*a*a*a*a*a*ab` against a long folder name would hang the run.
    m = compileIgnores(cfg.config.ignores ?? []);
    matchers.set(cfg, m);
  }
  return m;
}

function toResultMessage(m: LintMessage, byId: Map<string, Rule<string, object>>): ResultMessage {
  const r: ResultMessage = {
    ruleId: m.ruleId,
    severity: m.severity,
    message: m.message,
    line: m.line,
    column: m.column,
    endLine: m.endLine,
    endColumn: m.endColumn,
    docsUrl: byId.get(m.ruleId)?.docsUrl ?? '',
  };
  if (m.messageId) r.messageId = m.messageId;
  if (m.fix) r.fix = m.fix;
  if (m.suggestions) r.suggestions = m.suggestions;
  if (m.related) r.related = m.related;
  if (m.fatal) r.fatal = true;
  if (m.proof) {
    r.request = m.proof.request;
    r.config = m.proof.config;
    r.status = m.proof.status;
    if (m.proof.cause) r.cause = m.proof.cause;
    r.decidedBy = m.proof.decidedBy;
    r.trace = m.proof.trace;
    if (m.proof.assumes) r.assumes = m.proof.assumes;
    if (m.proof.htaccess) r.htaccess = true;
    if (m.proof.unless) r.unless = m.proof.unless;
  }
  return r;
}

function toResult(
  e: FileEntry,
  /** The file's path relative to the working directory (the results' sort key). */
  rel: string,
  byId: Map<string, Rule<string, object>>,
  quiet: boolean,
  output: string | undefined,
  dryRun: boolean,
  room: number,
): { result: LintResult; unlisted: number } {
  // --fix-dry-run (as ESLint): the problems the output fixes are not reported as remaining.
  const fixed = dryRun && output !== undefined ? appliedFixes(e.messages.flatMap((m) => (m.fix ? [m.fix] : []))) : null;
  const remaining = fixed ? e.messages.filter((m) => !m.fix || !fixed.has(m.fix)) : e.messages;
  const msgs = quiet ? remaining.filter((m) => m.severity === 'error') : remaining;
  const suppressed = (
    (e as FileEntry & { suppressed?: Array<LintMessage & { suppressions: Array<{ kind: string; justification: string }> }> }).suppressed ??
    []
  ).map((m) => ({ ...toResultMessage(m, byId), suppressions: m.suppressions }));
  // the counts of every finding; the first `room` listed (as ResultMessages)
  const messages = (msgs.length > room ? msgs.slice(0, room) : msgs).map((m) => toResultMessage(m, byId));
  const res: LintResult = {
    filePath: e.path,
    relativePath: rel,
    messages,
    suppressedMessages: suppressed,
    errorCount: msgs.filter((m) => m.severity === 'error').length,
    fatalErrorCount: msgs.filter((m) => m.fatal).length,
    warningCount: msgs.filter((m) => m.severity === 'warning').length,
    infoCount: msgs.filter((m) => m.severity === 'info').length,
    fixableErrorCount: msgs.filter((m) => m.severity === 'error' && m.fix).length,
    fixableWarningCount: msgs.filter((m) => m.severity === 'warning' && m.fix).length,
  };
  if (output !== undefined) res.output = output;
  else if (msgs.length > 0 && e.source) res.source = e.source.text;
  return { result: res, unlisted: msgs.length - messages.length };
}

/** A result for a file outside the linted tree (src/outside.ts): each message is the rule's
 * description and the directive name if the server knows it; no source, output, fixes or related text. */
function withheldResult(
  r: LintResult,
  e: FileEntry,
  byId: Map<string, Rule<string, object>>,
  inside: (file: string) => boolean,
): LintResult {
  const server = e.parsed?.server;
  const redact = <M extends ResultMessage>(m: M): M => {
    const name = e.source && m.line >= 1 ? knownName(firstWord(e.source.lineText(m.line)), server) : null;
    const { fix: _fix, suggestions: _sugg, related, ...rest } = m;
    const out = withheldProof({ ...rest, message: withheldMessage(byId.get(m.ruleId)?.description ?? m.ruleId, name) } as M, inside);
    if (related) out.related = related.map((x) => ({ ...x, message: WITHHELD }));
    return out;
  };
  const { source: _source, output: _output, ...rest } = r;
  return {
    ...rest,
    messages: r.messages.map(redact),
    suppressedMessages: r.suppressedMessages.map(redact),
    fixableErrorCount: 0,
    fixableWarningCount: 0,
  };
}

/** A proof's steps and deciding directive in files outside the tree: positions kept, text withheld
 * (the directive name only, when the server knows it). */
function withheldProof<M extends ResultMessage>(m: M, inside: (file: string) => boolean): M {
  // a copy only when something is withheld: a big tree's findings each carry a trace, all inside
  const traceOut = m.trace?.some((t) => !inside(t.file)) ?? false;
  const byOut = !!m.decidedBy && !inside(m.decidedBy.file);
  if (!traceOut && !byOut) return m;
  const out = { ...m };
  if (traceOut) out.trace = m.trace!.map((t) => (inside(t.file) ? t : { ...t, message: WITHHELD }));
  if (byOut) out.decidedBy = { ...m.decidedBy!, directive: knownName(firstWord(m.decidedBy!.directive), undefined) ?? '(not shown)' };
  return out;
}

/** In-tree findings keep their text, but a related location in a file outside the tree does not. */
function withheldRelated(r: LintResult, inside: (file: string) => boolean): LintResult {
  const fix = <M extends ResultMessage>(m0: M): M => {
    const m = withheldProof(m0, inside);
    return m.related?.some((x) => !inside(x.file))
      ? { ...m, related: m.related.map((x) => (inside(x.file) ? x : { ...x, message: WITHHELD })) }
      : m;
  };
  return { ...r, messages: r.messages.map(fix), suppressedMessages: r.suppressedMessages.map(fix) };
}

/** The fixes `applyFixes` applies to one text: the same order, and an overlapping fix skipped. */
function appliedFixes(fixes: readonly Fix[]): Set<Fix> {
  const out = new Set<Fix>();
  let at = 0;
  for (const f of [...fixes].sort((a, b) => a.range[0] - b.range[0] || a.range[1] - b.range[1])) {
    const [s, e] = f.range;
    if (s < at || s > e) continue;
    out.add(f);
    at = e;
  }
  return out;
}

/** Lint one text as if it were the file `filename` (docs examples, editors, tests). */
export async function lintText(text: string, opts: LintOptions & { filename?: string } = {}): Promise<LintRun> {
  return lint(['-'], { noConfig: opts.configFile === undefined, ...opts, stdin: { text, filename: opts.filename } });
}

// ---------------------------------------------------------------------------------------------
// Commands (called lazily by cli.ts)

class CommandUsageError extends Error {}

/** A repeatable option's values (yargs gives a string once, an array when repeated). */
function many(v: unknown): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
}

/** Colour decision (src/color.ts, shared with `explain`): --color/--no-color, then NO_COLOR, then FORCE_COLOR, then TTY. */
export function useColor(flag: boolean | undefined, env: Record<string, string | undefined>, isTTY: boolean): boolean {
  return decideColor({ flag, env, isTTY });
}

export function parseFormats(list: string[] | undefined, outputFile: string | undefined): Array<{ name: string; path?: string }> {
  const specs = (list && list.length ? list : ['stylish']).map((s) => {
    const i = s.indexOf(':');
    return i === -1 ? { name: s } : { name: s.slice(0, i), path: s.slice(i + 1) || undefined };
  });
  if (outputFile) {
    const bare = specs.filter((s) => !s.path);
    if (bare.length !== 1) throw new CommandUsageError('--output-file needs exactly one --format without a path');
    bare[0].path = outputFile;
  }
  return specs;
}

/** The CLI's progress line on a terminal's stderr: files read (while loading), then files linted. */
export class Progress {
  private reads = 0;
  private shown = false;
  constructor(private readonly io: Pick<CliIO, 'err'>) {}
  /** Every 20th file read while configs load (each include is one). */
  read(_path: string): void {
    if (++this.reads % 20 === 0) this.show(`reading configs: ${this.reads} files`);
  }
  /** Every 10th of 20 or more files linted. */
  linted(done: number, total: number): void {
    if (total >= 20 && done < total && done % 10 === 0) this.show(`${done}/${total} files linted (${this.reads} read)`);
  }
  /** Each rule run on a large set (src/run.ts LARGE_SET_CHARS): one main config of a big tree is
   * linted as a whole, for seconds, and the file count alone would stand still meanwhile. */
  rule(file: string, done: number, total: number): void {
    this.show(`linting ${this.name(file)}: rule ${done + 1}/${total} (${this.reads} files read)`);
  }
  private name(file: string): string {
    return file.slice(file.lastIndexOf('/') + 1);
  }
  clear(): void {
    if (this.shown) this.io.err('\r\u001b[K');
    this.shown = false;
  }
  private show(s: string): void {
    this.shown = true;
    this.io.err(`\r\u001b[Kwhy403: ${s}`);
  }
}

export async function lintCommand(a: LintArgs, pathMap: PathMapping[], io: CliIO): Promise<number> {
  const { ConfigError } = await import('./config.js');
  const { isFormat, loadFormatter, loadChunkedFormatter, FORMATS } = await import('./formatters/index.js');
  const cwd = process.cwd();
  let formats: Array<{ name: string; path?: string }>;
  try {
    formats = parseFormats(many(a.format), a.outputFile as string | undefined);
    for (const f of formats)
      if (!isFormat(f.name)) throw new CommandUsageError(`unknown format "${f.name}" (choose from ${FORMATS.join(', ')})`);
    if (a.stdinFilename && !a.stdin && !(a.paths as string[] | undefined)?.includes('-'))
      throw new CommandUsageError('--stdin-filename needs --stdin or - as a path');
    if (a.user && !a.fs) throw new CommandUsageError('--user names the worker user the disk is checked as; it needs --fs');
    const mw = a.maxWarnings as number;
    if (!Number.isInteger(mw) || mw < -1)
      throw new CommandUsageError(`--max-warnings expects an integer ≥ -1, got ${String(a.maxWarnings)}`);
  } catch (e) {
    if (e instanceof CommandUsageError) {
      io.err(`why403: ${e.message}\nRun \`why403 --help\` for usage.\n`);
      return 2;
    }
    throw e;
  }
  const only = many(a.only);
  const known = new Set([...RULE_IDS, ...engineRules.map((r) => r.id)]);
  for (const id of only) {
    if (!known.has(id)) {
      io.err(`why403: --only names unknown rule "${id}"; run \`why403 rules\` for the list\n`);
      return 2;
    }
  }
  let defines: Record<string, string> = {};
  if (a.define !== undefined) {
    const parsed = (await import('./command-load.js')).parseDefines(many(a.define));
    if ('error' in parsed) {
      io.err(`why403: ${parsed.error}\nRun \`why403 --help\` for usage.\n`);
      return 2;
    }
    defines = parsed.defines;
  }
  try {
    if (a.printConfig) {
      const { ConfigResolver, ruleEntry } = await import('./config.js');
      const rules = await allRules();
      const file = resolve(cwd, a.printConfig as string);
      const resolver =
        a.configLookup === false && !a.config ? null : new ConfigResolver(rules, { configFile: a.config as string | undefined, cwd });
      const cfg = resolver?.forFile(file) ?? { file: null, dir: cwd, config: {} };
      const effective: Record<string, unknown> = {};
      for (const r of rules) {
        const e = ruleEntry(cfg.config.rules?.[r.id]);
        effective[r.id] =
          e.options || r.defaultOptions
            ? [e.severity ?? r.severity, { ...(r.defaultOptions ?? {}), ...(e.options ?? {}) }]
            : (e.severity ?? r.severity);
      }
      const out = {
        file: relativePath(cwd, file),
        configFile: cfg.file ? relativePath(cwd, cfg.file) : null,
        rules: effective,
        reportUnusedSuppressions: (a.reportUnusedSuppressions as string | undefined) ?? cfg.config.reportUnusedSuppressions ?? 'warn',
        ignores: cfg.config.ignores ?? [],
        settings: cfg.config.settings ?? {},
      };
      io.out(JSON.stringify(out, null, 2) + '\n');
      return 0;
    }
    let paths = ((a.paths as string[] | undefined) ?? []).slice();
    let stdin: { text: string; filename?: string } | undefined;
    if (a.stdin && !paths.includes('-')) paths.push('-');
    if (paths.includes('-')) {
      const bytes = io.readStdin();
      if (bytes.length > MAX_FILE_BYTES) {
        io.err(
          `why403: standard input is larger than ${MAX_FILE_BYTES} bytes; it is not analysed (why403 needs up to about 100 bytes of memory per byte of configuration)\n`,
        );
        return 2;
      }
      stdin = {
        text: (await import('./source.js')).SourceFile.fromBytes('<stdin>', bytes).text,
        filename: a.stdinFilename as string | undefined,
      };
    }
    // Progress on a terminal only (never in pipes or CI): files read while the configs load (a large
    // tree takes seconds to parse), then files linted. One line, rewritten in place, cleared at the end.
    const progress = io.stderrTTY && !io.env.CI ? new Progress(io) : null;
    const { observeReads } = await import('./read.js');
    const previousObserver = progress ? observeReads((p) => progress.read(p)) : null;
    const run = await lint(paths, {
      cwd,
      only: only.length ? only : undefined,
      configFile: a.config as string | undefined,
      noConfig: a.configLookup === false && !a.config,
      stdin,
      inlineConfig: a.inlineConfig !== false,
      reportUnusedSuppressions: a.reportUnusedSuppressions as UnusedMode | undefined,
      quiet: a.quiet === true,
      fix: a.fix === true,
      fixDryRun: a.fixDryRun === true,
      server: a.server as ServerKind | undefined,
      context: a.context as string | undefined,
      pathMap: pathMap.map((m) => ({ from: resolve(cwd, m.from), to: resolve(cwd, m.to) })),
      ...(a.fs ? { fs: true } : {}),
      ...(a.user ? { user: a.user } : {}),
      ...(a.prefix ? { prefix: a.prefix } : {}),
      ...(a.serverRoot ? { serverRoot: a.serverRoot } : {}),
      ...(Object.keys(defines).length ? { defines } : {}),
      onProgress: progress ? (done, total) => progress.linted(done, total) : undefined,
      onRule: progress ? (file, done, total) => progress.rule(file, done, total) : undefined,
    }).finally(() => {
      if (progress) {
        observeReads(previousObserver);
        progress.clear();
      }
    });
    paths = [];
    let code = 0;
    if (run.unmatched.length > 0 && a.errorOnUnmatchedPattern !== false) {
      for (const u of run.unmatched) {
        const dir = isDirectory(resolve(cwd, u));
        io.err(dir ? `why403: no nginx or Apache config found in the directory "${u}"\n` : `why403: no files match the pattern "${u}"\n`);
      }
      code = 2;
    }
    const ctx = { cwd, color: false, rules: run.enabledRules, version: packageVersion() };
    for (const f of formats) {
      if (!f.path) {
        // in pieces: a big tree's JSON is tens of megabytes (src/formatters/json.ts jsonChunks)
        const chunks = await loadChunkedFormatter(f.name as Parameters<typeof loadFormatter>[0]);
        for (const piece of chunks(run.results, { ...ctx, color: useColor(a.color as boolean | undefined, io.env, io.stdoutTTY) }))
          io.out(piece);
        continue;
      }
      const formatter = await loadFormatter(f.name as Parameters<typeof loadFormatter>[0]);
      const text = formatter(run.results, { ...ctx, color: false });
      const target = resolve(cwd, f.path);
      try {
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, text);
      } catch (e) {
        io.err(`why403: cannot write ${f.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
        code = 2;
      }
    }
    // --fix-dry-run with a text format on stdout: the change each file would get, as a unified diff
    // (the JSON output carries the fixed text as `output`, as ESLint's does).
    if (a.fixDryRun && formats.some((f) => !f.path && (f.name === 'stylish' || f.name === 'compact'))) {
      const changed = run.results.filter((r) => r.output !== undefined);
      if (changed.length) {
        const { createTwoFilesPatch } = await import('diff');
        const { readSource } = await import('./read.js');
        for (const r of changed) {
          const before = readSource(r.filePath);
          if (!before.ok) continue;
          const name = relativePath(cwd, r.filePath);
          io.out(
            createTwoFilesPatch(`a/${name}`, `b/${name}`, before.source.text, r.output!, undefined, undefined, { context: 3 }).replace(
              /^=+\n/,
              '',
            ),
          );
        }
      }
    }
    if (run.omittedMessages) {
      io.err(
        `why403: ${run.omittedMessages} more findings not shown (only the first ${MAX_LISTED_FINDINGS} are listed; the counts include them all)\n`,
      );
    }
    for (const c of run.crashes) {
      io.err(`why403: internal error in ${c.ruleId} while linting ${relativePath(cwd, c.file)}: ${c.error.split('\n')[0]}\n`);
      if (io.env.WHY403_DEBUG) io.err(c.error + '\n');
    }
    for (const f of run.fixErrors) {
      io.err(`why403: cannot fix ${relativePath(cwd, f.filePath)}: ${f.message}; the file is left unchanged\n`);
      code = 2;
    }
    if (run.crashes.length > 0) {
      io.err('The results above are incomplete. This is a bug in why403; run again with WHY403_DEBUG=1 for details and report it.\n');
      return 2;
    }
    if (code === 2) return 2;
    if (a.exitZero) return 0;
    const errors = run.results.reduce((n, r) => n + r.errorCount, 0);
    const warnings = run.results.reduce((n, r) => n + r.warningCount, 0);
    const maxWarnings = a.maxWarnings as number;
    if (errors > 0) return 1;
    if (maxWarnings >= 0 && warnings > maxWarnings) {
      io.err(`why403: too many warnings (${warnings}); the maximum is ${maxWarnings}\n`);
      return 1;
    }
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`why403: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

export async function rulesCommand(id: string | undefined, io: CliIO): Promise<number> {
  const all = [...(await allRules()), ...engineRules].sort((a, b) => byCodeUnits(a.id, b.id));
  if (id) {
    const rule = all.find((r) => r.id === id);
    if (!rule) {
      io.err(`why403: unknown rule "${id}"; run \`why403 rules\` for the list\n`);
      return 2;
    }
    const doc = readRuleDoc(id);
    io.out(doc ?? `${rule.id}\n\n${rule.description}\n\n${rule.docsUrl}\n`);
    return 0;
  }
  const rows = all.map((r) => [r.id, r.servers.join(','), r.severity + (r.fixable ? ' (fixable)' : ''), r.description]);
  const w = [0, 0, 0];
  for (const row of rows) for (let i = 0; i < 3; i++) w[i] = Math.max(w[i], row[i].length);
  const head = ['RULE', 'SERVERS', 'DEFAULT'];
  for (let i = 0; i < 3; i++) w[i] = Math.max(w[i], head[i].length);
  const line = (r: string[]) => `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padEnd(w[2])}  ${r[3]}`.trimEnd() + '\n';
  io.out(line([...head, 'DESCRIPTION']));
  for (const r of rows) io.out(line(r));
  return 0;
}

export async function parseCommand(
  file: string,
  opts: { format: 'text' | 'json'; server?: ServerKind; context?: string; pathMap: PathMapping[] },
  io: CliIO,
): Promise<number> {
  const load = await import('./load.js');
  const cwd = process.cwd();
  const lo: LoadOptions = {};
  if (opts.server) lo.server = opts.server;
  if (opts.context) lo.context = opts.context;
  if (opts.pathMap.length) lo.pathMap = opts.pathMap.map((m) => ({ from: resolve(cwd, m.from), to: resolve(cwd, m.to) }));
  const set = load.loadConfig(resolve(cwd, file), lo);
  const errors = [...[...set.files.values()].flatMap((f) => f.errors), ...set.errors];
  if (!set.files.has(set.root.source.path)) errors.unshift(...set.root.errors);
  // Files outside the tree of the named file and the working directory: names only (src/outside.ts).
  const inside = insideTree(treeRoots(cwd, [file]));
  if (opts.format === 'json') {
    const payload =
      set.server === 'nginx'
        ? (await import('./nginx/crossplane.js')).toCrossplanePayload(set)
        : (await import('./apache/payload.js')).toApachePayload(set);
    io.out(JSON.stringify(redactPayload(payload, inside, cwd, set.server), null, 2) + '\n');
  } else {
    io.out(formatTree(set, cwd, inside));
  }
  for (const d of errors)
    io.err(
      `${relativePath(cwd, d.file)}:${d.span.start.line}:${d.span.start.column}: ${d.severity}: ${inside(d.file) ? d.message : WITHHELD} [syntax-error]\n`,
    );
  return errors.some((d) => d.severity === 'error') ? 1 : 0;
}

/** The text form of `why403 parse`: one line per directive, indented by nesting, included files
 * under their include line. nginx blocks print as `{` … `}`, Apache sections as `<Name args>` … `</Name>`. */
export function formatTree(set: ConfigSet, cwd: string, inside: (file: string) => boolean = () => true): string {
  let out = `# ${set.server} ${relativePath(cwd, set.root.source.path)} (context ${set.root.context})\n`;
  // An explicit stack: nesting depth in the input is unbounded.
  interface Frame {
    nodes: Node[];
    i: number;
    depth: number;
    header?: string;
    closer?: string;
    /** The frame's nodes come from a file outside the tree: names only. */
    hidden: boolean;
  }
  const stack: Frame[] = [{ nodes: set.root.nodes, i: 0, depth: 0, hidden: !inside(set.root.source.path) }];
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (f.header !== undefined) {
      out += f.header;
      f.header = undefined;
    }
    if (f.i >= f.nodes.length) {
      stack.pop();
      if (f.closer) out += f.closer;
      continue;
    }
    const n = f.nodes[f.i++];
    if (n.type !== 'directive') continue;
    // Indentation stops growing at 64 levels, so pathological nesting cannot blow up the output.
    const pad = '  '.repeat(Math.min(f.depth, 64));
    const args = f.hidden ? '' : n.args.map((x) => x.raw).join(' ');
    const name = f.hidden ? (knownName(n.name, set.server) ?? '(not shown)') : n.name;
    const head = `${name}${args ? ' ' + args : ''}`;
    const pos = `${n.span.start.line}:${n.span.start.column}`;
    out += n.section ? `${pad}${pos} <${head}>\n` : `${pad}${pos} ${head}${n.block ? ' {' : ''}\n`;
    if (n.block)
      stack.push({ nodes: n.block, i: 0, depth: f.depth + 1, closer: n.section ? `${pad}</${name}>\n` : `${pad}}\n`, hidden: f.hidden });
    for (const p of [...(n.includes ?? [])].reverse()) {
      const file = set.files.get(p);
      const header = `${pad}  # include ${relativePath(cwd, p)}${file ? '' : ' (not read)'}\n`;
      stack.push({ nodes: file && file !== set.root ? file.nodes : [], i: 0, depth: f.depth + 1, header, hidden: !inside(p) });
    }
  }
  return out;
}
