/**
 * Runs fuzz inputs (test/harness/fuzz-gen.ts) through the library, in process: load (parse), lint
 * with every rule of the server, suppressions, fixes applied in memory and the result parsed again,
 * `explain` for the input's requests. Returns what went wrong: exceptions (and rule crashes, which
 * lintSet catches) and malformed results.
 *
 * test/fuzz.test.ts bundles this file with esbuild and runs `workerMain` in a worker thread, so a hang
 * is ended by terminating the worker: before each input and each stage the worker writes the input's
 * index and the stage into a SharedArrayBuffer the test watches.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { linkHtaccess } from '../../src/apache/model/htaccess-link.js';
import type { ConfigSet, ServerKind } from '../../src/ast.js';
import { explain } from '../../src/explain/index.js';
import { parseExplainRequest } from '../../src/explain/request.js';
import { renderText } from '../../src/explain/render.js';
import { applyFixes } from '../../src/fix.js';
import { engineRules, lintSet, type FileEntry, type LintMessage } from '../../src/linter.js';
import { detectServer, loadConfig, loadText } from '../../src/load.js';
import type { Rule } from '../../src/rule.js';
import { loadRules } from '../../src/rule-manifest.js';
import { applySuppressions } from '../../src/suppress.js';
import { fuzzInput, inputBytes, type FuzzInput, type SeedText } from './fuzz-gen.js';

export const STAGES = ['generate', 'load', 'lint', 'suppress', 'fix', 'reparse', 'explain'] as const;
export type Stage = (typeof STAGES)[number];

export interface Failure {
  server: ServerKind;
  index: number;
  stage: Stage;
  /** 'exception' (thrown, or a rule crash) or 'malformed' (a result that breaks the contract). */
  kind: 'exception' | 'malformed';
  detail: string;
  input: string;
}

const SKIP_EXT = /\.(html?|txt|php|json|htpasswd|secret|snap|png|jpe?g|gif|md|ts|js|mjs|sh|pem|key|crt|tsv|csv|py|pl|svg|ico|gz|zip)$/i;

function walkFiles(dir: string, out: string[]): void {
  let ents;
  try {
    ents = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of ents) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walkFiles(p, out);
    else if (e.isFile()) out.push(p);
  }
}

/** Seed texts: every config under fixtures/ (server by detection) and, when given, every corpus file
 * INDEX.tsv lists (server as listed). Sorted, so a seed and an index always name the same input. */
export function loadSeeds(repoRoot: string, corpusDir: string | null): SeedText[] {
  const seeds: SeedText[] = [];
  const files: string[] = [];
  walkFiles(join(repoRoot, 'fixtures'), files);
  files.sort();
  for (const f of files) {
    if (SKIP_EXT.test(f)) continue;
    const text = readFileSync(f, 'utf8');
    if (text.length > 200_000 || text.includes('\0')) continue;
    const server = detectServer(f, text);
    if (!server) continue;
    seeds.push({ origin: relative(repoRoot, f), server, name: basename(f), text });
  }
  if (corpusDir) {
    const rows = readFileSync(join(corpusDir, 'INDEX.tsv'), 'utf8').trim().split('\n').slice(1);
    const listed = rows
      .map((l) => l.split('\t'))
      .filter((c) => c[1] === 'nginx' || c[1] === 'apache')
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [path, server] of listed) {
      let text: string;
      try {
        text = readFileSync(join(corpusDir, path), 'utf8');
      } catch {
        continue;
      }
      seeds.push({ origin: `corpus/${path}`, server: server as ServerKind, name: basename(path), text });
    }
  }
  return seeds;
}

export interface RunContext {
  server: ServerKind;
  seed: number;
  seeds: readonly SeedText[];
  rules: readonly Rule<string, object>[];
  /** An empty-ish directory: every absolute path the loaders open is mapped into it (pathMap `/` → here),
   * so an include glob never walks the real file system. Inputs with raw bytes are written here too. */
  sandbox: string;
  /** Written before each stage (Int32Array over a SharedArrayBuffer: [index, stage]). */
  progress?: Int32Array;
  /** Time spent per stage (ms), summed over inputs, when given. */
  stageMs?: Partial<Record<Stage, number>>;
}

