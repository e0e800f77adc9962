/** The explain request parser: URLs, paths, addresses, headers; bad input is an error message, never a throw. */
import { describe, expect, it } from 'vitest';
import { isIPv4, isIPv6, parseExplainRequest } from '../src/explain/request.js';

describe('parseExplainRequest', () => {
  it('a path: no Host, no port, the default client', () => {
    const r = parseExplainRequest({ target: '/admin/?a=1#frag' });
    expect(r).toEqual({
      ok: true,
      request: {
        method: 'GET',
        target: '/admin/?a=1',
        host: undefined,
        hostFrom: 'none',
        port: undefined,
        scheme: 'http',
        clientIp: '127.0.0.1',
        clientIpDefaulted: true,
        headers: {},
        user: undefined,
      },
    });
  });
  it('a URL: Host and port from it, the path kept as written (no dot-segment resolution)', () => {
    const r = parseExplainRequest({ target: 'http://Example.com:8080/a/../b%2e?x', method: 'POST', ip: '10.0.0.7' });
    expect(r.ok && r.request).toMatchObject({
      host: 'Example.com',
      hostFrom: 'url',
      port: 8080,
      target: '/a/../b%2e?x',
      method: 'POST',
      clientIp: '10.0.0.7',
      clientIpDefaulted: false,
    });
  });
  it('default ports by scheme, user info dropped, empty path is /', () => {
    expect(parseExplainRequest({ target: 'https://u:p@h.test' })).toMatchObject({
      ok: true,
      request: { host: 'h.test', port: 443, target: '/', scheme: 'https' },
    });
    expect(parseExplainRequest({ target: 'http://h.test?q' })).toMatchObject({ ok: true, request: { port: 80, target: '/?q' } });
    expect(parseExplainRequest({ target: 'http://[::1]:81/' })).toMatchObject({ ok: true, request: { host: '[::1]', port: 81 } });
  });
  it('a Host header wins over the URL', () => {
    const r = parseExplainRequest({ target: 'http://a.test/', headers: ['Host: b.test', 'X-Forwarded-For: 10.1.1.1'] });
    expect(r.ok && r.request).toMatchObject({
      host: 'b.test',
      hostFrom: 'header',
      headers: { Host: 'b.test', 'X-Forwarded-For': '10.1.1.1' },
    });
  });
  it('--proxy PORT: the URL in absolute form to that port of the server, Host from the URL', () => {
    const r = parseExplainRequest({ target: 'http://Example.test:8080/a?b=1#f', proxy: '3128' });
    expect(r.ok && r.request).toMatchObject({
      target: '/a?b=1',
      absoluteTarget: 'http://Example.test:8080/a?b=1',
      host: 'Example.test',
      hostFrom: 'url',
      port: 3128,
      scheme: 'http',
      headers: { Host: 'Example.test:8080' },
    });
    // an https URL asked of a proxy: the connection to the proxy is still plain http
    const s = parseExplainRequest({ target: 'https://a.test/', proxy: 80, headers: ['Host: other.test'] });
    expect(s.ok && s.request).toMatchObject({
      absoluteTarget: 'https://a.test/',
      host: 'a.test',
      scheme: 'http',
      headers: { Host: 'other.test' },
    });
    expect(parseExplainRequest({ target: '/a', proxy: '80' })).toEqual({
      ok: false,
      error: '--proxy needs the absolute URL a client asks the proxy for (e.g. http://example.test/), not "/a"',
    });
    for (const bad of ['0', '65536', 'x', '80x', ''])
      expect(parseExplainRequest({ target: 'http://a.test/', proxy: bad })).toMatchObject({
        ok: false,
        error: expect.stringMatching(/^--proxy ".*" is not a port/),
      });
    // without --proxy nothing changes
    expect(parseExplainRequest({ target: 'http://a.test/' })).toMatchObject({ ok: true, request: { target: '/', port: 80 } });
    const plain = parseExplainRequest({ target: 'http://a.test/' });
    expect(plain.ok && 'absoluteTarget' in plain.request).toBe(false);
  });
  it('IPv6 and bracketed client addresses', () => {
    expect(parseExplainRequest({ target: '/', ip: '[2001:db8::7]' })).toMatchObject({ ok: true, request: { clientIp: '2001:db8::7' } });
    expect(parseExplainRequest({ target: '/', ip: '::ffff:10.0.0.1' })).toMatchObject({
      ok: true,
      request: { clientIp: '::ffff:10.0.0.1' },
    });
  });
  const bad: [string, Parameters<typeof parseExplainRequest>[0], RegExp][] = [
    ['empty target', { target: '' }, /no URL or path given/],
    ['relative path', { target: 'admin/' }, /neither a path starting with \//],
    ['other scheme', { target: 'file:///etc/passwd' }, /only http:\/\/ and https:\/\//],
    ['no host', { target: 'http:///x' }, /has no host/],
    ['port 0', { target: 'http://h:0/' }, /port 0 is out of range/],
    ['control character', { target: '/a\u0001' }, /a control character \(U\+0001\)/],
    ['non-ASCII', { target: '/café' }, /non-ASCII character "é"/],
    ['bad IPv4', { target: '/', ip: '256.1.1.1' }, /not an IPv4 or IPv6 address/],
    ['bad IPv6', { target: '/', ip: '1::2::3' }, /not an IPv4 or IPv6 address/],
    ['header without name', { target: '/', headers: [': v'] }, /is not "Name: value"/],
    ['header with a bad name', { target: '/', headers: ['A B: v'] }, /not a valid header name/],
    ['user with a colon', { target: '/', user: 'a:b' }, /not a user name/],
    ['method with a space', { target: '/', method: 'GET X' }, /not an HTTP method/],
  ];
  for (const [name, input, msg] of bad) {
    it(`refuses ${name}`, () => {
      const r = parseExplainRequest(input);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error).toMatch(msg);
    });
  }
});

describe('address syntax', () => {
  it('IPv4', () => {
    expect(['0.0.0.0', '10.0.0.7', '255.255.255.255'].every(isIPv4)).toBe(true);
    expect(['10.0.0', '10.0.0.256', '1.2.3.4.5', 'a.b.c.d', ''].some(isIPv4)).toBe(false);
  });
  it('IPv6', () => {
    expect(['::', '::1', '2001:db8::1', '1:2:3:4:5:6:7:8', '::ffff:1.2.3.4', '1:2:3:4:5:6:1.2.3.4'].every(isIPv6)).toBe(true);
    expect(['1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', ':::', '1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', 'g::1'].some(isIPv6)).toBe(false);
  });
});
