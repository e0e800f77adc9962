/**
 * Start real nginx (Debian nginx-full) and Apache httpd (Debian apache2) on 127.0.0.1 from a temporary
 * prefix, for tests that prove what a config does and for `why403 test --real` (src/real/spec.ts).
 * See docs/testing-real-servers.md. The tests import it through test/harness/servers.ts.
 *
 * Every server is started in the foreground as our child, in its own process group, and registered;
 * `stop()` (and `stopAllServers()`, and a process 'exit'/signal handler as a last resort) kill it by
 * PID: SIGTERM, then SIGKILL to the whole group after a bound, then the prefix is removed.
 *
 * This module deliberately does not use why403's own parsers: the harness is what proves the tool,
 * so it only relies on a tiny nginx tokenizer (enough to find `listen`, `server`, `http` and a few
 * path directives) and line-based edits for Apache. Edits never add or remove lines in fixture files,
 * so server error messages keep pointing at the fixture's own line numbers.
 */
import type { ChildProcess } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants as fsc,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { lazy } from '../lazy.js';
import { freePorts, LOOPBACK, releasePorts } from './ports.js';

const childProcess = lazy<typeof import('node:child_process')>('node:child_process');
const net = lazy<typeof import('node:net')>('node:net');

// ---------------------------------------------------------------------------------------------
// What is installed, who we are

export const NGINX_BIN = process.env.WHY403_NGINX_BIN ?? '/usr/sbin/nginx';
export const APACHE_BIN = process.env.WHY403_APACHE_BIN ?? '/usr/sbin/apache2';
export const APACHE_MODULES = process.env.WHY403_APACHE_MODULES ?? '/usr/lib/apache2/modules';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function executable(path: string): boolean {
  try {
    accessSync(path, fsc.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Why nginx tests cannot run here, or null when they can. */
export function nginxSkipReason(): string | null {
  return executable(NGINX_BIN) ? null : `nginx not found at ${NGINX_BIN} (apt-get install nginx-full, or set WHY403_NGINX_BIN)`;
}
/** Why Apache tests cannot run here, or null when they can. */
export function apacheSkipReason(): string | null {
  if (!executable(APACHE_BIN)) return `apache2 not found at ${APACHE_BIN} (apt-get install apache2, or set WHY403_APACHE_BIN)`;
  if (!existsSync(join(APACHE_MODULES, 'mod_authz_core.so'))) return `Apache modules not found in ${APACHE_MODULES}`;
  return null;
}
/** Why tests that depend on an unprivileged worker reading files cannot run here, or null. */
export function rootSkipReason(): string | null {
  return isRoot ? null : 'not running as root: the server runs as the current user, so file-permission cases cannot be reproduced';
}
export function serverSkipReason(kind: ServerKind): string | null {
  return kind === 'nginx' ? nginxSkipReason() : apacheSkipReason();
}

/** Unprivileged worker user and group used when we are root. */
export const NGINX_WORKER = { user: 'nobody', group: 'nogroup' };
export const APACHE_WORKER = { user: 'www-data', group: 'www-data' };

// ---------------------------------------------------------------------------------------------
// Options and the running server

export type ServerKind = 'nginx' | 'apache';
/** nginx: what the fixture's main file is (see docs). */
export type NginxContext = 'main' | 'http' | 'server';
/** Apache: which generated httpd.conf wraps the fixture; 'none' = the fixture is a whole httpd.conf. */
export type ApacheBase = 'bare' | 'debian' | 'htaccess' | 'none';

export type FileSpec = string | Buffer | { content: string | Buffer; mode?: number };

export interface StartOptions {
  /** Directory copied into the prefix (the fixture). */
  fixture?: string;
  /** Paths relative to `fixture` not to copy (e.g. the sibling fixtures of a single-file fixture). */
  exclude?: string[];
  /** Main config, relative to the prefix (default nginx.conf / httpd.conf). */
  main?: string;
  /** Text of the main config (written to `main`, replacing any copied one). */
  config?: string;
  /** Extra files to create, relative to the prefix. */
  files?: Record<string, FileSpec>;
  /** Directories to create (git does not keep empty ones). */
  mkdirs?: string[];
  /** chmod applied after everything is in place (e.g. `{ 'www/secret.html': 0o600 }`). */
  modes?: Record<string, number>;
  /** Bound for the server to accept connections (default 10 s). */
  startTimeoutMs?: number;
  /** Bound between SIGTERM and SIGKILL in stop() (default 5 s). */
  stopTimeoutMs?: number;
  /** The config files the server reads (relative to the prefix), when known (`why403 test --real`
   * takes them from the loader): these get the listen/log edits. Default: every `*.conf` and the main. */
  confFiles?: string[];
  /** Absolute paths in the config files that stand for a directory of the fixture (a spec's pathMap):
   * `from` is replaced by the copy of `to` (relative to the fixture) in the prefix. */
  pathRewrites?: Array<{ from: string; to: string }>;
  /** Take the client address from this request header when the connection comes from 127.0.0.0/8
   * (nginx realip: `set_real_ip_from 127.0.0.0/8; real_ip_header …;` in the http block; Apache
   * mod_remoteip: `RemoteIPHeader …`, `RemoteIPInternalProxy 127.0.0.0/8`), so that a test can send a
   * request "from" an address it cannot bind (a proof's 192.0.2.10). Usually `CLIENT_HEADER`. */
  clientHeader?: string;
}
/** The request header tests name the client address in (with `clientHeader`). */
export const CLIENT_HEADER = 'X-Why403-Client';
export interface NginxOptions extends StartOptions {
  /** Default: detected from the main file's top-level directives. */
  context?: NginxContext;
}
export interface ApacheOptions extends StartOptions {
  /** Default: 'none' if the main file has LoadModule lines, 'htaccess' without a main file, else 'debian'. */
  base?: ApacheBase;
}

export interface LogMark {
  sizes: Map<string, number>;
}

export interface RunningServer {
  kind: ServerKind;
  /** PID of the master / parent process (also its process group id). */
  pid: number;
  /** Port on 127.0.0.1 of the fixture's first listen address. */
  port: number;
  /** Every port, keyed by the fixture's original port ('80' when it had none). */
  ports: Record<string, number>;
  prefix: string;
  /** Absolute path of the config file the server was started with. */
  configFile: string;
  /** Everything in the error logs so far. */
  errorLog(): string;
  /** Remember how far the error logs are, to read what a request adds (`errorLogSince`). */
  logMark(): LogMark;
  errorLogSince(mark: LogMark): string;
  /** Stop by PID (SIGTERM, SIGKILL after the bound), wait for exit, remove the prefix. Idempotent. */
  stop(): Promise<void>;
}

export class ServerStartError extends Error {
  constructor(
    message: string,
    readonly pid: number | undefined,
    readonly errorLogText: string,
  ) {
    super(message);
    this.name = 'ServerStartError';
  }
}

// ---------------------------------------------------------------------------------------------
// Registry: everything started is stopped, even when a test fails

interface Tracked {
  pid: number;
  prefix: string;
  stop(): Promise<void>;
}
const running = new Set<Tracked>();

/** Stop every server still running (use in afterEach/afterAll). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}
/** How many servers this process still has running (tests assert 0 after cleanup). */
export function runningServerCount(): number {
  return running.size;
}

function killAllSync(): void {
  for (const s of running) {
    try {
      process.kill(-s.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    try {
      rmSync(s.prefix, { recursive: true, force: true });
    } catch {
      /* best effort at exit */
    }
  }
  running.clear();
}
let handlersInstalled = false;
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const h = () => {
      killAllSync();
      process.removeListener(sig, h);
      process.kill(process.pid, sig);
    };
    process.on(sig, h);
  }
}

// ---------------------------------------------------------------------------------------------
// Process helpers

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
/** True while any non-zombie process is in process group `pgid`. */
export function groupAlive(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(rest[2]) === pgid && rest[0] !== 'Z' && rest[0] !== 'X') return true;
  }
  return false;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.removeListener('exit', on);
      resolve(false);
    }, ms);
    const on = () => {
      clearTimeout(t);
      resolve(true);
    };
    child.once('exit', on);
  });
}

