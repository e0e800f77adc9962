import { describe, expect, it } from 'vitest';
import {
  accessDiff,
  accessSegments,
  addressText,
  firstMatch,
  parseAccessRule,
  parseClient,
  parseIPv6,
  segmentAllows,
  shadowedBy,
  type AccessRule,
} from '../src/nginx/model/address.js';

const rules = (...xs: [string, string][]): AccessRule[] => xs.map(([a, t]) => parseAccessRule(a as 'allow' | 'deny', t));

describe('allow/deny address parsing', () => {
  it('reads IPv4 hosts and CIDRs, clearing host bits as nginx does (with a warning)', () => {
    const r = parseAccessRule('deny', '10.1.2.3/8');
    expect(r.v4).toEqual({ addr: 0x0a000000, mask: 0xff000000, len: 8 });
    expect(r.warning).toMatch(/low address bits/);
    expect(parseAccessRule('allow', '192.168.0.0/16').warning).toBeUndefined();
    expect(parseAccessRule('allow', '1.2.3.4').v4?.len).toBe(32);
    expect(parseAccessRule('allow', '010.1.1.1').v4?.addr).toBe((10 << 24) + (1 << 16) + (1 << 8) + 1);
  });
  it('refuses what nginx refuses', () => {
    expect(parseAccessRule('allow', '1.2.3.4/33').error).toBeDefined();
    expect(parseAccessRule('allow', '256.1.1.1').error).toBeDefined();
    expect(parseAccessRule('allow', 'example.com').error).toBeDefined();
    expect(parseAccessRule('allow', '::1/129').error).toBeDefined();
    expect(parseAccessRule('allow', '1::2::3').error).toBeDefined();
  });
  it('reads IPv6 in non-canonical forms', () => {
    expect(parseIPv6('::1')).toBe(1n);
    expect(parseIPv6('0:0:0:0:0:0:0:1')).toBe(1n);
    expect(parseIPv6('::FFFF:1.2.3.4')).toBe((0xffffn << 32n) | 0x01020304n);
    expect(parseAccessRule('deny', '2001:DB8::/32').v6?.len).toBe(32);
  });
  it('`all` is one rule in every family, `unix:` only for unix clients', () => {
    expect(parseAccessRule('deny', 'all').families).toEqual(['ipv4', 'ipv6', 'unix']);
    expect(parseAccessRule('deny', 'unix:').families).toEqual(['unix']);
  });
});

describe('first match', () => {
  const list = rules(['allow', '127.0.0.1'], ['deny', '127.0.0.0/8'], ['allow', '::1'], ['deny', 'all']);
  it('applies the first matching rule in order', () => {
    expect(firstMatch(list, '127.0.0.1')?.index).toBe(0);
    expect(firstMatch(list, '127.0.0.2')?.rule.action).toBe('deny');
    expect(firstMatch(list, '127.0.0.2')?.index).toBe(1);
    expect(firstMatch(list, '::1')?.index).toBe(2);
    expect(firstMatch(list, '::2')?.index).toBe(3);
    expect(firstMatch(list, 'unix:')?.index).toBe(3);
  });
  it('checks IPv4-mapped IPv6 clients against the IPv4 rules', () => {
    expect(parseClient('::ffff:127.0.0.1')).toMatchObject({ family: 'ipv4' });
    expect(firstMatch(list, '::ffff:127.0.0.1')?.index).toBe(0);
    expect(firstMatch(list, '::ffff:127.0.0.9')?.index).toBe(1);
  });
  it('no match means the module declines', () => {
    expect(firstMatch(rules(['allow', '10.0.0.0/8']), '127.0.0.1')).toBeNull();
    // IPv6-only child list: IPv4 clients match nothing
    expect(firstMatch(rules(['allow', '::1']), '127.0.0.1')).toBeNull();
  });
});

