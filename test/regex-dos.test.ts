/**
 * why403 issue 11: a config regex or glob must not be able to hang lint or explain (catastrophic
 * backtracking). The hostile cases run the built CLI in a child process with a timeout: the assertion is
 * that it *finished* (no ETIMEDOUT) and what it printed, never how long it took.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '../src/ast.js';
import { fnmatch as includeFnmatch } from '../src/apache/glob.js';
import { compilePcre, fnmatch } from '../src/apache/model/regex.js';
import { parseApache } from '../src/apache/parser.js';
import { serverFor } from '../src/load.js';
import { toBinary, translatePcre } from '../src/nginx/model/regex.js';
import { parseNginx } from '../src/nginx/parser.js';
import { readSource } from '../src/read.js';
import {
  compileConfigRegex,
  compileGlob,
  compileIgnores,
  globMatch,
  isUnknown,
  setRegexFastPath,
  type RegexMatch,
} from '../src/regex-engine.js';
import { cliPath, ensureBuilt, repoRoot } from './harness/build.js';
import { CORPUS, corpusOrSkip, corpusRows } from './harness/corpus.js';

const HOSTILE = '/' + 'a'.repeat(40) + 'b';
const TIMEOUT = 20_000;

let dir: string;
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'why403-redos-'));
}, 200_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Ran = { error: Error | undefined; status: number | null; signal: NodeJS.Signals | null; out: string };

/** The CLI in a child process killed after TIMEOUT (async, so the test worker's event loop stays free). */
function cli(args: string[], cwd = repoRoot): Promise<Ran> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd, timeout: TIMEOUT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let error: Error | undefined;
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', (e) => (error = e));
    child.on('close', (status, signal) => done({ error, status, signal, out }));
  });
}

function finished(r: Ran) {
  expect(r.error, r.out).toBeUndefined();
  expect(r.signal, 'killed by the timeout').toBeNull();
}

