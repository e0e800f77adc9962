/**
 * `why403 test --real` (issue 16): the spec's expectations sent to a real nginx / apache2 started on
 * 127.0.0.1 with the spec's config (paths mapped into the copied tree), each printed with the
 * predicted and the real status; exit 1 exactly when the real server disagrees with the spec, 2 when
 * the server refuses the config. Requests that cannot be sent as written (a client outside
 * 127.0.0.0/8, `as USER` without a password) are listed as not sent.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, ensureBuilt } from './harness/build.js';
import { listeners, nonLoopbackListeners } from '../src/real/spec.js';
import { apacheSkipReason, nginxSkipReason, startNginx, stopAllServers } from './harness/servers.js';

const nginxSkip = nginxSkipReason();
const apacheSkip = apacheSkipReason();
const htpasswdSkip = existsSync('/usr/bin/htpasswd') ? null : '/usr/bin/htpasswd not found (apt-get install apache2-utils)';
if (nginxSkip) console.warn(`[spec-real] nginx cases skipped: ${nginxSkip}`);
if (apacheSkip ?? htpasswdSkip) console.warn(`[spec-real] Apache cases skipped: ${apacheSkip ?? htpasswdSkip}`);

const tmp = mkdtempSync(join(tmpdir(), 'why403-spec-real-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => ensureBuilt(), 200_000);

function write(files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(tmp, rel)), { recursive: true });
    writeFileSync(join(tmp, rel), text);
  }
}
/** The CLI, bounded: a hang is a failure (status null), never a stuck test. */
const cli = (args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { cwd: tmp, encoding: 'utf8', timeout: 90_000 });

/** A Debian-like nginx tree: main config, a site without a .conf name, installed paths mapped by the spec. */
const NGINX_TREE = {
  'n/nginx/nginx.conf': 'events {}\nhttp {\n  include sites/*;\n}\n',
  'n/nginx/sites/shop':
    'server {\n  listen 80;\n  server_name shop.test;\n  root /srv/shop;\n  location /admin/ {\n    allow 127.0.0.7;\n    deny all;\n  }\n  location /private/ {\n    auth_basic "x";\n    auth_basic_user_file /etc/nginx/users;\n  }\n}\n',
  'n/nginx/www/index.html': 'home\n',
  'n/nginx/www/admin/index.html': 'admin\n',
  'n/nginx/www/private/index.html': 'private\n',
  'n/nginx/users': 'alice:{PLAIN}s3cret\n',
};
const nginxSpec = (extra = '') => `config: nginx/nginx.conf
fs: true
pathMap: { /etc/nginx: nginx, /srv/shop: nginx/www }
expect:
  - GET http://shop.test/admin/ from 127.0.0.7 -> 200
  - GET http://shop.test/admin/ from 127.0.0.1 -> 403
  - GET http://shop.test/admin/ from 10.0.0.7 -> 403
  - GET http://shop.test/private/ -> 401
  - GET http://shop.test/private/ as alice:s3cret -> 200
  - { url: http://shop.test/private/, auth: "alice:wrong", status: 401 }
  - GET http://shop.test/private/ as alice -> 200
${extra}`;

