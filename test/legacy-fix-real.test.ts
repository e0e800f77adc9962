/**
 * Issue 17: `--fix` converts Order/Allow/Deny/Satisfy to Require, and real Apache answers the same.
 *
 * For every fixture and every corpus file (../shared/corpus, INDEX.tsv; skipped when absent) whose
 * legacy lines apache-legacy-access-control reports, the fix is computed (`--fix-dry-run`), then real
 * Apache is started twice (original and fixed) and a generated request matrix is sent to both:
 * client addresses inside and outside every range the lines mention, with and without the
 * headers that set the `env=` variables, with and without valid credentials (when the file
 * authenticates), GET/POST and every
 * method a `<Limit>` names. Every status must be identical.
 *
 * Addresses: requests can only come from 127.0.0.0/8, so ranges outside it are rewritten in both
 * copies alike (`10.1.2.0/24` → `127.1.2.0/24`: the first octet becomes 127). Environment variables:
 * both copies get `SetEnvIf X-Legacy-Env-<name> ^1$ <name>` for each variable the lines use.
 *
 * Layout: a .htaccess is served as the document root's .htaccess under the harness's htaccess base
 * (Debian's access sections plus a site directory with AllowOverride All and Require all granted);
 * a fixture that names `${HARNESS_ROOT}` runs whole under its own base; any other config file has
 * each changed section transplanted (a `<Directory>` moved to htdocs/sN, a `<Files>` wrapped in one,
 * a `<Location>` moved to /sN) into a bare base, which is what the converter assumes: nothing outside
 * the linted file sets Require lines.
 */
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Directive, Node } from '../src/ast.js';
import { parseApache } from '../src/apache/parser.js';
import { parseSubnet } from '../src/apache/model/net.js';
import { detectServer } from '../src/load.js';
import { lint } from '../src/run.js';
import { SourceFile } from '../src/source.js';
import { CORPUS, corpusOrSkip, corpusRows } from './harness/corpus.js';
import { describeFixture, isFixtureDir, startFixture } from './harness/run-fixture.js';
import { request } from './harness/requests.js';
import { apacheSkipReason, startApache, stopAllServers, type RunningServer } from './harness/servers.js';

const root = resolve(import.meta.dirname, '..');
const RULE = 'apache-legacy-access-control';
const LEGACY_LINE = /^\s*(order|allow|deny|satisfy)\s/im;
const skip = apacheSkipReason();
if (skip) console.log(`legacy fix on real Apache skipped: ${skip}`);