async function killTree(child: ChildProcess, pid: number, boundMs: number): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    if (!(await waitExit(child, boundMs))) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await waitExit(child, 2000);
    }
  }
  // Workers/children left in the group (e.g. after a SIGKILL of the master): kill them by group id.
  for (let i = 0; i < 40 && groupAlive(pid); i++) {
    try {
      process.kill(-pid, i < 20 ? 'SIGTERM' : 'SIGKILL');
    } catch {
      break;
    }
    await sleep(50);
  }
}

function canConnect(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net().connect({ host: LOOPBACK, port });
    const t = setTimeout(() => {
      sock.destroy();
      resolve(false);
    }, ms);
    sock.once('connect', () => {
      clearTimeout(t);
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The prefix

export const HARNESS_DIR = '_harness';

function makePrefix(kind: ServerKind): string {
  let base = tmpdir();
  if (isRoot && !traversableByOthers(base)) base = '/tmp';
  const prefix = mkdtempSync(join(base, `why403-${kind}-`));
  chmodSync(prefix, 0o755);
  for (const d of ['logs', 'tmp', 'run']) mkdirSync(join(prefix, HARNESS_DIR, d), { recursive: true });
  return prefix;
}

function traversableByOthers(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (dirname(d) === d) return true;
  }
}

function safeRel(rel: string, what: string): string {
  if (isAbsolute(rel) || rel.split(/[\\/]/).includes('..') || rel === '') {
    throw new Error(`${what} "${rel}" must be a relative path inside the fixture`);
  }
  return rel;
}

/** Copy the fixture, normalise permissions (dirs 0755, files 0644/0755), add files, apply modes. */
function populate(prefix: string, opts: StartOptions, defaultMain: string): string {
  if (opts.fixture) {
    const st = statSync(opts.fixture);
    if (!st.isDirectory()) throw new Error(`fixture ${opts.fixture} is not a directory`);
    const root = resolve(opts.fixture);
    const skip = new Set([HARNESS_DIR, `${HARNESS_DIR}-nginx.conf`, ...(opts.exclude ?? [])]);
    cpSync(root, prefix, {
      recursive: true,
      verbatimSymlinks: true,
      filter: (src) => !skip.has(relative(root, resolve(src))),
    });
  }
  normalisePerms(prefix);
  if (opts.pathRewrites?.length) rewritePaths(prefix, opts);
  const main = safeRel(opts.main ?? defaultMain, 'main');
  if (opts.config !== undefined) writeFile(prefix, main, opts.config);
  for (const [rel, spec] of Object.entries(opts.files ?? {})) {
    if (typeof spec === 'string' || Buffer.isBuffer(spec)) writeFile(prefix, rel, spec);
    else writeFile(prefix, rel, spec.content, spec.mode);
  }
  for (const d of opts.mkdirs ?? []) {
    mkdirSync(join(prefix, safeRel(d, 'mkdir')), { recursive: true, mode: 0o755 });
  }
  for (const [rel, mode] of Object.entries(opts.modes ?? {})) {
    const p = join(prefix, safeRel(rel, 'mode path'));
    if (!existsSync(p)) throw new Error(`mode ${mode.toString(8)} for "${rel}": no such file in the fixture`);
    chmodSync(p, mode);
  }
  return main;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Replace the absolute paths of `pathRewrites` by their copies in the prefix, in every config file. */
function rewritePaths(prefix: string, opts: StartOptions): void {
  const all = listFiles(prefix);
  const files = [...(opts.confFiles ?? all.filter((f) => f.endsWith('.conf'))), ...all.filter((f) => /(^|\/)\.htaccess$/.test(f))];
  const rules = opts.pathRewrites!.map((r) => ({
    re: new RegExp(`${escapeRe(r.from.replace(/\/+$/, ''))}(?=[/\\s;"'}>]|$)`, 'gm'),
    to: join(prefix, safeRel(r.to === '' ? '.' : r.to, 'path rewrite')).replace(/\/+$/, ''),
  }));
  for (const f of files) {
    const p = join(prefix, safeRel(f, 'config file'));
    if (!existsSync(p)) continue;
    const text = readFileSync(p, 'utf8');
    let out = text;
    for (const r of rules) out = out.replace(r.re, () => r.to);
    if (out !== text) writeFileSync(p, out);
  }
}

function writeFile(prefix: string, rel: string, content: string | Buffer, mode?: number): void {
  const p = join(prefix, safeRel(rel, 'file'));
  mkdirSync(dirname(p), { recursive: true, mode: 0o755 });
  writeFileSync(p, content);
  chmodSync(p, mode ?? 0o644);
}

function normalisePerms(dir: string, top = true): void {
  for (const e of readdirSync(dir)) {
    if (top && e === HARNESS_DIR) continue;
    const p = join(dir, e);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) {
      chmodSync(p, 0o755);
      normalisePerms(p, false);
    } else chmodSync(p, st.mode & 0o111 ? 0o755 : 0o644);
  }
}

/** Files under the prefix (relative, sorted), skipping the harness's own directory. */
function listFiles(root: string, dir = ''): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(join(root, dir)).sort();
  } catch {
    return out;
  }
  for (const e of entries) {
    const rel = dir ? `${dir}/${e}` : e;
    if (rel === HARNESS_DIR) continue;
    const st = lstatSync(join(root, rel));
    if (st.isDirectory()) out.push(...listFiles(root, rel));
    else if (st.isFile()) out.push(rel);
  }
  return out;
}

