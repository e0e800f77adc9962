/**
 * The Apache model's mod_dir index refusals (A20), SSLRequireSSL (A37) and forward proxy requests
 * (A43), on small hand-written configs. The real-server side of each is in the rule fixtures
 * (fixtures/rules/apache-directory-index-forbidden, -sslrequiressl-plain-http, -forward-proxy-denied).
 */
import { describe, expect, test } from 'vitest';
import type { ConfigSet } from '../src/ast.js';
import { parseApache } from '../src/apache/parser.js';
import { SourceFile } from '../src/source.js';
import { buildApacheModel, simulate, type SimRequest } from '../src/apache/model/index.js';

function model(text: string, modules: string[] = []) {
  const path = '/etc/apache2/apache2.conf';
  const root = parseApache(new SourceFile(path, text), { context: 'server' });
  expect(root.errors.map((e) => e.message)).toEqual([]);
  const set: ConfigSet = { server: 'apache', root, files: new Map([[path, root]]), errors: [] };
  return buildApacheModel(set, { serverRoot: '/etc/apache2', modules });
}
const sim = (m: ReturnType<typeof model>, req: Partial<SimRequest> & { uri: string }) =>
  simulate(m, { clientIp: '192.0.2.10', fs: null, ...req });
const line = (r: ReturnType<typeof sim>) => r.decidedBy?.span.start.line;

const SITE = `
<Directory />
    Require all denied
</Directory>
DocumentRoot /srv/www
<Directory /srv/www>
    Options Indexes
    Require all granted
    <FilesMatch "\\.php$">
        Require all denied
    </FilesMatch>
</Directory>
`;

describe('DirectoryIndex candidates refused by their own subrequest (A20)', () => {
  test('a refused candidate after one that may exist: 200 if it exists, else 403 instead of the listing', () => {
    const r = sim(model(`${SITE}DirectoryIndex index.html index.php\n`), { uri: '/' });
    expect(r.status).toBeNull();
    expect(r.cause).toBe('A20');
    const last = r.possibleOutcomes.at(-1)!;
    expect(last).toMatchObject({ status: 403, cause: 'A20' });
    expect(last.when.join(' ')).toContain('no DirectoryIndex file');
    expect(r.possibleOutcomes.some((p) => p.status === 200)).toBe(true);
    expect(r.dirIndex).toMatchObject({ names: ['index.html', 'index.php'], listing: 'listing' });
    expect(r.dirIndex!.refused.map((c) => [c.name, c.status])).toEqual([['index.php', 403]]);
    expect(r.dirIndex!.refused[0].by?.span.start.line).toBe(10);
  });

  test('every candidate refused: 403 whatever is on disk, and the listing step is not traced', () => {
    const r = sim(model(`${SITE}DirectoryIndex index.php\n`), { uri: '/' });
    expect(r.status).toBe(403);
    expect(r.cause).toBe('A20');
    expect(line(r)).toBe(10);
    expect(r.trace.some((t) => /mod_autoindex|AH01276/.test(t.message))).toBe(false);
  });

  test('no refused candidate: the listing, and an empty refusal list', () => {
    const r = sim(model(`${SITE}DirectoryIndex index.html\n`), { uri: '/' });
    expect(r.possibleOutcomes.at(-1)).toMatchObject({ status: 200, outcome: 'listing' });
    expect(r.dirIndex?.refused).toEqual([]);
  });

  test('a file URL has no index lookup', () => {
    expect(sim(model(SITE), { uri: '/a.txt' }).dirIndex).toBeNull();
  });
});

