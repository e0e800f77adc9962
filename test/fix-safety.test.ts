/**
 * `--fix` never changes what the server does, nor what the user may write (issue 11, part 3):
 * the re-parse guard, the suppression fix on Apache comments continued with `\`, real Apache
 * statuses before and after a fix, file permissions, owners, hard links, symlinks, idempotence,
 * and a seeded property test over the fixtures.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import type { Node, ParsedFile } from '../src/ast.js';
import { parseApache } from '../src/apache/parser.js';
import { detectServer } from '../src/load.js';
import { applySelected, fixGuard, guardWith, planFixes, selectFixes } from '../src/fix.js';
import type { FileEntry, LintMessage } from '../src/linter.js';
import { parseNginx } from '../src/nginx/parser.js';
import { defineRule, type Fix } from '../src/rule.js';
import { RULE_IDS } from '../src/rule-manifest.js';
import { lint, lintText } from '../src/run.js';
import { SourceFile } from '../src/source.js';
import { applySuppressions } from '../src/suppress.js';
import { cliPath, ensureBuilt, repoRoot } from './harness/build.js';
import { request } from './harness/requests.js';
import { apacheSkipReason, isRoot, startApache, stopAllServers } from './harness/servers.js';

const tmp = mkdtempSync(join(tmpdir(), 'why403-fix-safety-'));
// Other users (nobody) must reach the files below it.
chmodSync(tmp, 0o755);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function tree(files: Record<string, string | Buffer>): string {
  const dir = join(tmp, `t${++n}`);
  mkdirSync(dir, { recursive: true });
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  return dir;
}

/** Every directive as the server reads it: depth, name and argument values (this test's own walk). */
function directives(nodes: readonly Node[], depth = 0, out: string[] = []): string[] {
  for (const nd of nodes) {
    if (nd.type !== 'directive') continue;
    out.push(`${depth} ${[nd.name, ...nd.args.map((a) => a.value)].join(' ')}${nd.block ? ' {' : ''}${nd.rawBody ?? ''}`);
    if (nd.block) directives(nd.block, depth + 1, out);
  }
  return out;
}

const ONLY = { only: ['unused-suppression'], noConfig: true };

// An unused suppression whose comment Apache continues onto the next line with `\`: the whole
// logical comment (both lines) is what the server skips.
const CONTINUED = 'DirectoryIndex index.html\n# why403-disable-next-line -- legacy \\\nRequire all denied\n';
const CONTINUED_FIXED = 'DirectoryIndex index.html\n';
// What the old fix produced: only the first physical line deleted, which un-comments the next one.
const FIRST_LINE_ONLY = 'DirectoryIndex index.html\nRequire all denied\n';