/** Turn an absolute path into a flat file name. */
const flatName = (p: string) => p.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '_');

/** The port part of a listen address ('80' when none), or the whole address for unix sockets. */
export function listenKey(addr: string): string {
  if (addr.startsWith('unix:')) return addr;
  if (/^\d+$/.test(addr)) return addr;
  const m = /:(\d+)$/.exec(addr);
  if (m && !/^\[[^\]]*$/.test(addr.slice(0, m.index))) return m[1];
  return '80';
}

// ---------------------------------------------------------------------------------------------
// A tiny nginx tokenizer: directives with offsets, enough for the edits the harness makes

interface NTok {
  v: string;
  start: number;
  end: number;
}
export interface NDir {
  name: string;
  start: number;
  args: NTok[];
  /** Offset after the `;` or the closing `}` (or of the last token when unterminated). */
  end: number;
  /** Offset of `{` for blocks. */
  open?: number;
  children?: NDir[];
}

export function scanNginx(text: string): NDir[] {
  const top: NDir[] = [];
  const stack: NDir[][] = [];
  let list = top;
  const parents: NDir[] = [];
  let cur: NDir | null = null;
  const n = text.length;
  let i = 0;
  const isWs = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
  while (i < n) {
    const c = text[i];
    if (isWs(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === ';') {
      if (cur) {
        cur.end = i + 1;
        list.push(cur);
        cur = null;
      }
      i++;
      continue;
    }
    if (c === '{') {
      const d: NDir = cur ?? { name: '', start: i, args: [], end: i + 1 };
      d.open = i;
      d.children = [];
      list.push(d);
      stack.push(list);
      parents.push(d);
      list = d.children;
      cur = null;
      i++;
      continue;
    }
    if (c === '}') {
      if (cur) list.push(cur);
      cur = null;
      const p = parents.pop();
      if (p) {
        p.end = i + 1;
        list = stack.pop()!;
      }
      i++;
      continue;
    }
    let tok: NTok;
    if (c === '"' || c === "'") {
      let v = '';
      let j = i + 1;
      while (j < n && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < n) {
          v += text[j + 1];
          j += 2;
        } else v += text[j++];
      }
      tok = { v, start: i, end: Math.min(j + 1, n) };
    } else {
      let j = i;
      while (j < n) {
        const ch = text[j];
        if (isWs(ch) || ch === ';' || ch === '}') break;
        if (ch === '{') {
          if (j > i && text[j - 1] === '$') {
            const close = text.indexOf('}', j);
            j = close < 0 ? n : close + 1;
            continue;
          }
          break;
        }
        j += ch === '\\' ? 2 : 1;
      }
      j = Math.min(j, n);
      tok = { v: text.slice(i, j), start: i, end: j };
    }
    if (cur) {
      cur.args.push(tok);
      cur.end = tok.end;
    } else cur = { name: tok.v, start: tok.start, args: [], end: tok.end };
    i = tok.end;
  }
  if (cur) list.push(cur);
  return top;
}

function* walkNginx(dirs: NDir[], parents: NDir[] = []): Generator<[NDir, NDir[]]> {
  for (const d of dirs) {
    yield [d, parents];
    if (d.children) yield* walkNginx(d.children, [...parents, d]);
  }
}