function conf(name: string, text: string): string {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const nginx = (body: string) => `events {}\nhttp {\n  server {\n    listen 8080;\n    server_name localhost;\n${body}\n  }\n}\n`;
const apache = (body: string) => `ServerName localhost\nListen 8080\nDocumentRoot /srv/www\n${body}\n`;

describe('hostile regexes finish (bounded child processes)', () => {
  const nginxCases: [string, string, RegExp | null][] = [
    ['location (a|aa)+', '    location ~ ^/(a|aa)+$ { return 403; }\n    location / { return 200; }', /200/],
    ['location (.*a){20}', '    location ~ "^/(.*a){20}$" { return 403; }\n    location / { return 200; }', /200/],
    ['location ~* nested', '    location ~* "^/(a+)+$" { return 403; }\n    location / { return 200; }', /200/],
    ['if ($uri ~ …)', '    location / {\n      if ($uri ~ "^/(a|aa)+$") { return 403; }\n      return 200;\n    }', /200/],
    ['rewrite', '    location / {\n      rewrite "^/(.*a){20}$" /x last;\n      return 200;\n    }', /200/],
    // lookahead needs the backtracking fallback, and the nested group makes it unbounded: unknown, not a guess
    [
      'lookahead + nested',
      '    location ~ "^/(?=a)(a|aa)+$" { return 403; }\n    location / { return 200; }',
      /unknown|cannot be evaluated/i,
    ],
  ];
  for (const [name, body, want] of nginxCases) {
    it(
      `nginx ${name}: lint and explain finish`,
      async () => {
        const p = conf(`n-${name.replace(/\W+/g, '_')}/nginx.conf`, nginx(body));
        const l = await cli(['lint', '--no-config-lookup', p]);
        finished(l);
        expect([0, 1]).toContain(l.status);
        const e = await cli(['explain', p, HOSTILE]);
        finished(e);
        expect(e.status, e.out).toBe(0);
        if (want) expect(e.out).toMatch(want);
      },
      2 * TIMEOUT + 5_000,
    );
  }

  const apacheCases: [string, string, RegExp | null][] = [
    [
      'LocationMatch never-ending',
      '<LocationMatch "^(.*.*.*.*.*.*.*.*.*.*)*[0-9]$">\n  Require all denied\n</LocationMatch>',
      /200|exists/,
    ],
    ['LocationMatch (a|aa)+', '<LocationMatch "^/(a|aa)+$">\n  Require all denied\n</LocationMatch>', /200|exists/],
    ['FilesMatch', '<FilesMatch "^(a|aa)+$">\n  Require all denied\n</FilesMatch>', /200|exists/],
    ['Files ~', '<Files ~ "^(a|aa)+$">\n  Require all denied\n</Files>', /200|exists/],
    ['DirectoryMatch', '<DirectoryMatch "^/srv/www/(a|aa)+$">\n  Require all denied\n</DirectoryMatch>', /200|exists/],
    ['RewriteRule', 'RewriteEngine On\nRewriteRule "^/(.*a){20}$" - [F]', /200|exists/],
    ['RewriteCond', 'RewriteEngine On\nRewriteCond %{REQUEST_URI} "^/(a|aa)+$"\nRewriteRule ^ - [F]', /200|exists/],
    ['RedirectMatch', 'RedirectMatch 403 "^/(a|aa)+$"', /200|exists/],
    ['AliasMatch', 'AliasMatch "^/(.*a){20}$" /srv/other/$1', /200|exists/],
    ['lookahead + nested', '<LocationMatch "^/(?!x)(a|aa)+$">\n  Require all denied\n</LocationMatch>', /cannot be evaluated/],
  ];
  for (const [name, body, want] of apacheCases) {
    it(
      `apache ${name}: lint and explain finish`,
      async () => {
        const p = conf(`a-${name.replace(/\W+/g, '_')}/apache2.conf`, apache(body));
        const l = await cli(['lint', '--no-config-lookup', p]);
        finished(l);
        expect([0, 1]).toContain(l.status);
        const e = await cli(['explain', p, HOSTILE]);
        finished(e);
        expect(e.status, e.out).toBe(0);
        if (want) expect(e.out).toMatch(want);
      },
      2 * TIMEOUT + 5_000,
    );
  }

  it(
    'Include / include globs: a many-star glob against long file names finishes',
    async () => {
      const inc = join(dir, 'inc');
      mkdirSync(inc, { recursive: true });
      for (let i = 0; i < 5; i++) writeFileSync(join(inc, 'a'.repeat(200 + i)), '');
      const star = '*a*a*a*a*a*a*a*a*ab';
      const n = conf('inc-n/nginx.conf', nginx(`    include "${inc}/${star}";\n    return 403;`));
      const rn = await cli(['lint', '--no-config-lookup', '-f', 'compact', n]);
      finished(rn);
      expect(rn.out).toContain('nginx-return-403-server');
      const a = conf('inc-a/apache2.conf', apache(`IncludeOptional "${inc}/${star}"\n<Location />\n  Require all denied\n</Location>`));
      const ra = await cli(['lint', '--no-config-lookup', '-f', 'compact', a]);
      finished(ra);
      expect([0, 1]).toContain(ra.status);
    },
    2 * TIMEOUT + 5_000,
  );

  it(
    'ignores: a many-star glob against a long folder name finishes',
    async () => {
      const root = join(dir, 'ign');
      const long = 'a'.repeat(200);
      mkdirSync(join(root, long), { recursive: true });
      mkdirSync(join(root, 'aaaaaaab'), { recursive: true });
      writeFileSync(join(root, '.why403.json'), JSON.stringify({ ignores: ['*a*a*a*a*a*a*ab', 'aaaaaaab/**'] }));
      writeFileSync(join(root, long, 'nginx.conf'), nginx('    return 403;'));
      writeFileSync(join(root, 'aaaaaaab', 'nginx.conf'), nginx('    return 403;'));
      const r = await cli(['lint', '-f', 'compact', '.'], root);
      finished(r);
      expect(r.out).toContain(`${long}/nginx.conf`); // not ignored: the glob has no `/`
      expect(r.out).not.toContain('aaaaaaab/nginx.conf'); // ignored by `aaaaaaab/**`
    },
    TIMEOUT + 5_000,
  );
});

describe('regex engine', () => {
  const get = (src: string, flags = '') => {
    const c = compileConfigRegex(src, flags);
    if (!c.ok) throw new Error(c.reason);
    return c.regex;
  };
  const ex = (src: string, s: string, flags = '') => get(src, flags).exec(s);

  it('runs RE2-compatible patterns on RE2, with captures and named groups', () => {
    const r = get('^/(?<id>[0-9]+)/(x)?(.*)$');
    expect(r.engine).toBe('re2');
    const m = r.exec('/42/rest') as RegexMatch;
    expect(m.captures).toEqual(['/42/rest', '42', undefined, 'rest']);
    expect(m.named).toEqual({ id: '42' });
    expect(ex('b+', 'aabbbc')).toMatchObject({ index: 2, captures: ['bbb'] });
    expect(ex('^/a$', '/b')).toBeNull();
    expect(get('^/(a|aa)+$').matches(HOSTILE)).toBe(false);
    expect(get('^/(a|aa)+$').matches('/aaaa')).toBe(true);
  });

  it('case-insensitivity', () => {
    expect(get('^/admin', 'i').matches('/ADMIN')).toBe(true);
    expect(get('^/admin').matches('/ADMIN')).toBe(false);
    expect(get('[a-c]x', 'i').matches('Bx')).toBe(true);
    expect(get('^/caf\u00e9$', 'i').matches('/CAF\u00c9')).toBe(true); // Latin-1 folds in both engines
    // above U+00FF RE2 folds ſ→s and K (Kelvin)→k, JavaScript's non-unicode `i` does not: those subjects take the fallback
    expect(get('^/s\\w$', 'i').matches('/\u017f\u212a')).toBe(false);
    expect(get('^/s\\w$', 'i').matches('/SK')).toBe(true);
    expect(get('^/[\\u0100-\\u0200]$', 'i').matches('/s')).toBe(false);
  });

  it('keeps JavaScript meanings that differ in RE2: dot, \\s, identity escapes, $', () => {
    expect(get('^a.b$').matches('a\rb')).toBe(false);
    expect(get('^a.b$', 's').matches('a\nb')).toBe(true);
    expect(get('^a\\sb$').matches('a\u00a0b')).toBe(true);
    expect(get('^a\\sb$').matches('a\vb')).toBe(true);
    expect(get('^\\/\\.git$').matches('/.git')).toBe(true);
    expect(get('a$').matches('a\n')).toBe(false);
    expect(get('^[^]$').matches('\n')).toBe(true);
  });

  it('falls back to a budgeted RegExp for lookaround and back-references', () => {
    const la = get('^/(?!api/)(.*)$');
    expect(la.engine).toBe('backtrack');
    expect(la.exec('/x/y')).toMatchObject({ captures: ['/x/y', 'x/y'] });
    expect(la.exec('/api/y')).toBeNull();
    const br = get('^/(\\w)\\1$');
    expect(br.matches('/aa')).toBe(true);
    expect(br.matches('/ab')).toBe(false);
  });

  it('answers unknown instead of backtracking without end', () => {
    const c = compileConfigRegex('^/(?!x)(a|aa)+$');
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.reason).toMatch(/backtrack without end/);
    // too many quantifiers for any useful subject length under the budget
    const many = compileConfigRegex('(?=x)' + 'a*b*c*d*e*f*g*h*'.repeat(2));
    expect(many.ok).toBe(false);
    // a fallback pattern whose budget allows short subjects but not long ones
    const r = get('^(?=.)a*b*x');
    expect(r.fallbackLimit).toBeGreaterThan(63);
    expect(r.fallbackLimit).toBeLessThan(10_000);
    expect(r.matches('aabbx')).toBe(true);
    expect(r.matches('ax')).toBe(true);
    expect(r.matches('bax')).toBe(false);
    const long = r.matches('a'.repeat(r.fallbackLimit + 1));
    expect(isUnknown(long)).toBe(true);
  });

  it('nginx `$` (before a final newline): RE2 for ordinary subjects, fallback only for a trailing newline', () => {
    const v = translatePcre('^/(a|aa)+$', false);
    if (!v.ok) throw new Error(v.reason);
    expect(v.regex.engine).toBe('re2+backtrack');
    expect(v.regex.matches('/aa')).toBe(true);
    expect(v.regex.matches(HOSTILE)).toBe(false);
    expect(isUnknown(v.regex.matches('/aa\n'))).toBe(true); // nested + backtracking: honest unknown
    const w = translatePcre('^/a$', false);
    if (!w.ok) throw new Error(w.reason);
    expect(w.regex.matches('/a\n')).toBe(true);
  });
});