const tmp = mkdtempSync(join(tmpdir(), 'why403-legacy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(stopAllServers);

// ---------------------------------------------------------------------------------------------
// What the fix does to one file

interface Fixed {
  original: string;
  fixed: string | null;
  /** Legacy findings before and after. */
  before: number;
  kept: { line: number; reason: string }[];
}

async function fixOf(path: string, context?: string): Promise<Fixed> {
  const original = readFileSync(path, 'utf8');
  const run = await lint([path], { noConfig: true, only: [RULE], fixDryRun: true, ...(context ? { context } : {}) });
  const r = run.results.find((x) => x.filePath === path) ?? run.results[0];
  const plain = await lint([path], { noConfig: true, only: [RULE], ...(context ? { context } : {}) });
  const all = (plain.results.find((x) => x.filePath === path) ?? plain.results[0]).messages.filter((m) => m.ruleId === RULE);
  const kept = all
    .map((m) => ({ line: m.line, reason: /--fix leaves the section's legacy lines: (.*)\)$/.exec(m.message)?.[1] ?? '' }))
    .filter((k) => k.reason);
  const plainKept = all
    .filter((m) => !/--fix (converts|leaves)/.test(m.message))
    .map((m) => ({ line: m.line, reason: 'not in a section (an error at server level)' }));
  return {
    original,
    fixed: r.output !== undefined && r.output !== original ? r.output : null,
    before: all.length,
    kept: [...kept, ...plainKept],
  };
}

// ---------------------------------------------------------------------------------------------
// Test copies: addresses into 127/8, env variables from headers

function mapSpec(spec: string): string {
  const sub = parseSubnet(spec);
  if (!sub || sub.family !== 4 || sub.addr[0] === 127) return spec;
  const bits = sub.mask.reduce((n, b) => n + (b.toString(2).match(/1/g) ?? []).length, 0);
  if (bits < 8) return spec;
  return `127.${sub.addr.slice(1).join('.')}/${bits}`;
}

function mapAddresses(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const m = /^(\s*(?:allow|deny)\s+from\s+)(.*?)(\r?)$/i.exec(line) ?? /^(\s*require\s+(?:not\s+)?ip\s+)(.*?)(\r?)$/i.exec(line);
      if (!m) return line;
      return (
        m[1] +
        m[2]
          .split(/(\s+)/)
          .map((t) => (/\S/.test(t) ? mapSpec(t) : t))
          .join('') +
        m[3]
      );
    })
    .join('\n');
}

function envNames(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/env=!?([A-Za-z0-9_-]+)/gi)) out.add(m[1]);
  for (const m of text.matchAll(/^\s*require\s+(?:not\s+)?env\s+(.+)$/gim))
    for (const n of m[1].trim().split(/\s+/)) if (/^[A-Za-z0-9_-]+$/.test(n)) out.add(n);
  return [...out].sort();
}

const envPrelude = (names: string[]) => names.map((n) => `SetEnvIf X-Legacy-Env-${n} "^1$" ${n}\n`).join('');

function clientAddresses(text: string): string[] {
  const out = new Set(['127.0.0.1', '127.0.0.2', '127.250.0.1']);
  const specs: string[] = [];
  for (const m of text.matchAll(/^\s*(?:allow|deny)\s+from\s+(.+)$/gim)) specs.push(...m[1].trim().split(/\s+/));
  for (const m of text.matchAll(/^\s*require\s+(?:not\s+)?ip\s+(.+)$/gim)) specs.push(...m[1].trim().split(/\s+/));
  for (const s of specs) {
    const sub = parseSubnet(s);
    if (!sub || sub.family !== 4 || (sub.addr[0] & sub.mask[0]) !== (127 & sub.mask[0])) continue;
    const lo = sub.addr.reduce((x, b) => x * 256 + b, 0);
    const hi = lo + (0xffffffff - sub.mask.reduce((x, b) => x * 256 + b, 0));
    for (const n of [lo, hi, lo - 1, hi + 1, lo + 1]) {
      const a = [24, 16, 8, 0].map((sh) => (n >>> sh) & 255);
      if (a[0] === 127 && n >= 0) out.add(a.join('.'));
    }
  }
  return [...out].filter((a) => a !== '127.0.0.0' && !a.endsWith('.255.255.255')).sort();
}

function limitMethods(text: string): string[] {
  const out = new Set(['GET', 'POST']);
  for (const m of text.matchAll(/<Limit(?:Except)?\s+([^>]+)>/gi))
    for (const x of m[1].trim().split(/\s+/)) if (/^[A-Z]+$/.test(x)) out.add(x);
  return [...out];
}

const CREDENTIALS = 'Basic bGVnYWN5OmxlZ2FjeQ=='; // legacy:legacy (the fixtures' htpasswd)

// ---------------------------------------------------------------------------------------------
// Transplanting the changed sections of a config file

const ACCESS_SECTIONS = new Set(['directory', 'directorymatch', 'files', 'filesmatch', 'location', 'locationmatch']);
const key = (d: Directive) => d.key.replace(/^</, '');

function outerSections(nodes: Node[], out: Directive[] = []): Directive[] {
  for (const n of nodes) {
    if (n.type !== 'directive' || !n.block) continue;
    if (ACCESS_SECTIONS.has(key(n))) out.push(n);
    else outerSections(n.block, out);
  }
  return out;
}

interface Site {
  config: string;
  files: Record<string, string>;
  uris: string[];
}

/** The changed sections of `original` → `fixed`, each moved under the harness prefix. */
function transplant(original: string, fixed: string): { orig: Site; fixed: Site } | null {
  const a = outerSections(parseApache(new SourceFile('a.conf', original)).nodes);
  const b = outerSections(parseApache(new SourceFile('b.conf', fixed)).nodes);
  if (a.length !== b.length) return null;
  const o: Site = { config: '', files: {}, uris: [] };
  const f: Site = { config: '', files: {}, uris: [] };
  a.forEach((sa, i) => {
    const sb = b[i];
    const ta = original.slice(sa.span.start.offset, sa.span.end.offset);
    const tb = fixed.slice(sb.span.start.offset, sb.span.end.offset);
    if (ta === tb) return;
    const dir = `s${i}`;
    const k = key(sa);
    const move = (t: string, d: Directive): string => {
      const body = t.slice(t.indexOf('>') + 1, t.lastIndexOf('</'));
      if (k === 'directory' || k === 'directorymatch') return `<Directory "\${HARNESS_ROOT}/htdocs/${dir}">${body}</Directory>\n`;
      if (k === 'location' || k === 'locationmatch') return `<Location "/${dir}">${body}</Location>\n`;
      void d;
      return `<Directory "\${HARNESS_ROOT}/htdocs/${dir}">\n${t}\n</Directory>\n`;
    };
    o.config += move(ta, sa);
    f.config += move(tb, sb);
    for (const s of [o, f]) {
      s.files[`htdocs/${dir}/index.html`] = 'ok\n';
      s.uris.push(`/${dir}/`, `/${dir}/index.html`);
      if ((k === 'files' || k === 'filesmatch') && sa.args.length === 1 && k === 'files' && /^[\w.-]+$/.test(sa.args[0].value)) {
        s.files[`htdocs/${dir}/${sa.args[0].value}`] = 'x\n';
        s.uris.push(`/${dir}/${sa.args[0].value}`);
      }
    }
  });
  return { orig: o, fixed: f };
}

function htaccessSite(text: string): Site {
  const files: Record<string, string> = { 'htdocs/index.html': 'ok\n', 'htdocs/.htaccess': text };
  const uris = ['/', '/index.html'];
  for (const m of text.matchAll(/^\s*<Files\s+"?([\w.-]+)"?\s*>/gim)) {
    files[`htdocs/${m[1]}`] = 'x\n';
    uris.push(`/${m[1]}`);
  }
  return { config: '', files, uris: [...new Set(uris)] };
}

// ---------------------------------------------------------------------------------------------
// The request matrix

interface Tally {
  group: string;
  files: number;
  sections: number;
  requests: number;
  differences: string[];
  notStarted: string[];
  kept: Map<string, number>;
}
const newTally = (group: string): Tally => ({
  group,
  files: 0,
  sections: 0,
  requests: 0,
  differences: [],
  notStarted: [],
  kept: new Map(),
});
const tallies: Tally[] = [];
let tally: Tally = newTally('none');

interface Req {
  method: string;
  path: string;
  from: string;
  headers: Record<string, string>;
  label: string;
}

function matrix(uris: string[], text: string, seeds: Req[]): Req[] {
  const out: Req[] = [...seeds];
  const envs = envNames(text);
  const envSets: string[][] = [[], ...envs.map((e) => [e])];
  if (envs.length > 1) envSets.push(envs);
  for (const path of uris)
    for (const from of clientAddresses(text))
      for (const method of limitMethods(text))
        for (const env of envSets)
          for (const cred of /^\s*(AuthType|Require\s+(valid-user|user|group))\b/im.test(text) ? [false, true] : [false]) {
            const headers: Record<string, string> = {};
            for (const e of env) headers[`X-Legacy-Env-${e}`] = '1';
            if (cred) headers.Authorization = CREDENTIALS;
            out.push({
              method,
              path,
              from,
              headers,
              label: `${method} ${path} from ${from}${env.length ? ` env ${env.join(',')}` : ''}${cred ? ' with credentials' : ''}`,
            });
          }
  return out;
}

async function compare(name: string, a: RunningServer, b: RunningServer, reqs: Req[]): Promise<{ diffs: string[]; expected: string[] }> {
  const diffs: string[] = [];
  for (const r of reqs) {
    const [x, y] = await Promise.all(
      [a, b].map((s) =>
        request({ port: s.port, method: r.method, path: r.path, from: r.from, headers: r.headers, timeoutMs: 10000 }).then(
          (res) => res.status,
          (e: Error) => `error ${e.message}`,
        ),
      ),
    );
    tally.requests++;
    if (x !== y) diffs.push(`${name}: ${r.label}: ${x} before the fix, ${y} after`);
  }
  return { diffs, expected: [] };
}

async function runPair(name: string, start: (which: 'orig' | 'fixed') => Promise<RunningServer>, reqs: Req[]): Promise<string[]> {
  let a: RunningServer | null = null;
  let b: RunningServer | null = null;
  try {
    try {
      a = await start('orig');
    } catch (e) {
      tally.notStarted.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
      return [];
    }
    b = await start('fixed');
    const { diffs } = await compare(name, a, b, reqs);
    return diffs;
  } finally {
    await a?.stop();
    await b?.stop();
  }
}

// ---------------------------------------------------------------------------------------------

function legacyFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) legacyFiles(p, out);
    else if (e.endsWith('.conf') || e.endsWith('.htaccess')) {
      const text = readFileSync(p, 'utf8');
      if (LEGACY_LINE.test(text) && detectServer(p, text) === 'apache') out.push(p);
    }
  }
  return out;
}