interface Edit {
  start: number;
  end: number;
  text: string;
}
function applyEdits(text: string, edits: Edit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}
/** Blank out a range but keep its line breaks, so line numbers do not move. */
const blank = (text: string, s: number, e: number) => text.slice(s, e).replace(/[^\r\n]/g, '');
const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

const NGINX_MAIN_ONLY = new Set([
  'events',
  'http',
  'stream',
  'mail',
  'user',
  'worker_processes',
  'pid',
  'load_module',
  'daemon',
  'master_process',
  'worker_rlimit_nofile',
  'worker_cpu_affinity',
  'worker_priority',
  'env',
  'pcre_jit',
  'thread_pool',
  'lock_file',
  'timer_resolution',
  'working_directory',
  'ssl_engine',
  'worker_shutdown_timeout',
  'worker_rlimit_core',
  'google_perftools_profiles',
  'debug_points',
]);
const NGINX_HTTP_ONLY = new Set([
  'server',
  'upstream',
  'map',
  'geo',
  'geoip2',
  'split_clients',
  'limit_req_zone',
  'limit_conn_zone',
  'log_format',
  'proxy_cache_path',
  'fastcgi_cache_path',
  'uwsgi_cache_path',
  'scgi_cache_path',
  'variables_hash_max_size',
  'variables_hash_bucket_size',
  'server_names_hash_max_size',
  'server_names_hash_bucket_size',
  'map_hash_max_size',
  'map_hash_bucket_size',
  'perl_modules',
  'perl_require',
  'js_import',
  'js_path',
  'geoip_country',
  'geoip_city',
  'geoip_org',
  'types_hash_max_size',
]);

/** Which context an nginx main file is written for, from its top-level directives. */
export function detectNginxContext(text: string): NginxContext {
  const names = scanNginx(text).map((d) => d.name);
  if (names.some((x) => NGINX_MAIN_ONLY.has(x))) return 'main';
  if (names.some((x) => NGINX_HTTP_ONLY.has(x))) return 'http';
  return 'server';
}

const NGINX_TEMP = ['client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path'];
const NGINX_LOG_DIRS = new Set(['access_log', 'error_log']);
const NGINX_DIR_DIRS = new Set([...NGINX_TEMP, 'proxy_cache_path', 'fastcgi_cache_path', 'uwsgi_cache_path', 'scgi_cache_path']);
/** listen parameters that would need TLS/PROXY protocol/HTTP/2 clients; the harness speaks plain HTTP/1.1. */
const NGINX_DROP_LISTEN = /^(ssl|http2|http3|quic|proxy_protocol|ipv6only=.*)$/;

/** The realip directives of `clientHeader`, on the line the harness already adds (lines do not move). */
const realIpDirectives = (header: string | undefined) => (header ? ` set_real_ip_from 127.0.0.0/8; real_ip_header ${q(header)};` : '');

interface Plan {
  args: string[];
  configFile: string;
  pidFile: string;
  ports: Record<string, number>;
  port: number;
}

function nginxConfFiles(prefix: string, main: string, given?: string[]): string[] {
  if (given) return [main, ...given.filter((f) => f !== main && existsSync(join(prefix, f)))];
  const all = listFiles(prefix).filter((f) => f.endsWith('.conf') || f === main);
  return [main, ...all.filter((f) => f !== main)];
}

