/**
 * Run a fixture against the real server: find out which server and layout it is, start it, send
 * every `# request:` line, and report expected vs actual status with the error-log lines each request
 * produced. See docs/testing-real-servers.md for the fixture format.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseRequestLines, request, type RequestLine } from './requests.js';
import {
  type ApacheBase,
  defaultApacheBase,
  detectNginxContext,
  HARNESS_DIR,
  isRoot,
  type NginxContext,
  rootSkipReason,
  type RunningServer,
  type ServerKind,
  serverSkipReason,
  startApache,
  startNginx,
} from './servers.js';

export interface FixtureRequest extends RequestLine {
  /** File the line is in, relative to the fixture root. */
  file: string;
}

export interface FixtureInfo {
  /** Directory copied into the prefix. */
  root: string;
  server: ServerKind;
  /** Main config relative to root; null for an Apache document tree with only .htaccess files. */
  main: string | null;
  /** Single-file `.htaccess` fixture: this file becomes `htdocs/.htaccess` in the prefix. */
  htaccessFile?: string;
  /** Not copied: for a single-file fixture, the other `*.conf`/`*.htaccess` files beside it. */
  exclude: string[];
  context?: NginxContext;
  base?: ApacheBase;
  requests: FixtureRequest[];
  modes: Record<string, number>;
  mkdirs: string[];
  /** Files to create in the copy (`# file:` lines): paths git cannot keep, such as `www/.git/config`. */
  files: Record<string, string>;
  /** True when the fixture needs a worker user other than us (`# mode:` lines or `# harness: needs-root`). */
  needsRoot: boolean;
  /** Malformed `# request:`/`# mode:`/`# mkdir:`/`# harness:` lines, as "file:line: message". */
  errors: string[];
}

export interface FixtureResult {
  request: FixtureRequest;
  /** 1-based line of the `# request:` line. */
  line: number;
  file: string;
  expected: number;
  /** Status the server answered, or null when the request failed (see `error`). */
  actual: number | null;
  error?: string;
  /** What the server wrote to its error log(s) while answering this request. */
  errorLogExcerpt: string;
}

export interface RunFixtureOptions {
  server?: ServerKind;
  base?: ApacheBase;
  context?: NginxContext;
  /** Per-request bound (default 5000 ms). */
  timeoutMs?: number;
  /** Start the server with `clientHeader` (servers.ts `CLIENT_HEADER`). */
  clientHeader?: string;
}

const HARNESS_WORDS = new Set([
  'nginx',
  'nginx-main',
  'nginx-http',
  'nginx-server',
  'apache',
  'apache-bare',
  'apache-debian',
  'apache-htaccess',
  'apache-full',
  'needs-root',
]);

/** Config-file names that are Apache's, by convention. */
const isApacheName = (f: string) => /(^|\/)(httpd|apache2)\.conf$|\.apache\.conf$|\.httpd\.conf$/.test(f);
const isNginxName = (f: string) => /(^|\/)nginx\.conf$|\.nginx\.conf$/.test(f);
/** What Apache reads in a document tree (AccessFileName .htaccess). */
const isHtaccess = (f: string) => /(^|\/)\.htaccess$/.test(f);
/** A single-file .htaccess fixture: `.htaccess` or `<case>.htaccess`. */
const isHtaccessFixture = (f: string) => /(^|\/)(\.htaccess|[^/]+\.htaccess)$/.test(f);
/** Apache-only syntax at the start of a line. */
const APACHE_SNIFF =
  /^\s*(<\/?(Directory|DirectoryMatch|Location|LocationMatch|Files|FilesMatch|VirtualHost|IfModule|IfDefine|Limit|LimitExcept|RequireAll|RequireAny)\b|(Require|LoadModule|DocumentRoot|AllowOverride|Options|Order|Allow from|Deny from|RewriteEngine|RewriteRule|RewriteCond|AuthType|AuthUserFile|Satisfy|DirectoryIndex|ServerRoot)\s)/im;

function walkFiles(root: string, dir = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir)).sort()) {
    const rel = dir ? `${dir}/${e}` : e;
    if (rel === HARNESS_DIR) continue;
    const st = lstatSync(join(root, rel));
    if (st.isDirectory()) out.push(...walkFiles(root, rel));
    else if (st.isFile()) out.push(rel);
  }
  return out;
}

