/**
 * `lint --fs` (issue 14): the disk rules against `explain --fs` and the real servers.
 *
 * (a) Every disk fixture (fixtures/rules/*-fs-*\/<case>/ and fixtures/fs/<case>/), copied as the
 *     real-server harness lays it out (modes applied): `why403 --fs --format json` (the built CLI)
 *     reports what the fixture's `# expect:` markers say, and for every finding that carries a request,
 *     `why403 explain --fs` on that request (same config, path map and prefix) predicts the same status
 *     and cause — the invariant, through the CLI.
 * (b) The issue's first two examples as regressions: the nginx config with a root-owned 0600 file, a
 *     `location /files/ { autoindex off; }` without index and a Laravel root one level too high gives
 *     nothing without --fs and all three with it; the WordPress .htaccess under Options
 *     -FollowSymLinks is found from the Apache config alone, with the same findings as when the
 *     .htaccess is named too, and real Apache answers 403 (the real-server half is in the fixtures'
 *     `# request:` lines, run here when we are root and the servers are installed).
 * (c) A hostile disk: FIFOs, a symlink to /dev/zero, symlink loops, a directory of 30,000 entries and
 *     a 40-level deep tree: the run finishes (bounded by a child-process timeout), says what it skipped.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './harness/build.js';
import { copyFsFixture, type FsCopy } from './harness/fs-copy.js';
import { parseMarkers } from './harness/markers.js';
import { describeFixture, fixtureSkipReason, mismatches, runFixture } from './harness/run-fixture.js';
import { stopAllServers } from './harness/servers.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'dist/src/cli.js');

beforeAll(() => ensureBuilt(), 200_000);
afterAll(stopAllServers);

interface Msg {
  ruleId: string;
  line: number;
  message: string;
  request?: { method: string; url: string; ip: string };
  status?: number;
  cause?: string;
}
interface Res {
  filePath: string;
  messages: Msg[];
}

function fixtureDirs(): string[] {
  const out: string[] = [];
  const rules = join(root, 'fixtures/rules');
  for (const id of readdirSync(rules)
    .filter((d) => d.includes('-fs-'))
    .sort())
    for (const c of readdirSync(join(rules, id)).sort()) if (statSync(join(rules, id, c)).isDirectory()) out.push(join(rules, id, c));
  const fs = join(root, 'fixtures/fs');
  if (existsSync(fs)) for (const c of readdirSync(fs).sort()) out.push(join(fs, c));
  return out;
}

const mainOf = (dir: string) => ['nginx.conf', 'httpd.conf'].find((m) => existsSync(join(dir, m)))!;

/** The options that make the CLI read the copy as the fixture's config reads it. */
function diskArgs(copy: FsCopy): string[] {
  return ['--prefix', `${copy.root}/`, '--path-map', `/srv/why403=${copy.root}`];
}