const isHtaccess = (p: string) => /(^|\/)([^/]*\.htaccess|htaccess)$/.test(p);

async function verify(path: string, label: string, context?: string): Promise<void> {
  const fx = await fixOf(path, context);
  if (fx.before === 0) return;
  tally.files++;
  for (const k of fx.kept) {
    const why = k.reason.replace(/\(line \d+\)/g, '').replace(/`[^`]*`/g, '`…`');
    tally.kept.set(why, (tally.kept.get(why) ?? 0) + 1);
  }
  if (fx.fixed === null) return;
  // idempotent: the fixed text has nothing left to fix
  const again = join(tmp, `again-${tally.files}-${basename(path)}`);
  writeFileSync(again, fx.fixed);
  const second = await fixOf(again, context ?? (isHtaccess(path) ? 'htaccess' : undefined));
  expect(second.fixed, `${label}: a second --fix changes nothing`).toBeNull();

  const wholeText = (t: string) => envPrelude(envNames(fx.original + fx.fixed)) + mapAddresses(t);
  if (isHtaccess(path) || context === 'htaccess') {
    const o = htaccessSite(wholeText(fx.original));
    const f = htaccessSite(wholeText(fx.fixed));
    tally.sections += countChanged(fx);
    const reqs = matrix(o.uris, mapAddresses(fx.original + '\n' + fx.fixed), []);
    const diffs = await runPair(label, (w) => startApache({ base: 'htaccess', files: (w === 'orig' ? o : f).files }), reqs);
    tally.differences.push(...diffs);
    return;
  }
  if (fx.original.includes('${HARNESS_ROOT}')) {
    const dirs = { orig: join(tmp, `o${tally.files}`), fixed: join(tmp, `f${tally.files}`) };
    // a fixture directory (main config beside its htdocs) is copied whole; a single-file fixture alone
    const whole = isFixtureDir(dirname(path)) && !/\.(conf|htaccess)$/.test(basename(dirname(path)));
    for (const [w, d] of Object.entries(dirs)) {
      if (whole) cpSync(dirname(path), d, { recursive: true });
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, basename(path)), wholeText(w === 'orig' ? fx.original : fx.fixed));
    }
    const at = (w: 'orig' | 'fixed') => (whole ? dirs[w] : join(dirs[w], basename(path)));
    const info = describeFixture(at('orig'));
    const seeds: Req[] = info.requests.map((r) => ({
      method: r.method,
      path: r.path,
      from: r.from ?? '127.0.0.1',
      headers: Object.fromEntries((r.headers ?? []).map((h) => [h[0], h[1]] as [string, string])),
      label: r.text,
    }));
    const uris = [...new Set(info.requests.map((r) => r.path))];
    tally.sections += countChanged(fx);
    // the fixture's own expectations hold on the original (the fixture says what Apache does)
    const diffs = await runPair(
      label,
      async (w) => {
        const s = await startFixture(describeFixture(at(w)));
        if (w === 'orig') {
          for (const r of info.requests) {
            const res = await request({ port: s.port, method: r.method, path: r.path, from: r.from, headers: r.headers, host: r.host });
            expect(res.status, `${label}: ${r.text}`).toBe(r.expected);
          }
        }
        return s;
      },
      matrix(uris, mapAddresses(fx.original + '\n' + fx.fixed), seeds),
    );
    tally.differences.push(...diffs);
    return;
  }
  const t = transplant(mapAddresses(fx.original), mapAddresses(fx.fixed));
  if (!t) {
    tally.notStarted.push(`${label}: sections could not be paired`);
    return;
  }
  const prelude = envPrelude(envNames(fx.original + fx.fixed));
  tally.sections += countChanged(fx);
  const diffs = await runPair(
    label,
    (w) => {
      const s = w === 'orig' ? t.orig : t.fixed;
      return startApache({ base: 'bare', main: 'site.conf', config: prelude + s.config, files: s.files });
    },
    matrix(t.orig.uris, mapAddresses(fx.original + '\n' + fx.fixed), []),
  );
  tally.differences.push(...diffs);
}

/** Sections the fix changed: the number of separate edited regions. */
function countChanged(fx: Fixed): number {
  const a = fx.original.split('\n');
  const b = (fx.fixed ?? '').split('\n');
  let n = 0;
  let i = 0;
  let j = 0;
  // the fix only replaces runs of lines: walk both, counting runs where they part
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
      continue;
    }
    n++;
    // resynchronise on the next line of `a` that appears later in `b`
    let found = false;
    for (let ii = i + 1; ii < a.length && !found; ii++) {
      const jj = b.indexOf(a[ii], j);
      if (jj >= 0 && a[ii].trim() !== '') {
        i = ii;
        j = jj;
        found = true;
      }
    }
    if (!found) break;
  }
  return n;
}

describe.skipIf(!!skip)('--fix of legacy access control, proven on real Apache', () => {
  const fixtures = legacyFiles(join(root, 'fixtures'));

  it('fixtures: identical statuses before and after the fix', async () => {
    expect(fixtures.length).toBeGreaterThan(0);
    tallies.push((tally = newTally('fixtures')));
    for (const f of fixtures) await verify(f, relative(root, f));
    expect(tally.differences).toEqual([]);
    expect(tally.requests).toBeGreaterThan(0);
  }, 600_000);

  it('corpus files: identical statuses before and after the fix', async () => {
    if (!corpusOrSkip('legacy fix corpus verification')) return;
    const rows = corpusRows('apache').filter((r) => LEGACY_LINE.test(readFileSync(join(CORPUS, r.path), 'utf8')));
    tallies.push((tally = newTally('corpus')));
    for (const r of rows) await verify(join(CORPUS, r.path), `corpus ${r.path}`, r.kind === 'htaccess' ? 'htaccess' : undefined);
    expect(tally.differences).toEqual([]);
    expect(tally.requests).toBeGreaterThan(0);
  }, 900_000);

  afterAll(() => {
    for (const t of tallies) {
      const kept = [...t.kept.entries()].map(([why, n]) => `    ${n} × ${why}`).join('\n');
      console.log(
        `[legacy-fix-real] ${t.group}: files with legacy findings: ${t.files}; sections converted and compared on real Apache: ${t.sections}; ` +
          `requests compared: ${t.requests} (each sent to both servers); differences: ${t.differences.length}\n` +
          `  not started (both sides): ${t.notStarted.length}${t.notStarted.length ? '\n    ' + t.notStarted.join('\n    ') : ''}\n` +
          `  legacy lines left unconverted, by reason:\n${kept || '    none'}`,
      );
    }
  });
});