/** Files the generated includes can find (conf.d/*.conf, conf-enabled/*.conf, mime.types). */
export function prepareSandbox(dir: string): void {
  const put = (p: string, text: string) => {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  };
  put('etc/nginx/conf.d/a.conf', 'location /inc/ { deny all; }\n');
  put('etc/nginx/mime.types', 'types { text/html html; }\n');
  put('etc/nginx/snippets/s.conf', 'allow 127.0.0.1;\ndeny all;\n');
  put('etc/apache2/conf-enabled/a.conf', '<Directory /srv/inc>\n  Require all denied\n</Directory>\n');
  put('etc/apache2/mods-enabled/authz_core.load', 'LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n');
  put('srv/www/index.html', 'x\n');
  put('srv/www/admin/.htaccess', 'Require all denied\n');
  put('srv/www/private/secret.txt', 'x\n');
  put('var/www/html/index.html', 'x\n');
  put('usr/share/nginx/html/index.html', 'x\n');
  put('etc/nginx/.htpasswd', 'bob:$apr1$x$y\n');
  put('etc/apache2/.htpasswd', 'bob:$apr1$x$y\n');
  mkdirSync(join(dir, 'in'), { recursive: true });
}

function lineEnd(text: string, starts: ArrayLike<number>, line: number): number {
  return line < starts.length ? starts[line] - 1 : text.length;
}

/** Problems with one message: empty when it is well formed. */
function messageProblems(m: LintMessage, e: FileEntry): string[] {
  const p: string[] = [];
  const ok = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 1;
  if (typeof m.ruleId !== 'string' || m.ruleId === '') p.push('no ruleId');
  if (typeof m.message !== 'string' || m.message.trim() === '') p.push('no message');
  if (!ok(m.line) || !ok(m.column) || !ok(m.endLine) || !ok(m.endColumn)) p.push('line/column not integers >= 1');
  else if (m.endLine < m.line || (m.endLine === m.line && m.endColumn < m.column)) p.push('ends before it starts');
  const src = e.source;
  if (src && p.length === 0) {
    const starts = src.lineStarts;
    for (const [l, c, what] of [
      [m.line, m.column, 'start'],
      [m.endLine, m.endColumn, 'end'],
    ] as const) {
      if (l > starts.length) p.push(`${what} line ${l} > ${starts.length} lines`);
      else if (starts[l - 1] + c - 1 > lineEnd(src.text, starts, l)) p.push(`${what} column ${c} past the end of line ${l}`);
    }
    if (!(m.offset >= 0 && m.offset <= m.endOffset && m.endOffset <= src.text.length))
      p.push(`offsets ${m.offset}..${m.endOffset} outside 0..${src.text.length}`);
  }
  for (const f of [m.fix, ...(m.suggestions ?? []).map((s) => s.fix)]) {
    if (!f) continue;
    const [s, e2] = f.range;
    if (
      !(Number.isInteger(s) && Number.isInteger(e2) && s >= 0 && s <= e2 && (!src || e2 <= src.text.length)) ||
      typeof f.text !== 'string'
    )
      p.push(`fix range ${s}..${e2} outside the text`);
  }
  return p.map((x) => `${m.ruleId} ${m.line}:${m.column}: ${x}`);
}

/** Outcomes that have no status of their own (docs/explain.md): a backend or handler answers, or the connection is closed. */
const NO_STATUS = new Set(['proxied', 'handler', 'close', 'unknown']);

const errText = (e: unknown): string => (e instanceof Error ? (e.stack ?? e.message) : String(e)).split('\n').slice(0, 8).join('\n');

