import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectByContent, detectByName, detectByPlace, detectServer } from '../src/detect.js';
import { loadConfig, loadText } from '../src/load.js';
import { CORPUS, corpusOrSkip, corpusRows } from './harness/corpus.js';

const have = corpusOrSkip('corpus detection tests');

describe('by name and place', () => {
  it('knows names that belong to one server', () => {
    for (const p of [
      '/srv/.htaccess',
      '/x/htaccess.txt',
      '/x/site.htaccess',
      '/etc/httpd/conf/httpd.conf',
      '/etc/apache2/apache2.conf',
      '/f/bad.apache.conf',
    ]) {
      expect(detectByName(p), p).toBe('apache');
    }
    for (const p of ['/etc/nginx/nginx.conf', '/x/fastcgi_params', '/x/uwsgi_params', '/x/site.nginx.conf']) {
      expect(detectByName(p), p).toBe('nginx');
    }
    expect(detectByName('/x/site.conf')).toBeNull();
  });

  it('uses the nearest folder that names a server', () => {
    expect(detectByPlace('/etc/apache2/sites-available/default.conf')).toBe('apache');
    expect(detectByPlace('/etc/httpd/conf.d/ssl.conf')).toBe('apache');
    expect(detectByPlace('/etc/nginx/sites-enabled/default')).toBe('nginx');
    expect(detectByPlace('/etc/nginx/snippets/x.conf')).toBe('nginx');
    expect(detectByPlace('/repo/deploy/nginx/../conf.d/x.conf')).toBeNull(); // resolved: /repo/deploy/conf.d
    expect(detectByPlace('/repo/apache2/sub/nginx/x.conf')).toBe('nginx');
  });
});

describe('by content', () => {
  it('tells Apache sections and directives from nginx blocks', () => {
    expect(detectByContent('<VirtualHost *:80>\n  DocumentRoot /var/www\n</VirtualHost>\n')).toBe('apache');
    expect(detectByContent('RewriteEngine On\nRewriteRule ^ index.php [L]\n')).toBe('apache');
    expect(detectByContent('server {\n  listen 80;\n  location / { deny all; }\n}\n')).toBe('nginx');
    expect(detectByContent('# only a comment\n')).toBeNull();
    expect(detectByContent('[section]\nport = 8080\nusername = x\n')).toBeNull();
  });

  it('looks at the first 8 KiB only', () => {
    const text = '# pad\n'.repeat(3000) + '<Directory /x>\nRequire all denied\n</Directory>\n';
    expect(detectByContent(text)).toBeNull();
  });
});

describe.skipIf(!have)('the whole corpus', () => {
  const rows = corpusRows().map((r) => [r.path, r.server] as const);

  it('detects the server INDEX.tsv names for every file, from its path and content', () => {
    const wrong: string[] = [];
    for (const [path, server] of rows) {
      const d = detectServer(join(CORPUS, path), readFileSync(join(CORPUS, path), 'utf8'));
      if (d !== server) wrong.push(`${path}: ${d}`);
    }
    expect(rows.length).toBeGreaterThan(1000);
    expect(wrong).toEqual([]);
  });

  it('by content alone (neutral path) is never wrong and decides for at least 95%', () => {
    let right = 0;
    const wrong: string[] = [];
    for (const [path, server] of rows) {
      const neutral =
        '/tmp/neutral/' +
        basename(path)
          .replace(/^(nginx|httpd|apache2?)\.conf$/, 'main.conf')
          .replace(/htaccess/g, 'ht');
      const d = detectServer(neutral, readFileSync(join(CORPUS, path), 'utf8'));
      if (d === server) right++;
      else if (d !== null) wrong.push(`${path}: ${d}`);
    }
    expect(wrong).toEqual([]);
    expect(right / rows.length).toBeGreaterThanOrEqual(0.95);
  });
});

describe('loadConfig / loadText dispatch', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'why403-detect-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('loads Apache and nginx files with the right parser', () => {
    writeFileSync(join(tmp, 'a.conf'), '<Directory /x>\n  Require all denied\n</Directory>\n');
    writeFileSync(join(tmp, 'n.conf'), 'events {}\nhttp { server { location / { deny all; } } }\n');
    const a = loadConfig(join(tmp, 'a.conf'));
    expect(a.server).toBe('apache');
    expect(a.root.nodes.length).toBe(1);
    const n = loadConfig(join(tmp, 'n.conf'));
    expect(n.server).toBe('nginx');
    expect(loadConfig(join(tmp, 'a.conf'), { server: 'nginx' }).server).toBe('nginx');
  });

  it('reads stdin text under a given name', () => {
    const set = loadText(join(tmp, '.htaccess'), 'Require all denied\n');
    expect(set.server).toBe('apache');
    expect(set.root.context).toBe('htaccess');
    expect(set.root.source.text).toBe('Require all denied\n');
  });

  it('says clearly when it cannot tell, without throwing', () => {
    writeFileSync(join(tmp, 'mystery.conf'), '# nothing to see\n');
    const set = loadConfig(join(tmp, 'mystery.conf'));
    expect(set.root.errors.map((e) => e.code)).toEqual(['unknown-server']);
    expect(set.root.errors[0].message).toContain('--server');
    const gone = loadConfig(join(tmp, 'missing.conf'));
    expect(gone.root.errors.map((e) => e.code)).toEqual(['not-found']); // its read error says it all
  });
});