describe('suppression fix on a comment continued with a backslash (Apache)', () => {
  test('.htaccess: the whole logical comment line goes; the directives are the same after the fix', async () => {
    const run = await lintText(CONTINUED, { filename: '/srv/www/.htaccess', server: 'apache', fixDryRun: true, ...ONLY });
    const r = run.results[0];
    expect(r.output).toBe(CONTINUED_FIXED);
    const before = parseApache(new SourceFile('.htaccess', CONTINUED), { context: 'htaccess' });
    const after = parseApache(new SourceFile('.htaccess', r.output!), { context: 'htaccess' });
    expect(directives(after.nodes)).toEqual(directives(before.nodes));
    expect(directives(after.nodes)).toEqual(['0 DirectoryIndex index.html']);
  });

  test('CRLF, several continued lines, the last line without a terminator', async () => {
    const cases: Array<[string, string]> = [
      [
        'Options -Indexes\r\n# why403-disable -- a \\\r\n   b \\\r\nRequire all denied\r\nDirectoryIndex x\r\n',
        'Options -Indexes\r\nDirectoryIndex x\r\n',
      ],
      ['Options -Indexes\n# why403-disable-next-line apache-legacy-access-control \\\nRequire all denied', 'Options -Indexes'],
    ];
    for (const [text, expected] of cases) {
      const run = await lintText(text, { filename: '/srv/www/.htaccess', server: 'apache', fixDryRun: true, ...ONLY });
      expect(run.results[0].output).toBe(expected);
    }
  });

  test('a continued comment hides its next physical line from disable-next-line too', async () => {
    // The target is the first directive after the whole comment: line 4, where the finding is.
    const text =
      '<Directory /srv>\n# why403-disable-next-line apache-legacy-access-control \\\n  -- note\nOrder allow,deny\n</Directory>\n';
    const run = await lintText(text, { filename: 'httpd.conf', server: 'apache', noConfig: true, only: ['apache-legacy-access-control'] });
    expect(run.results[0].messages.filter((m) => m.ruleId === 'apache-legacy-access-control')).toEqual([]);
    expect(run.results[0].suppressedMessages.map((m) => [m.ruleId, m.line, m.suppressions[0].justification])).toEqual([
      ['apache-legacy-access-control', 4, 'note'],
    ]);
  });

  test('removing one unused name of a list continued onto the next line', async () => {
    const text = '# why403-disable-next-line apache-legacy-access-control, \\\n    apache-docroot-denied -- x\nOrder allow,deny\n';
    const run = await lintText(text, {
      filename: 'httpd.conf',
      server: 'apache',
      noConfig: true,
      only: ['apache-legacy-access-control', 'unused-suppression'],
      fixDryRun: true,
    });
    expect(run.results[0].output).toBe('# why403-disable-next-line apache-legacy-access-control -- x\nOrder allow,deny\n');
  });

  test('the guard rejects the old first-line-only deletion: the server would read `Require all denied`', async () => {
    const parsed = parseApache(new SourceFile('/srv/www/.htaccess', CONTINUED), { context: 'htaccess', htaccessDir: '/srv/www' });
    const start = CONTINUED.indexOf('#');
    const bad: Fix = { range: [start, CONTINUED.indexOf('\n', start) + 1], text: '' };
    expect(applySelected(CONTINUED, [bad])).toBe(FIRST_LINE_ONLY);
    expect(await fixGuard(parsed, [bad])).toMatch(/`Require all denied` would become a directive/);
    const good = parsed.nodes.find((x) => x.type === 'comment')!;
    expect(await fixGuard(parsed, [{ range: [good.span.start.offset, CONTINUED.length], text: '' }])).toBeNull();
  });
});

