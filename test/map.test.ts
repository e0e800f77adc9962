/**
 * `why403 map` offline: the entries a config gives (who, status, sample), the formats, and a run over
 * every corpus file the real servers accept (no exception; samples only where explain agrees). The
 * samples are checked on the real servers by test/map-real.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, loadText } from '../src/load.js';
import { mapConfig } from '../src/map/index.js';
import { renderMap } from '../src/map/render.js';
import { linkedAccessFiles } from '../src/apache/model/htaccess-link.js';
import { explainSample } from '../src/model/proof.js';
import { modelFor } from '../src/model/index.js';
import { cliPath, ensureBuilt, repoRoot } from './harness/build.js';
import { CORPUS, corpusLinks, corpusPresent, corpusRows } from './harness/corpus.js';

const nginx = (text: string) => mapConfig(loadText('/etc/nginx/nginx.conf', text, { server: 'nginx' }));

describe('nginx places', () => {
  const text = `events {}
http {
  server {
    listen 80;
    server_name shop.test;
    location /admin/ { allow 10.0.0.0/8; deny all; }
    location /closed/ { return 403; }
    location /members/ { auth_basic "m"; auth_basic_user_file /etc/htpasswd; }
    location /open/ { }
    location /up/ { limit_except GET { deny all; } }
    if ($http_user_agent ~* curl) { return 403; }
  }
}`;
  const r = nginx(text);
  const by = (line: number) => r.entries.find((e) => e.line === line);

  it('an allow list: the clients outside it, with a sample address inside the refused range', () => {
    const e = by(6)!;
    expect(e).toMatchObject({ status: 403, directive: 'deny all', scope: ['server shop.test (80)', 'location /admin/'] });
    expect(e.who).toMatchObject({ kind: 'address', text: 'clients outside 10.0.0.0/8', allowed: ['10.0.0.0/8'] });
    expect(e.sample).toEqual({ method: 'GET', url: 'http://shop.test/admin/', ip: '192.0.2.10', headers: {} });
  });

  it('return 403, auth_basic (401), limit_except (a method it does not list)', () => {
    expect(by(7)).toMatchObject({ status: 403, who: { kind: 'everyone' }, sample: { url: 'http://shop.test/closed/' } });
    expect(by(8)).toMatchObject({ status: 401, who: { kind: 'credentials' }, sample: { url: 'http://shop.test/members/' } });
    const le = by(10)!;
    expect(le.status).toBe(403);
    expect(le.sample?.method).toBe('POST');
    expect(le.who.text).toContain('other than GET');
  });

  it('a condition it cannot make true: listed with the condition, no sample', () => {
    const e = by(11)!;
    expect(e.who).toMatchObject({ kind: 'condition', condition: '$http_user_agent ~* curl' });
    expect(e.sample).toBeNull();
    expect(e.note).toContain('$http_user_agent ~* curl');
  });

  it('nothing for a location that refuses no one', () => {
    expect(r.entries.filter((e) => e.line === 9)).toEqual([]);
  });

  it('every sample is what explain predicts', () => {
    const m = modelFor(loadText('/etc/nginx/nginx.conf', text, { server: 'nginx' }));
    for (const e of r.entries.filter((x) => x.sample)) expect(explainSample(m, e.sample!)?.status, `${e.line}`).toBe(e.status);
  });

  it('a deny that an earlier return makes unreachable is not a place', () => {
    const x = nginx('events {}\nhttp { server { listen 80; server_name a.test; location / { return 200; deny all; } } }');
    expect(x.entries).toEqual([]);
  });
});

describe('Apache places', () => {
  const text = `LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authz_host_module /usr/lib/apache2/modules/mod_authz_host.so
LoadModule rewrite_module /usr/lib/apache2/modules/mod_rewrite.so
Listen 80
<VirtualHost *:80>
  ServerName shop.test
  DocumentRoot /srv/shop
  <Directory /srv/shop>
    Require all granted
  </Directory>
  <Location /admin>
    Require ip 10.0.0.0/8
  </Location>
  <FilesMatch "\\.bak$">
    Require all denied
  </FilesMatch>
  RewriteEngine On
  RewriteRule ^/old/ - [F]
</VirtualHost>`;
  const r = mapConfig(loadText('/etc/apache2/apache2.conf', text, { server: 'apache' }));
  const by = (line: number) => r.entries.find((e) => e.line === line);

  it('Require ip: the clients outside the range; FilesMatch: a file name it matches; RewriteRule [F]: a path', () => {
    expect(by(13)).toMatchObject({
      status: 403,
      who: { kind: 'address', allowed: ['10.0.0.0/8'] },
      sample: { url: 'http://shop.test/admin/' },
    });
    expect(by(16)?.sample?.url).toMatch(/^http:\/\/shop\.test\/.*\.bak$/);
    expect(by(19)?.sample?.url).toMatch(/^http:\/\/shop\.test\/old\//);
  });
});

describe('formats and the CLI', () => {
  it('text, json, markdown, sarif; exit 0, and 2 on a config that does not parse', () => {
    ensureBuilt();
    const f = join(repoRoot, 'fixtures/explain/nginx/access/nginx.conf');
    const run = (...a: string[]) => spawnSync(process.execPath, [cliPath, 'map', ...a], { encoding: 'utf8', timeout: 30_000 });
    const t = run(f);
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/location \/admin\/ {2}`deny all`: every client/);
    const j = JSON.parse(run('-f', 'json', f).stdout) as Array<Record<string, unknown>>;
    expect(j.length).toBeGreaterThan(5);
    for (const e of j)
      for (const k of ['file', 'line', 'column', 'server', 'scope', 'status', 'who', 'uris', 'sample']) expect(e, k).toHaveProperty(k);
    expect(run('-f', 'markdown', f).stdout).toContain('| where | status | scope | directive | who | sample |');
    const sarif = JSON.parse(run('-f', 'sarif', f).stdout) as { runs: Array<{ results: Array<{ codeFlows?: unknown[] }> }> };
    expect(sarif.runs[0].results.some((x) => x.codeFlows)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'why403-map-'));
    writeFileSync(join(dir, 'nginx.conf'), 'events {}\nhttp {\n  server {\n');
    const bad = run(join(dir, 'nginx.conf'));
    rmSync(dir, { recursive: true, force: true });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('does not parse');
    const broken = spawnSync(process.execPath, [cliPath, 'map', '--server', 'nginx', '/dev/null/x'], { encoding: 'utf8', timeout: 30_000 });
    expect(broken.status).toBe(2);
    expect(broken.stderr).toContain('why403 map:');
  });
});

describe('a partial configuration says so', () => {
  it('a fragment read without its main config: every format names what is not known; a whole config does not', () => {
    ensureBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'why403-map-partial-'));
    mkdirSync(join(dir, 'conf.d'));
    const site = join(dir, 'conf.d', 'site.conf');
    writeFileSync(site, 'server {\n  listen 80;\n  server_name a.test;\n  location /admin/ { deny all; }\n}\n');
    const run = (...a: string[]) => spawnSync(process.execPath, [cliPath, 'map', ...a], { encoding: 'utf8', timeout: 30_000 });
    try {
      const t = run(site);
      expect(t.status).toBe(0);
      expect(t.stdout).toMatch(/^Partial config: nginx's main config \(nginx\.conf\) was not loaded/);
      expect(t.stdout).toContain('not known: the http {} block around it');
      const j = JSON.parse(run('-f', 'json', site).stdout) as Array<{ partial?: string; directive: string }>;
      expect(j.map((e) => [e.directive, e.partial?.startsWith("nginx's main config")])).toEqual([['deny all', true]]);
      expect(run('-f', 'markdown', site).stdout).toMatch(
        /^## Who gets 403 \(why403 map\)\n\n> \*\*\S*conf\.d\/site\.conf: partial config: /,
      );
      const sarif = JSON.parse(run('-f', 'sarif', site).stdout) as { runs: Array<{ results: Array<{ message: { text: string } }> }> };
      expect(sarif.runs[0].results[0].message.text).toContain('[partial config: ');
      // with the main config beside it, the map reads it whole and says nothing of the kind
      writeFileSync(join(dir, 'nginx.conf'), 'events {}\nhttp {\n  include conf.d/*.conf;\n}\n');
      const whole = run(join(dir, 'nginx.conf'));
      expect(whole.stdout).toContain('`deny all`');
      expect(whole.stdout).not.toContain('artial config');
      expect(JSON.parse(run('-f', 'json', join(dir, 'nginx.conf')).stdout)[0]).not.toHaveProperty('partial');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!corpusPresent)('on every corpus file the real servers accept', () => {
  it('makes a map without an exception, and explain agrees with every sample', { timeout: 300_000 }, () => {
    let entries = 0;
    let samples = 0;
    for (const server of ['nginx', 'apache'] as const) {
      const links = corpusLinks(`${server}/`);
      for (const r of corpusRows(server).filter((x) => x.result === 'ok')) {
        const file = join(CORPUS, r.path);
        const etc = server === 'nginx' ? '/etc/nginx' : '/etc/apache2';
        const pathMap = [...links, ...(r.method.startsWith('layout') ? [{ from: etc, to: dirname(file) }] : [])];
        const set = loadConfig(file, { server, pathMap });
        const map = mapConfig(set, { pathMap });
        const m = modelFor(set, { pathMap });
        for (const e of map.entries) {
          entries++;
          if (!e.sample) continue;
          samples++;
          expect(explainSample(m, e.sample)?.status, `${r.path}: ${e.file}:${e.line}`).toBe(e.status);
        }
      }
    }
    console.log(`map on the corpus: ${entries} places, ${samples} with a sample`);
    expect(entries).toBeGreaterThan(10);
  });
});

describe('map --fs: the disk decides what only the disk can', () => {
  it('`try_files $uri =403` gets a sample request once the disk is read, and explain agrees', () => {
    const dir = mkdtempSync(join(tmpdir(), 'why403-map-fs-'));
    chmodSync(dir, 0o755); // searchable by the worker, as a docroot is
    try {
      const conf = join(dir, 'nginx.conf');
      mkdirSync(join(dir, 'www/files'), { recursive: true });
      writeFileSync(
        conf,
        `events {}\nhttp {\n    server {\n        listen 8080;\n        server_name shop.test;\n        root ${dir}/www;\n        location /files/ { try_files $uri =403; }\n    }\n}\n`,
      );
      const set = loadConfig(conf);
      const without = mapConfig(set).entries.find((e) => e.line === 7)!;
      expect(without.sample).toBeNull();
      expect(without.note).toContain('run with --fs');
      const withFs = mapConfig(set, { fs: true }).entries.find((e) => e.line === 7)!;
      expect(withFs.sample).not.toBeNull();
      expect(withFs.sample!.url).toBe('http://shop.test:8080/files/');
      expect(explainSample(modelFor(set, { fs: true }), withFs.sample!, '')?.status).toBe(403);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Apache: the .htaccess files under the served directories are read, as diff reads them', () => {
  const fx = (c: string) => join(repoRoot, 'fixtures/rules/apache-docroot-denied', c);
  const mapOf = (c: string) => {
    const pathMap = [{ from: '/srv/why403', to: fx(c) }];
    return mapConfig(loadConfig(join(fx(c), 'httpd.conf'), { pathMap }), { pathMap });
  };
  it('a denial a .htaccess lifts is not listed (real Apache answers 200: map-real); one it keeps says --htaccess', () => {
    expect(mapOf('htaccess-refuted').entries.map((e) => e.directive)).toEqual([]);
    const [kept] = mapOf('htaccess-confirmed').entries;
    expect([kept.directive, kept.status, kept.explainedOn]).toEqual(['Require all denied', 403, { htaccess: true }]);
    expect(renderMap([mapOf('htaccess-confirmed')], 'text', repoRoot)).toContain('→ 403 (explained with --htaccess)');
    // read for the map's samples only: nothing is left registered on the set for later proofs (the
    // language server's lint of the same set would otherwise depend on whether a hover ran first)
    const pathMap = [{ from: '/srv/why403', to: fx('htaccess-confirmed') }];
    const set = loadConfig(join(fx('htaccess-confirmed'), 'httpd.conf'), { pathMap });
    expect(mapConfig(set, { pathMap }).entries[0].explainedOn).toEqual({ htaccess: true });
    expect(linkedAccessFiles(set).size).toBe(0);
    // without the path map the tree's .htaccess files are not found: the config's own answer
    const alone = mapConfig(loadConfig(join(fx('htaccess-refuted'), 'httpd.conf')));
    expect(alone.entries.map((e) => [e.directive, e.status, e.explainedOn])).toEqual([['Require all denied', 403, undefined]]);
  });
});