interface SetupLines {
  harness: string[];
  modes: Record<string, number>;
  mkdirs: string[];
  /** Files to create (relative path → content), for paths git cannot keep (e.g. `www/.git/config`). */
  files: Record<string, string>;
  errors: string[];
}

/** `# harness: …`, `# mode: 0600 path`, `# mkdir: path`, `# file: path [text]` lines of one file. */
export function parseSetupLines(text: string, file: string): SetupLines {
  const out: SetupLines = { harness: [], modes: {}, mkdirs: [], files: {}, errors: [] };
  text.split(/\r\n|\n|\r/).forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    let m = /^\s*#\s*harness\s*:(.*)$/.exec(line);
    if (m) {
      const words = m[1].trim().split(/\s+/).filter(Boolean);
      if (words.length === 0) out.errors.push(`${where}: "# harness:" needs at least one word`);
      for (const w of words) {
        if (HARNESS_WORDS.has(w)) out.harness.push(w);
        else out.errors.push(`${where}: unknown harness word "${w}" (known: ${[...HARNESS_WORDS].join(', ')})`);
      }
      return;
    }
    m = /^\s*#\s*mode\s*:(.*)$/.exec(line);
    if (m) {
      const mm = /^\s*(0?[0-7]{3,4})\s+(\S+)\s*$/.exec(m[1]);
      if (!mm) out.errors.push(`${where}: "# mode:" must be "# mode: <octal mode> <relative path>"`);
      else if (!validRel(mm[2])) out.errors.push(`${where}: "# mode:" path "${mm[2]}" must be relative, inside the fixture`);
      else out.modes[mm[2]] = parseInt(mm[1], 8);
      return;
    }
    m = /^\s*#\s*mkdir\s*:(.*)$/.exec(line);
    if (m) {
      const p = m[1].trim();
      if (!p || /\s/.test(p) || !validRel(p)) out.errors.push(`${where}: "# mkdir:" needs one relative path inside the fixture`);
      else out.mkdirs.push(p);
      return;
    }
    m = /^\s*#\s*file\s*:\s*(\S+)(?:\s+(.*))?$/.exec(line);
    if (m) {
      if (!validRel(m[1])) out.errors.push(`${where}: "# file:" path "${m[1]}" must be relative, inside the fixture`);
      else out.files[m[1]] = `${(m[2] ?? '').trimEnd()}\n`;
    }
  });
  return out;
}
const validRel = (p: string) => !p.startsWith('/') && !p.split('/').includes('..');

