/**
 * How often does `why403 explain` agree with the real servers on real-world configs? A differential
 * over the shared corpus (../shared/corpus beside the repository, read in place, never copied into the
 * repository): for every file INDEX.tsv says real nginx / apache2 accepted, and that the harness can
 * start on 127.0.0.1, the probe requests `why403 diff` builds (src/diff: every scope the model reaches,
 * clients on both sides of every address boundary, every method, with and without credentials) are
 * predicted by explain — the same model and simulator the CLI uses, built from the config exactly as
 * the harness started it (listen lines on free loopback ports, the temporary prefix, `--fs` on the
 * prefix copy) — and sent to the real server (src/real, the harness of `why403 test --real`).
 *
 * Counted per server: files run, requests sent, agree, disagree, unknown (explain cannot tell: not
 * agreement), and the requests that cannot be sent here (a client outside 127.0.0.0/8, valid
 * credentials that cannot be made up). Every start and request is bounded in time, every server is
 * stopped by PID whatever happens, and a config that would listen outside 127.0.0.0/8 is not started.
 *
 *   node dist/bench/agreement.js [--server nginx|apache] [--limit N] [--corpus DIR] [--json]
 *   (also: node scripts/agreement.mjs …)
 */
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigSet, Directive } from '../src/ast.js';
import { predictProbe, probeRequests, type DiffSide, type Verdict } from '../src/diff/index.js';
import { loadConfig } from '../src/load.js';
import { isLoopbackV4, request } from '../src/real/requests.js';
import { nonLoopbackListeners } from '../src/real/spec.js';
import {
  APACHE_BASE_MODULES,
  APACHE_MODULES,
  apacheCompiledIn,
  scanNginx,
  serverSkipReason,
  startApache,
  startNginx,
  stopAllServers,
  type RunningServer,
} from '../src/real/servers.js';
import { walk } from '../src/walk.js';

export type Server = 'nginx' | 'apache';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository (bench/ from the sources, dist/bench/ once built). */
const REPO = basename(dirname(here)) === 'dist' ? dirname(dirname(here)) : dirname(here);
/** ../shared/corpus beside the repository. */
export const DEFAULT_CORPUS = resolve(REPO, '..', 'shared', 'corpus');

/** One INDEX.tsv row (see the corpus's SOURCES.md). */
export interface Row {
  path: string;
  server: Server;
  kind: string;
  result: string;
  method: string;
  detail: string;
}

