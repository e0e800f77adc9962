/**
 * `--auth user:password` on the way in: the explain request, the spec's `auth`/`as` field, and the
 * Basic header built from them (the password is carried, never replaced by a placeholder).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, parseBasicAuth, parseExplainRequest } from '../src/explain/request.js';
import { parseCompact, parseSpec } from '../src/spec/index.js';
import { cliPath, ensureBuilt } from './harness/build.js';

describe('explain --auth', () => {
  it('splits at the first colon: the password may hold colons', () => {
    const r = parseExplainRequest({ target: '/x', auth: 'alice:a:b c' });
    expect(r).toMatchObject({ ok: true, request: { user: 'alice', password: 'a:b c' } });
    const e = parseExplainRequest({ target: '/x', auth: 'alice:' });
    expect(e).toMatchObject({ ok: true, request: { user: 'alice', password: '' } });
  });
  it('refuses no colon, an empty user, and --user with --auth', () => {
    expect(parseExplainRequest({ target: '/x', auth: 'alice' })).toMatchObject({
      ok: false,
      error: expect.stringContaining('NAME:PASSWORD'),
    });
    expect(parseExplainRequest({ target: '/x', auth: ':pw' })).toMatchObject({ ok: false });
    expect(parseExplainRequest({ target: '/x', auth: 'a:b', user: 'a' })).toMatchObject({
      ok: false,
      error: expect.stringContaining('not both'),
    });
  });
  it('--user alone carries no password (credentials assumed valid)', () => {
    const r = parseExplainRequest({ target: '/x', user: 'bob' });
    expect(r.ok && r.request.password).toBeUndefined();
  });
  it('the Basic header carries the password, UTF-8, and reads back', () => {
    expect(parseBasicAuth(basicAuth('alice', 'pä:ss'))).toEqual({ user: 'alice', password: 'pä:ss' });
    expect(parseBasicAuth(basicAuth('bob'))).toEqual({ user: 'bob', password: 'password' });
    expect(parseBasicAuth('Bearer x')).toBeNull();
  });
});

describe('spec auth', () => {
  it('compact: "as USER" assumes valid credentials, "as USER:PASSWORD" carries the password', () => {
    expect(parseCompact('GET /p as alice -> 200')).toMatchObject({ user: 'alice' });
    expect(parseCompact('GET /p as alice -> 200')).not.toHaveProperty('password');
    expect(parseCompact('GET /p as alice:s3:cret -> 401')).toMatchObject({ user: 'alice', password: 's3:cret', status: 401 });
    expect(typeof parseCompact('GET /p as :x -> 401')).toBe('string');
  });
  it('mapping: auth is USER or USER:PASSWORD; anything else is a spec error with its position', () => {
    const ok = parseSpec(
      'config: n.conf\nexpect:\n  - { url: /p, auth: "alice:pw", status: 200 }\n  - { url: /p, auth: bob, status: 200 }\n',
      '/t/s.yaml',
    );
    expect(ok.spec?.expect[0]).toMatchObject({ user: 'alice', password: 'pw' });
    expect(ok.spec?.expect[1]).toMatchObject({ user: 'bob' });
    expect(ok.spec?.expect[1]).not.toHaveProperty('password');
    const bad = parseSpec('config: n.conf\nexpect:\n  - { url: /p, auth: 7, status: 200 }\n', '/t/s.yaml');
    expect(bad.spec).toBeNull();
    expect(bad.errors[0]).toMatchObject({ line: 3, message: expect.stringContaining('USER:PASSWORD') });
  });
});

describe('the CLI takes --auth', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'why403-auth-cli-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  beforeAll(() => ensureBuilt(), 200_000);
  const conf = join(tmp, 'nginx.conf');
  writeFileSync(
    conf,
    'events {}\nhttp {\n  server {\n    listen 80;\n    location / {\n      auth_basic "x";\n      auth_basic_user_file users;\n    }\n  }\n}\n',
  );
  const cli = (args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { cwd: tmp, encoding: 'utf8', timeout: 60_000 });
  it('explain --auth runs; --auth with --user is a usage error (exit 2)', () => {
    const r = cli(['explain', conf, '/', '--auth', 'alice:pw', '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).request.user).toBe('alice');
    const both = cli(['explain', conf, '/', '--auth', 'alice:pw', '--user', 'alice']);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain('not both');
  });
});
