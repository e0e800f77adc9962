import { describe, expect, it } from 'vitest';
import { MemoryFs, modelFromText, simulate, type SimRequest, type Worker } from '../src/nginx/model/index.js';

const WORKER: Worker = { user: 'nobody', uid: 65534, gids: [65534] };
const model = (body: string) => modelFromText(`events {}\nhttp {\n${body}\n}\n`, '/etc/nginx/nginx.conf');
const sim = (body: string, req: Partial<SimRequest> & { uri: string }) => simulate(model(body), { worker: WORKER, ...req });

describe('simulate: config-only answers', () => {
  it('deny all → 403 N01 with the deciding directive position', () => {
    const r = sim('server { listen 80; location / { deny all; } }', { uri: '/x' });
    expect(r.status).toBe(403);
    expect(r.cause).toBe('N01');
    const step = r.trace.find((t) => t.phase === 'access')!;
    expect(step.at).toBe('/etc/nginx/nginx.conf:3:34'); // the `deny` of line 3
    expect(step.directive?.name).toBe('deny');
  });
  it('limit_except → N02; return 403 → N06; satisfy any → N03', () => {
    expect(sim('server { location / { limit_except GET { deny all; } return 200; } }', { uri: '/', method: 'PUT' }).cause).toBe('N02');
    expect(sim('server { location / { return 403; } }', { uri: '/' }).cause).toBe('N06');
    const any = sim('server { location / { satisfy any; deny all; return 403; } }', { uri: '/' });
    expect(any.cause).toBe('N06'); // return runs first
    expect(sim('server { location / { satisfy any; allow 10.0.0.0/8; deny all; } }', { uri: '/a' }).cause).toBe('N03');
  });
  it('return text is sent as is; return without text goes through error_page', () => {
    const body = 'server { error_page 403 =200 /ok; location = /ok { return 200 "fine"; } location / { return 403; } }';
    expect(sim(body, { uri: '/x' }).status).toBe(200);
    expect(sim('server { error_page 403 =200 /ok; location / { return 403 "no"; } }', { uri: '/x' }).status).toBe(403);
  });
  it('rewrite cycles stop after 10 URI changes with 500', () => {
    const r = sim('server { location / { rewrite ^ /again last; } }', { uri: '/x' });
    expect(r.status).toBe(500);
  });
  it('an unknown variable in `if` gives both outcomes with their assumptions', () => {
    const r = sim('server { location / { if ($geoip_country_code) { return 403; } return 200 "ok"; } }', { uri: '/x' });
    expect(r.status).toBeNull();
    expect(r.possibleOutcomes.map((o) => o.status).sort()).toEqual([200, 403]);
    expect(r.possibleOutcomes.find((o) => o.status === 403)?.when[0]).toMatch(/is true/);
  });
  it('valid_referers / $invalid_referer is evaluated', () => {
    const body = 'server { location / { valid_referers none example.com; if ($invalid_referer) { return 403; } return 200 "ok"; } }';
    expect(sim(body, { uri: '/', headers: { Referer: 'http://evil.test/' } }).status).toBe(403);
    expect(sim(body, { uri: '/', headers: { Referer: 'http://example.com/a' } }).status).toBe(200);
    expect(sim(body, { uri: '/' }).status).toBe(200);
  });
  it('auth_request is a choice: 2xx passes, 401, 403 (N05)', () => {
    const r = sim('server { location / { auth_request /auth; return 200 "x"; } }', { uri: '/', method: 'GET' });
    // return runs before access: auth_request never matters here
    expect(r.status).toBe(200);
    const fsys = new MemoryFs({ '/srv/a.html': {} });
    // the auth endpoint is a backend: its answer is not known
    const r2 = sim('server { root /srv; location / { auth_request /auth; } location = /auth { proxy_pass http://127.0.0.1:9; } }', {
      uri: '/a.html',
      fs: fsys,
    });
    expect(r2.status).toBeNull();
    expect(r2.possibleOutcomes.map((o) => `${o.status}${o.cause ?? ''}`).sort()).toEqual(['200', '401', '403N05']);
  });
  it('proxied requests leave the status to the backend', () => {
    const r = sim('server { location / { proxy_pass http://127.0.0.1:9; } }', { uri: '/' });
    expect(r.outcome).toBe('proxied');
    expect(r.status).toBeNull();
  });
  it('an if block inherits the content handler but not try_files', () => {
    const r = sim('server { location / { proxy_pass http://127.0.0.1:9; if ($arg_a) { } } }', { uri: '/?a=1' });
    expect(r.outcome).toBe('proxied');
  });
  it('a bad request line is a 400', () => {
    expect(sim('server { }', { uri: '/../x' }).status).toBe(400);
  });
});

