/**
 * `why403 explain` through the built binary: bad input (exit 2, a clear message, no stack trace), the
 * "depends on the file system" answer without --fs, the text layout (verdict first, numbered trace with
 * file:line:col, what would change the answer), JSON for tools, --expect, --user, URL forms.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAUSES, type CauseId } from '../src/causes.js';
import { ensureBuilt } from './harness/build.js';

const root = resolve(__dirname, '..');
const bin = join(root, 'dist/src/cli.js');
const fx = 'fixtures/explain';
const tmp = mkdtempSync(join(tmpdir(), 'why403-explain-'));

beforeAll(() => ensureBuilt(), 200_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function why(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, 'explain', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const json = (args: string[]) => {
  const r = why([...args, '--format', 'json']);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out);
};

const NGX = `${fx}/nginx/access/nginx.conf`;
const PROXY = `${fx}/cli/proxy.nginx.conf`;
const SITE = `${fx}/cli/site.apache.conf`;

describe('bad input: exit 2, one clear message, no stack trace', () => {
  const cases: [string, string[], RegExp][] = [
    ['a URL that cannot be parsed', [NGX, 'admin page'], /neither a path starting with \/ nor an http:\/\/ URL/],
    ['a scheme other than http(s)', [NGX, 'ftp://example.com/x'], /only http:\/\/ and https:\/\/ URLs/],
    ['a URL with a space', [NGX, '/a b'], /contains a space/],
    ['a URL with a bad port', [NGX, 'http://example.com:99999/'], /port 99999 is out of range/],
    ['an IP that is not an address', [NGX, '/', '--ip', '10.0.0.999'], /--ip "10\.0\.0\.999" is not an IPv4 or IPv6 address/],
    ['a host name given as --ip', [NGX, '/', '--ip', 'example.com'], /is not an IPv4 or IPv6 address/],
    ['a header without a colon', [NGX, '/', '--header', 'NoColon'], /--header "NoColon" is not "Name: value"/],
    ['a method that is not a token', [NGX, '/', '--method', 'GE T'], /is not an HTTP method/],
    ['a config that does not parse', [`${fx}/cli/broken.nginx.conf`, '/'], /does not parse[\s\S]*broken\.nginx\.conf:7:3: unexpected "}"/],
    ['a missing config', [`${fx}/cli/nope.conf`, '/'], /cannot read the config .*nope\.conf: no such file/],
    ['a directory as config', [`${fx}/cli`, '/'], /is a directory/],
    ['an unknown format', [NGX, '/', '--format', 'xml'], /Argument: format, Given: "xml"/],
    ['a bad --expect', [NGX, '/', '--expect', 'abc'], /--expect wants an HTTP status such as 403/],
  ];
  for (const [name, args, msg] of cases) {
    it(name, () => {
      const r = why(args);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(msg);
      expect(r.err).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
      expect(r.err).not.toMatch(/internal error/);
    });
  }
  it('a binary file as config', () => {
    const f = join(tmp, 'nginx.conf');
    writeFileSync(f, Buffer.from([0x00, 0x01, 0x02, 0xff, 0x00]));
    const r = why([f, '/']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/nginx\.conf looks like a binary file/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
  it('a config whose server cannot be told', () => {
    const f = join(tmp, 'mystery.txt');
    writeFileSync(f, 'hello world\n');
    const r = why([f, '/']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--server nginx or --server apache/);
  });
});

describe('without --fs: where the answer depends on the disk, say so', () => {
  it('nginx: a directory URI is 403 without an index file, 200 with one', () => {
    const r = why([NGX, '/noindex/']);
    expect(r.code).toBe(0);
    const first = r.out.split('\n')[0];
    expect(first).toMatch(/^depends on the file system/);
    expect(first).toMatch(
      /403 Forbidden \(N12 directory index forbidden: no index file and autoindex off\) if index file \/usr\/share\/nginx\/www\/noindex\/index\.html does not exist/,
    );
    expect(first).toMatch(/200 OK if index file \/usr\/share\/nginx\/www\/noindex\/index\.html is a file/);
    expect(r.out).toMatch(/the file system was not read \(no --fs\)/);
    const j = json([NGX, '/noindex/']);
    expect(j.status).toBeNull();
    expect(j.fs).toBe(false);
    const statuses = j.possibleOutcomes.map((o: { status: number }) => o.status).sort();
    expect(statuses).toEqual([200, 403, 404]);
    const f403 = j.possibleOutcomes.find((o: { status: number }) => o.status === 403);
    expect(f403.cause).toBe('N12');
    expect(f403.causeTitle).toBe('directory index forbidden: no index file and autoindex off');
    expect(f403.when.join(' ')).toMatch(/does not exist/);
    expect(j.traceAssumes.length).toBeGreaterThan(0);
  });
  it('nginx: with --fs the same request is decided (the fixture has no index file there)', () => {
    const j = json([NGX, '/noindex/', '--fs', '--prefix', `${fx}/nginx/access/`]);
    expect(j.status).toBe(403);
    expect(j.cause.id).toBe('N12');
    expect(j.possibleOutcomes).toEqual([]);
  });
  it('Apache: .htaccess files that AllowOverride lets change the answer are named', () => {
    const r = why([SITE, '/private/x.html', '--ip', '10.2.3.4']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Not known:\n(.*\n)*.*AllowOverride lets \/srv\/site\/\.htaccess change the outcome/);
    const j = json([SITE, '/private/x.html', '--ip', '10.2.3.4']);
    expect(j.status).toBeNull();
    expect(j.unknowns.some((u: string) => u.includes('/srv/site/private/.htaccess'))).toBe(true);
    expect(j.possibleOutcomes.map((o: { status: number }) => o.status).sort()).toEqual([200, 403, 404]);
  });
  it('Apache: the sections merged, and the ones that did not apply with why', () => {
    const r = why([SITE, '/x.html', '--ip', '10.2.3.4']);
    expect(r.out).toMatch(
      /\[merged\] sections merged, in order: server config, <Directory \/> \(.*site\.apache\.conf:4:2\), <Directory \/srv\/site\/> \(.*site\.apache\.conf:7:2\)/,
    );
    expect(r.out).toMatch(
      /not applied:\n\s+<Directory \/srv\/site\/private> \(.*site\.apache\.conf:11:2\) does not match \/srv\/site\/x\.html/,
    );
  });
  it('Apache: an access denial needs no disk', () => {
    const j = json([SITE, '/private/x.html', '--ip', '192.0.2.1']);
    expect(j.status).toBe(403);
    expect(j.cause.id).toBe('A01');
    expect(j.decidedBy).toMatchObject({ file: SITE, line: 12, column: 5, directive: 'Require ip 10.0.0.0/8' });
  });
  it('Apache: a status given while an .htaccess AllowOverride lets in was not read says so in the verdict', () => {
    // the 403 holds unless /srv/site/.htaccess or /srv/site/private/.htaccess grants (AllowOverride All)
    const j = json([SITE, '/private/x.html', '--ip', '192.0.2.1']);
    expect(j.verdict).toMatch(
      /^403 Forbidden: .*\[unless what is not known changes it: AllowOverride lets \/srv\/site\/\.htaccess change the outcome; it was not read \(--htaccess or --fs reads it\); 1 more under "Not known"\]/,
    );
    // --htaccess reads them (there are none on this machine): nothing is left unknown, the verdict is plain
    const read = json([SITE, '/private/x.html', '--ip', '192.0.2.1', '--htaccess']);
    expect([read.status, read.unknowns]).toEqual([403, []]);
    expect(read.verdict).not.toContain('unless');
    // a directory no .htaccess can change: no caveat
    const none = join(tmp, 'none.apache.conf');
    writeFileSync(none, 'DocumentRoot /srv/none\n<Directory /srv/none>\n    AllowOverride None\n    Require all denied\n</Directory>\n');
    const plain = json([none, '/x.html']);
    expect([plain.status, plain.unknowns]).toEqual([403, []]);
    expect(plain.verdict).not.toContain('unless');
  });
});

describe('text output', () => {
  it('verdict first, numbered trace with file:line:col, the decisive step, what would change it', () => {
    const r = why([NGX, '/admin/x.html', '--ip', '127.0.0.7']);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe(`403 Forbidden: N01 an allow/deny rule denies the client address (deny all at ${NGX}:26:7)`);
    expect(lines[1]).toMatch(/GET \/admin\/x\.html host localhost \(default\) from 127\.0\.0\.7/);
    expect(r.out).toMatch(
      new RegExp(
        `\\n\\s*\\d+\\. ${NGX.replace(/\./g, '\\.')}:26:7  \\[access\\] "deny all" is the first rule that matches 127\\.0\\.0\\.7.*← decided`,
      ),
    );
    expect(r.out).toMatch(/1\. deny all \(line 26\): matches 127\.0\.0\.7 → 403/);
    expect(r.out).toMatch(
      /What would change the answer:\n {2}- `allow 127\.0\.0\.7;` before deny all at .*nginx\.conf:26:7 would let this client in/,
    );
  });
  it('says the client address was assumed', () => {
    const r = why([NGX, '/a.html']);
    expect(r.out).toMatch(/from 127\.0\.0\.1 \(default\)/);
    expect(r.out).toMatch(/the client address is 127\.0\.0\.1 \(the default; give --ip to change it\)/);
  });
  it('rules in the order evaluated, with the ones not reached', () => {
    const r = why([NGX, '/order/x.html', '--ip', '127.0.0.5']);
    expect(r.out).toMatch(
      /1\. deny 127\.0\.0\.5 \(line 39\): matches 127\.0\.0\.5 → 403\n\s+2\. allow 127\.0\.0\.0\/24 \(line 40\): not reached\n\s+3\. deny all \(line 41\): not reached/,
    );
    const r2 = why([NGX, '/order/x.html', '--ip', '127.0.1.6']);
    expect(r2.out).toMatch(
      /1\. deny 127\.0\.0\.5 \(line 39\): does not match 127\.0\.1\.6\n\s+2\. allow 127\.0\.0\.0\/24 \(line 40\): does not match 127\.0\.1\.6\n\s+3\. deny all \(line 41\): matches/,
    );
  });
  it('an internal redirect re-runs location choice and access checks, and the trace shows both', () => {
    const r = why([NGX, '/idx/', '--fs', '--prefix', `${fx}/nginx/access/`]);
    expect(r.out.split('\n')[0]).toMatch(/^403 Forbidden: N01 .*deny all at .*nginx\.conf:103:/);
    expect(r.out).toMatch(/internal redirect to "\/idx\/private\.html"/);
    expect(r.out).toMatch(/location ~ \^\/idx\/private\\\.html\$/);
  });
  it('return wins over deny', () => {
    const j = json([NGX, '/ret/x.html']);
    expect(j.status).toBe(200);
    expect(j.outcome).toBe('return');
    expect(j.decidedBy).toMatchObject({ line: 58, directive: 'return 200 "ok\\n"' });
  });
  it('a 401 is explained as a challenge, and --user passes authentication', () => {
    const r = why([NGX, '/auth/x.html']);
    expect(r.out.split('\n')[0]).toMatch(/^401 Unauthorized: auth_basic "Members" and no credentials/);
    expect(r.out).toMatch(/run with --user NAME/);
    const j = json([NGX, '/auth/x.html', '--user', 'alice', '--fs', '--prefix', `${fx}/nginx/access/`]);
    expect(j.status).toBe(200);
    expect(j.request.user).toBe('alice');
    expect(j.assumptions.join('\n')).toMatch(/valid credentials for user "alice"/);
  });
});

describe('JSON and requests', () => {
  it('status is a number, with cause, decidedBy and the decisive trace step', () => {
    const j = json([NGX, '/admin/x.html']);
    expect(j.version).toBe(1);
    expect(j.server).toBe('nginx');
    expect(j.status).toBe(403);
    expect(j.cause).toEqual({ id: 'N01', title: 'an allow/deny rule denies the client address' });
    expect(j.decidedBy).toEqual({ file: NGX, line: 26, column: 7, directive: 'deny all' });
    const decisive = j.trace.filter((s: { decisive: boolean }) => s.decisive);
    expect(decisive).toHaveLength(1);
    expect(decisive[0].at).toEqual({ file: NGX, line: 26, column: 7 });
    expect(j.request.clientIpDefaulted).toBe(true);
  });
  it('a URL gives Host and port: the named virtual host answers', () => {
    const j = json([NGX, 'http://other.test:8080/a.html', '--ip', '127.0.0.3']);
    expect(j.request).toMatchObject({ host: 'other.test', hostFrom: 'url', port: 8080, target: '/a.html' });
    expect(j.status).toBe(403);
    expect(j.decidedBy.line).toBe(178);
    const j2 = json([NGX, 'http://localhost:8080/a.html', '--ip', '127.0.0.3', '--header', 'Host: other.test']);
    expect(j2.request.hostFrom).toBe('header');
    expect(j2.status).toBe(403);
  });
  it('proxied: the backend decides, a 403 would come from the application', () => {
    const r = why([PROXY, '/api/users']);
    expect(r.out.split('\n')[0]).toBe(
      `proxied to a backend (proxy_pass http://127.0.0.1:9000 at ${PROXY}:9:7): the backend decides; a 403 would come from the application (roles, ownership, scopes)`,
    );
    const j = json([PROXY, '/api/users']);
    expect(j.status).toBeNull();
    expect(j.outcome).toBe('proxied');
    expect(j.mayAlso).toEqual([
      expect.objectContaining({ status: 403, cause: 'N21', causeTitle: 'the backend answered 403 and nginx passed it on' }),
    ]);
    expect(why([PROXY, '/api/users']).out).toMatch(
      /Also possible:\n {2}- 403 Forbidden \(N21 the backend answered 403 and nginx passed it on\) when the backend of proxy_pass answers 403\n/,
    );
    expect(j.request.host).toBe('app.example.com');
    expect(j.request.hostFrom).toBe('default');
  });
  it('--expect: exit 1 when the prediction differs, 0 when it matches', () => {
    expect(why([PROXY, '/admin/', '--ip', '10.1.2.3', '--expect', '403']).code).toBe(1);
    const r = why([PROXY, '/admin/', '--ip', '10.9.2.3', '--expect', '403']);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toMatch(/^403 Forbidden: N01/);
  });
  it('requests nginx refuses: 400, said once', () => {
    expect(why([NGX, '/%00']).out.split('\n')[0]).toBe('400 Bad Request: "%00" in "/%00"');
    expect(why([NGX, '/../x']).out.split('\n')[0]).toBe('400 Bad Request: "/../x" climbs above the root with ".."');
    expect(json([NGX, '/a.html', '--header', 'Host: bad/host']).status).toBe(400);
  });
  it('IPv6 clients', () => {
    const j = json([PROXY, '/admin/', '--ip', '2001:db8::1']);
    expect(j.status).toBe(403);
    expect(j.request.clientIp).toBe('2001:db8::1');
  });
});

describe('possible outcomes name the cause with its title, never a bare code', () => {
  type Outcome = { status: number | null; cause: CauseId | null; causeTitle: string | null; when: string[] };
  const cases: [string, string[]][] = [
    ['nginx, a directory without --fs', [NGX, '/noindex/']],
    ['Apache, a file without --fs', [SITE, '/private/x.html', '--ip', '10.2.3.4']],
    ['Apache, a .htaccess that may change the answer', [SITE, '/x.html', '--ip', '10.2.3.4']],
  ];
  for (const [name, args] of cases) {
    it(name, () => {
      const j = json(args);
      const all: Outcome[] = [...j.possibleOutcomes, ...j.mayAlso];
      expect(all.some((o) => o.cause !== null)).toBe(true);
      for (const o of all) expect(o.causeTitle).toBe(o.cause === null ? null : CAUSES[o.cause].title);
      const text = why(args).out;
      const listed = text.split('\n').filter((l) => /^ {2}- \d{3} /.test(l) && /^(Possible outcomes|Also possible):/m.test(text));
      for (const o of all.filter((x) => x.cause !== null)) {
        const line = listed.find((l) => l.includes(o.when.join(' and ')) && l.includes(`${o.cause} `));
        expect(line, `${o.cause} in:\n${text}`).toContain(`(${o.cause} ${o.causeTitle})`);
      }
      for (const l of listed)
        for (const m of l.matchAll(/(?<![\w-])[AN]\d{2}(?![\w-])/g))
          expect(l.slice(m.index), 'a bare catalog code').toMatch(new RegExp(`^${m[0]} ${escapeRe(CAUSES[m[0] as CauseId].title)}\\)`));
      const verdict = text.split('\n')[0];
      for (const o of all.filter((x) => x.cause !== null && j.possibleOutcomes.includes(x)))
        expect(verdict).toContain(`(${o.cause} ${o.causeTitle})`);
    });
  }
});

describe('colour: explain decides as lint does (src/color.ts)', () => {
  // In process through main(), so the TTY can be faked: [env, flags, stdout is a TTY, colour expected].
  const matrix: [Record<string, string>, string[], boolean, boolean][] = [
    [{}, [], false, false],
    [{}, [], true, true],
    [{}, ['--color'], false, true],
    [{}, ['--no-color'], true, false],
    [{ FORCE_COLOR: '1' }, [], false, true],
    [{ FORCE_COLOR: '1' }, ['--no-color'], false, false],
    [{ FORCE_COLOR: '0' }, [], true, false],
    [{ FORCE_COLOR: 'false' }, [], true, false],
    [{ FORCE_COLOR: '0' }, ['--color'], false, true],
    [{ FORCE_COLOR: '' }, [], false, false],
    [{ NO_COLOR: '1' }, [], true, false],
    [{ NO_COLOR: '1' }, ['--color'], false, true],
    [{ NO_COLOR: '1', FORCE_COLOR: '1' }, [], true, false],
    [{ NO_COLOR: '' }, [], true, true],
  ];
  async function run(argv: string[], env: Record<string, string>, tty: boolean): Promise<{ code: number; out: string }> {
    const { main } = await import('../src/cli.js');
    let out = '';
    const code = await main(argv, {
      out: (s) => void (out += s),
      err: () => {},
      stdoutTTY: tty,
      stderrTTY: tty,
      env,
      readStdin: () => Buffer.alloc(0),
    });
    return { code, out };
  }
  for (const [env, flags, tty, colour] of matrix) {
    const envText =
      Object.entries(env)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(' ') || 'no env';
    it(`${envText}, ${flags.join(' ') || 'no flag'}, ${tty ? 'TTY' : 'pipe'}: ${colour ? 'colour' : 'plain'}`, async () => {
      const ex = await run(['explain', NGX, '/admin/x.html', ...flags], env, tty);
      expect(ex.code).toBe(0);
      expect(ex.out).toMatch(/^(\u001b\[[\d;]*m)*403 Forbidden: N01 /);
      expect(ex.out.includes('\u001b['), 'explain').toBe(colour);
      const li = await run([NGX, '--format', 'stylish', ...flags], env, tty);
      expect(li.out).toMatch(/nginx-access-list-replaced/);
      expect(li.out.includes('\u001b['), 'lint').toBe(colour);
    });
  }
  it('the built binary: FORCE_COLOR=0 and --no-color under FORCE_COLOR=1 give plain text, NO_COLOR with --color colours', () => {
    const bin1 = (args: string[], env: Record<string, string>) =>
      spawnSync(process.execPath, [bin, 'explain', NGX, '/admin/x.html', ...args], {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      });
    const a = bin1([], { FORCE_COLOR: '0' });
    const b = bin1(['--no-color'], { FORCE_COLOR: '1' });
    const c = bin1(['--color'], { NO_COLOR: '1' });
    for (const r of [a, b, c]) expect(r.stdout).toMatch(/403 Forbidden: N01 /);
    expect(a.stdout).not.toContain('\u001b[');
    expect(b.stdout).not.toContain('\u001b[');
    expect(c.stdout).toContain('\u001b[');
  });
});