/** Work out server, layout, requests and setup of a fixture (a directory or a single config file). */
export function describeFixture(path: string, opts: RunFixtureOptions = {}): FixtureInfo {
  const abs = resolve(path);
  const st = statSync(abs);
  const errors: string[] = [];
  let root: string;
  let main: string | null = null;
  let htaccessFile: string | undefined;
  let scan: string[];
  let exclude: string[] = [];
  if (st.isDirectory()) {
    root = abs;
    const files = walkFiles(root);
    const top = files.filter((f) => !f.includes('/'));
    const exact = ['nginx.conf', 'httpd.conf', 'apache2.conf'].filter((f) => top.includes(f));
    const named = namedMain(top);
    if (exact.length === 1) main = exact[0];
    else if (exact.length > 1) errors.push(`${root}: several main configs (${exact.join(', ')}); keep one`);
    else if (named) main = named;
    else if (!files.some(isHtaccess)) {
      errors.push(`${root}: no nginx.conf, httpd.conf, *.nginx.conf, *.apache.conf or .htaccess file`);
    }
    scan = files.filter((f) => f.endsWith('.conf') || isHtaccess(f));
  } else {
    root = dirname(abs);
    const name = basename(abs);
    if (isHtaccessFixture(name)) htaccessFile = name;
    else main = name;
    scan = [name];
    exclude = readdirSync(root).filter(
      (f) => f !== name && (f.endsWith('.conf') || isHtaccessFixture(f)) && statSync(join(root, f)).isFile(),
    );
  }

  const setup: SetupLines = { harness: [], modes: {}, mkdirs: [], files: {}, errors: [] };
  const requests: FixtureRequest[] = [];
  for (const f of scan) {
    const text = readFileSync(join(root, f), 'utf8');
    const s = parseSetupLines(text, f);
    setup.harness.push(...s.harness);
    Object.assign(setup.modes, s.modes);
    setup.mkdirs.push(...s.mkdirs);
    Object.assign(setup.files, s.files);
    setup.errors.push(...s.errors);
    const r = parseRequestLines(text);
    for (const e of r.errors) errors.push(`${f}:${e.line}: ${e.message}`);
    for (const q of r.requests) requests.push({ ...q, file: f });
  }
  errors.push(...setup.errors);
  const words = new Set(setup.harness);

  // which server
  let server: ServerKind;
  const mainText = main ? readFileSync(join(root, main), 'utf8') : null;
  if (opts.server) server = opts.server;
  else if ([...words].some((w) => w.startsWith('nginx'))) server = 'nginx';
  else if ([...words].some((w) => w.startsWith('apache'))) server = 'apache';
  else if (main === null) server = 'apache';
  else if (isApacheName(main)) server = 'apache';
  else if (isNginxName(main)) server = 'nginx';
  else server = APACHE_SNIFF.test(mainText ?? '') ? 'apache' : 'nginx';

  const info: FixtureInfo = {
    root,
    server,
    main,
    htaccessFile,
    exclude,
    requests,
    modes: setup.modes,
    mkdirs: setup.mkdirs,
    files: setup.files,
    needsRoot: words.has('needs-root') || Object.keys(setup.modes).length > 0,
    errors,
  };
  if (server === 'nginx') {
    if (main === null) errors.push(`${path}: an nginx fixture needs a config file`);
    const w = ['nginx-main', 'nginx-http', 'nginx-server'].find((x) => words.has(x));
    info.context = opts.context ?? (w ? (w.slice(6) as NginxContext) : detectNginxContext(mainText ?? ''));
  } else {
    const w = ['apache-bare', 'apache-debian', 'apache-htaccess', 'apache-full'].find((x) => words.has(x));
    const fromWord = w ? ((w === 'apache-full' ? 'none' : w.slice(7)) as ApacheBase) : undefined;
    info.base = opts.base ?? fromWord ?? defaultApacheBase(mainText);
  }
  if (requests.length === 0) errors.push(`${path}: no "# request:" lines`);
  return info;
}

/** Why this fixture cannot run here (binary absent, needs root), or null. */
export function fixtureSkipReason(info: FixtureInfo): string | null {
  return serverSkipReason(info.server) ?? (info.needsRoot ? rootSkipReason() : null);
}

/** Start the server for a described fixture (layout, base/context, modes, mkdirs, single-file
 * .htaccess) without sending anything: for tests that send their own requests. Stop it yourself.
 * `clientHeader`: the server takes the client address from that header (servers.ts `CLIENT_HEADER`). */
export function startFixture(info: FixtureInfo, extra: { clientHeader?: string } = {}): Promise<RunningServer> {
  if (info.errors.length) return Promise.reject(new Error(`fixture ${info.root}:\n  ${info.errors.join('\n  ')}`));
  if (info.needsRoot && !isRoot) return Promise.reject(new Error(`fixture ${info.root}: ${rootSkipReason()}`));
  const common = {
    ...(extra.clientHeader ? { clientHeader: extra.clientHeader } : {}),
    fixture: info.root,
    exclude: info.exclude,
    main: info.main ?? undefined,
    modes: info.modes,
    mkdirs: info.mkdirs,
    files: {
      ...info.files,
      ...(info.htaccessFile ? { 'htdocs/.htaccess': readFileSync(join(info.root, info.htaccessFile)) } : {}),
    },
  };
  return info.server === 'nginx' ? startNginx({ ...common, context: info.context }) : startApache({ ...common, base: info.base });
}

/** Start the fixture's server, send every `# request:` line, stop the server. Throws on a malformed
 * fixture or a failed start (with the server's error log); request failures are reported per line. */
