/**
 * When no request reaches Apache's main server (every Listen port has virtual hosts: each request goes
 * to one of them, the first when no name matches), the model says so (`mainReachable`), sends the main
 * server's requests where the real server would answer them (`portOf`: the first Listen port, a vhost),
 * probes none of its roots, and proves a main-server root only on a virtual host that inherits it
 * (`servingServer`). The real-server side: fixtures/rules/apache-fs-no-index/main-unreachable (real
 * 302, no finding) and main-inherited (the finding's request goes to the vhost, real 403), run by
 * test/rules-real.test.ts and test/proofs-real.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { ConfigSet } from '../src/ast.js';
import { parseApache } from '../src/apache/parser.js';
import { buildApacheModel } from '../src/apache/model/index.js';
import { simStats } from '../src/apache/model/sim/index.js';
import { directoryProbes, portOf, probeUrl, servedRoots, servingServer } from '../src/apache/model/cache.js';
import { mainReachable } from '../src/apache/model/sections.js';
import { lint } from '../src/run.js';
import { SourceFile } from '../src/source.js';

function model(text: string) {
  const path = '/etc/apache2/apache2.conf';
  const root = parseApache(new SourceFile(path, text), { context: 'server' });
  const set: ConfigSet = { server: 'apache', root, files: new Map([[path, root]]), errors: [] };
  return buildApacheModel(set, { serverRoot: '/etc/apache2' });
}

const MAIN = `DocumentRoot /srv/main
Alias /icons/ /usr/share/apache2/icons/
<Directory /srv/main>
    Require all granted
</Directory>
<Directory /srv/main/sub>
    Require all granted
</Directory>
`;

describe('a main server no request reaches', () => {
  test('mainReachable: no vhosts, or a Listen port (80 without Listen) that has none', () => {
    expect(mainReachable(model(`Listen 8080\n${MAIN}`))).toBe(true);
    expect(mainReachable(model(`Listen 8080\n${MAIN}<VirtualHost *:8080>\nServerName a.test\n</VirtualHost>\n`))).toBe(false);
    expect(mainReachable(model(`Listen 80\nListen 8080\n${MAIN}<VirtualHost *:8080>\nServerName a.test\n</VirtualHost>\n`))).toBe(true);
    // no Listen: the sample's port 80
    expect(mainReachable(model(`${MAIN}<VirtualHost *:80>\nServerName a.test\n</VirtualHost>\n`))).toBe(false);
    expect(mainReachable(model(`${MAIN}<VirtualHost *:8443>\nServerName a.test\n</VirtualHost>\n`))).toBe(true);
  });

  test('its requests go to the first Listen port, where a vhost answers them (not to port 80, where nothing listens)', () => {
    const m = model(`Listen 8080\n${MAIN}<VirtualHost *:8080>\nServerName a.test\nDocumentRoot /srv/a\n</VirtualHost>\n`);
    expect(portOf(m.main, m)).toBe(8080);
    const r = probeUrl(m, m.main, '/sub/');
    expect(r.server).toBe(m.vhosts[0]);
    expect(r.filename).toBe('/srv/a/sub/');
    // reachable: its own port, or port 80 without Listen lines
    const reach = model(`Listen 8080\nListen 9090\n${MAIN}<VirtualHost *:8080>\nServerName a.test\n</VirtualHost>\n`);
    expect(portOf(reach.main, reach)).toBe(9090);
    const bare = model(MAIN);
    expect(portOf(bare.main, bare)).toBe(80);
  });

  test('without Listen lines the main server is asked on port 80, as explain asks: a vhost on another port does not answer', async () => {
    // a request without a port matched virtual hosts on any port: the *:8080 host answered the main
    // server's probes, and apache-docroot-denied missed the denial that explain shows on port 80
    const text = `DocumentRoot /srv/m\n<Directory /srv/m>\n    Require all denied\n</Directory>\n<VirtualHost *:8080>\nServerName v.test\nDocumentRoot /srv/v\n<Directory /srv/v>\nRequire all granted\n</Directory>\n</VirtualHost>\n`;
    const m = model(text);
    expect(portOf(m.main, m)).toBe(80);
    expect(probeUrl(m, m.main, '/').server).toBe(m.main);
    const dir = mkdtempSync(join(tmpdir(), 'why403-mainport-'));
    try {
      writeFileSync(join(dir, 'site.conf'), text);
      const run = await lint([join(dir, 'site.conf')], { noConfig: true, server: 'apache' });
      const found = run.results.flatMap((r) => r.messages).filter((x) => x.ruleId === 'apache-docroot-denied');
      expect(found.map((x) => [x.line, x.status, x.request?.url])).toEqual([[3, 403, 'http://localhost/']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('its roots get no probes (and no simulation); a vhost that inherits them does', () => {
    const own = model(`Listen 8080\n${MAIN}<VirtualHost *:8080>\nServerName a.test\nDocumentRoot /srv/a\n</VirtualHost>\n`);
    const before = simStats.simulations;
    const probes = directoryProbes(own);
    expect(probes.filter((p) => p.root.server === own.main)).toEqual([]);
    // the vhost's own DocumentRoot and the main server's Alias it inherits: two requests each
    expect(probes.map((p) => `${p.root.server.serverName} ${p.url}`)).toEqual(['a.test /', 'a.test /icons/']);
    expect(simStats.simulations - before).toBe(4);
    const inherits = model(`Listen 8080\n${MAIN}<VirtualHost *:8080>\nServerName a.test\n</VirtualHost>\n`);
    expect(directoryProbes(inherits).map((p) => `${p.root.server.serverName} ${p.url}`)).toEqual([
      'a.test /',
      'a.test /sub/',
      'a.test /icons/',
    ]);
  });

  test('servingServer: the root itself when reachable, else a vhost with the same serving directive, else none', () => {
    const own = model(`Listen 8080\n${MAIN}<VirtualHost *:8080>\nServerName a.test\nDocumentRoot /srv/a\n</VirtualHost>\n`);
    const roots = servedRoots(own);
    const mainDoc = roots.find((r) => r.server === own.main && r.kind === 'documentroot')!;
    const mainAlias = roots.find((r) => r.server === own.main && r.kind === 'alias')!;
    expect(servingServer(own, mainDoc, roots)).toBeNull();
    expect(servingServer(own, mainAlias, roots)).toBe(own.vhosts[0]);
    const reach = model(`Listen 8080\nListen 9090\n${MAIN}<VirtualHost *:8080>\nServerName a.test\nDocumentRoot /srv/a\n</VirtualHost>\n`);
    const rr = servedRoots(reach);
    expect(
      servingServer(
        reach,
        rr.find((r) => r.server === reach.main && r.kind === 'documentroot')!,
        rr,
      ),
    ).toBe(reach.main);
  });
});

describe('the disk rules on an unreachable main server (apache-fs-no-index fixtures)', () => {
  const root = resolve(import.meta.dirname, '..');
  const findings = async (name: string) => {
    const dir = join(root, 'fixtures/rules/apache-fs-no-index', name);
    const run = await lint([join(dir, 'httpd.conf')], {
      noConfig: true,
      fs: true,
      pathMap: [{ from: '/srv/why403', to: dir }],
      only: ['apache-fs-no-index'],
    });
    return run.results.flatMap((r) => r.messages).map((m) => `${m.request?.url ?? '-'} ${m.status ?? '-'}`);
  };
  test('a root only the main server has: no finding (it claimed GET http://localhost/files/ -> 403; real 302)', async () => {
    expect(await findings('main-unreachable')).toEqual([]);
  });
  test('a root a vhost inherits: proved on that vhost, at its port', async () => {
    expect(await findings('main-inherited')).toEqual(['http://site.test:8080/files/ 403']);
  });
});
