/**
 * `--auth user:password` (issue 13): htpasswd files made by the real tools (`htpasswd -B -m -s -d -p`,
 * `openssl passwd -1 -5 -6`) are checked by src/auth/htpasswd.ts, and then real nginx and Apache,
 * started with auth on that very file, must answer 200 exactly where checkCredentials says `valid`
 * and 401 where it says `invalid` or `unknown-user`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { desCrypt, md5Crypt, shaCrypt } from '../src/auth/crypt.js';
import { checkCredentials, findUser, verifyHash, type CredentialResult } from '../src/auth/htpasswd.js';
import { request } from './harness/requests.js';
import { apacheSkipReason, nginxSkipReason, startApache, startNginx, stopAllServers } from './harness/servers.js';

const HTPASSWD = '/usr/bin/htpasswd';
const toolSkip = !existsSync(HTPASSWD)
  ? `${HTPASSWD} not found (apt-get install apache2-utils)`
  : (() => {
      try {
        execFileSync('openssl', ['version'], { stdio: 'ignore', timeout: 5000 });
        return null;
      } catch {
        return 'openssl not found';
      }
    })();
if (toolSkip) console.warn(`[auth-htpasswd] generated-file tests skipped: ${toolSkip}`);

const PASSWORD = 'correct horse:battery é';
const run = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
/** One line `user:hash` from htpasswd -nb with a format flag. */
const ht = (flag: string, user: string, pw = PASSWORD) => run(HTPASSWD, ['-nb', ...(flag ? [flag] : []), user, pw]);

interface Entry {
  user: string;
  /** The line in the file. */
  line: string;
  /** The password it was made from. */
  password: string;
}