describe('SSLRequireSSL (A37)', () => {
  const conf = (engine: string) => `
DocumentRoot /srv/www
<Directory /srv/www>
    Require all granted
</Directory>
<VirtualHost *:80>
    ${engine}
    <Location /account>
        SSLRequireSSL
    </Location>
</VirtualHost>
`;
  test('plain HTTP gets 403 AH02219; elsewhere and over TLS the request passes', () => {
    const m = model(conf(''), ['mod_ssl']);
    const r = sim(m, { uri: '/account/x', port: 80 });
    expect(r.status).toBe(403);
    expect(r.cause).toBe('A37');
    expect(r.message).toContain('AH02219');
    expect(line(r)).toBe(9);
    expect(sim(m, { uri: '/other', port: 80 }).status).not.toBe(403);
    expect(sim(m, { uri: '/account/x', port: 80, tls: true }).status).not.toBe(403);
  });
  test('SSLEngine on: requests arrive over TLS by default', () => {
    expect(sim(model(conf('SSLEngine on'), ['mod_ssl']), { uri: '/account/x', port: 80 }).status).not.toBe(403);
  });
  test('SSLEngine optional: 426 Upgrade Required, not 403', () => {
    expect(sim(model(conf('SSLEngine optional'), ['mod_ssl']), { uri: '/account/x', port: 80 }).status).toBe(426);
  });
  test('the flag is inherited: a nested section cannot clear it', () => {
    const m = model(`${conf('')}<Location /account/open>\n    Require all granted\n</Location>\n`, ['mod_ssl']);
    expect(sim(m, { uri: '/account/open', port: 80 }).cause).toBe('A37');
  });
  test('Satisfy Any: a passing Require can still let the request through', () => {
    const m = model(conf('').replace('SSLRequireSSL', 'SSLRequireSSL\n        Satisfy Any\n        Require all granted'), ['mod_ssl']);
    expect(sim(m, { uri: '/account/x', port: 80 }).status).not.toBe(403);
  });
  test('mod_ssl not loaded: the directive sits in a dropped <IfModule> and nothing happens', () => {
    const m = model(conf('').replace('SSLRequireSSL', '<IfModule mod_ssl.c>\n SSLRequireSSL\n </IfModule>'));
    expect(sim(m, { uri: '/account/x', port: 80 }).status).not.toBe(403);
  });
});

describe('forward proxy requests (A43)', () => {
  const conf = (on: string, proxy = '<Proxy "*">\n    Require all denied\n</Proxy>') => `
ServerName www.example
<Directory />
    Require all denied
</Directory>
DocumentRoot /srv/www
<Directory /srv/www>
    Require all granted
</Directory>
ProxyRequests ${on}
${proxy}
`;
  test('ProxyRequests On: <Proxy *> decides, the directory walk does not run', () => {
    const m = model(conf('On'), ['mod_proxy']);
    const r = sim(m, { uri: 'http://example.test/x' });
    expect(r.status).toBe(403);
    expect(r.cause).toBe('A43');
    expect(r.message).toContain('proxy:http://example.test/x');
    expect(line(r)).toBe(12);
    expect(r.trace.some((t) => t.phase === 'directory_walk')).toBe(false);
  });
  test('a granting <Proxy> lets the request through to the origin (status unknown), <Directory /> notwithstanding', () => {
    const m = model(conf('On', '<Proxy "http://example.test/*">\n    Require all granted\n</Proxy>'), ['mod_proxy']);
    const r = sim(m, { uri: 'http://example.test/x' });
    expect(r.status).toBeNull();
    expect(r.filename).toBe('proxy:http://example.test/x');
  });
  test('<ProxyMatch> and a prefix <Proxy> that does not match', () => {
    const deny =
      '<ProxyMatch "^http://[^/]*\\.test/">\n    Require all denied\n</ProxyMatch>\n<Proxy "http://other/">\n    Require all granted\n</Proxy>';
    const m = model(conf('On', deny), ['mod_proxy']);
    expect(sim(m, { uri: 'http://example.test/' }).cause).toBe('A43');
    expect(sim(m, { uri: 'http://other/' }).status).toBeNull();
  });
  test('an absolute URI naming this server, or ProxyRequests Off: served here as a path', () => {
    const on = model(conf('On'), ['mod_proxy']);
    expect(sim(on, { uri: 'http://www.example/index.html' }).filename).toBe('/srv/www/index.html');
    const off = model(conf('Off'), ['mod_proxy']);
    const r = sim(off, { uri: 'http://example.test/index.html' });
    expect(r.filename).toBe('/srv/www/index.html');
    expect(r.cause).not.toBe('A43');
  });
  test('mod_proxy not loaded: no forward proxy', () => {
    const m = model(conf('On').replace(/ProxyRequests On\n[\s\S]*$/, '<IfModule mod_proxy.c>\nProxyRequests On\n</IfModule>\n'));
    expect(m.main.proxyRequests).toBeNull();
    expect(sim(m, { uri: 'http://example.test/index.html' }).filename).toBe('/srv/www/index.html');
  });
});