describe('the re-parse guard in the pipeline', () => {
  // A fixable rule with one bad fix (deletes only the first physical line of a continued comment)
  // and one good fix (changes its own directive's argument).
  const rule = defineRule({
    id: 'apache-test-fixes',
    servers: ['apache'],
    severity: 'warning',
    description: 'Test rule.',
    category: 'other',
    fixable: true,
    messages: { x: 'found {{what}}' },
    check(ctx) {
      for (const { node } of ctx.directives('options')) {
        const a = node.args[0];
        ctx.report({
          node,
          messageId: 'x',
          data: { what: 'options' },
          fix: { range: [a.span.start.offset, a.span.end.offset], text: '-Indexes' },
        });
      }
      for (const { node } of ctx.directives('directoryindex')) {
        const text = node.source.text;
        const s = text.indexOf('# note');
        ctx.report({ node, messageId: 'x', data: { what: 'index' }, fix: { range: [s, text.indexOf('\n', s) + 1], text: '' } });
      }
    },
  });
  const text = 'DirectoryIndex index.html\n# note \\\nRequire all denied\nOptions +Indexes\n';

  test('a fix that would change directives outside its range is withheld with a note; the others apply', async () => {
    const run = await lintText(text, { filename: '/srv/www/.htaccess', server: 'apache', noConfig: true, rules: [rule], fixDryRun: true });
    const r = run.results[0];
    expect(r.output).toBe('DirectoryIndex index.html\n# note \\\nRequire all denied\nOptions -Indexes\n');
    const index = r.messages.find((m) => m.message.startsWith('found index'))!;
    expect(index.fix).toBeUndefined();
    expect(index.message).toMatch(/fix withheld: .*`Require all denied` would become a directive/);
    // --fix-dry-run lists what stays (ESLint's way): the applied fix's finding is gone, the withheld one has no fix
    expect(r.messages.map((m) => m.message.replace(/ \(.*/, ''))).toEqual(['found index']);
    expect(r.fixableWarningCount).toBe(0);
  });

  test('written with --fix: the file keeps its directives; a second run writes nothing', async () => {
    const dir = tree({ 'www/.htaccess': text });
    const file = join(dir, 'www/.htaccess');
    const run = await lint([file], { cwd: dir, noConfig: true, rules: [rule], fix: true });
    expect(run.fixedFiles).toEqual([file]);
    expect(readFileSync(file, 'utf8')).toBe('DirectoryIndex index.html\n# note \\\nRequire all denied\nOptions -Indexes\n');
    const again = await lint([file], { cwd: dir, noConfig: true, rules: [rule], fix: true });
    expect(again.fixedFiles).toEqual([]);
    expect(again.fixErrors).toEqual([]);
    expect(again.results[0].messages.map((m) => m.message.replace(/ \(.*/, ''))).toEqual(['found index', 'found options']);
  });

  test('planFixes: a new syntax error withholds the fix', async () => {
    const src = new SourceFile('/x/httpd.conf', '<Directory /x>\nRequire all granted\n</Directory>\n');
    const parsed = parseApache(src, { context: 'server' });
    const close = src.text.indexOf('</Directory>');
    const m: LintMessage = {
      ruleId: 'apache-x',
      severity: 'warning',
      message: 'm',
      offset: 0,
      endOffset: 1,
      line: 1,
      column: 1,
      endLine: 1,
      endColumn: 2,
      fix: { range: [close, close + '</Directory>\n'.length], text: '' },
    };
    const entry: FileEntry = { path: src.path, source: src, parsed, messages: [m] };
    expect(await planFixes(entry)).toBeNull();
    expect(m.fix).toBeUndefined();
    expect(m.message).toMatch(/fix withheld: .*syntax error: <Directory> was not closed/);
  });
});

const apacheSkip = apacheSkipReason();
if (apacheSkip) console.warn(`[fix-safety] real Apache test skipped: ${apacheSkip}`);

describe.skipIf(!!apacheSkip)('real Apache: the status is the same before and after --fix', () => {
  afterEach(stopAllServers);

  async function statusOf(opts: Parameters<typeof startApache>[0]): Promise<number> {
    const s = await startApache({ ...opts, files: { ...(opts.files ?? {}), 'htdocs/index.html': 'hello\n' } });
    try {
      return (await request({ port: s.port, path: '/' })).status;
    } finally {
      await s.stop();
    }
  }

  test('.htaccess with a continued unused suppression', async () => {
    const dir = tree({ 'htdocs/.htaccess': CONTINUED });
    const file = join(dir, 'htdocs/.htaccess');
    await lint([file], { cwd: dir, fix: true, ...ONLY });
    const fixed = readFileSync(file, 'utf8');
    expect(fixed).toBe(CONTINUED_FIXED);
    const before = await statusOf({ base: 'htaccess', files: { 'htdocs/.htaccess': CONTINUED } });
    const after = await statusOf({ base: 'htaccess', files: { 'htdocs/.htaccess': fixed } });
    // The old fix turned this 200 into a 403: the harness tells them apart.
    const oldFix = await statusOf({ base: 'htaccess', files: { 'htdocs/.htaccess': FIRST_LINE_ONLY } });
    expect([before, after, oldFix]).toEqual([200, 200, 403]);
  });

  test('server config (<Directory>) with a continued unused suppression', async () => {
    const config =
      '<Directory ${HARNESS_ROOT}/htdocs>\n    # why403-disable-next-line -- legacy \\\n    Require all denied\n</Directory>\n';
    const run = await lintText(config, { filename: join(tmp, 'httpd.conf'), server: 'apache', fixDryRun: true, ...ONLY });
    const fixed = run.results[0].output!;
    expect(fixed).toBe('<Directory ${HARNESS_ROOT}/htdocs>\n</Directory>\n');
    const before = await statusOf({ base: 'bare', config });
    const after = await statusOf({ base: 'bare', config: fixed });
    const oldFix = await statusOf({ base: 'bare', config: config.replace('    # why403-disable-next-line -- legacy \\\n', '') });
    expect([before, after, oldFix]).toEqual([200, 200, 403]);
  });
});

// ---------------------------------------------------------------------------------------------
// Writing files

const NGINX_CONF = 'events {}\nhttp {\n    # why403-disable-next-line nginx-return-403-server -- stale\n    server { listen 80; }\n}\n';
const NGINX_FIXED = 'events {}\nhttp {\n    server { listen 80; }\n}\n';

describe('writing respects the file', () => {
  test('a 0444 file is not rewritten (even as root); the finding stays with a note', async () => {
    const dir = tree({ 'nginx.conf': NGINX_CONF });
    const file = join(dir, 'nginx.conf');
    chmodSync(file, 0o444);
    const ino = statSync(file).ino;
    const run = await lint([file], { cwd: dir, fix: true, ...ONLY });
    expect(run.fixedFiles).toEqual([]);
    expect(run.fixErrors).toEqual([{ filePath: file, message: expect.stringMatching(/read-only \(mode 0444\)/) }]);
    expect(readFileSync(file, 'utf8')).toBe(NGINX_CONF);
    expect(statSync(file).mode & 0o777).toBe(0o444);
    expect(statSync(file).ino).toBe(ino);
    const [m] = run.results[0].messages;
    expect(m.ruleId).toBe('unused-suppression');
    expect(m.fix).toBeUndefined();
    expect(m.message).toMatch(/not fixed: it is read-only/);
    expect(run.results[0].fixableWarningCount).toBe(0);
  });

  test('hard links stay one file: same inode, both names see the fix', async () => {
    const dir = tree({ 'a/nginx.conf': NGINX_CONF });
    const file = join(dir, 'a/nginx.conf');
    mkdirSync(join(dir, 'b'));
    linkSync(file, join(dir, 'b/other.conf'));
    chmodSync(file, 0o640);
    const ino = statSync(file).ino;
    const run = await lint([file], { cwd: dir, fix: true, ...ONLY });
    expect(run.fixedFiles).toEqual([file]);
    expect(statSync(file).ino).toBe(ino);
    expect(statSync(file).nlink).toBe(2);
    expect(statSync(join(dir, 'b/other.conf')).ino).toBe(ino);
    expect(readFileSync(join(dir, 'b/other.conf'), 'utf8')).toBe(NGINX_FIXED);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(join(dir, 'a'))).toEqual(['nginx.conf']);
  });

  test('two hard-linked names linted in one run: both fixed, still one file, no error', async () => {
    const dir = tree({ 'sites-available/a.conf': NGINX_CONF });
    mkdirSync(join(dir, 'sites-enabled'));
    linkSync(join(dir, 'sites-available/a.conf'), join(dir, 'sites-enabled/a.conf'));
    const files = [join(dir, 'sites-available/a.conf'), join(dir, 'sites-enabled/a.conf')];
    const ino = statSync(files[0]).ino;
    const run = await lint(files, { cwd: dir, fix: true, ...ONLY });
    expect(run.fixErrors).toEqual([]);
    expect(run.results.flatMap((r) => r.messages)).toEqual([]);
    for (const f of files) {
      expect(readFileSync(f, 'utf8')).toBe(NGINX_FIXED);
      expect(statSync(f).ino).toBe(ino);
    }
  });

  test('a symlink stays a symlink; the target is fixed; a second run changes nothing', async () => {
    const dir = tree({ 'real/nginx.conf': NGINX_CONF });
    mkdirSync(join(dir, 'conf'));
    symlinkSync('../real/nginx.conf', join(dir, 'conf/nginx.conf'));
    const link = join(dir, 'conf/nginx.conf');
    const run = await lint([link], { cwd: dir, fix: true, ...ONLY });
    expect(run.fixedFiles).toEqual([link]);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'real/nginx.conf'), 'utf8')).toBe(NGINX_FIXED);
    const mtime = statSync(join(dir, 'real/nginx.conf')).mtimeMs;
    const again = await lint([link], { cwd: dir, fix: true, ...ONLY });
    expect(again.fixedFiles).toEqual([]);
    expect(readFileSync(join(dir, 'real/nginx.conf'), 'utf8')).toBe(NGINX_FIXED);
    expect(statSync(join(dir, 'real/nginx.conf')).mtimeMs).toBe(mtime);
  });

  test('idempotence: a second --fix run changes no byte (Apache continued comment, CRLF)', async () => {
    const text = 'Options -Indexes\r\n# why403-disable-next-line -- a \\\r\nRequire all denied\r\n';
    const dir = tree({ 'www/.htaccess': text });
    const file = join(dir, 'www/.htaccess');
    const first = await lint([file], { cwd: dir, fix: true, ...ONLY });
    expect(first.fixedFiles).toEqual([file]);
    const fixed = readFileSync(file);
    expect(fixed.toString()).toBe('Options -Indexes\r\n');
    const second = await lint([file], { cwd: dir, fix: true, ...ONLY });
    expect(second.fixedFiles).toEqual([]);
    expect(readFileSync(file).equals(fixed)).toBe(true);
  });
});