async function cli(args: string[], timeout = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: root, timeout, maxBuffer: 32 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string; killed?: boolean; signal?: string };
    if (err.killed || err.signal) throw new Error(`why403 ${args.join(' ')} did not finish within ${timeout} ms`);
    return { code: Number(err.code), stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

async function lintFs(copy: FsCopy, files: string[], extra: string[] = []): Promise<Res[]> {
  const r = await cli(['--fs', '--format', 'json', '--no-config-lookup', ...diskArgs(copy), ...extra, ...files]);
  expect(r.code, r.stderr).toBeLessThan(2);
  return JSON.parse(r.stdout) as Res[];
}

describe('lint --fs on the disk fixtures agrees with the markers and with explain --fs', () => {
  for (const dir of fixtureDirs()) {
    const name = dir.slice(root.length + 1);
    it(
      name,
      async () => {
        const copy = copyFsFixture(dir);
        try {
          const main = mainOf(dir);
          const results = await lintFs(copy, [join(copy.root, main)]);
          // (a) the markers of the fixture's files: every `# expect:` of a disk rule (or of the
          // .htaccess rule found through --fs) is a finding at that line, and no disk finding is unmarked
          const problems: string[] = [];
          const found = results.flatMap((r) => r.messages.map((m) => ({ ...m, file: r.filePath.slice(copy.root.length + 1) })));
          const files = [main, ...(existsSync(join(dir, 'htdocs/.htaccess')) ? ['htdocs/.htaccess'] : [])];
          const expected = files.flatMap((f) => parseMarkers(readFileSync(join(dir, f), 'utf8')).map((m) => ({ ...m, file: f })));
          const checked = new Set(expected.map((e) => e.rule));
          // the fixture's own rule (fixtures/rules/<id>/) and the rules its markers name: other disk
          // rules may fire as well (a directory made for one cause may show another); not judged here
          const own = /fixtures\/rules\/([^/]+)\//.exec(name)?.[1];
          if (own) checked.add(own);
          const left = found.filter((m) => checked.has(m.ruleId));
          for (const e of expected) {
            const i = left.findIndex(
              (m) => m.ruleId === e.rule && m.file === e.file && m.line === e.line && (!e.message || m.message.includes(e.message)),
            );
            if (i === -1) problems.push(`${e.file}:${e.line}: expected ${e.rule}${e.message ? ` "${e.message}"` : ''}`);
            else left.splice(i, 1);
          }
          for (const m of left) problems.push(`${m.file}:${m.line}: unexpected ${m.ruleId}: ${m.message}`);
          // every disk finding with a request: explain --fs on it says the same
          for (const m of found.filter((x) => checked.has(x.ruleId) && x.request)) {
            const args = [
              'explain',
              join(copy.root, main),
              m.request!.url,
              '--fs',
              '--format',
              'json',
              '--no-config-lookup',
              ...diskArgs(copy),
            ];
            args.push('--ip', m.request!.ip, '--method', m.request!.method);
            const r = await cli(args);
            if (r.code !== 0) {
              problems.push(`explain failed for ${m.request!.url}: ${r.stderr}`);
              continue;
            }
            const e = JSON.parse(r.stdout) as { status: number | null; cause: { id: string } | null };
            if (e.status !== m.status || (e.cause?.id ?? undefined) !== m.cause)
              problems.push(
                `${m.ruleId} claims ${m.status} ${m.cause ?? ''} for ${m.request!.url}; explain --fs says ${e.status} ${e.cause?.id ?? ''}`,
              );
          }
          expect(problems).toEqual([]);
        } finally {
          copy.cleanup();
        }
      },
      120_000,
    );
  }
});

describe('issue 14 regressions', () => {
  it('nginx: nothing without --fs; the 0600 file, /files/ without index and the Laravel root with it', async () => {
    const dir = join(root, 'fixtures/fs/issue14-nginx');
    const copy = copyFsFixture(dir);
    try {
      const plain = await cli(['--format', 'json', '--no-config-lookup', ...diskArgs(copy), join(copy.root, 'nginx.conf')]);
      expect(plain.code).toBe(0);
      expect((JSON.parse(plain.stdout) as Res[]).flatMap((r) => r.messages)).toEqual([]);
      const msgs = (await lintFs(copy, [join(copy.root, 'nginx.conf')])).flatMap((r) => r.messages);
      const byRule = (id: string) => msgs.filter((m) => m.ruleId === id);
      expect(byRule('nginx-fs-unreadable').map((m) => [m.request?.url, m.status, m.cause])).toEqual([
        ['http://localhost:8080/secret.html', 403, 'N10'],
      ]);
      expect(byRule('nginx-fs-unreadable')[0].message).toMatch(/mode 0600, owner \S+.*chmod o\+r \S*www\/secret\.html/);
      expect(byRule('nginx-fs-no-index').map((m) => [m.request?.url, m.status, m.cause])).toEqual([
        ['http://localhost:8080/files/', 403, 'N12'],
        ['http://laravel.test:8080/', 403, 'N12'],
      ]);
      expect(byRule('nginx-fs-no-index')[1].message).toContain('public/ has index.php: the root may be one level too high');
    } finally {
      copy.cleanup();
    }
  }, 120_000);

  it('Apache: the WordPress .htaccess under Options -FollowSymLinks is found from the config alone', async () => {
    const dir = join(root, 'fixtures/fs/issue14-wordpress');
    const copy = copyFsFixture(dir);
    try {
      const conf = join(copy.root, 'httpd.conf');
      const ht = join(copy.root, 'htdocs/.htaccess');
      const strip = (rs: Res[]) =>
        rs
          .filter((r) => r.filePath === ht)
          .flatMap((r) => r.messages)
          .map((m) => [m.ruleId, m.line, m.message]);
      const alone = await lintFs(copy, [conf]);
      const named = await lintFs(copy, [conf, ht]);
      const found = alone.find((r) => r.filePath === ht)?.messages ?? [];
      expect(found.map((m) => [m.ruleId, m.line, m.status, m.cause, m.request?.url])).toEqual([
        ['apache-rewrite-without-followsymlinks', 3, 403, 'A25', 'http://localhost/'],
      ]);
      expect(strip(alone)).toEqual(strip(named));
      // without --fs the config alone says nothing of it (the file is not read)
      const plain = await cli(['--format', 'json', '--no-config-lookup', ...diskArgs(copy), conf]);
      expect((JSON.parse(plain.stdout) as Res[]).some((r) => r.filePath === ht)).toBe(false);
    } finally {
      copy.cleanup();
    }
  }, 120_000);

  for (const name of ['issue14-nginx', 'issue14-wordpress']) {
    const info = describeFixture(join(root, 'fixtures/fs', name));
    const skip = fixtureSkipReason(info);
    if (skip) console.warn(`[disk] real-server half of ${name} skipped: ${skip}`);
    it.skipIf(!!skip)(
      `${name}: the real server answers what the fixture says`,
      async () => {
        expect(info.errors).toEqual([]);
        expect(mismatches(await runFixture(info.root))).toBe('');
      },
      120_000,
    );
  }
});

describe('a hostile disk is scanned in bounded time', () => {
  let copy: FsCopy;
  beforeAll(() => {
    copy = copyFsFixture(join(root, 'fixtures/rules/nginx-fs-unreadable/bad'));
    const www = join(copy.root, 'www');
    try {
      execFileSync('mkfifo', [join(www, 'pipe.html')]);
    } catch {
      /* no mkfifo: the other cases still run */
    }
    symlinkSync('/dev/zero', join(www, 'zero.html'));
    symlinkSync('loop-b', join(www, 'loop-a'));
    symlinkSync('loop-a', join(www, 'loop-b'));
    symlinkSync('.', join(www, 'self'));
    const huge = join(www, 'huge');
    mkdirSync(huge);
    for (let i = 0; i < 30_000; i++) writeFileSync(join(huge, `f${i}.html`), '');
    let deep = join(www, 'deep');
    for (let i = 0; i < 40; i++) deep = join(deep, `d${i}`);
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'bottom.html'), 'x');
    chmodSync(join(deep, 'bottom.html'), 0o600);
  }, 120_000);
  afterAll(() => copy?.cleanup());

  it('finishes, reports the unreadable file and says what it skipped', async () => {
    const msgs = (await lintFs(copy, [join(copy.root, 'nginx.conf')])).flatMap((r) => r.messages);
    const un = msgs.filter((m) => m.ruleId === 'nginx-fs-unreadable');
    expect(un).toHaveLength(1);
    expect(un[0].message).toContain('Not scanned:');
    expect(un[0].message).toMatch(/more than 2000 entries|deeper than 24 levels/);
  }, 120_000);
});
