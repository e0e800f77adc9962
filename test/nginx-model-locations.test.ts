import { describe, expect, it } from 'vitest';
import { findLocation, findNamed, modelFromText, selectServer, scopeLabel, type NginxModel } from '../src/nginx/model/index.js';

const model = (body: string): NginxModel => modelFromText(`events {}\nhttp {\n${body}\n}\n`);
const pick = (m: NginxModel, uri: string, server = 0) => {
  const r = findLocation(m.servers[server], uri);
  return r.location ? scopeLabel(r.location) : r.via;
};

describe('location choice (ngx_http_core_find_location)', () => {
  const m = model(`server {
    location = / { }
    location / { }
    location /images/ { }
    location ^~ /static/ { }
    location ~* \\.(gif|jpg)$ { }
    location ~ \\.jpg$ { }
    location /docs/ { location ~ \\.md$ { } location /docs/api/ { } }
    location ~ ^/docs/ { }
    location @fallback { }
  }`);
  it('an exact match wins and stops the search', () => {
    expect(pick(m, '/')).toBe('location = /');
    expect(pick(m, '/index.html')).toBe('location /');
  });
  it('the longest prefix is used when no regex matches', () => {
    expect(pick(m, '/images/a.png')).toBe('location /images/');
  });
  it('regexes beat a plain prefix; the first regex in config order wins', () => {
    expect(pick(m, '/images/a.JPG')).toBe('location ~* \\.(gif|jpg)$');
    expect(pick(m, '/images/a.jpg')).toBe('location ~* \\.(gif|jpg)$');
  });
  it('^~ hides the regexes', () => {
    expect(pick(m, '/static/a.jpg')).toBe('location ^~ /static/');
    const r = findLocation(m.servers[0], '/static/a.jpg');
    expect(r.candidates.filter((c) => c.result === 'regex-skipped-noregex').length).toBe(3);
  });
  it('regexes nested in the chosen prefix are tried before the enclosing level', () => {
    expect(pick(m, '/docs/readme.md')).toBe('location ~ \\.md$');
    expect(pick(m, '/docs/readme.txt')).toBe('location ~ ^/docs/');
    expect(pick(m, '/docs/api/x.md')).toBe('location ~ \\.md$');
  });
  it('named locations never match a URI', () => {
    expect(pick(m, '/@fallback')).toBe('location /');
    expect(findNamed(m.servers[0], '@fallback')).not.toBeNull();
  });
  it('a nested ^~ hides only its own level: the enclosing level still tries its regexes', () => {
    const n = model(`server {
      location /a/ { location ^~ /a/b/ { } location ~ x$ { } }
      location ~ x$ { }
    }`);
    // nested ^~ stops the nested regexes, but the top-level regex still runs because /a/ is plain
    const r = findLocation(n.servers[0], '/a/b/x');
    expect(r.location?.block?.nameSpan.start.line).toBe(5); // the top-level `location ~ x$` (checked against nginx 1.22.1)
    const outer = model(`server {
      location ^~ /a/ { location /a/b/ { } }
      location ~ x$ { }
    }`);
    expect(pick(outer, '/a/b/x')).toBe('location /a/b/');
    const cy = model(`server {
      location ^~ /c/ { location /c/d/ { } location ~ y$ { } }
      location ~ y$ { }
    }`);
    // the nested regex still runs below a ^~ prefix (only the enclosing level's regexes are hidden)
    expect(findLocation(cy.servers[0], '/c/d/y').location?.block?.nameSpan.start.line).toBe(4);
  });
  it('no location at all: the server configuration applies', () => {
    const n = model('server { location /x { } }');
    expect(findLocation(n.servers[0], '/y').via).toBe('none');
  });
  it('auto_redirect: /api for a proxied "location /api/" is a 301', () => {
    const n = model('server { location /api/ { proxy_pass http://127.0.0.1:9; } location /web/ { } }');
    expect(findLocation(n.servers[0], '/api').via).toBe('redirect');
    expect(findLocation(n.servers[0], '/web').via).toBe('none');
  });
  it('one-argument spellings', () => {
    const n = model('server { location =/a { } location ~*\\.PHP$ { } location ^~/b { } }');
    expect(pick(n, '/a')).toBe('location =/a');
    expect(pick(n, '/x.php')).toBe('location ~*\\.PHP$');
    expect(pick(n, '/b.php')).toBe('location ^~/b');
  });
  it('an untranslatable regex makes the answer unknown, not a guess', () => {
    const n = model('server { location ~ ^/(?>a|ab)c { } location / { } }');
    const r = findLocation(n.servers[0], '/abc');
    expect(r.via).toBe('unknown');
    expect(r.unknown).toMatch(/atomic/);
  });
});

describe('server choice', () => {
  const m = model(`
    server { listen 8080; server_name example.com www.example.com; }
    server { listen 8080 default_server; server_name _; }
    server { listen 8080; server_name *.example.com; }
    server { listen 8080; server_name www.example.*; }
    server { listen 8080; server_name ~^(?<sub>[a-z]+)\\.test$; }
    server { listen 8080; server_name .example.org; }
    server { listen 127.0.0.1:9090; server_name a; }
    server { listen 9090; server_name b; }
  `);
  const idx = (host: string | undefined, port = 8080) => selectServer(m, { host, port }).server?.index;
  it('exact, then leading wildcard, then trailing wildcard, then regex, else the default', () => {
    expect(idx('EXAMPLE.com.')).toBe(0);
    expect(idx('www.example.com:8080')).toBe(0);
    expect(idx('a.b.example.com')).toBe(2);
    expect(idx('www.example.net')).toBe(3);
    expect(idx('foo.test')).toBe(4);
    expect(selectServer(m, { host: 'foo.test', port: 8080 }).named.sub).toBe('foo');
    expect(idx('example.org')).toBe(5);
    expect(idx('x.example.org')).toBe(5);
    expect(idx('unknown.host')).toBe(1);
    expect(idx(undefined)).toBe(1);
  });
  it('a specific address hides wildcard listeners on the same port', () => {
    expect(idx('b', 9090)).toBe(6);
  });
  it('invalid Host is a 400', () => {
    expect(selectServer(m, { host: 'a/b', port: 8080 }).badHost).toBe('a/b');
  });
});