/** Run one input; the failures it produced (none when all went well). */
export function runInput(input: FuzzInput, ctx: RunContext): Failure[] {
  const failures: Failure[] = [];
  const fail = (stage: Stage, kind: Failure['kind'], detail: string) =>
    failures.push({ server: input.server, index: input.index, stage, kind, detail, input: input.kind });
  let current: Stage | null = null;
  let since = 0;
  const stage = (s: Stage | null) => {
    if (ctx.stageMs) {
      const now = performance.now();
      if (current) ctx.stageMs[current] = (ctx.stageMs[current] ?? 0) + now - since;
      current = s;
      since = now;
    }
    if (ctx.progress && s) Atomics.store(ctx.progress, 1, STAGES.indexOf(s));
  };
  const path = join(ctx.sandbox, 'in', input.name);
  const pathMap = [{ from: '/', to: ctx.sandbox }];
  const loadOpts = { server: ctx.server, pathMap, ...(input.context ? { context: input.context } : {}) };
  const settings = {};
  const ruleSetting = (_file: string, rule: Rule<string, object>) => ({ severity: rule.severity });
  const knownRules = new Set([...ctx.rules.map((r) => r.id), ...engineRules.map((r) => r.id)]);

  // load
  stage('load');
  let set: ConfigSet;
  try {
    if (input.rawBytes) {
      writeFileSync(path, inputBytes(input));
      set = loadConfig(path, loadOpts);
    } else set = loadText(path, input.text, loadOpts);
  } catch (e) {
    fail('load', 'exception', errText(e));
    return failures;
  }

  // lint
  stage('lint');
  let files: Map<string, FileEntry>;
  try {
    // as run.ts does for a .htaccess with no main config in the run
    if (set.server === 'apache' && set.root.context === 'htaccess') linkHtaccess(set, []);
    const r = lintSet(set, { rules: ctx.rules, ruleSetting, settings });
    for (const c of r.crashes) fail('lint', 'exception', `rule ${c.ruleId} crashed: ${c.error.split('\n').slice(0, 8).join('\n')}`);
    files = r.files;
  } catch (e) {
    fail('lint', 'exception', errText(e));
    return failures;
  }
  for (const e of files.values()) for (const m of e.messages) for (const p of messageProblems(m, e)) fail('lint', 'malformed', p);

  // suppressions
  stage('suppress');
  for (const e of files.values()) {
    try {
      const r = applySuppressions(e, { knownRules, reportUnused: 'warn', server: e.parsed?.server });
      for (const m of r.messages) for (const p of messageProblems(m, e)) fail('suppress', 'malformed', p);
      e.messages = r.messages;
    } catch (err) {
      fail('suppress', 'exception', errText(err));
    }
  }

  // fixes (in memory), then the fixed text must load again
  stage('fix');
  const root = files.get(set.root.source.path);
  const fixes = root?.messages.filter((m) => m.fix).map((m) => m.fix!) ?? [];
  if (root?.source && fixes.length) {
    let out: string | null = null;
    try {
      out = applyFixes(root.source.text, fixes).output;
    } catch (e) {
      fail('fix', 'exception', errText(e));
    }
    if (out !== null && out !== root.source.text) {
      stage('reparse');
      try {
        const again = loadText(path, out, loadOpts);
        lintSet(again, { rules: [], ruleSetting, settings });
      } catch (e) {
        fail('reparse', 'exception', errText(e));
      }
    }
  }

  // explain
  stage('explain');
  for (const [qi, q] of input.requests.entries()) {
    const parsed = parseExplainRequest(q);
    if (!parsed.ok) continue;
    try {
      const x = explain(set, path, parsed.request, { fs: !!q.fs, pathMap: q.fs ? pathMap : [], cwd: ctx.sandbox });
      const known = typeof x.status === 'number' && Number.isInteger(x.status) && x.status >= 0 && x.status <= 999;
      const unknown = x.status === null && (x.unknowns.length > 0 || x.possibleOutcomes.length > 0 || NO_STATUS.has(x.outcome));
      if (!known && !unknown)
        fail(
          'explain',
          'malformed',
          `${q.method} ${q.target}: status ${String(x.status)} with no unknowns or possible outcomes (outcome ${x.outcome})`,
        );
      if (typeof x.verdict !== 'string' || x.verdict === '') fail('explain', 'malformed', `${q.method} ${q.target}: empty verdict`);
      for (const s of x.trace)
        if (s.at && !(s.at.line >= 1 && s.at.column >= 1)) fail('explain', 'malformed', `trace step ${s.n} at ${s.at.line}:${s.at.column}`);
      if (qi === 0) renderText(x);
    } catch (e) {
      fail('explain', 'exception', `${q.method} ${q.target}${q.ip ? ' from ' + q.ip : ''}: ${errText(e)}`);
    }
  }
  stage(null);
  return failures;
}