/** One user per format, all with the same password (DES keeps 8 characters of it). */
function entries(): Entry[] {
  const out: Entry[] = [];
  const add = (user: string, hash: string, password = PASSWORD) => out.push({ user, line: `${user}:${hash}`, password });
  const fromHt = (flag: string, user: string, pw = PASSWORD) => add(user, ht(flag, user, pw).split(':').slice(1).join(':'), pw);
  fromHt('-B', 'bcrypt');
  fromHt('-m', 'apr1');
  fromHt('-s', 'sha');
  fromHt('-d', 'des', 'desPass8');
  fromHt('-p', 'plain', 'plainpw');
  add('md5', run('openssl', ['passwd', '-1', PASSWORD]));
  add('sha256', run('openssl', ['passwd', '-5', PASSWORD]));
  add('sha512', run('openssl', ['passwd', '-6', PASSWORD]));
  add('sha512r', run('openssl', ['passwd', '-6', '-salt', 'rounds=2000$saltsalt', PASSWORD]));
  add('nplain', '{PLAIN}plainpw', 'plainpw');
  const salt = Buffer.from('0123');
  const ssha = Buffer.concat([
    execFileSync('openssl', ['dgst', '-sha1', '-binary'], { input: Buffer.concat([Buffer.from(PASSWORD), salt]) }),
    salt,
  ]).toString('base64');
  add('ssha', `{SSHA}${ssha}`);
  // bcrypt minor versions: the same hash with $2a$ / $2b$ / $2y$
  const b = ht('-B', 'x').split(':')[1];
  add('bcrypt2a', b.replace(/^\$2y\$/, '$2a$'));
  add('bcrypt2b', b.replace(/^\$2y\$/, '$2b$'));
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), 'why403-auth-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!!toolSkip)('htpasswd verification (files made by htpasswd and openssl)', () => {
  const list = entries();
  const file = join(tmp, 'users');
  writeFileSync(file, `# a comment\n\n${list.map((e) => e.line).join('\n')}\n`);

  it('every nginx format accepts the right password and refuses a wrong one; plain text never matches', () => {
    for (const e of list) {
      const want = e.user === 'plain' ? 'invalid' : 'valid';
      expect([e.user, checkCredentials(file, e.user, e.password, undefined, 'nginx')]).toEqual([e.user, want]);
      expect([e.user, checkCredentials(file, e.user, e.password + 'x', undefined, 'nginx')]).toEqual([
        e.user,
        // DES reads 8 characters: a 9th does not change the hash
        e.user === 'des' ? 'valid' : 'invalid',
      ]);
    }
  });

  it('Apache on Linux: the same, except plain text, {PLAIN} and {SSHA}, which never match', () => {
    for (const e of list) {
      const want = ['plain', 'nplain', 'ssha'].includes(e.user) ? 'invalid' : 'valid';
      expect([e.user, checkCredentials(file, e.user, e.password + 'x', undefined, 'apache')]).toEqual([
        e.user,
        e.user === 'des' ? 'valid' : 'invalid',
      ]);
      expect([e.user, checkCredentials(file, e.user, e.password, undefined, 'apache')]).toEqual([e.user, want]);
    }
  });

  it('a user not in the file, a missing file and an unreadable path are told apart', () => {
    expect(checkCredentials(file, 'nobody-here', 'x')).toBe('unknown-user');
    expect(checkCredentials(join(tmp, 'nope'), 'apr1', 'x')).toEqual({ unknown: expect.stringContaining('does not exist'), missing: true });
    const dir = checkCredentials(tmp, 'apr1', 'x') as { unknown: string; missing?: boolean };
    expect(dir.unknown).toContain('directory');
    expect(dir.missing).toBeUndefined();
  });

  it('computes the same hashes as the tools (crypt.ts against htpasswd / openssl)', () => {
    const pw = Buffer.from(PASSWORD);
    const apr = ht('-m', 'u').split(':')[1];
    expect(md5Crypt(pw, apr)).toBe(apr);
    const des = ht('-d', 'u', 'abcdefgh').split(':')[1];
    expect(desCrypt(Buffer.from('abcdefgh'), des)).toBe(des);
    for (const flag of ['-1', '-5', '-6']) {
      const h = run('openssl', ['passwd', flag, PASSWORD]);
      expect(flag === '-1' ? md5Crypt(pw, h) : shaCrypt(pw, h)).toBe(h);
    }
  });
});

describe('htpasswd file reading', () => {
  const bytes = (s: string) => Buffer.from(s);
  it('nginx: first line wins, the hash ends at ":" or CR, # lines are comments, no trimming', () => {
    expect(findUser(bytes('#alice:x\nalice:{PLAIN}a:comment\r\nalice:{PLAIN}b\n'), 'alice', 'nginx')).toBe('{PLAIN}a');
    expect(findUser(bytes('bob:{PLAIN}b\r\n'), 'bob', 'nginx')).toBe('{PLAIN}b');
    expect(findUser(bytes(' carol:{PLAIN}c\n'), 'carol', 'nginx')).toBeNull();
    expect(findUser(bytes('dave:{PLAIN}d'), 'dave', 'nginx')).toBe('{PLAIN}d');
  });
  it('Apache: lines are trimmed, the hash ends at the next ":"', () => {
    expect(findUser(bytes('  carol:{SHA}x:extra  \n'), 'carol', 'apache')).toBe('{SHA}x');
    expect(findUser(bytes('# carol:no\ncarol:y\n'), 'carol', 'apache')).toBe('y');
  });
  it('costly hashes are not computed, unknown schemes are said to be unknown', () => {
    const r = verifyHash('$2y$20$' + 'a'.repeat(53), 'x', 'nginx');
    expect(r).toEqual({ unknown: expect.stringContaining('cost 20') });
    expect(verifyHash('$5$rounds=900000000$salt$abc', 'x', 'nginx')).toEqual({ unknown: expect.stringContaining('rounds') });
    expect(verifyHash('$y$j9T$salt$hash', 'x', 'apache')).toEqual({ unknown: expect.stringContaining('$y$') });
    expect(verifyHash('not-a-hash-at-all', 'not-a-hash-at-all', 'nginx')).toBe('invalid');
  });
  it('reads through a given file system view', () => {
    const fs = { readFile: (p: string) => (p === '/etc/nginx/users' ? 'eve:{PLAIN}pw\n' : null), exists: () => false };
    expect(checkCredentials('/etc/nginx/users', 'eve', 'pw', fs)).toBe('valid');
    expect(checkCredentials('/etc/nginx/users', 'eve', 'no', fs)).toBe('invalid');
    expect(checkCredentials('/elsewhere', 'eve', 'pw', fs)).toMatchObject({ missing: true });
  });
});