describe.skipIf(!!nginxSkip)('why403 test --real with nginx', () => {
  it('sees where the started server listens (the check that stops a run bound outside 127.0.0.0/8)', async () => {
    try {
      const s = await startNginx({ config: 'location / { return 204; }\n' });
      const seen = listeners(s.pid);
      if (seen.length === 0) console.warn('[spec-real] /proc shows no sockets here: the listen check cannot be shown');
      else expect(seen).toContain(`127.0.0.1:${s.port}`);
      expect(nonLoopbackListeners(s.pid)).toEqual([]);
    } finally {
      await stopAllServers();
    }
  });

  it('every expectation agrees with the real server: exit 0, predicted and real status per line', () => {
    write({ ...NGINX_TREE, 'n/ok.spec.yaml': nginxSpec() });
    const r = cli(['test', '--real', 'n/ok.spec.yaml']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /ok {4}n\/ok\.spec\.yaml:5 {2}GET http:\/\/shop\.test\/admin\/ from 127\.0\.0\.7 -> 200\n {8}predicted 200, real 200/,
    );
    expect(r.stdout).toMatch(/ok {4}n\/ok\.spec\.yaml:6 .*\n {8}predicted 403, real 403/);
    expect(r.stdout).toMatch(/ok {4}n\/ok\.spec\.yaml:9 .*as alice:s3cret -> 200\n {8}predicted 200, real 200/);
    expect(r.stdout).toMatch(/ok {4}n\/ok\.spec\.yaml:10 .*\n {8}predicted \S+, real 401/);
    // not sent: a client outside loopback, a user without a password
    expect(r.stdout).toMatch(/skip {2}n\/ok\.spec\.yaml:7 .*\n.*not sent\n.*10\.0\.0\.7 is not in 127\.0\.0\.0\/8/);
    expect(r.stdout).toMatch(/skip {2}n\/ok\.spec\.yaml:11 .*\n.*not sent\n.*give the password/);
    expect(r.stdout).toContain('5 passed, 0 failed, 2 not sent (against the real server)');
  });

  it('one wrong expectation: exit 1, naming that request with the real status', () => {
    write({ ...NGINX_TREE, 'n/bad.spec.yaml': nginxSpec('  - GET http://shop.test/ -> 403\n') });
    const r = cli(['test', '--real', 'n/bad.spec.yaml']);
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}n\/bad\.spec\.yaml:12 {2}GET http:\/\/shop\.test\/ -> 403\n {8}predicted 200, real 200/);
    expect(r.stdout.match(/FAIL/g)).toHaveLength(1);
    const j = cli(['test', '--real', '-f', 'json', 'n/bad.spec.yaml']);
    expect(j.status).toBe(1);
    const out = JSON.parse(j.stdout) as Array<{ server: string; results: Array<Record<string, unknown>> }>;
    expect(out[0].server).toBe('nginx');
    expect(out[0].results.find((x) => x.line === 12)).toMatchObject({ expected: 403, predicted: 200, real: 200, sent: true, ok: false });
    expect(out[0].results.find((x) => x.line === 7)).toMatchObject({ real: null, sent: false, ok: true });
  });

  it('a config only the real server refuses (duplicate location): exit 2 with its error, naming the fixture file', () => {
    write({
      'n/broken/nginx.conf': 'events {}\nhttp {\n  server {\n    listen 80;\n    location /a { }\n    location /a { }\n  }\n}\n',
      'n/broken.spec.yaml': 'config: broken/nginx.conf\nexpect:\n  - GET /a -> 404\n',
    });
    const r = cli(['test', '--real', 'n/broken.spec.yaml']);
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain('the real nginx did not start');
    expect(r.stderr).toMatch(/duplicate location "\/a" in n\/broken\/nginx\.conf:6/);
  });
});

describe.skipIf(!!(apacheSkip ?? htpasswdSkip))('why403 test --real with Apache', () => {
  it('a vhost on port 8080 with Require ip and AuthType Basic (apr1 password): the real answers match', () => {
    write({
      'a/apache/site.conf':
        'Listen 8080\n<VirtualHost *:8080>\n    ServerName shop.test\n    DocumentRoot /var/www/shop\n    <Directory /var/www/shop>\n        Require ip 127.0.0.7\n    </Directory>\n    <Directory /var/www/shop/private>\n        AuthType Basic\n        AuthName "x"\n        AuthUserFile /etc/apache2/users\n        Require valid-user\n    </Directory>\n</VirtualHost>\n',
      'a/apache/www/index.html': 'home\n',
      'a/apache/www/private/index.html': 'private\n',
      'a/apache/users': execFileSync('/usr/bin/htpasswd', ['-nbm', 'bob', 'pw1'], { encoding: 'utf8', timeout: 10_000 }),
      'a/ok.spec.yaml': `config: apache/site.conf
server: apache
fs: true
pathMap: { /etc/apache2: apache, /var/www/shop: apache/www }
expect:
  - GET http://shop.test:8080/ from 127.0.0.7 -> 200
  - GET http://shop.test:8080/ from 127.0.0.1 -> 403
  - GET http://shop.test:8080/private/ from 127.0.0.7 -> 401
  - GET http://shop.test:8080/private/ from 127.0.0.7 as bob:pw1 -> 200
  - GET http://shop.test:8080/private/ from 127.0.0.7 as bob:nope -> 401
`,
    });
    const r = cli(['test', '--real', 'a/ok.spec.yaml']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ok {4}a\/ok\.spec\.yaml:7 .*\n {8}predicted 403, real 403/);
    expect(r.stdout).toMatch(/ok {4}a\/ok\.spec\.yaml:9 .*bob:pw1 -> 200\n {8}predicted 200, real 200/);
    expect(r.stdout).toMatch(/ok {4}a\/ok\.spec\.yaml:10 .*bob:nope -> 401\n {8}predicted \S+, real 401/);
    expect(r.stdout).toContain('5 passed, 0 failed, 0 not sent');
  });
});