describe('simulate: without a file system, disk-dependent outcomes are possibilities', () => {
  it('a directory URI: 403 without index.html (N12), 200 with it', () => {
    const r = sim('server { root /srv; location / { } }', { uri: '/d/' });
    expect(r.status).toBeNull();
    const by = (s: number) => r.possibleOutcomes.find((o) => o.status === s);
    expect(by(403)?.cause).toBe('N12');
    expect(by(403)?.when.join(' ')).toMatch(/index file \/srv\/d\/index.html does not exist/);
    expect(by(200)?.when.join(' ')).toMatch(/index file \/srv\/d\/index.html is a file/);
  });
  it('try_files … =403 (N08) only when no candidate exists', () => {
    const r = sim('server { root /srv; location / { try_files $uri =403; } }', { uri: '/a' });
    expect(r.possibleOutcomes.find((o) => o.status === 403)?.cause).toBe('N08');
    expect(r.possibleOutcomes.some((o) => o.status === 200)).toBe(true);
  });
});

describe('simulate: try_files $uri $uri/ (the slash is dropped from the name and asks for a directory)', () => {
  const body = 'server { root /srv; index index.html; location / { try_files $uri $uri/ =404; } }';
  const outcomes = (r: ReturnType<typeof sim>) => r.possibleOutcomes.map((o) => `${o.status} ${o.when.join(' and ')}`).sort();
  it('without a file system, a URI ending in / is never "a file"; /sub may be a directory (301)', () => {
    const slash = outcomes(sim(body, { uri: '/sub/' }));
    expect(slash.some((o) => /\/srv\/sub is a file/.test(o))).toBe(false);
    expect(slash.some((o) => o.startsWith('200 ') && o.includes('/srv/sub is a directory'))).toBe(true);
    const bare = outcomes(sim(body, { uri: '/sub' }));
    expect(bare.some((o) => o.startsWith('301 ') && o.includes('/srv/sub is a directory'))).toBe(true);
  });
  it('with a file system: /sub is a file → /sub/ is 404 (ENOTDIR), /sub is 200; a directory → $uri stays /sub (301)', () => {
    const file = new MemoryFs({ '/srv/sub': {} });
    expect(sim(body, { uri: '/sub/', fs: file }).status).toBe(404);
    expect(sim(body, { uri: '/sub', fs: file }).status).toBe(200);
    const dir = new MemoryFs({ '/srv/sub/index.html': {} });
    expect(sim(body, { uri: '/sub', fs: dir }).status).toBe(301);
    expect(sim(body, { uri: '/sub/', fs: dir }).status).toBe(200);
  });
});

describe('simulate: with a file system', () => {
  const fsys = new MemoryFs({
    '/srv/open/index.html': {},
    '/srv/empty/readme': {},
    '/srv/secret.html': { mode: 0o600 },
    '/srv/locked': { type: 'dir', mode: 0o700 },
    '/srv/locked/index.html': {},
    '/srv/link.html': { target: '/srv/open/index.html', uid: 1 },
  });
  const body = 'server { root /srv; location / { } location /nolink { disable_symlinks on; alias /srv/; } }';
  const s = (uri: string) => sim(body, { uri, fs: fsys });
  it('follows index redirects and maps errno to status and cause', () => {
    expect(s('/open/').status).toBe(200);
    expect([s('/empty/').status, s('/empty/').cause]).toEqual([403, 'N12']);
    expect([s('/secret.html').status, s('/secret.html').cause]).toEqual([403, 'N10']);
    expect([s('/locked/').status, s('/locked/').cause]).toEqual([403, 'N13']);
    expect(s('/missing').status).toBe(404);
    expect(s('/open').status).toBe(301);
    expect([s('/nolink/link.html').status, s('/nolink/link.html').cause]).toEqual([403, 'N11']);
    expect(s('/link.html').status).toBe(200);
  });
  it('the trace names every deciding directive with file:line:col', () => {
    const r = s('/empty/');
    expect(r.trace.at(-1)?.message).toMatch(/directory index of "\/srv\/empty\/" is forbidden/);
    expect(r.trace.filter((t) => t.directive).every((t) => /^\/etc\/nginx\/nginx.conf:\d+:\d+$/.test(t.at!))).toBe(true);
  });
});

describe('simulate: bad input never throws', () => {
  it('odd configs give diagnostics or unknowns, not exceptions', () => {
    const deep = 'location /a { '.repeat(3000) + '}'.repeat(3000);
    const configs = [
      'server { listen ; location { } location = { } if { } return; rewrite; try_files; error_page; allow; deny; }',
      'server { listen nonsense:port; server_name ~(; location ~ ( { } }',
      `server { ${deep} }`,
      'server { location / { try_files $nope =403; index $nope; root $also_nope; } }',
      'server { location / { rewrite ^(a+)+$ /x last; if ($x ~ (?>a)) { return 403; } } }',
      'server { location / { ',
    ];
    for (const c of configs) {
      const m = model(c);
      for (const uri of ['/', '/a/a/a', '/%zz', '/x?y']) {
        const r = simulate(m, { uri, worker: WORKER, maxRuns: 16 });
        expect(r.unknowns.filter((u) => /simulator failed/.test(u))).toEqual([]);
      }
    }
  });
  it('a 10 MB URI and a 10 MB Host are handled', () => {
    const m = model('server { location / { return 200 "x"; } }');
    expect(simulate(m, { uri: '/' + 'a'.repeat(10_000_000) }).status).toBe(200);
    expect(simulate(m, { uri: '/', host: 'h'.repeat(10_000_000) }).status).toBe(200);
  });
});
