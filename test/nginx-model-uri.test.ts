import { describe, expect, it } from 'vitest';
import { normalizeUri } from '../src/nginx/model/uri.js';

const u = (s: string, merge = true) => {
  const r = normalizeUri(s, merge);
  return r.ok ? r.uri : `400`;
};

describe('URI normalisation (ngx_http_parse_complex_uri)', () => {
  it('decodes every percent-escape and re-reads decoded slashes and dots', () => {
    expect(u('/a%20b')).toBe('/a b');
    expect(u('/a%2Fb')).toBe('/a/b');
    expect(u('/a/%2e%2e/b')).toBe('/b');
    expect(u('/%2e/x')).toBe('/x');
    expect(u('/a%3Fb')).toBe('/a?b');
    expect(u('/a%25b')).toBe('/a%b');
  });
  it('merges slashes unless merge_slashes is off', () => {
    expect(u('//a///b')).toBe('/a/b');
    expect(u('//a///b', false)).toBe('//a///b');
  });
  it('resolves dot segments, and climbing above the root is 400', () => {
    expect(u('/a/./b/../c')).toBe('/a/c');
    expect(u('/a/..')).toBe('/');
    expect(u('/a/.')).toBe('/a/');
    expect(u('/..')).toBe('400');
    expect(u('/a/../../b')).toBe('400');
    expect(u('/.hidden/..x')).toBe('/.hidden/..x');
  });
  it('splits arguments and rejects bad escapes and %00', () => {
    const r = normalizeUri('/a/../b?x=1/../', true);
    expect(r).toEqual({ ok: true, uri: '/b', args: 'x=1/../' });
    expect(u('/a%zz')).toBe('400');
    expect(u('/a%2')).toBe('400');
    expect(u('/a%00')).toBe('400');
    expect(u('relative')).toBe('400');
  });
});