async function prepareNginx(prefix: string, main: string, opts: NginxOptions): Promise<Plan> {
  const H = join(prefix, HARNESS_DIR);
  const mainAbs = join(prefix, main);
  if (!existsSync(mainAbs)) throw new Error(`nginx fixture has no main config ${main}`);
  const files = nginxConfFiles(prefix, main, opts.confFiles);
  const texts = new Map(files.map((f) => [f, readFileSync(join(prefix, f), 'utf8')]));
  const trees = new Map(files.map((f) => [f, scanNginx(texts.get(f)!)]));
  const context = opts.context ?? detectNginxContext(texts.get(main)!);

  // 1. listen keys in reading order, and servers without listen
  const keys: string[] = [];
  const addKey = (k: string) => {
    if (!keys.includes(k)) keys.push(k);
  };
  let needDefault = false;
  for (const f of files) {
    for (const [d, parents] of walkNginx(trees.get(f)!)) {
      if (d.name === 'listen' && d.args.length) addKey(listenKey(d.args[0].v));
      if (d.name === 'server' && d.children && !parents.some((p) => p.name === 'stream' || p.name === 'mail')) {
        if (!d.children.some((c) => c.name === 'listen')) needDefault = true;
      }
    }
  }
  const mainTop = trees.get(main)!;
  if (context === 'server' && !mainTop.some((d) => d.name === 'listen')) needDefault = true;
  if (needDefault) addKey('80');
  if (keys.length === 0) addKey('80');
  const portList = await freePorts(keys.length);
  const ports: Record<string, number> = {};
  keys.forEach((k, i) => (ports[k] = portList[i]));
  const addr = (k: string) => `${LOOPBACK}:${ports[k]}`;

  const pidFile = join(H, 'run', 'nginx.pid');
  const errorLog = join(H, 'logs', 'error.log');
  const tempDirectives = (have: Set<string>) =>
    NGINX_TEMP.filter((t) => !have.has(t))
      .map((t) => ` ${t} ${q(join(H, 'tmp', t.replace(/_temp_path$/, '')))};`)
      .join('') + (have.has('access_log') ? '' : ` access_log ${q(join(H, 'logs', 'access.log'))};`);
  let mainHas = new Set<string>();

  // 2. edits in every .conf file
  for (const f of files) {
    const text = texts.get(f)!;
    const edits: Edit[] = [];
    const isMain = f === main;
    const seenPorts = new Map<NDir | null, Set<number>>();
    for (const [d, parents] of walkNginx(trees.get(f)!)) {
      const parent = parents.length ? parents[parents.length - 1] : null;
      if (d.name === 'listen' && d.args.length) {
        const port = ports[listenKey(d.args[0].v)];
        const seen = seenPorts.get(parent) ?? new Set<number>();
        seenPorts.set(parent, seen);
        if (seen.has(port)) {
          edits.push({ start: d.start, end: d.end, text: blank(text, d.start, d.end) });
          continue;
        }
        seen.add(port);
        const kept = d.args
          .slice(1)
          .filter((a) => !NGINX_DROP_LISTEN.test(a.v))
          .map((a) => text.slice(a.start, a.end));
        const last = d.args[d.args.length - 1];
        edits.push({ start: d.args[0].start, end: last.end, text: [`${LOOPBACK}:${port}`, ...kept].join(' ') });
      } else if (d.name === 'server' && d.children && d.open !== undefined) {
        if (parents.some((p) => p.name === 'stream' || p.name === 'mail')) continue;
        if (!d.children.some((c) => c.name === 'listen')) {
          edits.push({ start: d.open + 1, end: d.open + 1, text: ` listen ${addr('80')};` });
        }
      } else if (isMain && context === 'main' && parents.length === 0 && d.args.length) {
        if (d.name === 'pid') edits.push({ start: d.args[0].start, end: d.args[0].end, text: q(pidFile) });
        else if (d.name === 'daemon') edits.push({ start: d.args[0].start, end: d.args[0].end, text: 'off' });
        else if (d.name === 'master_process') edits.push({ start: d.args[0].start, end: d.args[0].end, text: 'on' });
      }
      if (isMain && context === 'main' && parents.length === 0 && d.name === 'http' && d.open !== undefined) {
        const have = new Set(d.children!.map((c) => c.name));
        edits.push({ start: d.open + 1, end: d.open + 1, text: tempDirectives(have) + realIpDirectives(opts.clientHeader) });
      }
      // absolute log/temp paths would write outside the prefix (and fail as a normal user)
      const a0 = d.args[0];
      if (a0 && a0.v.startsWith('/') && (NGINX_LOG_DIRS.has(d.name) || NGINX_DIR_DIRS.has(d.name))) {
        const to = NGINX_LOG_DIRS.has(d.name) ? join(H, 'logs', `reloc-${flatName(a0.v)}`) : join(H, 'tmp', `reloc-${flatName(a0.v)}`);
        edits.push({ start: a0.start, end: a0.end, text: q(to) });
      }
    }
    if (isMain) mainHas = new Set(mainTop.map((d) => d.name));
    let out = applyEdits(text, edits);
    if (isMain && context === 'main' && !mainHas.has('events')) out += '\nevents {}\n';
    if (out !== text) writeFileSync(join(prefix, f), out);
  }

  // 3. the wrapper for http/server fragments
  let configFile = mainAbs;
  if (context !== 'main') {
    const inner =
      context === 'http'
        ? `    include ${q(mainAbs)};\n`
        : `    server {\n${needDefault && !mainTop.some((d) => d.name === 'listen') ? `        listen ${addr('80')};\n` : ''}        include ${q(mainAbs)};\n    }\n`;
    // at the prefix root, so relative `include`s in the fixture resolve against the fixture root
    // (nginx resolves them against the directory of the -c file)
    configFile = join(prefix, `${HARNESS_DIR}-nginx.conf`);
    writeFileSync(
      configFile,
      `# generated by why403's test harness for ${main} (${context} context)\nevents {\n    worker_connections 256;\n}\nhttp {\n   ${tempDirectives(new Set())}${realIpDirectives(opts.clientHeader)}\n${inner}}\n`,
    );
  }

  // 4. command line
  const g: string[] = ['daemon off;', 'master_process on;', `error_log ${q(errorLog)} info;`];
  if (!(context === 'main' && mainHas.has('pid'))) g.push(`pid ${q(pidFile)};`);
  if (!(context === 'main' && mainHas.has('worker_processes'))) g.push('worker_processes 1;');
  if (isRoot && !(context === 'main' && mainHas.has('user'))) g.push(`user ${NGINX_WORKER.user} ${NGINX_WORKER.group};`);
  const args = ['-p', prefix + '/', '-c', configFile, '-e', errorLog, '-g', g.join(' ')];
  return { args, configFile, pidFile, ports, port: ports[keys[0]] };
}

// ---------------------------------------------------------------------------------------------
// Apache

/** Modules both generated bases load (Debian's default set plus rewrite, headers, cgid, authz_groupfile). */
export const APACHE_BASE_MODULES = [
  'mpm_event',
  'authz_core',
  'authz_host',
  'authz_user',
  'authz_groupfile',
  'access_compat',
  'authn_core',
  'authn_file',
  'auth_basic',
  'alias',
  'dir',
  'autoindex',
  'mime',
  'negotiation',
  'env',
  'setenvif',
  'filter',
  'status',
  'rewrite',
  'headers',
  'cgid',
];