// ---------------------------------------------------------------------------------------------
// The real servers decide: 200 with a password checkCredentials calls valid, 401 otherwise.

const nginxSkip = toolSkip ?? nginxSkipReason();
const apacheSkip = toolSkip ?? apacheSkipReason();
if (nginxSkip) console.warn(`[auth-htpasswd] nginx auth test skipped: ${nginxSkip}`);
if (apacheSkip) console.warn(`[auth-htpasswd] Apache auth test skipped: ${apacheSkip}`);
afterEach(stopAllServers);

const basic = (user: string, pw: string) => ({ Authorization: 'Basic ' + Buffer.from(`${user}:${pw}`, 'utf8').toString('base64') });
const expected = (r: CredentialResult) => (r === 'valid' ? 200 : r === 'invalid' || r === 'unknown-user' ? 401 : null);

async function compare(kind: 'nginx' | 'apache', port: number, file: string, list: Entry[]): Promise<string[]> {
  const rows: string[] = [];
  const tries = list.flatMap((e) => [
    [e.user, e.password, 'right'],
    [e.user, e.password + 'x', 'right+x'],
    [e.user, 'wrong', 'wrong'],
  ]);
  tries.push(['no-such-user', PASSWORD, 'right']);
  for (const [user, pw, label] of tries) {
    const verdict = checkCredentials(file, user, pw, undefined, kind);
    const want = expected(verdict);
    const got = (await request({ port, path: '/', headers: basic(user, pw) })).status;
    rows.push(`${user} ${label}: predicted ${want} (${JSON.stringify(verdict)}) real ${got}`);
    if (want !== got) rows.push('  ^ MISMATCH');
  }
  return rows;
}

describe.skipIf(!!nginxSkip)('nginx with auth_basic agrees with checkCredentials', () => {
  it('every format, right and wrong passwords', async () => {
    const list = entries();
    const text = list.map((e) => e.line).join('\n') + '\n';
    const s = await startNginx({
      config: 'location / {\n    auth_basic "x";\n    auth_basic_user_file users;\n    root www;\n}\n',
      files: { users: text, 'www/index.html': 'ok\n' },
    });
    const file = join(tmp, 'nginx-users');
    writeFileSync(file, text);
    expect((await request({ port: s.port, path: '/' })).status).toBe(401);
    const rows = await compare('nginx', s.port, file, list);
    expect(rows.filter((r) => r.includes('MISMATCH')).length, rows.join('\n')).toBe(0);
    // the comparison covered both answers
    expect(rows.some((r) => r.endsWith('real 200'))).toBe(true);
    expect(rows.some((r) => r.endsWith('real 401'))).toBe(true);
    expect(rows.some((r) => r.startsWith('nplain right: predicted 200'))).toBe(true);
    expect(rows.some((r) => r.startsWith('plain right: predicted 401'))).toBe(true);
  });
});