function uidOf(user: string): number | null {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}
const NOBODY = uidOf('nobody');
const WWW = uidOf('www-data');
const asNobodySkip = !isRoot
  ? 'not running as root: cannot run the CLI as nobody or give files to other users'
  : NOBODY === null
    ? 'no user nobody'
    : spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, '-e', '0'], { timeout: 30_000 }).status !== 0
      ? 'runuser -u nobody cannot run node here'
      : spawnSync('runuser', ['-u', 'nobody', '--', 'test', '-r', cliPath], { timeout: 30_000 }).status !== 0 &&
          spawnSync('runuser', ['-u', 'nobody', '--', 'test', '-r', join(repoRoot, 'package.json')], { timeout: 30_000 }).status !== 0
        ? `nobody cannot read ${repoRoot}`
        : null;
if (asNobodySkip) console.warn(`[fix-safety] tests as nobody skipped: ${asNobodySkip}`);

/** Run the built CLI as nobody (bounded: a hang fails the test as not finished). */
function cliAsNobody(cwd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    'runuser',
    ['-u', 'nobody', '--', process.execPath, cliPath, '--fix', '--no-config-lookup', '--only', 'unused-suppression', ...args],
    {
      cwd,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!!asNobodySkip)('as an unprivileged user (runuser -u nobody)', () => {
  ensureBuilt();

  test('a folder the user cannot write: each file is reported with the OS error, the run goes on, exit 2', () => {
    const dir = tree({ 'locked/mine.conf': NGINX_CONF, 'locked/roots.conf': NGINX_CONF, 'open/later.conf': NGINX_CONF });
    chownSync(join(dir, 'locked/mine.conf'), NOBODY!, 65534);
    chownSync(join(dir, 'open'), NOBODY!, 65534);
    chownSync(join(dir, 'open/later.conf'), NOBODY!, 65534);
    const r = cliAsNobody(dir, ['locked/mine.conf', 'locked/roots.conf', 'open/later.conf']);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(/internal error|This is a bug/);
    expect(r.stderr).toContain(
      `why403: cannot fix locked/mine.conf: cannot create a temporary file in ${join(dir, 'locked')} (EACCES: permission denied)`,
    );
    expect(r.stderr).toContain('why403: cannot fix locked/roots.conf: it is not writable by this user (EACCES: permission denied)');
    expect(r.stderr).not.toContain('open/later.conf');
    // The report is printed: the two findings stay, with a note; the later file was fixed.
    expect(r.stdout).toContain('locked/mine.conf');
    expect(r.stdout).toContain('not fixed: cannot create a temporary file');
    expect(r.stdout).toContain('locked/roots.conf');
    expect(r.stdout).not.toContain('open/later.conf');
    expect(readFileSync(join(dir, 'locked/mine.conf'), 'utf8')).toBe(NGINX_CONF);
    expect(readFileSync(join(dir, 'locked/roots.conf'), 'utf8')).toBe(NGINX_CONF);
    expect(readFileSync(join(dir, 'open/later.conf'), 'utf8')).toBe(NGINX_FIXED);
    expect(readdirSync(join(dir, 'open'))).toEqual(['later.conf']);
  });

  test('a root-owned file in a folder the user can write is not taken over', () => {
    const dir = tree({ 'open/root644.conf': NGINX_CONF, 'open/root666.conf': NGINX_CONF });
    chownSync(join(dir, 'open'), NOBODY!, 65534);
    chmodSync(join(dir, 'open/root666.conf'), 0o666);
    const r = cliAsNobody(dir, ['open/root644.conf', 'open/root666.conf']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('cannot fix open/root644.conf: it is not writable by this user (EACCES');
    // Writable by everyone, but a rename would make nobody its owner: refused.
    expect(r.stderr).toContain('cannot fix open/root666.conf: its owner (uid 0) and group (gid 0) could not be kept (EPERM');
    for (const f of ['open/root644.conf', 'open/root666.conf']) {
      expect(readFileSync(join(dir, f), 'utf8')).toBe(NGINX_CONF);
      expect(statSync(join(dir, f)).uid).toBe(0);
    }
    expect(readdirSync(join(dir, 'open')).sort()).toEqual(['root644.conf', 'root666.conf']);
  });

  test('a 0444 file of the user is not rewritten either', () => {
    const dir = tree({ 'open/ro.conf': NGINX_CONF });
    chownSync(join(dir, 'open'), NOBODY!, 65534);
    chownSync(join(dir, 'open/ro.conf'), NOBODY!, 65534);
    chmodSync(join(dir, 'open/ro.conf'), 0o444);
    const r = cliAsNobody(dir, ['open/ro.conf']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('cannot fix open/ro.conf: it is read-only (mode 0444)');
    expect(readFileSync(join(dir, 'open/ro.conf'), 'utf8')).toBe(NGINX_CONF);
  });
});

const wwwSkip = !isRoot ? 'not running as root: cannot give a file to www-data' : WWW === null ? 'no user www-data' : null;
if (wwwSkip) console.warn(`[fix-safety] owner test skipped: ${wwwSkip}`);

test.skipIf(!!wwwSkip)('as root, a www-data:www-data file keeps its owner, group and mode', async () => {
  const dir = tree({ 'nginx.conf': NGINX_CONF });
  const file = join(dir, 'nginx.conf');
  chownSync(file, WWW!, WWW!);
  chmodSync(file, 0o640);
  const run = await lint([file], { cwd: dir, fix: true, ...ONLY });
  expect(run.fixedFiles).toEqual([file]);
  expect(readFileSync(file, 'utf8')).toBe(NGINX_FIXED);
  const st = statSync(file);
  expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([WWW, WWW, 0o640]);
});

// ---------------------------------------------------------------------------------------------
// Property: every applied fix leaves the directives outside its range unchanged

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fixtureFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) fixtureFiles(p, out);
    else if (/\.conf$|^\.htaccess$|\.htaccess$/.test(e.name) && statSync(p).size < 100_000) out.push(p);
  }
  return out;
}