describe('globs are matched without a RegExp', () => {
  it('apr fnmatch semantics', () => {
    expect(fnmatch('/home/*/public_html/', '/home/bob/public_html/')).toBe(true);
    expect(fnmatch('/home/*/public_html/', '/home/a/b/public_html/')).toBe(false);
    expect(fnmatch('/srv/[a-c]?/x', '/srv/b1/x')).toBe(true);
    expect(fnmatch('/srv/[!a-c]?/x', '/srv/b1/x')).toBe(false);
    expect(fnmatch('*.txt', 'a/b.txt', false)).toBe(true);
    expect(fnmatch('a\\*b', 'a*b')).toBe(true);
    expect(fnmatch('a\\*b', 'axb')).toBe(false);
    expect(globMatch('*a*a*a*a*a*a*ab', 'a'.repeat(20_000))).toBe(false);
    expect(includeFnmatch('*a*a*a*a*a*a*ab', 'a'.repeat(255))).toBe(false);
    expect(includeFnmatch('*.conf', '.x.conf')).toBe(false); // APR_FNM_PERIOD
    expect(includeFnmatch('[a-c]*.conf', 'b.conf')).toBe(true);
    expect(globMatch('*a*a*a*a*a*a*ab', 'a'.repeat(20_000) + 'b')).toBe(true);
  });

  it('ignores agree with picomatch (dot: true) on ordinary patterns', () => {
    const globs = [
      'vendor/**',
      '**/*.example.conf',
      '*.bak',
      'a/*/c',
      '**/tmp/**',
      'x/{a,b}/*.conf',
      'sites-*/**',
      '**',
      'a?c',
      '[ab]*.conf',
      '!keep.conf',
    ];
    const paths = [
      'vendor',
      'vendor/x',
      'vendor/x/y.conf',
      'a.example.conf',
      'd/e/a.example.conf',
      'x.bak',
      'd/x.bak',
      'a/b/c',
      'a/b/d/c',
      'tmp/x',
      'q/tmp/x/y',
      'x/a/n.conf',
      'x/c/n.conf',
      'sites-enabled/default',
      'abc',
      'a/c',
      'bx.conf',
      '.hidden/x.conf',
      'keep.conf',
      'other.conf',
    ];
    for (const g of globs) {
      const pm = picomatch(g, { dot: true });
      const mine = compileIgnores([g]);
      for (const p of paths) expect(mine(p), `${g} vs ${p}`).toBe(pm(p));
    }
  });

  it('compileGlob with slash: false lets * cross /', () => {
    expect(compileGlob('*.example.*', { slash: false })('www.example.com')).toBe(true);
    expect(compileGlob('a*z', { slash: false })('a/b/z')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------
// Differential: every regex of the fixtures and the corpus, engine vs the plain RegExp it replaced.

type Found = { server: 'nginx' | 'apache'; pattern: string; caseless: boolean; where: string };

function files(root: string): string[] {
  const out: string[] = [];
  const rec = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) rec(p);
      else if (e.isFile() && statSync(p).size < 2_000_000) out.push(p);
    }
  };
  rec(root);
  return out;
}

const APACHE_SECTION_RE = new Set(['locationmatch', 'filesmatch', 'directorymatch', 'proxymatch']);

function collect(path: string): Found[] {
  const server = serverFor(path);
  if (server !== 'nginx' && server !== 'apache') return [];
  const r = readSource(path);
  if (!r.ok) return [];
  const parsed = server === 'nginx' ? parseNginx(r.source) : parseApache(r.source);
  const out: Found[] = [];
  const add = (pattern: string | undefined, caseless: boolean, d: { span: { start: { line: number } } }) => {
    if (pattern) out.push({ server, pattern, caseless, where: `${path}:${d.span.start.line}` });
  };
  const visit = (nodes: Node[]) => {
    for (const d of nodes) {
      if (d.type !== 'directive') continue;
      const a = d.args.map((x) => x.value);
      if (server === 'nginx') {
        if (d.name === 'location' && (a[0] === '~' || a[0] === '~*')) add(a[1], a[0] === '~*', d);
        if (d.name === 'location' && /^~\*?./.test(a[0] ?? '') && a.length === 1) add(a[0].replace(/^~\*?/, ''), a[0].startsWith('~*'), d);
        if (d.name === 'server_name') for (const v of a) if (v.startsWith('~')) add(v.slice(1), true, d);
        if (d.name === 'rewrite') add(a[0], false, d);
        if (d.name === 'if') {
          const i = a.findIndex((v) => /^!?~\*?$/.test(v));
          if (i >= 0) add(a[i + 1], a[i].endsWith('*'), d);
        }
        if (d.name === 'valid_referers') for (const v of a) if (v.startsWith('~')) add(v.slice(1), true, d);
        if (d.name === 'map' && d.block)
          for (const e of d.block)
            if (e.type === 'directive' && e.name.startsWith('~')) add(e.name.replace(/^~\*?/, ''), e.name.startsWith('~*'), e);
      } else {
        const k = d.key;
        if (APACHE_SECTION_RE.has(k)) add(a[0], false, d);
        if ((k === 'location' || k === 'files' || k === 'directory' || k === 'proxy') && a[0] === '~') add(a[1], false, d);
        if (k === 'rewriterule') add(a[0]?.replace(/^!/, ''), /\[[^\]]*\bNC\b/i.test(a[2] ?? ''), d);
        if (k === 'rewritecond' && a[1] && !/^!?[-=<>]/.test(a[1])) add(a[1].replace(/^!/, ''), /\bNC\b|nocase/i.test(a[2] ?? ''), d);
        if (k === 'redirectmatch') add(/^\d{3}$|^(permanent|temp|seeother|gone)$/i.test(a[0] ?? '') ? a[1] : a[0], false, d);
        if (k === 'aliasmatch' || k === 'scriptaliasmatch') add(a[0], false, d);
        if (k === 'setenvif' || k === 'setenvifnocase' || k === 'browsermatch' || k === 'browsermatchnocase')
          add(k.startsWith('browsermatch') ? a[0] : a[1], k.endsWith('nocase'), d);
      }
      if (d.block) visit(d.block);
    }
  };
  visit(parsed.nodes);
  return out;
}

const BASE_SUBJECTS = [
  '/',
  '/index.html',
  '/admin/',
  '/admin/login.php',
  '/a.php',
  '/x.PHP',
  '/.git/config',
  '/.htaccess',
  '/wp-login.php',
  '/images/logo.PNG',
  '/api/v1/users/42',
  '/static/app.min.js?x=1',
  '/var/www/html/index.php',
  '/srv/www/.well-known/acme-challenge/x',
  'www.example.com',
  'example.org',
  'index.php',
  'Mozilla/5.0 (Windows NT 10.0)',
  '2.4.62',
  '',
  '/a\rb',
  '/x\u2028y\u00a0z',
  '/caf\u00e9/\u00c9T\u00c9',
  '/\u017f\u212a/SK',
];

/** Subjects built from the pattern's own literal characters, so most patterns match at least once. */
function subjectsFor(pattern: string): string[] {
  const lit = pattern
    .replace(/\\(.)/g, '$1')
    .replace(/\[[^\]]*\]/g, 'a')
    .replace(/[\^$()|?*+{}.]/g, '');
  const digits = lit.replace(/[0-9]+,?[0-9]*/g, '1');
  return [lit, '/' + lit.replace(/^\//, ''), lit + '/', digits, lit.toUpperCase(), lit + '.php', lit + '\n'];
}

function same(a: RegExpExecArray | null, b: ReturnType<typeof Object>): boolean {
  if (a === null || b === null) return a === b;
  const m = b as RegexMatch;
  return (
    m.index === a.index &&
    JSON.stringify(Array.from(a)) === JSON.stringify(m.captures) &&
    JSON.stringify({ ...(a.groups ?? {}) }) === JSON.stringify(m.named)
  );
}

describe('differential: engine vs RegExp on every fixture and corpus regex', () => {
  // RE2 wherever it can run: short subjects otherwise take the pattern's own RegExp (the fast path),
  // which would compare the RegExp with itself.
  beforeAll(() => setRegexFastPath(false));
  afterAll(() => setRegexFastPath(true));
  it('same matches and captures', () => {
    const paths = files(join(repoRoot, 'fixtures'));
    if (corpusOrSkip('corpus half of the differential regex test')) for (const row of corpusRows()) paths.push(join(CORPUS, row.path));
    const found = paths.flatMap(collect);
    const stats = { regexes: 0, unique: 0, re2: 0, mixed: 0, backtrack: 0, refused: 0, comparisons: 0, unknownAtMatch: 0 };
    const seen = new Set<string>();
    const mismatches: string[] = [];
    stats.regexes = found.length;
    for (const f of found) {
      const key = `${f.server}:${f.caseless}:${f.pattern}`;
      if (seen.has(key)) continue;
      seen.add(key);
      stats.unique++;
      let native: RegExp;
      let engine;
      let bin = (s: string) => s;
      if (f.server === 'nginx') {
        const v = translatePcre(f.pattern, f.caseless);
        if (!v.ok) {
          stats.refused++;
          continue;
        }
        native = new RegExp(v.source, v.flags);
        engine = v.regex;
        bin = toBinary;
      } else {
        const c = compilePcre(f.pattern, f.caseless);
        if (!c.ok) {
          stats.refused++;
          continue;
        }
        native = new RegExp(f.pattern, f.caseless ? 'i' : '');
        engine = c.re;
      }
      stats[engine.engine === 're2' ? 're2' : engine.engine === 'backtrack' ? 'backtrack' : 'mixed']++;
      for (const s0 of [...BASE_SUBJECTS, ...subjectsFor(f.pattern)]) {
        const s = bin(s0);
        const got = engine.exec(s);
        if (got !== null && isUnknown(got)) {
          stats.unknownAtMatch++;
          continue;
        }
        stats.comparisons++;
        const want = native.exec(s);
        if (!same(want, got))
          mismatches.push(
            `${f.where} ${JSON.stringify(f.pattern)} on ${JSON.stringify(s)}: RegExp ${JSON.stringify(want)} engine ${JSON.stringify(got)}`,
          );
      }
    }
    console.log('regex differential:', JSON.stringify(stats));
    expect(stats.unique).toBeGreaterThan(20);
    expect(mismatches.slice(0, 20)).toEqual([]);
  }, 120_000);
});