export function corpusRows(corpus: string): Row[] {
  const index = join(corpus, 'INDEX.tsv');
  if (!existsSync(index)) return [];
  return readFileSync(index, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'))
    .map((c) => ({ path: c[0], server: c[1] as Server, kind: c[2] ?? '', result: c[5] ?? '', method: c[6] ?? '', detail: c[8] ?? '' }));
}

/** How a corpus file is started: the fixture directory written for it, or why it is not run. */
export type Plan =
  { kind: 'nginx'; context: 'main' | 'http' | 'server' | 'location' } | { kind: 'apache'; as: 'htaccess' | 'server' } | { skip: string };

/** Which accepted rows this differential runs, and how (INDEX `method`/`detail` say how the servers
 * were made to read each file). */
export function planFor(r: Row): Plan {
  if (r.result !== 'ok') return { skip: `the real server rejected it (${r.result})` };
  if (r.server === 'nginx') {
    if (r.method.startsWith('as-is')) return { kind: 'nginx', context: 'main' };
    const m = /^wrapped in (server|http|location) context of Debian nginx\.conf/.exec(r.detail);
    if (r.method.startsWith('wrapped') && m) return { kind: 'nginx', context: m[1] as 'http' | 'server' | 'location' };
    return { skip: `read ${r.method} (${r.detail.slice(0, 60)}): needs its own tree` };
  }
  if (r.method === 'wrapped' && r.kind === 'htaccess') return { kind: 'apache', as: 'htaccess' };
  if (r.method === 'wrapped' && /^included at server level of Debian apache2\.conf/.test(r.detail)) return { kind: 'apache', as: 'server' };
  return { skip: `read ${r.method} (${r.detail.slice(0, 60)}): needs its own tree` };
}

export interface Disagreement {
  file: string;
  /** `METHOD http://host[:listen]/path from IP`, the port as the config wrote it. */
  request: string;
  predicted: number | null;
  real: number | null;
  /** The deciding directive explain named (`file:line:col text`, the corpus file's own path and lines). */
  decidedBy: string | null;
  scope: string;
}

export interface CaseResult {
  server: Server;
  file: string;
  /** Why it was not run (start failed, not loopback-only, …). */
  skipped?: string;
  requests: number;
  agree: number;
  disagree: number;
  unknown: number;
  /** Probe requests that cannot be sent from here (client outside 127/8, assumed credentials). */
  unsent: number;
  /** The probe list was cut (MAX_PROBES in src/diff, or `maxRequests`). */
  truncated: boolean;
  disagreements: Disagreement[];
  /** The requests explain could not answer: the statuses it lists as possible, and the real one. */
  unknowns: Array<{ request: string; possible: Array<number | null>; real: number | null }>;
}

export interface AgreementOptions {
  corpus?: string;
  servers?: Server[];
  /** The first N runnable files per server (INDEX order). */
  limit?: number;
  /** Only these corpus paths. */
  only?: string[];
  /** At most this many sendable requests per file (default 300). */
  maxRequests?: number;
  requestTimeoutMs?: number;
  startTimeoutMs?: number;
  /** Called after each file. */
  onCase?: (r: CaseResult) => void;
}

// ---------------------------------------------------------------------------------------------
// The fixture directory of one corpus file

/** Debian's nginx fragments that sites include relatively (snippets/fastcgi-php.conf, fastcgi_params, …). */
const NGINX_DEBIAN = '/etc/nginx';
const NGINX_FRAGMENTS = ['snippets', 'fastcgi.conf', 'fastcgi_params', 'proxy_params', 'scgi_params', 'uwsgi_params', 'mime.types'];

function nginxWrapper(context: 'http' | 'server' | 'location', text: string): string {
  // Debian's sites-enabled/default: the default server on port 80 (for an http-context file with none)
  const hasServer = scanNginx(text).some((d) => d.name === 'server' && d.children);
  const site =
    context === 'http'
      ? `    include site.conf;\n${hasServer ? '' : '    server {\n        listen 80 default_server;\n        root /var/www/html;\n    }\n'}`
      : context === 'server'
        ? '    server {\n        listen 80;\n        server_name localhost;\n        include site.conf;\n    }\n'
        : '    server {\n        listen 80;\n        server_name localhost;\n        location / {\n            include site.conf;\n        }\n    }\n';
  const modules = existsSync(join(NGINX_DEBIAN, 'modules-enabled')) ? `include ${NGINX_DEBIAN}/modules-enabled/*.conf;\n` : '';
  return `# why403 agreement: the corpus file (site.conf) in ${context} context of a Debian-like nginx.conf
user nobody nogroup;
${modules}events {
    worker_connections 64;
}
http {
    include mime.types;
    default_type application/octet-stream;
${site}}
`;
}

/** Every Apache module on this machine that the harness base does not load (INDEX: "all Debian modules"). */
function apacheExtraModules(): string {
  const base = new Set([...APACHE_BASE_MODULES, ...apacheCompiledIn()]);
  let names: string[] = [];
  try {
    names = readdirSync(APACHE_MODULES)
      .map((f) => /^mod_(\w+)\.so$/.exec(f)?.[1])
      .filter((m): m is string => !!m && !base.has(m) && !/^mpm_/.test(m) && !/^php/.test(m));
  } catch {
    /* no modules directory: the base only */
  }
  return names
    .sort()
    .map((m) => `LoadModule ${m}_module ${join(APACHE_MODULES, `mod_${m}.so`)}`)
    .join('\n');
}

export function writeFixture(corpus: string, r: Row, plan: Exclude<Plan, { skip: string }>): { dir: string; main: string } {
  const dir = mkdtempSync(join(tmpdir(), 'why403-agree-'));
  const src = join(corpus, r.path);
  if (plan.kind === 'nginx') {
    for (const f of NGINX_FRAGMENTS) {
      const p = join(NGINX_DEBIAN, f);
      if (existsSync(p)) cpSync(p, join(dir, f), { recursive: true });
    }
    // Debian's load_module lines name modules/… relative to the prefix
    if (existsSync('/usr/lib/nginx/modules')) symlinkSync('/usr/lib/nginx/modules', join(dir, 'modules'));
    if (plan.context === 'main') copyFileSync(src, join(dir, 'nginx.conf'));
    else {
      copyFileSync(src, join(dir, 'site.conf'));
      writeFileSync(join(dir, 'nginx.conf'), nginxWrapper(plan.context, readFileSync(src, 'latin1')));
    }
    return { dir, main: 'nginx.conf' };
  }
  const lines = ['# why403 agreement: every Debian module, then the corpus file', apacheExtraModules()];
  if (plan.as === 'htaccess') {
    mkdirSync(join(dir, 'htdocs'), { recursive: true });
    copyFileSync(src, join(dir, 'htdocs', '.htaccess'));
  } else {
    copyFileSync(src, join(dir, 'site.conf'));
    lines.push('Include site.conf');
  }
  writeFileSync(join(dir, 'main.conf'), lines.join('\n') + '\n');
  return { dir, main: 'main.conf' };
}

// ---------------------------------------------------------------------------------------------
// Loading the config as the harness runs it

export function directives(set: ConfigSet): Directive[] {
  const out: Directive[] = [];
  walk(set, (n) => {
    if (n.type === 'directive') out.push(n);
  });
  return out;
}

const inside = (root: string, p: string) => {
  const r = relative(root, p);
  return !r.startsWith('..') && !r.startsWith('/');
};

/** Why the config cannot be started here, from its own files: a listening directive (nginx `listen`
 * or a `server` block, Apache `Listen`) in a file outside the fixture, which the harness cannot move
 * to a loopback port. */
export function outsideListen(set: ConfigSet, root: string): string | null {
  for (const d of directives(set)) {
    if (inside(root, d.source.path)) continue;
    const k = d.name.toLowerCase();
    if (k === 'listen' || (set.server === 'nginx' && k === 'server' && d.block))
      return `${d.source.path}:${d.nameSpan.start.line} (${k}) is outside the copy: the harness could not move it to 127.0.0.1`;
  }
  return null;
}

function sideOf(s: RunningServer): DiffSide {
  if (s.kind === 'nginx') {
    const prefix = `${s.prefix}/`;
    return { set: loadConfig(s.configFile, { server: 'nginx', prefix }), options: { prefix, fs: true } };
  }
  const o = { serverRoot: s.prefix, defines: { HARNESS_ROOT: s.prefix } };
  return { set: loadConfig(s.configFile, { server: 'apache', ...o }), options: { ...o, fs: true } };
}

// ---------------------------------------------------------------------------------------------
// One file

const empty = (server: Server, file: string, skipped?: string): CaseResult => ({
  server,
  file,
  ...(skipped ? { skipped } : {}),
  requests: 0,
  agree: 0,
  disagree: 0,
  unknown: 0,
  unsent: 0,
  truncated: false,
  disagreements: [],
  unknowns: [],
});

/**
 * Lay a corpus row out and start it in its real server as this bench does: the running server, its
 * directory and main file, or why not (then nothing is left running or on disk). The caller stops the
 * server and removes `dir`. `clientHeader`: the harness's option (a header names the client address).
 */
export async function startCase(
  corpus: string,
  r: Row,
  opts: { startTimeoutMs?: number; clientHeader?: string } = {},
): Promise<{ skip: string } | { server: RunningServer; dir: string; main: string }> {
  const plan = planFor(r);
  if ('skip' in plan) return plan;
  const { dir, main } = writeFixture(corpus, r, plan);
  let s: RunningServer | null = null;
  const skip = async (why: string) => {
    if (s) await s.stop();
    rmSync(dir, { recursive: true, force: true });
    return { skip: why };
  };
  try {
    // the fixture as our loader reads it: nothing may listen from a file the harness does not edit
    const pre =
      r.server === 'nginx'
        ? loadConfig(join(dir, main), { server: 'nginx', prefix: `${dir}/` })
        : loadConfig(join(dir, main), { server: 'apache', serverRoot: dir, defines: { HARNESS_ROOT: dir } });
    const outside = outsideListen(pre, dir);
    if (outside) return await skip(outside);
    if (r.server === 'nginx' && !directives(pre).some((d) => d.name === 'server' && d.block))
      return await skip('no server block is read (its includes are not in the corpus copy): nothing would listen');
    const common = {
      fixture: dir,
      main,
      startTimeoutMs: opts.startTimeoutMs ?? 15_000,
      ...(opts.clientHeader ? { clientHeader: opts.clientHeader } : {}),
    };
    try {
      s =
        r.server === 'nginx'
          ? await startNginx({ ...common, context: 'main' })
          : await startApache({ ...common, base: plan.kind === 'apache' && plan.as === 'htaccess' ? 'htaccess' : 'debian' });
    } catch (e) {
      return await skip(`did not start: ${(e as Error).message.split('\n').slice(0, 3).join(' ').slice(0, 300)}`);
    }
    const open = nonLoopbackListeners(s.pid);
    if (open.length) return await skip(`listened on ${open.join(', ')}: stopped before any request`);
    return { server: s, dir, main };
  } catch (e) {
    await skip('');
    throw e;
  }
}

export async function runCase(corpus: string, r: Row, opts: AgreementOptions = {}): Promise<CaseResult> {
  const serverSkip = 'skip' in planFor(r) ? null : serverSkipReason(r.server);
  if (serverSkip) return empty(r.server, r.path, serverSkip);
  const c = await startCase(corpus, r, opts);
  if ('skip' in c) return empty(r.server, r.path, c.skip);
  try {
    return await probeCase(r, c.server, opts);
  } finally {
    await c.server.stop();
    rmSync(c.dir, { recursive: true, force: true });
  }
}

/** The config's own port for a harness port (the harness rewrote every listen line). */
function portNames(s: RunningServer): Map<number, string> {
  return new Map(Object.entries(s.ports).map(([k, v]) => [v, k]));
}

/** The status line of an answer, read from the socket (for answers Node's parser refuses). */
function rawStatus(port: number, method: string, path: string, host: string, from: string, timeoutMs: number): Promise<number | null> {
  return new Promise((done) => {
    let buf = '';
    const sock = connect({ host: '127.0.0.1', port, localAddress: from });
    const t = setTimeout(() => {
      sock.destroy();
      done(null);
    }, timeoutMs);
    const finish = () => {
      clearTimeout(t);
      sock.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
      done(m ? Number(m[1]) : null);
    };
    sock.on('connect', () => sock.write(`${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    sock.on('data', (b: Buffer) => {
      buf += b.toString('latin1');
      if (buf.includes('\r\n')) finish();
    });
    sock.on('error', finish);
    sock.on('end', finish);
  });
}

async function probeCase(r: Row, s: RunningServer, opts: AgreementOptions): Promise<CaseResult> {
  const out = empty(r.server, r.path);
  const side = sideOf(s);
  const { requests, truncated } = probeRequests([side]);
  out.truncated = truncated;
  const names = portNames(s);
  const max = opts.maxRequests ?? 300;
  // paths in explanations: the copy's files are the corpus file's own lines
  const copyOf = r.server === 'nginx' ? join(s.prefix, existsSync(join(s.prefix, 'site.conf')) ? 'site.conf' : 'nginx.conf') : null;
  const local = (t: string | null) => {
    if (!t) return t;
    let x = t;
    if (copyOf) x = x.split(`${copyOf}:`).join(`${r.path}:`);
    x = x.split(`${s.prefix}/htdocs/.htaccess:`).join(`${r.path}:`);
    x = x.split(`${s.prefix}/site.conf:`).join(`${r.path}:`);
    return x.split(`${s.prefix}/`).join('<prefix>/');
  };
  for (const { req, scope } of requests) {
    if (req.user || !isLoopbackV4(req.ip)) {
      out.unsent++;
      continue;
    }
    if (out.requests >= max) {
      out.truncated = true;
      break;
    }
    const u = new URL(req.url);
    const port = u.port ? Number(u.port) : s.port;
    const sendPort = names.has(port) ? port : s.port;
    const path = `${u.pathname}${u.search}`;
    const verdict: Verdict = predictProbe(side, req);
    let real: number | null;
    try {
      real = (
        await request({
          port: sendPort,
          method: req.method,
          path,
          from: req.ip,
          host: u.host,
          headers: Object.entries(req.headers),
          timeoutMs: opts.requestTimeoutMs ?? 5000,
        })
      ).status;
    } catch (e) {
      const m = (e as Error).message;
      if (/source address|port must|bad method|the path is empty/.test(m)) {
        out.unsent++;
        continue;
      }
      // nginx 444 closes the connection without an answer; an answer Node cannot parse (a header
      // with a line break) is read from its status line
      real = /socket hang up|ECONNRESET/.test(m)
        ? 444
        : /Parse Error/.test(m)
          ? await rawStatus(sendPort, req.method, path, u.host, req.ip, opts.requestTimeoutMs ?? 5000)
          : null;
    }
    out.requests++;
    const shown = `${req.method} ${u.protocol}//${u.hostname}${names.get(sendPort) && names.get(sendPort) !== '80' ? `:${names.get(sendPort)}` : ''}${path} from ${req.ip}`;
    if (verdict.status === null) {
      out.unknown++;
      out.unknowns.push({ request: shown, possible: verdict.possible ?? [], real });
      continue;
    }
    if (verdict.status === real) {
      out.agree++;
      continue;
    }
    out.disagree++;
    out.disagreements.push({
      file: r.path,
      request: shown,
      predicted: verdict.status,
      real,
      decidedBy: local(verdict.decidedBy),
      scope: local(scope) ?? scope,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Every file, the summary

export interface Summary {
  server: Server;
  files: number;
  skipped: number;
  requests: number;
  agree: number;
  disagree: number;
  unknown: number;
  unsent: number;
  /** agree / (agree + disagree + unknown), in percent. */
  agreement: number;
}

export function summarize(results: CaseResult[], server: Server): Summary {
  const rs = results.filter((r) => r.server === server);
  const run = rs.filter((r) => !r.skipped);
  const sum = (k: 'requests' | 'agree' | 'disagree' | 'unknown' | 'unsent') => run.reduce((a, r) => a + r[k], 0);
  const requests = sum('requests');
  return {
    server,
    files: run.length,
    skipped: rs.length - run.length,
    requests,
    agree: sum('agree'),
    disagree: sum('disagree'),
    unknown: sum('unknown'),
    unsent: sum('unsent'),
    agreement: requests ? (100 * sum('agree')) / requests : 0,
  };
}

/** The rows a run covers: accepted files with a plan, in INDEX order, the first `limit` per server. */
export function selectRows(corpus: string, opts: AgreementOptions = {}): Row[] {
  const servers = opts.servers ?? ['nginx', 'apache'];
  const out: Row[] = [];
  for (const server of servers) {
    let rows = corpusRows(corpus).filter((r) => r.server === server && r.result === 'ok' && !('skip' in planFor(r)));
    if (opts.only) rows = rows.filter((r) => opts.only!.includes(r.path));
    out.push(...(opts.limit !== undefined ? rows.slice(0, opts.limit) : rows));
  }
  return out;
}

export async function runAgreement(opts: AgreementOptions = {}): Promise<CaseResult[]> {
  const corpus = opts.corpus ?? DEFAULT_CORPUS;
  const results: CaseResult[] = [];
  try {
    for (const r of selectRows(corpus, opts)) {
      const res = await runCase(corpus, r, opts);
      results.push(res);
      opts.onCase?.(res);
    }
  } finally {
    await stopAllServers();
  }
  return results;
}

export function formatSummary(results: CaseResult[], servers: Server[]): string {
  const lines: string[] = [];
  for (const server of servers) {
    const s = summarize(results, server);
    lines.push(
      `${server}: ${s.files} files run (${s.skipped} skipped), ${s.requests} requests: ${s.agree} agree, ${s.disagree} disagree, ${s.unknown} unknown; agreement ${s.agreement.toFixed(1)} % (${s.unsent} probes not sendable from 127.0.0.0/8 or with assumed credentials)`,
    );
  }
  return lines.join('\n');
}

export function formatDisagreements(results: CaseResult[]): string {
  const lines: string[] = [];
  for (const r of results)
    for (const d of r.disagreements)
      lines.push(
        `${d.file}: ${d.request}: explain ${d.predicted}, real ${d.real ?? 'no answer'}; decided by ${d.decidedBy ?? '-'} [${d.scope}]`,
      );
  return lines.join('\n');
}

async function main(argv: string[]): Promise<void> {
  const opts: AgreementOptions = {};
  let json = false;
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--server') opts.servers = [argv[++i] as Server];
    else if (a === '--limit') opts.limit = Number(argv[++i]);
    else if (a === '--corpus') opts.corpus = resolve(argv[++i]);
    else if (a === '--max-requests') opts.maxRequests = Number(argv[++i]);
    else if (a === '--only') (opts.only ??= []).push(argv[++i]);
    else if (a === '--json') json = true;
    else if (a === '--verbose') verbose = true;
    else {
      console.error(
        `unknown argument ${a}\nusage: agreement [--server nginx|apache] [--limit N] [--corpus DIR] [--only PATH] [--max-requests N] [--json] [--verbose]`,
      );
      process.exitCode = 2;
      return;
    }
  }
  const corpus = opts.corpus ?? DEFAULT_CORPUS;
  if (!existsSync(join(corpus, 'INDEX.tsv'))) {
    console.log(`agreement skipped: ${corpus}/INDEX.tsv not found (pass --corpus DIR)`);
    return;
  }
  const servers = opts.servers ?? ['nginx', 'apache'];
  const t0 = Date.now();
  const results = await runAgreement({
    ...opts,
    corpus,
    onCase: (r) => {
      if (verbose) {
        console.error(
          `${r.server} ${r.file}: ${r.skipped ? `skipped: ${r.skipped}` : `${r.requests} requests, ${r.disagree} disagree, ${r.unknown} unknown`}`,
        );
        for (const x of r.unknowns) console.error(`    unknown: ${x.request}: possible ${x.possible.join('/')}, real ${x.real}`);
      }
    },
  });
  if (json) {
    console.log(JSON.stringify({ summary: servers.map((s) => summarize(results, s)), results }, null, 2));
    return;
  }
  console.log(formatSummary(results, servers));
  console.log(`(${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  const d = formatDisagreements(results);
  if (d) console.log(`\ndisagreements:\n${d}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