test('property: seeded suppression-comment mutations of the fixtures; every applied fix keeps the directives', async () => {
  const files = fixtureFiles(join(repoRoot, 'fixtures'));
  expect(files.length).toBeGreaterThan(50);
  const rnd = prng(403);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const names = [...RULE_IDS.slice(0, 12), 'no-such-rule', 'apache-legacy-access-control', 'nginx-return-403-server'];
  const known = new Set([...RULE_IDS, 'syntax-error', 'unused-suppression']);
  const ws = ['', ' ', '    ', '\t'];
  const comment = (): string => {
    const kind = pick(['disable-next-line', 'disable-next-line', 'disable', 'enable', 'disable-line']);
    const list = Array.from({ length: Math.floor(rnd() * 4) }, () => pick(names));
    let c = `${pick(ws)}# why403-${kind}`;
    for (let i = 0; i < list.length; i++) {
      c += (i === 0 ? ' ' : pick([',', ', ', ' , '])) + list[i];
      if (rnd() < 0.15) c += ' \\\n' + pick(ws);
    }
    if (rnd() < 0.5) c += ` -- ${pick(['legacy', 'old', 'x y'])}`;
    if (rnd() < 0.4) c += pick([' \\', '\\', ' \\\\']);
    return c;
  };
  let mutations = 0;
  let applied = 0;
  let oldWouldChange = 0;
  const failures: string[] = [];
  for (let k = 0; k < 3000; k++) {
    const file = files[k % files.length];
    const orig = readFileSync(file, 'utf8');
    const server = detectServer(file, orig) ?? 'nginx';
    const lines = orig.split('\n');
    const edits = 1 + Math.floor(rnd() * 4);
    for (let i = 0; i < edits; i++) lines.splice(Math.floor(rnd() * (lines.length + 1)), 0, comment());
    if (server === 'nginx' && rnd() < 0.3) {
      const i = lines.findIndex((l) => /;\s*$/.test(l));
      if (i !== -1) lines[i] += `  # why403-disable-line ${pick(names)}`;
    }
    let text = lines.join('\n');
    if (rnd() < 0.2) text = text.replace(/\n/g, '\r\n');
    if (rnd() < 0.1) text = text.replace(/\r?\n$/, '');
    const htaccess = /htaccess$/.test(basename(file));
    const parse = (t: string): ParsedFile => {
      const s = new SourceFile(file, t);
      return server === 'nginx' ? parseNginx(s, { pathHint: file }) : parseApache(s, { context: htaccess ? 'htaccess' : 'server' });
    };
    const parsed = parse(text);
    if (parsed.errors.some((d) => d.severity === 'error' && !/unknown/.test(d.code))) continue;
    mutations++;
    // Pretend some directives had findings, so that some suppressions are used and others not.
    const messages: LintMessage[] = [];
    for (let l = 1; l <= parsed.source.lineCount; l++) {
      if (rnd() < 0.2) {
        const off = parsed.source.offsetAt(l, 1);
        messages.push({
          ruleId: pick(names),
          severity: 'warning',
          message: 'm',
          offset: off,
          endOffset: off,
          line: l,
          column: 1,
          endLine: l,
          endColumn: 1,
        });
      }
    }
    const entry: FileEntry = { path: file, source: parsed.source, parsed, messages };
    const res = applySuppressions(entry, { knownRules: known, reportUnused: 'warn', server });
    const fixes = res.messages.filter((m) => m.fix).map((m) => m.fix!);
    if (fixes.length === 0) continue;
    const sel = selectFixes(text, fixes).fixes;
    const output = applySelected(text, sel);
    const before = parse(text);
    const after = parse(output);
    applied += sel.length;
    // Suppression fixes touch comments only: the whole directive list must stay, and no new error.
    const same = JSON.stringify(directives(after.nodes)) === JSON.stringify(directives(before.nodes));
    const newErrors = after.errors.filter((d) => !before.errors.some((o) => o.code === d.code));
    const guard = guardWith(parse, text, sel, output);
    if (!same || newErrors.length || guard !== null) {
      failures.push(`${relative(repoRoot, file)} #${k}: ${guard ?? newErrors[0]?.message ?? 'directives differ'}\n${JSON.stringify(text)}`);
    }
    // The old deletion (the comment's first physical line only) on continued comments: the guard
    // must catch every case where it would change the directives.
    for (const f of sel) {
      const startLine = parsed.source.positionAt(f.range[0]).line;
      const endLine = parsed.source.positionAt(Math.max(f.range[0], f.range[1] - 1)).line;
      if (f.text !== '' || endLine === startLine || f.range[0] !== parsed.source.offsetAt(startLine, 1)) continue;
      const old: Fix = { range: [f.range[0], parsed.source.lineStarts[startLine] ?? text.length], text: '' };
      const oldOut = applySelected(text, [old]);
      const oldParsed = parse(oldOut);
      const changes = JSON.stringify(directives(oldParsed.nodes)) !== JSON.stringify(directives(before.nodes));
      const caught = guardWith(parse, text, [old], oldOut) !== null;
      if (changes) oldWouldChange++;
      if (changes && !caught)
        failures.push(`${relative(repoRoot, file)} #${k}: the guard missed the old deletion\n${JSON.stringify(text)}`);
    }
  }
  console.log(`[fix-safety] ${mutations} mutations, ${applied} fixes applied, ${oldWouldChange} old-style deletions the guard rejected`);
  expect(failures.slice(0, 5)).toEqual([]);
  expect(mutations).toBeGreaterThan(2000);
  expect(oldWouldChange).toBeGreaterThan(20);
});
