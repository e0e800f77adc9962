import { describe, expect, it } from 'vitest';
import { effectiveSettings, findLocation, modelFromText, type Scope } from '../src/nginx/model/index.js';

const m = modelFromText(
  [
    'events {}',
    'http {',
    '  index home.html;',
    '  deny 10.0.0.0/8;',
    '  error_page 404 /404.html;',
    '  limit_req_status 403;',
    '  server {',
    '    root /srv;',
    '    satisfy any;',
    '    location /a/ {',
    '      allow 127.0.0.1;',
    '      error_page 500 /500.html;',
    '      try_files $uri =404;',
    '      proxy_pass http://127.0.0.1:9;',
    '      location /a/b/ { autoindex on; }',
    '      limit_except GET { deny all; }',
    '      if ($arg_x) { }',
    '    }',
    '    location /c/ { alias /data/; index a.html b.html; index c.html; }',
    '  }',
    '}',
  ].join('\n'),
  '/etc/nginx/nginx.conf',
);
const loc = (uri: string): Scope => findLocation(m.servers[0], uri).location!;
const pos = (d: { nameSpan: { start: { line: number; column: number } } } | null | undefined) =>
  d ? `${d.nameSpan.start.line}:${d.nameSpan.start.column}` : null;

describe('effective settings after inheritance', () => {
  it('allow/deny: a child with any rule replaces every inherited rule', () => {
    const a = effectiveSettings(loc('/a/x'));
    expect(a.access.rules.map((r) => `${r.action} ${r.text}`)).toEqual(['allow 127.0.0.1']);
    expect(pos(a.access.directives[0])).toBe('11:7');
    expect(effectiveSettings(loc('/c/x')).access.rules.map((r) => r.text)).toEqual(['10.0.0.0/8']);
    expect(effectiveSettings(loc('/a/b/x')).access.rules.map((r) => r.text)).toEqual(['127.0.0.1']);
  });
  it("limit_except: its own allow/deny replace the location's, the rest is inherited", () => {
    const le = loc('/a/x').limitExcept!;
    const s = effectiveSettings(le);
    expect(s.access.rules.map((r) => `${r.action} ${r.text}`)).toEqual(['deny all']);
    expect(s.handler?.name).toBe('proxy_pass'); // the handler follows into limit_except
    expect(s.tryFiles).toBeNull(); // try_files is never inherited
    expect(s.satisfy.value).toBe('any');
    expect(le.methods).toEqual(['GET']);
  });
  it('if blocks inherit everything but try_files and rewrite code', () => {
    const i = loc('/a/x').ifs[0];
    const s = effectiveSettings(i);
    expect(s.handler?.name).toBe('proxy_pass');
    expect(s.tryFiles).toBeNull();
    expect(s.access.rules[0].text).toBe('127.0.0.1');
  });
  it('error_page and index are replaced, not merged; index directives of one level add up', () => {
    expect(effectiveSettings(loc('/a/x')).errorPages.pages.map((p) => p.codes)).toEqual([[500]]);
    expect(effectiveSettings(loc('/c/x')).errorPages.pages.map((p) => p.codes)).toEqual([[404]]);
    expect(effectiveSettings(loc('/c/x')).index.value).toEqual(['a.html', 'b.html', 'c.html']);
    expect(effectiveSettings(loc('/a/x')).index.value).toEqual(['home.html']);
    expect(pos(effectiveSettings(loc('/a/x')).index.directive)).toBe('3:3');
  });
  it('plain values come from the nearest level, with the directive; defaults have none', () => {
    const b = effectiveSettings(loc('/a/b/x'));
    expect(b.autoindex.value).toBe(true);
    expect(b.root.value).toEqual({ kind: 'root', path: '/srv' });
    expect(pos(b.root.directive)).toBe('8:5');
    expect(b.handler).toBeNull(); // a nested location does not inherit proxy_pass
    expect(b.limitReqStatus.value).toBe(403);
    expect(effectiveSettings(loc('/c/x')).root.value).toEqual({ kind: 'alias', path: '/data/' });
    expect(effectiveSettings(m.servers[0]).autoindex).toEqual({ value: false, directive: null, from: null });
  });
});

describe('the model factory (src/model/index.ts)', () => {
  it('builds one model per ConfigSet and options, and answers refusesEveryone from it', async () => {
    const { modelFor } = await import('../src/model/index.js');
    const set = modelFromText(
      'events {}\nhttp { server { location / { deny all; } location /a/ { return 403; } location /b/ { allow 10.0.0.0/8; deny all; } } }',
    ).set;
    const model = modelFor(set);
    expect(modelFor(set)).toBe(model);
    expect(modelFor(set, { settings: {} })).toBe(modelFor(set, { settings: {} }));
    expect(modelFor(set, { prefix: '/srv/' })).not.toBe(model);
    expect(modelFor({ ...set })).not.toBe(model);
    if (model.server !== 'nginx') throw new Error('expected an nginx model');
    const locs = model.scopes().filter((s) => s.kind === 'location');
    expect(locs.map((l) => model.refusesEveryone(l)?.directive.name ?? null)).toEqual(['deny', 'return', null]);
  });
});