let compiledIn: Set<string> | null = null;
/** Modules compiled into the apache2 binary (`apache2 -l`: core.c, mod_so.c, mod_unixd.c, …). */
export function apacheCompiledIn(): Set<string> {
  if (compiledIn) return compiledIn;
  compiledIn = new Set();
  try {
    const out = childProcess().execFileSync(APACHE_BIN, ['-l'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    for (const m of out.matchAll(/^\s*mod_(\w+)\.c\s*$/gm)) compiledIn.add(m[1]);
  } catch {
    /* an old or odd binary: load everything */
  }
  return compiledIn;
}

/** Modules a fixture's main file needs beyond the base set, by the directives it uses unguarded. */
function impliedHarnessModules(text: string): string[] {
  const out: string[] = [];
  if (/^\s*SSL(Engine|RequireSSL)\b/im.test(text)) out.push('ssl');
  if (/^\s*<Macro\s/im.test(text)) out.push('macro');
  if (/^\s*(ProxyRequests|<Proxy[\s>])/im.test(text)) out.push('proxy', 'proxy_http');
  return out;
}

function apacheModuleLines(extra: readonly string[] = []): string {
  const builtIn = apacheCompiledIn();
  return [...APACHE_BASE_MODULES, ...extra]
    .filter((m) => !builtIn.has(m) && existsSync(join(APACHE_MODULES, `mod_${m}.so`)))
    .map((m) => `LoadModule ${m}_module ${q(join(APACHE_MODULES, `mod_${m}.so`))}`)
    .join('\n');
}

/** The access-relevant parts of Debian's apache2.conf, mods-enabled/*.conf and conf-enabled/security.conf. */
const DEBIAN_ACCESS = `# --- Debian apache2.conf (access-relevant parts) ---
<Directory />
    Options FollowSymLinks
    AllowOverride None
    Require all denied
</Directory>
<Directory /usr/share>
    AllowOverride None
    Require all granted
</Directory>
<Directory /var/www/>
    Options Indexes FollowSymLinks
    AllowOverride None
    Require all granted
</Directory>
AccessFileName .htaccess
<FilesMatch "^\\.ht">
    Require all denied
</FilesMatch>
# --- mods-enabled/dir.conf, alias.conf, status.conf ---
DirectoryIndex index.html index.cgi index.pl index.php index.xhtml index.htm
Alias /icons/ "/usr/share/apache2/icons/"
<Directory "/usr/share/apache2/icons">
    Options FollowSymlinks
    AllowOverride None
    Require all granted
</Directory>
<Location /server-status>
    SetHandler server-status
    Require local
</Location>
# --- conf-enabled/security.conf ---
ServerTokens OS
ServerSignature On
TraceEnable Off
`;

/** Detect the Apache base from a main config's text. */
export function defaultApacheBase(mainText: string | null): ApacheBase {
  if (mainText === null) return 'htaccess';
  return /^\s*LoadModule\s/im.test(mainText) ? 'none' : 'debian';
}

function apacheConfFiles(prefix: string, main: string | null, given?: string[]): string[] {
  if (given) return [...(main ? [main] : []), ...given.filter((f) => f !== main && existsSync(join(prefix, f)))];
  const all = listFiles(prefix).filter((f) => f.endsWith('.conf') || f === main);
  return main ? [main, ...all.filter((f) => f !== main)] : all;
}

/** One Apache argument, quoted when needed. */
const aq = (s: string) => (/[\s"]/.test(s) || s === '' ? q(s) : s);

async function prepareApache(prefix: string, main: string | null, opts: ApacheOptions): Promise<Plan> {
  const H = join(prefix, HARNESS_DIR);
  const mainAbs = main ? join(prefix, main) : null;
  if (mainAbs && !existsSync(mainAbs)) throw new Error(`Apache fixture has no main config ${main}`);
  const mainText = mainAbs ? readFileSync(mainAbs, 'utf8') : null;
  const base = opts.base ?? defaultApacheBase(mainText);
  if (base === 'none' && !mainAbs) throw new Error('Apache base "none" needs a main config');
  mkdirSync(join(prefix, 'htdocs'), { recursive: true, mode: 0o755 });

  const files = apacheConfFiles(prefix, main, opts.confFiles);
  const texts = new Map(files.map((f) => [f, readFileSync(join(prefix, f), 'utf8')]));
  const LISTEN = /^(\s*)Listen\s+("?)([^\s"]+)\2(?:\s+\S+)?\s*$/i;
  const keys: string[] = [];
  for (const f of files) {
    for (const line of texts.get(f)!.split('\n')) {
      const m = LISTEN.exec(line);
      if (m && !keys.includes(listenKey(m[3]))) keys.push(listenKey(m[3]));
    }
  }
  const fixtureListens = keys.length > 0;
  if (!fixtureListens) keys.push('80');
  const portList = await freePorts(keys.length);
  const ports: Record<string, number> = {};
  keys.forEach((k, i) => (ports[k] = portList[i]));

  const pidFile = join(H, 'run', 'httpd.pid');
  const errorLog = join(H, 'logs', 'error.log');
  const runDir = join(H, 'run');
  const seen = new Set<number>();
  for (const f of files) {
    const text = texts.get(f)!;
    const out = text
      .split('\n')
      .map((line) => {
        const cr = line.endsWith('\r') ? '\r' : '';
        const body = cr ? line.slice(0, -1) : line;
        const m = LISTEN.exec(body);
        if (m) {
          const port = ports[listenKey(m[3])];
          if (seen.has(port)) return `${m[1]}# harness: duplicate of Listen ${LOOPBACK}:${port} removed${cr}`;
          seen.add(port);
          return `${m[1]}Listen ${LOOPBACK}:${port}${cr}`;
        }
        const vh = /^(\s*<VirtualHost\s+)([^>]*)(>.*)$/i.exec(body);
        if (vh) {
          const addrs = vh[2]
            .trim()
            .split(/\s+/)
            .map((a) => {
              const key = listenKey(a);
              const host = a.replace(/:(\d+|\*)$/, '');
              const port = /:(\d+)$/.test(a) && ports[key] !== undefined ? `:${ports[key]}` : /:\*$/.test(a) ? ':*' : '';
              const h = host === '*' || host === '_default_' ? host : LOOPBACK;
              return h + port;
            });
          return `${vh[1]}${addrs.join(' ')}${vh[3]}${cr}`;
        }
        const sr = /^(\s*)ServerRoot\s.*$/i.exec(body);
        if (sr) return `${sr[1]}# harness: ServerRoot is the prefix${cr}`;
        const lg = /^(\s*(?:ErrorLog|CustomLog|TransferLog|GlobalLog|ScriptLog)\s+)("?)(\/[^\s"]*)\2(.*)$/i.exec(body);
        if (lg) return `${lg[1]}${q(join(H, 'logs', `reloc-${flatName(lg[3])}`))}${lg[4]}${cr}`;
        return line;
      })
      .join('\n');
    if (out !== text) writeFileSync(join(prefix, f), out);
  }

  let configFile: string;
  if (base === 'none') configFile = mainAbs!;
  else {
    configFile = join(H, 'httpd.conf');
    const worker = isRoot ? `User ${APACHE_WORKER.user}\nGroup ${APACHE_WORKER.group}\n` : '';
    const types = existsSync('/etc/mime.types') ? '/etc/mime.types' : join(H, 'mime.types');
    if (types !== '/etc/mime.types') writeFileSync(types, 'text/html html htm\ntext/plain txt\n');
    const parts = [
      `# generated by why403's test harness (base: ${base})`,
      // A fixture that uses mod_ssl's directives unguarded is a server where `a2enmod ssl` was run (the
      // model infers the same: src/apache/model/cache.ts impliedModules).
      // likewise `a2enmod macro` for one that defines macros
      apacheModuleLines(mainAbs ? impliedHarnessModules(readFileSync(mainAbs, 'utf8')) : []),
      fixtureListens ? '' : `Listen ${LOOPBACK}:${ports['80']}`,
      worker,
      '# one small event MPM child',
      'StartServers 1\nServerLimit 1\nThreadLimit 16\nThreadsPerChild 16\nMaxRequestWorkers 16\nMinSpareThreads 1\nMaxSpareThreads 16',
      'KeepAlive Off\nTimeout 30',
      `TypesConfig ${q(types)}`,
      'LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined',
      `CustomLog ${q(join(H, 'logs', 'access.log'))} combined`,
      `DocumentRoot ${q(join(prefix, 'htdocs'))}`,
      base === 'bare' ? '' : DEBIAN_ACCESS,
      base === 'htaccess'
        ? `# the site directory, granted and open to .htaccess like a typical shared-hosting vhost\n<Directory ${q(join(prefix, 'htdocs'))}>\n    Options Indexes FollowSymLinks\n    AllowOverride All\n    Require all granted\n</Directory>`
        : '',
      mainAbs ? `Include ${q(mainAbs)}` : '',
    ];
    writeFileSync(configFile, parts.filter((p) => p !== '').join('\n') + '\n');
  }

  const defines: Record<string, string> = {
    HARNESS_ROOT: prefix,
    APACHE_LOG_DIR: join(H, 'logs'),
    APACHE_RUN_DIR: runDir,
    APACHE_LOCK_DIR: runDir,
    APACHE_PID_FILE: pidFile,
    APACHE_RUN_USER: isRoot ? APACHE_WORKER.user : (process.env.USER ?? 'nobody'),
    APACHE_RUN_GROUP: isRoot ? APACHE_WORKER.group : 'nogroup',
  };
  const args = ['-d', prefix, '-f', configFile, '-DFOREGROUND'];
  for (const [k, v] of Object.entries(defines)) args.push('-C', `Define ${k} ${aq(v)}`);
  args.push('-C', 'ServerName localhost');
  if (isRoot && base === 'none') args.push('-C', `User ${APACHE_WORKER.user}`, '-C', `Group ${APACHE_WORKER.group}`);
  args.push('-c', `PidFile ${aq(pidFile)}`, '-c', `ErrorLog ${aq(errorLog)}`, '-c', `DefaultRuntimeDir ${aq(runDir)}`);
  if (!fixtureListens && base === 'none') args.push('-c', `Listen ${LOOPBACK}:${ports['80']}`);
  if (opts.clientHeader) {
    // after the config (-c): the main server's settings, which every virtual host inherits
    if (!apacheCompiledIn().has('remoteip') && !/^\s*LoadModule\s+remoteip_module\s/im.test([...texts.values()].join('\n')))
      args.push('-c', `LoadModule remoteip_module ${aq(join(APACHE_MODULES, 'mod_remoteip.so'))}`);
    args.push('-c', `RemoteIPHeader ${opts.clientHeader}`, '-c', 'RemoteIPInternalProxy 127.0.0.0/8');
  }
  return { args, configFile, pidFile, ports, port: ports[keys[0]] };
}

// ---------------------------------------------------------------------------------------------
// Start / stop

function errorLogFiles(prefix: string): string[] {
  const out: string[] = [];
  for (const dir of [join(prefix, HARNESS_DIR, 'logs'), join(prefix, 'logs')]) {
    try {
      for (const f of readdirSync(dir).sort()) if (/error/i.test(f)) out.push(join(dir, f));
    } catch {
      /* no such dir */
    }
  }
  return out;
}
function readLogs(prefix: string, mark?: LogMark): string {
  const parts: string[] = [];
  const files = errorLogFiles(prefix);
  for (const f of files) {
    let buf: Buffer;
    try {
      buf = readFileSync(f);
    } catch {
      continue;
    }
    const from = Math.min(mark?.sizes.get(f) ?? 0, buf.length);
    const s = buf.subarray(from).toString('utf8');
    if (s) parts.push(files.length > 1 ? `==> ${relative(prefix, f)} <==\n${s}` : s);
  }
  return parts.join('\n');
}
function logMarkOf(prefix: string): LogMark {
  const sizes = new Map<string, number>();
  for (const f of errorLogFiles(prefix)) {
    try {
      sizes.set(f, statSync(f).size);
    } catch {
      /* gone */
    }
  }
  return { sizes };
}
const tail = (s: string, n = 6000) => (s.length > n ? '…' + s.slice(-n) : s);

async function start(kind: ServerKind, opts: NginxOptions & ApacheOptions, main: string | null): Promise<RunningServer> {
  const skip = serverSkipReason(kind);
  if (skip) throw new Error(skip);
  installExitHandlers();
  const bin = kind === 'nginx' ? NGINX_BIN : APACHE_BIN;
  const startBound = opts.startTimeoutMs ?? 10_000;
  const stopBound = opts.stopTimeoutMs ?? 5_000;

  for (let attempt = 1; ; attempt++) {
    const prefix = makePrefix(kind);
    let child: ChildProcess | undefined;
    let tracked: Tracked | undefined;
    let plan: Plan | undefined;
    let output = '';
    try {
      let mainRel: string | null;
      if (kind === 'nginx') mainRel = populate(prefix, opts, main ?? 'nginx.conf');
      else if (main === null && opts.config === undefined) {
        populate(prefix, opts, 'httpd.conf');
        mainRel = null; // a document tree with .htaccess files only
      } else mainRel = populate(prefix, opts, main ?? 'httpd.conf');
      plan = kind === 'nginx' ? await prepareNginx(prefix, mainRel!, opts) : await prepareApache(prefix, mainRel, opts);
      child = childProcess().spawn(bin, plan.args, {
        cwd: prefix,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
      });
      const collect = (b: Buffer) => {
        output = tail(output + b.toString('utf8'), 16_000);
      };
      child.stdout!.on('data', collect);
      child.stderr!.on('data', collect);
      const spawnError = new Promise<Error>((r) => child!.once('error', r));
      const pid = child.pid;
      if (pid === undefined) throw await spawnError;
      child.unref();
      (child.stdout as unknown as { unref?: () => void }).unref?.();
      (child.stderr as unknown as { unref?: () => void }).unref?.();
      const c = child;
      const p = plan;
      let stopped: Promise<void> | null = null;
      tracked = {
        pid,
        prefix,
        stop: () =>
          (stopped ??= (async () => {
            await killTree(c, pid, stopBound);
            running.delete(tracked!);
            releasePorts(Object.values(p.ports));
            rmSync(prefix, { recursive: true, force: true });
          })()),
      };
      running.add(tracked);

      // ready = the pid file names our child and the port accepts connections
      const deadline = Date.now() + startBound;
      for (;;) {
        if (c.exitCode !== null || c.signalCode !== null) {
          throw new Error(`${kind} exited during startup (${c.exitCode !== null ? `code ${c.exitCode}` : c.signalCode})`);
        }
        let pidText = '';
        try {
          pidText = readFileSync(p.pidFile, 'utf8').trim();
        } catch {
          /* not yet */
        }
        if (pidText === String(pid) && (await canConnect(p.port, 500))) break;
        if (Date.now() >= deadline) throw new Error(`${kind} did not accept connections on ${LOOPBACK}:${p.port} within ${startBound} ms`);
        await sleep(25);
      }
      const server: RunningServer = {
        kind,
        pid,
        port: p.port,
        ports: p.ports,
        prefix,
        configFile: p.configFile,
        errorLog: () => readLogs(prefix),
        logMark: () => logMarkOf(prefix),
        errorLogSince: (mark) => readLogs(prefix, mark),
        stop: tracked.stop,
      };
      return server;
    } catch (e) {
      const log = existsSync(prefix) ? readLogs(prefix) : '';
      const pid = child?.pid;
      if (tracked) await tracked.stop();
      else {
        if (child && pid !== undefined) await killTree(child, pid, stopBound);
        if (plan) releasePorts(Object.values(plan.ports));
        rmSync(prefix, { recursive: true, force: true });
      }
      const text = `${log}\n${output}`;
      if (attempt < 3 && /Address already in use/.test(text)) continue;
      // name the fixture's files, not the removed prefix (line numbers are the fixture's own)
      const where = opts.fixture ? resolve(opts.fixture) : '<prefix>';
      const rel = relative(process.cwd(), where);
      const shown = rel === '' ? '.' : rel.startsWith('..') ? where : rel;
      const local = (t: string) => t.split(prefix + '/').join(`${shown}/`);
      const msg = [
        `${kind} failed to start: ${(e as Error).message}`,
        log.trim() ? `error log:\n${local(tail(log.trim()))}` : '',
        output.trim() ? `output:\n${local(tail(output.trim()))}` : '',
        plan ? `command (prefix ${prefix}, removed): ${bin} ${plan.args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}` : '',
      ]
        .filter(Boolean)
        .join('\n');
      throw new ServerStartError(msg, pid, log + output);
    }
  }
}

/** Start nginx on 127.0.0.1 from a temporary prefix. */
export function startNginx(opts: NginxOptions): Promise<RunningServer> {
  return start('nginx', opts, opts.main ?? null);
}

/** Start Apache on 127.0.0.1 from a temporary prefix. With no main config (and no `config`), the
 * fixture is just a document tree with .htaccess files (base 'htaccess' by default). */
export function startApache(opts: ApacheOptions): Promise<RunningServer> {
  let main = opts.main ?? null;
  if (main === null && opts.config === undefined && opts.fixture && existsSync(join(opts.fixture, 'httpd.conf'))) main = 'httpd.conf';
  return start('apache', opts, main);
}

export { alive as processAlive };