describe('shadowed rules', () => {
  it('finds a rule covered by an earlier one in every family it applies to', () => {
    const [a, b, c] = rules(['deny', '10.0.0.0/8'], ['allow', '10.1.0.0/16'], ['allow', '11.0.0.0/8']);
    expect(shadowedBy(b, [a])).toEqual([a]);
    expect(shadowedBy(c, [a, b])).toBeNull();
  });
  it('finds a rule covered only by the union of several earlier rules', () => {
    const [lo, hi, inner, wider] = rules(['deny', '10.0.0.0/9'], ['deny', '10.128.0.0/9'], ['allow', '10.1.2.3'], ['allow', '10.0.0.0/7']);
    expect(shadowedBy(inner, [lo, hi])).toEqual([lo]);
    const [a, b, c] = rules(['deny', '10.0.0.0/9'], ['deny', '10.128.0.0/9'], ['allow', '10.0.0.0/8']);
    expect(shadowedBy(c, [a, b])).toEqual([a, b]);
    expect(shadowedBy(wider, [lo, hi])).toBeNull();
    const [g1, g2, v6] = rules(['deny', '2001:db8::/33'], ['deny', '2001:db8:8000::/33'], ['allow', '2001:db8::/32']);
    expect(shadowedBy(v6, [g1, g2])).toEqual([g1, g2]);
    expect(shadowedBy(v6, [g1])).toBeNull();
  });
  it('a rule after `deny all` is dead; `all` after an IPv4-only rule is not', () => {
    const [all, v4, all2] = rules(['deny', 'all'], ['allow', '1.2.3.4'], ['allow', 'all']);
    expect(shadowedBy(v4, [all])).toEqual([all]);
    expect(shadowedBy(all2, [v4])).toBeNull();
    const [z4, z6, un] = rules(['deny', '0.0.0.0/0'], ['deny', '::/0'], ['deny', 'unix:']);
    expect(shadowedBy(all2, [z4, z6, un])).toEqual([z4, z6, un]);
  });
});

describe('how a rule list decides every address (accessSegments, accessDiff)', () => {
  it('partitions a family by the first matching rule, null where none matches', () => {
    const list = rules(['allow', '10.0.0.0/8'], ['deny', '10.1.0.0/16'], ['deny', '192.168.0.0/16']);
    const seg = accessSegments(list, 'ipv4');
    expect(seg.map((s) => [addressText(s.lo, 'ipv4'), addressText(s.hi, 'ipv4'), s.rule?.text ?? null])).toEqual([
      ['0.0.0.0', '9.255.255.255', null],
      ['10.0.0.0', '10.255.255.255', '10.0.0.0/8'],
      ['11.0.0.0', '192.167.255.255', null],
      ['192.168.0.0', '192.168.255.255', '192.168.0.0/16'],
      ['192.169.0.0', '255.255.255.255', null],
    ]);
    // every segment agrees with firstMatch on its ends
    for (const s of seg) for (const v of [s.lo, s.hi]) expect(firstMatch(list, addressText(v, 'ipv4'))?.rule ?? null).toBe(s.rule);
  });
  it('`deny all` first refuses the whole family; an IPv6-only allow leaves IPv4 refused', () => {
    const [v6, all] = rules(['allow', '::1'], ['deny', 'all']);
    expect(accessSegments([v6, all], 'ipv4').every((s) => !segmentAllows(s))).toBe(true);
    expect(accessSegments([v6, all], 'ipv6').some(segmentAllows)).toBe(true);
  });
  it('names the ranges where two lists disagree, with the deciding rule of each', () => {
    const parent = rules(['allow', '10.0.0.0/8'], ['deny', 'all']);
    const child = rules(['allow', '192.168.1.0/24'], ['deny', 'all']);
    const d = accessDiff(parent, child, 'ipv4');
    expect(d.map((p) => [addressText(p.lo, 'ipv4'), addressText(p.hi, 'ipv4'), p.before?.text, p.after?.text])).toEqual([
      ['10.0.0.0', '10.255.255.255', '10.0.0.0/8', 'all'],
      ['192.168.1.0', '192.168.1.255', 'all', '192.168.1.0/24'],
    ]);
    expect(accessDiff(parent, parent, 'ipv4')).toEqual([]);
    expect(addressText(1n, 'ipv6')).toBe('::1');
    expect(addressText(0x20010db8000000000000000000000001n, 'ipv6')).toBe('2001:db8::1');
  });
});