export interface WorkerJob {
  server: ServerKind;
  seed: number;
  start: number;
  count: number;
  repoRoot: string;
  corpusDir: string | null;
  sandbox: string;
  progress: SharedArrayBuffer;
  /** Self-test of the hang detection: spin forever on this input. */
  spinAt?: number;
}

export interface WorkerResult {
  server: ServerKind;
  inputs: number;
  failureCount: number;
  exceptionCount: number;
  maxMs: number;
  maxIndex: number;
  totalMs: number;
  seeds: number;
  generated: number;
}

/** Worker thread entry: run `count` inputs from `start`; each failure is reported as it happens (a
 * hang later in the run must not lose it), the totals at the end. */
export async function workerMain(job: WorkerJob, onFailure: (f: Failure) => void = () => {}): Promise<WorkerResult> {
  const progress = new Int32Array(job.progress);
  const seeds = loadSeeds(job.repoRoot, job.corpusDir);
  const rules = (await loadRules([job.server])).filter((r) => r.servers.includes(job.server));
  prepareSandbox(job.sandbox);
  const ctx: RunContext = { server: job.server, seed: job.seed, seeds, rules, sandbox: job.sandbox, progress };
  const res: WorkerResult = {
    server: job.server,
    inputs: 0,
    failureCount: 0,
    exceptionCount: 0,
    maxMs: 0,
    maxIndex: -1,
    totalMs: 0,
    seeds: seeds.filter((s) => s.server === job.server).length,
    generated: 0,
  };
  const t0 = performance.now();
  for (let i = job.start; i < job.start + job.count; i++) {
    Atomics.store(progress, 0, i);
    Atomics.store(progress, 1, 0);
    const t = performance.now();
    let f: Failure[];
    if (i === job.spinAt) for (;;);
    try {
      const input = fuzzInput(job.server, job.seed, i, seeds);
      if (input.kind.startsWith('gen-')) res.generated++;
      f = runInput(input, ctx);
    } catch (e) {
      // the generator itself (a bug of this test, still a failure)
      f = [{ server: job.server, index: i, stage: 'generate', kind: 'exception', detail: errText(e), input: '' }];
    }
    const ms = performance.now() - t;
    if (ms > res.maxMs) {
      res.maxMs = ms;
      res.maxIndex = i;
    }
    res.inputs++;
    res.failureCount += f.length;
    res.exceptionCount += f.filter((x) => x.kind === 'exception').length;
    for (const x of f) onFailure(x);
    Atomics.store(progress, 2, res.inputs);
  }
  res.totalMs = performance.now() - t0;
  return res;
}

if (parentPort && workerData && (workerData as { why403Fuzz?: WorkerJob }).why403Fuzz) {
  const job = (workerData as { why403Fuzz: WorkerJob }).why403Fuzz;
  workerMain(job, (f) => parentPort!.postMessage({ failure: f })).then(
    (r) => parentPort!.postMessage({ done: r }),
    (e) => {
      throw e;
    },
  );
}
