/**
 * The deploy gate offline: `why403 test` (spec parsing with positions, one wrong expectation exits 1
 * and names that request, a bad spec exits 2 with line and column) and `why403 diff` (two files,
 * `--base REV` from git, formats, --fail-on, no change for the same config). diff against the real
 * servers is test/diff-real.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCompact, parseSpec } from '../src/spec/index.js';
import { cliPath, ensureBuilt } from './harness/build.js';

const tmp = mkdtempSync(join(tmpdir(), 'why403-gate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const nginx = (locations: string) => `events {}
http {
  server {
    listen 80;
    server_name shop.test;
    root /srv/shop;
${locations}
  }
}
`;

const cli = (args: string[], cwd = tmp) => spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });

describe('spec parsing', () => {
  it('reads the compact form: method, URL, client, headers, user, status, deciding line', () => {
    expect(parseCompact('post http://a.test/x from 10.0.0.7 header "X-Token: a b" as alice -> 403 at nginx.conf:12')).toEqual({
      method: 'POST',
      url: 'http://a.test/x',
      ip: '10.0.0.7',
      headers: { 'X-Token': 'a b' },
      user: 'alice',
      status: 403,
      decidedBy: 'nginx.conf:12',
      text: 'post http://a.test/x from 10.0.0.7 header "X-Token: a b" as alice -> 403 at nginx.conf:12',
    });
    expect(parseCompact('GET / -> 40')).toMatch(/expected "METHOD URL/);
  });

  it('gives the line and column of each error', () => {
    const r = parseSpec(
      'config: nginx.conf\nexpect:\n  - GET / -> 200\n  - { url: /x, status: abc }\n  - GET /y -> 4x\nbogus: 1\n',
      '/t/s.yaml',
    );
    expect(r.spec).toBeNull();
    expect(r.errors.map((e) => `${e.line}:${e.column}`)).toEqual(['6:1', '4:5', '5:5']);
    expect(parseSpec('config: [', '/t/s.yaml').errors[0].line).toBe(1);
  });
});

describe('why403 test', () => {
  it('exit 0 when every expectation holds; exit 1 naming the one that does not', () => {
    ensureBuilt();
    const dir = join(tmp, 'spec');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'nginx.conf'),
      nginx('    location /admin/ { allow 10.0.0.0/8; deny all; }\n    location = /closed { return 403; }'),
    );
    const ok = [
      'config: nginx.conf',
      'expect:',
      '  - GET http://shop.test/admin/ from 192.0.2.10 -> 403 at nginx.conf:7',
      '  - GET http://shop.test/closed -> 403',
    ];
    writeFileSync(join(dir, 'ok.yaml'), ok.join('\n') + '\n');
    const good = cli(['test', 'ok.yaml'], dir);
    expect(good.status).toBe(0);
    expect(good.stdout).toContain('2 passed, 0 failed');
    writeFileSync(join(dir, 'bad.yaml'), [...ok, '  - GET http://shop.test/admin/ from 192.0.2.77 -> 200'].join('\n') + '\n');
    const bad = cli(['test', 'bad.yaml'], dir);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/FAIL {2}bad\.yaml:5 {2}GET http:\/\/shop\.test\/admin\/ from 192\.0\.2\.77 -> 200\n\s+predicted 403/);
    expect(bad.stdout).toContain('2 passed, 1 failed');
    const json = JSON.parse(cli(['test', '-f', 'json', 'bad.yaml'], dir).stdout) as Array<{
      results: Array<{ ok: boolean; predicted: number }>;
    }>;
    expect(json[0].results.map((r) => [r.ok, r.predicted])).toEqual([
      [true, 403],
      [true, 403],
      [false, 403],
    ]);
    writeFileSync(join(dir, 'broken.yaml'), 'config: nginx.conf\nexpect:\n  - GET / -> 99\n');
    const broken = cli(['test', 'broken.yaml'], dir);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toContain('broken.yaml:3:5:');
    expect(good.stdout).not.toContain('partial config');
  });

  it('a spec on a fragment read without its main config says the answers are partial', () => {
    ensureBuilt();
    const dir = join(tmp, 'spec-partial');
    mkdirSync(join(dir, 'conf.d'), { recursive: true });
    writeFileSync(
      join(dir, 'conf.d', 'site.conf'),
      'server {\n  listen 80;\n  server_name shop.test;\n  location /admin/ { deny all; }\n}\n',
    );
    writeFileSync(join(dir, 'p.yaml'), 'config: conf.d/site.conf\nexpect:\n  - GET http://shop.test/admin/ -> 403\n');
    const r = cli(['test', 'p.yaml'], dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}partial config: nginx's main config \(nginx\.conf\) was not loaded: site\.conf was read alone/);
    const json = JSON.parse(cli(['test', '-f', 'json', 'p.yaml'], dir).stdout) as Array<{ partial?: string }>;
    expect(json[0].partial).toMatch(/site\.conf was read alone/);
  });
});

describe('why403 diff', () => {
  it('reports the requests whose answer changes, offline; the same config reports nothing', () => {
    ensureBuilt();
    const a = join(tmp, 'a.conf');
    const b = join(tmp, 'b.conf');
    writeFileSync(a, nginx('    location /admin/ { allow 10.0.0.0/8; deny all; }\n    location = /api { return 403; }'));
    writeFileSync(
      b,
      nginx('    location /admin/ { allow 10.0.0.0/8; allow 192.168.0.0/16; deny all; }\n    location = /api { return 403; }'),
    );
    const same = cli(['diff', a, a]);
    expect(same.status).toBe(0);
    expect(same.stdout).toMatch(/no request changes its answer/);
    const r = cli(['diff', '-f', 'json', a, b]);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as {
      changes: Array<{ request: { url: string; ip: string }; before: { status: number }; after: { status: number | null } }>;
    };
    // only clients in 192.168.0.0/16 on /admin/ change; 10/8 and the rest keep their answer, /api keeps 403
    expect(out.changes.length).toBeGreaterThan(0);
    expect(out).not.toHaveProperty('partial'); // whole configs
    for (const c of out.changes) {
      expect(c.request.url).toBe('http://shop.test/admin/');
      expect(c.request.ip.startsWith('192.168.')).toBe(true);
      expect(c.before.status).toBe(403);
    }
    expect(cli(['diff', '--fail-on', 'closed', a, b]).status).toBe(0);
    expect(cli(['diff', '-f', 'markdown', a, b]).stdout).toContain('| scope | request | before | after |');
    expect(cli(['diff', '-f', 'github', a, b]).stdout).toMatch(/^::warning file=.*a\.conf,line=7,/m);
  });

  it('says when a side is a fragment read without its main config, in every format', () => {
    ensureBuilt();
    const d = join(tmp, 'partial');
    mkdirSync(join(d, 'conf.d'), { recursive: true });
    const a = join(d, 'conf.d', 'a.conf');
    const b = join(d, 'conf.d', 'b.conf');
    writeFileSync(a, 'server {\n  listen 80;\n  server_name shop.test;\n  location /admin/ { deny all; }\n}\n');
    writeFileSync(b, 'server {\n  listen 80;\n  server_name shop.test;\n  location /admin/ { }\n}\n');
    const t = cli(['diff', a, b]);
    expect(t.status).toBe(1);
    expect(t.stdout).toMatch(
      /^Partial config \(before\): nginx's main config \(nginx\.conf\) was not loaded: a\.conf was read alone.*\nPartial config \(after\): .*b\.conf was read alone/,
    );
    const j = JSON.parse(cli(['diff', '-f', 'json', a, b]).stdout) as { partial: { before: string; after: string } };
    expect(j.partial.before).toMatch(/a\.conf was read alone/);
    expect(j.partial.after).toMatch(/b\.conf was read alone/);
    expect(cli(['diff', '-f', 'markdown', a, b]).stdout).toMatch(/^## Access changes \(why403 diff\)\n\n> \*\*Partial config \(before\): /);
    expect(cli(['diff', '-f', 'github', a, b]).stdout).toMatch(/^::notice title=why403 diff::Partial config \(before\): /);
  });

  it('--base REV reads the base from git', () => {
    const repo = join(tmp, 'repo');
    mkdirSync(join(repo, 'nginx'), { recursive: true });
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    git('init', '-q');
    git('config', 'user.email', 't@example.test');
    git('config', 'user.name', 't');
    writeFileSync(join(repo, 'nginx', 'nginx.conf'), nginx('    location /admin/ { deny all; }'));
    git('add', '.');
    git('commit', '-qm', 'base');
    writeFileSync(join(repo, 'nginx', 'nginx.conf'), nginx('    location /admin/ { }'));
    const r = cli(['diff', '--base', 'HEAD', '-f', 'json', 'nginx/nginx.conf'], repo);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as { changes: Array<{ request: { url: string }; before: { status: number } }> };
    expect(out.changes.some((c) => c.request.url === 'http://shop.test/admin/' && c.before.status === 403)).toBe(true);
    const bad = cli(['diff', '--base', 'no-such-rev', 'nginx/nginx.conf'], repo);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('cannot read revision no-such-rev');
  });
});