export async function runFixture(path: string, opts: RunFixtureOptions = {}): Promise<FixtureResult[]> {
  const info = describeFixture(path, opts);
  if (info.errors.length) throw new Error(`fixture ${path}:\n  ${info.errors.join('\n  ')}`);
  const server = await startFixture(info, { clientHeader: opts.clientHeader });
  const results: FixtureResult[] = [];
  try {
    for (const r of info.requests) {
      const mark = server.logMark();
      let actual: number | null = null;
      let error: string | undefined;
      try {
        const res = await request({
          port: server.port,
          method: r.method,
          path: r.path,
          from: r.from,
          host: r.host,
          headers: r.headers,
          timeoutMs: opts.timeoutMs ?? 5000,
        });
        actual = res.status;
      } catch (e) {
        error = (e as Error).message;
      }
      results.push({
        request: r,
        line: r.line,
        file: r.file,
        expected: r.expected,
        actual,
        error,
        errorLogExcerpt: server.errorLogSince(mark),
      });
    }
  } finally {
    await server.stop();
  }
  return results;
}

/** One line per request whose status differs from the expectation ('' when all match), for test messages. */
export function mismatches(results: FixtureResult[]): string {
  return results
    .filter((r) => r.actual !== r.expected)
    .map(
      (r) =>
        `${r.file}:${r.line}: ${r.request.text}: got ${r.actual ?? r.error}` +
        (r.errorLogExcerpt.trim() ? `\n    error log: ${r.errorLogExcerpt.trim().split('\n').join('\n    ')}` : ''),
    )
    .join('\n');
}

/** The main config of a directory without nginx.conf/httpd.conf: its only top-level config file, if
 * that is named `*.nginx.conf` / `*.apache.conf` (several config files = a set of single-file fixtures). */
function namedMain(top: string[]): string | null {
  const confs = top.filter((f) => f.endsWith('.conf') || isHtaccessFixture(f));
  return confs.length === 1 && (isNginxName(confs[0]) || isApacheName(confs[0])) ? confs[0] : null;
}

/** True when a directory is a fixture by itself (nginx.conf/httpd.conf/apache2.conf, a lone
 * `*.nginx.conf`/`*.apache.conf`, or a document tree with .htaccess files). */
export function isFixtureDir(dir: string): boolean {
  const files = walkFiles(dir);
  const top = files.filter((f) => !f.includes('/'));
  return top.some((f) => ['nginx.conf', 'httpd.conf', 'apache2.conf'].includes(f)) || !!namedMain(top) || files.some(isHtaccess);
}

/** Fixtures under a directory: each subdirectory that is a fixture directory, and the `*.conf` /
 * `*.htaccess` files of the other subdirectories as single-file fixtures (sorted, relative to cwd). */
export function findFixtures(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (!statSync(p).isDirectory()) continue;
    if (isFixtureDir(p)) out.push(p);
    else {
      for (const f of readdirSync(p).sort()) {
        if ((f.endsWith('.conf') || isHtaccessFixture(f)) && statSync(join(p, f)).isFile()) out.push(join(p, f));
      }
    }
  }
  return out.map((p) => relative(process.cwd(), p) || p);
}

/** The texts of a case file, or of every .conf/.htaccess file under a case directory. */
export function fixtureTexts(p: string): string[] {
  if (!statSync(p).isDirectory()) return [readFileSync(p, 'utf8')];
  const out: string[] = [];
  for (const e of readdirSync(p, { withFileTypes: true })) {
    const q = join(p, e.name);
    if (e.isDirectory()) out.push(...fixtureTexts(q));
    else if (e.name.endsWith('.conf') || e.name.endsWith('.htaccess')) out.push(readFileSync(q, 'utf8'));
  }
  return out;
}

/** The case files and case directories of every rule under `<root>/fixtures/rules` that carry
 * `# request:` lines, relative to `root`, sorted (rules-real and proofs-real start these). */
export function ruleFixturesWithRequests(root: string): string[] {
  const rules = join(root, 'fixtures/rules');
  if (!existsSync(rules)) return [];
  const out: string[] = [];
  for (const id of readdirSync(rules).sort()) {
    const dir = join(rules, id);
    if (!statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const isDir = statSync(p).isDirectory();
      if (isDir ? !isFixtureDir(p) : !(name.endsWith('.conf') || name.endsWith('.htaccess'))) continue;
      if (fixtureTexts(p).some((t) => /^\s*#\s*request\s*:/m.test(t))) out.push(relative(root, p));
    }
  }
  return out;
}