describe.skipIf(!!apacheSkip)('Apache with AuthType Basic agrees with checkCredentials', () => {
  it('every format, right and wrong passwords', async () => {
    const list = entries();
    const text = list.map((e) => e.line).join('\n') + '\n';
    const s = await startApache({
      config:
        '<Directory ${HARNESS_ROOT}/htdocs>\n    AuthType Basic\n    AuthName x\n    AuthUserFile ${HARNESS_ROOT}/users\n    Require valid-user\n</Directory>\n',
      files: { users: text, 'htdocs/index.html': 'ok\n' },
    });
    const file = join(tmp, 'apache-users');
    writeFileSync(file, text);
    expect((await request({ port: s.port, path: '/' })).status).toBe(401);
    const rows = await compare('apache', s.port, file, list);
    expect(rows.filter((r) => r.includes('MISMATCH')).length, rows.join('\n')).toBe(0);
    expect(rows.some((r) => r.endsWith('real 200'))).toBe(true);
    expect(rows.some((r) => r.startsWith('plain right: predicted 401'))).toBe(true);
    expect(rows.some((r) => r.startsWith('nplain right: predicted 401'))).toBe(true);
    expect(rows.some((r) => r.startsWith('bcrypt2b right: predicted 200'))).toBe(true);
  });
});

describe.skipIf(!!apacheSkip)('Apache AuthzSendForbiddenOnFailure: a wrong password stays 401', () => {
  it('403 only for an authenticated user the Require refuses; a failed password is an authentication failure', async () => {
    const users = ht('-m', 'alice', 'pa') + '\n' + ht('-m', 'bob', 'pb') + '\n';
    const s = await startApache({
      config:
        '<Directory ${HARNESS_ROOT}/htdocs>\n    AuthType Basic\n    AuthName x\n    AuthUserFile ${HARNESS_ROOT}/users\n    Require user bob\n    AuthzSendForbiddenOnFailure On\n</Directory>\n',
      files: { users, 'htdocs/index.html': 'ok\n' },
    });
    const file = join(tmp, 'forbidden-users');
    writeFileSync(file, users);
    const status = async (u: string, p: string) => (await request({ port: s.port, path: '/', headers: basic(u, p) })).status;
    // what the model must combine: checkCredentials decides authentication, the Require authorization
    expect([checkCredentials(file, 'bob', 'pb', undefined, 'apache'), await status('bob', 'pb')]).toEqual(['valid', 200]);
    expect([checkCredentials(file, 'alice', 'pa', undefined, 'apache'), await status('alice', 'pa')]).toEqual(['valid', 403]);
    expect([checkCredentials(file, 'alice', 'no', undefined, 'apache'), await status('alice', 'no')]).toEqual(['invalid', 401]);
    expect([checkCredentials(file, 'carol', 'pa', undefined, 'apache'), await status('carol', 'pa')]).toEqual(['unknown-user', 401]);
  });
});

describe('a missing user file (checkCredentials says missing): nginx 403, Apache 500', () => {
  it.skipIf(!!nginxSkip)('nginx', async () => {
    const s = await startNginx({
      config: 'location / {\n    auth_basic "x";\n    auth_basic_user_file no-such-users;\n    root www;\n}\n',
      files: { 'www/index.html': 'ok\n' },
    });
    expect(checkCredentials(join(s.prefix, 'no-such-users'), 'a', 'b')).toMatchObject({ missing: true });
    expect((await request({ port: s.port, path: '/', headers: basic('a', 'b') })).status).toBe(403);
  });
  it.skipIf(!!apacheSkip)('Apache', async () => {
    const s = await startApache({
      config:
        '<Directory ${HARNESS_ROOT}/htdocs>\n    AuthType Basic\n    AuthName x\n    AuthUserFile ${HARNESS_ROOT}/no-such-users\n    Require valid-user\n</Directory>\n',
      files: { 'htdocs/index.html': 'ok\n' },
    });
    expect(checkCredentials(join(s.prefix, 'no-such-users'), 'a', 'b', undefined, 'apache')).toMatchObject({ missing: true });
    expect((await request({ port: s.port, path: '/', headers: basic('a', 'b') })).status).toBe(500);
  });
});
