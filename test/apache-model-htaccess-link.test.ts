/**
 * src/apache/model/htaccess-link.ts and its engine hook: a .htaccess linted in the same run as a
 * main config is tied to the servers whose DocumentRoot / Alias / <Directory> cover its directory
 * (after the path map), whatever the order of the paths; a .htaccess no config covers is not.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadApache } from '../src/apache/load.js';
import { assumedOverride, htaccessContext, linkHtaccess, overrideViolations } from '../src/apache/model/htaccess-link.js';
import { lint } from '../src/run.js';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'why403-htlink-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

const SITE = `<VirtualHost *:80>
    ServerName app.example
    DocumentRoot /var/www/app/public
    Alias /media /srv/media
    <Directory /var/www/app/public>
        AllowOverride FileInfo
        Require all granted
    </Directory>
    <Directory /var/www/app/public/legacy>
        AllowOverride None
    </Directory>
</VirtualHost>
`;

describe('htaccessContext', () => {
  const dir = tree({
    'apache/sites-available/app.conf': SITE,
    'public/.htaccess': 'RewriteEngine On\nRequire all denied\n',
    'public/legacy/.htaccess': 'Require all denied\n',
    'media/.htaccess': 'Require all denied\n',
    'other/.htaccess': 'Require all denied\n',
  });
  const pathMap = [
    { from: '/var/www/app', to: dir },
    { from: '/srv/media', to: join(dir, 'media') },
  ];
  const main = loadApache(join(dir, 'apache/sites-available/app.conf'), { pathMap });
  const ht = (p: string) => {
    const set = loadApache(join(dir, p), { pathMap });
    linkHtaccess(set, [{ set: main, settings: {} }]);
    return htaccessContext(set, {});
  };

  test('DocumentRoot: the vhost, its URL and the merged AllowOverride', () => {
    const c = ht('public/.htaccess');
    expect(c.dir).toBe('/var/www/app/public');
    expect(c.links).toHaveLength(1);
    expect(c.links[0].server.serverName).toBe('app.example');
    expect(c.links[0].url).toBe('/');
    expect([...c.links[0].state.classes]).toEqual(['FileInfo']);
    expect(c.links[0].state.by?.span.start.line).toBe(6);
  });

  test('a deeper <Directory> with AllowOverride None wins for its subtree', () => {
    const c = ht('public/legacy/.htaccess');
    expect(c.links[0].url).toBe('/legacy/');
    expect(c.links[0].state.classes.size).toBe(0);
    expect(c.links[0].state.by?.span.start.line).toBe(10);
  });

  test('an Alias target: default AllowOverride None (no section sets it)', () => {
    const c = ht('media/.htaccess');
    expect(c.links[0].url).toBe('/media/');
    expect(c.links[0].state.classes.size).toBe(0);
    expect(c.links[0].state.by).toBeNull();
  });

  test('a directory no config serves: no link, nothing assumed without the setting', () => {
    const c = ht('other/.htaccess');
    expect(c.links).toEqual([]);
    expect(c.assumed).toBeNull();
  });

  test('violations under the linked state', () => {
    const set = loadApache(join(dir, 'public/.htaccess'), { pathMap });
    linkHtaccess(set, [{ set: main, settings: {} }]);
    const link = htaccessContext(set, {}).links[0];
    expect(overrideViolations(set, link.state, link.model).map((v) => v.message)).toEqual(['Require not allowed here']);
  });
});

test('assumedOverride reads the setting; invalid or absent gives null', () => {
  expect([...(assumedOverride({ apacheAllowOverride: ['AuthConfig', 'Limit'] })?.classes ?? [])]).toEqual(['AuthConfig', 'Limit']);
  expect(assumedOverride({ apacheAllowOverride: ['None'] })?.classes.size).toBe(0);
  expect(assumedOverride({ apacheAllowOverride: ['Bogus'] })).toBeNull();
  expect(assumedOverride({})).toBeNull();
});

test('engine: the .htaccess is tied to the main config whatever the order of the paths', async () => {
  const dir = tree({
    'conf/httpd.conf':
      'DocumentRoot /srv/site/htdocs\n<Directory /srv/site/htdocs>\n    AllowOverride None\n    Require all granted\n</Directory>\n',
    'htdocs/.htaccess': 'Require all denied\n',
  });
  for (const order of [
    ['htdocs/.htaccess', 'conf/httpd.conf'],
    ['conf/httpd.conf', 'htdocs/.htaccess'],
  ]) {
    const run = await lint(order, {
      cwd: dir,
      noConfig: true,
      only: ['apache-htaccess-ignored'],
      pathMap: [{ from: '/srv/site', to: dir }],
      reportUnusedSuppressions: 'off',
    });
    const msgs = run.results.flatMap((r) => r.messages.map((m) => `${r.relativePath}:${m.line} ${m.ruleId}`));
    expect(msgs).toEqual(['htdocs/.htaccess:1 apache-htaccess-ignored']);
  }
  // Alone, nothing is known.
  const alone = await lint(['htdocs/.htaccess'], {
    cwd: dir,
    noConfig: true,
    only: ['apache-htaccess-ignored'],
    reportUnusedSuppressions: 'off',
  });
  expect(alone.results.flatMap((r) => r.messages)).toEqual([]);
});
