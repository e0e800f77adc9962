/**
 * Variables the nginx simulator computes from the config (src/nginx/model/vars.ts): map, geo,
 * split_clients, valid_referers, secure_link, realip, and the trace step each evaluation leaves.
 * fixtures/explain/nginx/vars proves the same cases against real nginx.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { modelFromText, simulate, type SimRequest } from '../src/nginx/model/index.js';
import { murmurHash2 } from '../src/nginx/model/vars.js';

const model = (body: string) => modelFromText(`events {}\nhttp {\n${body}\n}\n`, '/etc/nginx/nginx.conf');
const sim = (body: string, req: Partial<SimRequest> & { uri: string }) => simulate(model(body), { clientIp: '127.0.0.1', ...req });
const guard = (v: string, cond = `$${v}`) => `server { listen 80; location / { if (${cond}) { return 403; } return 200 "ok"; } }`;

describe('map', () => {
  const body = `map $http_user_agent $bad {
    default 0;
    "~*(curl|wget)" 1;
    GoodBot/1.0 0;
    "" 1;
  }
  map $host $h { hostnames; default 0; *.bad.test 1; .evil.test 1; www.fine.* 2; }
  ${guard('bad')}`;
  it('regex keys (caseless ~*), exact keys compared caselessly, the empty key, default', () => {
    expect(sim(body, { uri: '/', headers: { 'User-Agent': 'Wget/1.2' } }).status).toBe(403);
    expect(sim(body, { uri: '/', headers: { 'User-Agent': 'goodbot/1.0' } }).status).toBe(200);
    expect(sim(body, { uri: '/' }).status).toBe(403);
    expect(sim(body, { uri: '/', headers: { 'User-Agent': 'Firefox' } }).status).toBe(200);
  });
  it('every evaluation is a trace step at the entry that gave the value, with the value', () => {
    const r = sim(body, { uri: '/', headers: { 'User-Agent': 'curl/8.0' } });
    const step = r.trace.find((t) => t.message.startsWith('$bad = "1"'))!;
    expect(step.message).toContain('"curl/8.0" matched ~*(curl|wget)');
    expect(step.at).toBe('/etc/nginx/nginx.conf:5:5');
    expect(r.decidedBy?.name).toBe('return');
  });
  it('hostnames: *.x does not match x, .x matches both, tail wildcards', () => {
    const b = body.replace(guard('bad'), guard('h', '$h = 1'));
    expect(sim(b, { uri: '/', host: 'a.bad.test' }).status).toBe(403);
    expect(sim(b, { uri: '/', host: 'bad.test' }).status).toBe(200);
    expect(sim(b, { uri: '/', host: 'evil.test' }).status).toBe(403);
    expect(sim(b, { uri: '/', host: 'x.evil.test.' }).status).toBe(403);
  });
  it('a value is cached for the request unless the map is volatile', () => {
    const b = (vol: string) => `map $uri $s { ${vol} default 0; ~^/secret 1; }
      server { location /open/ { if ($s) { return 403; } rewrite ^ /secret/x last; }
               location /secret/ { if ($s) { return 403; } return 200 "ok"; } }`;
    expect(sim(b(''), { uri: '/open/x' }).status).toBe(200);
    expect(sim(b('volatile;'), { uri: '/open/x' }).status).toBe(403);
  });
});

describe('geo', () => {
  const body = `geo $g { default 1; 127.0.0.0/24 0; 127.0.0.5/32 1; 127.0.1.0/24 0; delete 127.0.1.0/24; }
    geo $r { ranges; default 0; 127.0.0.10-127.0.0.20 1; }
    geo $p { default 0; proxy 127.0.0.0/24; 10.0.0.0/8 1; }
    geo $arg_ip $a { default 0; 192.168.0.0/16 1; }
    server { location /g { if ($g) { return 403; } return 200 "ok"; }
             location /r { if ($r) { return 403; } return 200 "ok"; }
             location /p { if ($p) { return 403; } return 200 "ok"; }
             location /a { if ($a) { return 403; } return 200 "ok"; } }`;
  it('the longest prefix wins; delete removes a network; default', () => {
    expect(sim(body, { uri: '/g' }).status).toBe(200);
    expect(sim(body, { uri: '/g', clientIp: '127.0.0.5' }).status).toBe(403);
    expect(sim(body, { uri: '/g', clientIp: '127.0.1.1' }).status).toBe(403);
  });
  it('ranges are inclusive', () => {
    expect(sim(body, { uri: '/r', clientIp: '127.0.0.20' }).status).toBe(403);
    expect(sim(body, { uri: '/r', clientIp: '127.0.0.21' }).status).toBe(200);
  });
  it('proxy: the address from X-Forwarded-For when the peer is a trusted proxy', () => {
    expect(sim(body, { uri: '/p', headers: { 'X-Forwarded-For': '10.1.2.3' } }).status).toBe(403);
    expect(sim(body, { uri: '/p', clientIp: '127.0.3.1', headers: { 'X-Forwarded-For': '10.1.2.3' } }).status).toBe(200);
  });
  it('a source variable; a value that is not an address takes the default', () => {
    expect(sim(body, { uri: '/a?ip=192.168.1.1' }).status).toBe(403);
    expect(sim(body, { uri: '/a?ip=junk' }).status).toBe(200);
  });
});

describe('split_clients', () => {
  it("nginx's MurmurHash2", () => {
    // reference values of ngx_murmur_hash2 (the "1salt" bucket is proven on real nginx by the fixture)
    expect(murmurHash2(Buffer.from(''))).toBe(0);
    expect(murmurHash2(Buffer.from('1salt'))).toBe(1790541793);
  });
  const body = `split_clients "\${arg_id}salt" $b { 50% a; * b; } ${guard('b', '$b = a')}`;
  it('a known key picks its bucket', () => {
    expect(sim(body, { uri: '/?id=1' }).status).toBe(403);
    expect(sim(body, { uri: '/?id=2' }).status).toBe(200);
  });
  it('an unknown key: every bucket is a possible outcome', () => {
    const b = `split_clients "$geoip_country_code" $b { 50% a; * b; } ${guard('b', '$b = a')}`;
    const r = sim(b, { uri: '/' });
    expect(r.status).toBeNull();
    expect(r.possibleOutcomes.map((o) => `${o.status} ${o.when.join()}`).sort()).toEqual([
      '200 $b is "b" (the * bucket of split_clients "$geoip_country_code" $b)',
      '403 $b is "a" (the 50% bucket of split_clients "$geoip_country_code" $b)',
    ]);
  });
});

describe('valid_referers', () => {
  const body = guard('invalid_referer').replace(
    'location / {',
    'location / { valid_referers none blocked server_names *.ok.test .dot.test ok2.test/pics/ ~\\.trusted\\.;',
  );
  const ref = (r: string | undefined) => sim(body, { uri: '/', host: 'localhost', headers: r === undefined ? {} : { Referer: r } }).status;
  it.each([
    [undefined, 200],
    ['junk', 200],
    ['http://a.b', 200],
    ['http://www.ok.test/x', 200],
    ['http://ok.test/x', 403],
    ['https://a.dot.test:8443/', 200],
    ['http://dot.test/', 200],
    ['http://ok2.test/pics/1.jpg', 200],
    ['http://ok2.test/other.trusted.x', 403],
    ['http://evil.test/?.trusted.', 200],
    ['http://evil.test/', 403],
  ])('Referer %s → %i', (r, status) => expect(ref(r)).toBe(status));
});

describe('secure_link', () => {
  const body = `server { location /s/ {
    secure_link $arg_md5,$arg_expires;
    secure_link_md5 "$secure_link_expires$uri secret";
    if ($secure_link = "") { return 403; }
    if ($secure_link = "0") { return 410; }
    return 200 "ok";
  } }`;
  const md5 = (s: string) => createHash('md5').update(s).digest('base64url');
  it('computes the MD5 and the expiry', () => {
    const future = Math.floor(Date.now() / 1000) + 3600;
    expect(sim(body, { uri: `/s/a?md5=${md5(`${future}/s/a secret`)}&expires=${future}` }).status).toBe(200);
    expect(sim(body, { uri: `/s/a?md5=${md5(`1000/s/a secret`)}&expires=1000` }).status).toBe(410);
    expect(sim(body, { uri: `/s/a?md5=${md5(`${future}/s/b secret`)}&expires=${future}` }).status).toBe(403);
    expect(sim(body, { uri: '/s/a' }).status).toBe(403);
  });
  it('secure_link_secret: MD5 of the link and the secret in hex', () => {
    const b = 'server { location /p/ { secure_link_secret sekrit; if ($secure_link = "") { return 403; } return 200 "ok"; } }';
    const h = createHash('md5')
      .update('a.html' + 'sekrit')
      .digest('hex');
    expect(sim(b, { uri: `/p/${h}/a.html` }).status).toBe(200);
    expect(sim(b, { uri: `/p/${h.replace(/.$/, '0')}/a.html` }).status).toBe(h.endsWith('0') ? 200 : 403);
  });
});

describe('the request as nginx sees it', () => {
  it('realip at server level changes $remote_addr for `if`; in a location only for allow/deny', () => {
    const real = 'set_real_ip_from 127.0.0.0/8; real_ip_header X-Forwarded-For;';
    const xff = { 'X-Forwarded-For': '10.9.9.9' };
    expect(sim(`server { ${real} ${guard('x', '$remote_addr = 10.9.9.9').slice(9)}`, { uri: '/', headers: xff }).status).toBe(403);
    expect(
      sim(`server { location / { ${real} if ($remote_addr = 10.9.9.9) { return 403; } deny 10.9.9.9; return 200 "ok"; } }`, {
        uri: '/',
        headers: xff,
      }).status,
    ).toBe(200);
    const denied = sim(`server { location / { ${real} deny 10.9.9.9; } }`, { uri: '/', headers: xff });
    expect(denied.status).toBe(403);
    expect(denied.decidedBy?.name).toBe('deny');
  });
  it('$scheme and $https follow the connection', () => {
    const b = guard('https', '$scheme = https');
    expect(sim(b, { uri: '/', scheme: 'https' }).status).toBe(403);
    expect(sim(b, { uri: '/' }).status).toBe(200);
  });
  it('merge_slashes off is the default server’s, for every virtual host on the address', () => {
    const b = `server { listen 80 default_server; merge_slashes off; location = /a { return 403; } location / { return 200 "ok"; } }
      server { listen 80; server_name other.test; merge_slashes on; location = /a { return 403; } location / { return 200 "ok"; } }`;
    expect(sim(b, { uri: '//a', host: 'other.test' }).status).toBe(200);
    expect(sim(b.replace('merge_slashes off;', ''), { uri: '//a', host: 'other.test' }).status).toBe(403);
  });
  it('auth_request: a local subrequest decides (its access phase is skipped); a proxied one has three outcomes', () => {
    const b = (target: string) => `server { location / { auth_request /auth; return 200 "ok"; }
      location = /auth { internal; deny all; ${target} } location /x/ { auth_request /auth; alias /srv/; } }`;
    expect(sim(b('return 403;'), { uri: '/x/a' }).status).toBe(403);
    expect(sim(b('return 403;'), { uri: '/x/a' }).cause).toBe('N05');
    expect(sim(b('return 401;'), { uri: '/x/a' }).status).toBe(401);
    expect(sim(b('return 404;'), { uri: '/x/a' }).status).toBe(500);
    const p = sim(b('proxy_pass http://127.0.0.1:9;'), { uri: '/x/a' });
    expect(p.possibleOutcomes.map((o) => o.status)).toEqual(expect.arrayContaining([401, 403]));
  });
});
