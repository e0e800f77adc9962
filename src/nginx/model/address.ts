/**
 * allow/deny addresses as nginx reads and matches them.
 *
 * Parsing follows ngx_http_access_rule (src/http/modules/ngx_http_access_module.c) and ngx_parse_cidr /
 * ngx_inet_addr / ngx_inet6_addr (src/core/ngx_inet.c): `all` adds one rule to every address family,
 * `unix:` matches any unix-socket client, an address without `/len` is a host rule, and an address whose
 * bits beyond the mask are set is accepted with those bits cleared (nginx warns "low address bits of … are
 * meaningless"). Matching follows ngx_http_access_handler: the client's family selects the rule list
 * (an IPv4-mapped IPv6 client, ::ffff:a.b.c.d, is checked against the IPv4 rules), rules are tried in
 * order and the first match decides; no match means the access module declines (= allowed).
 */
import type { Directive } from '../../ast.js';

export type Family = 'ipv4' | 'ipv6' | 'unix';

export interface AccessRule {
  action: 'allow' | 'deny';
  /** The argument as written. */
  text: string;
  /** Families this rule is part of (`all` → every family). Shared between rules: never changed. */
  families: readonly Family[];
  all: boolean;
  /** IPv4: network address and mask as unsigned 32-bit numbers. */
  v4?: { addr: number; mask: number; len: number };
  /** IPv6: network address and mask as 128-bit bigints. */
  v6?: { addr: bigint; mask: bigint; len: number };
  /** Set when nginx accepts the value but clears host bits (it logs a warning). */
  warning?: string;
  /** Set when nginx would refuse the value (`nginx -t` fails); such a rule matches nothing here. */
  error?: string;
  directive?: Directive;
}

export type ClientAddress =
  { family: 'ipv4'; v4: number; text: string } | { family: 'ipv6'; v6: bigint; text: string } | { family: 'unix'; text: string };

/** ngx_inet_addr: four decimal parts, each ≤ 255, digits only (leading zeros are decimal). */
export function parseIPv4(s: string): number | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^[0-9]+$/.test(p)) return null;
    const n = Number.parseInt(p, 10);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** ngx_inet6_addr: hex groups, one `::`, an optional trailing dotted IPv4 part. */
export function parseIPv6(s: string): bigint | null {
  if (s.length === 0 || !/^[0-9A-Fa-f:.]+$/.test(s)) return null;
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const gs = part.split(':');
    for (let i = 0; i < gs.length; i++) {
      const g = gs[i];
      if (i === gs.length - 1 && g.includes('.')) {
        const v4 = parseIPv4(g);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
        continue;
      }
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl === -1) {
    const g = parseGroups(s);
    if (!g || g.length !== 8) return null;
    groups = g;
  } else {
    const head = parseGroups(s.slice(0, dbl));
    const tail = parseGroups(s.slice(dbl + 2));
    if (!head || !tail || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  return v;
}

const ALL128 = (1n << 128n) - 1n;
const V4MAPPED_PREFIX = 0xffffn << 32n;

function v4ToText(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Work counter (test/nginx-scale-shape.test.ts: each scope's allow/deny list is parsed once per lint,
 * not once per scope inheriting it or per simulated request). */
export const accessRuleStats = { parsed: 0 };

const ALL_FAMILIES: readonly Family[] = Object.freeze(['ipv4', 'ipv6', 'unix'] as Family[]);
const IPV4: readonly Family[] = Object.freeze(['ipv4'] as Family[]);
const IPV6: readonly Family[] = Object.freeze(['ipv6'] as Family[]);
const NO_FAMILY: readonly Family[] = Object.freeze([] as Family[]);

/** Parse one allow/deny argument the way nginx does. */
export function parseAccessRule(action: 'allow' | 'deny', text: string, directive?: Directive): AccessRule {
  accessRuleStats.parsed++;
  // Object literals, not `{ ...base, … }`: a spread followed by more properties takes V8's slow path
  // (microseconds per object in Node 20), and a lint parses thousands of rules.
  const rule = (families: readonly Family[], all: boolean): AccessRule => ({ action, text, directive, families, all });
  const failed = (error: string): AccessRule => ({ action, text, directive, families: NO_FAMILY, all: false, error });
  if (text === 'all')
    return {
      action,
      text,
      directive,
      families: ALL_FAMILIES,
      all: true,
      v4: { addr: 0, mask: 0, len: 0 },
      v6: { addr: 0n, mask: 0n, len: 0 },
    };
  if (text === 'unix:') return rule(['unix'], false);
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const lenText = slash === -1 ? null : text.slice(slash + 1);
  if (lenText !== null && !/^[0-9]+$/.test(lenText)) {
    return failed(`invalid parameter "${text}"`);
  }
  const v4 = parseIPv4(addrText);
  if (v4 !== null) {
    const len = lenText === null ? 32 : Number.parseInt(lenText, 10);
    if (len > 32) return failed(`invalid parameter "${text}" (prefix length over 32)`);
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    const addr = (v4 & mask) >>> 0;
    const r: AccessRule = { action, text, directive, families: IPV4, all: false, v4: { addr, mask, len } };
    if (addr !== v4) r.warning = `low address bits of ${text} are meaningless (nginx uses ${v4ToText(addr)}/${len})`;
    return r;
  }
  const v6 = parseIPv6(addrText);
  if (v6 !== null) {
    const len = lenText === null ? 128 : Number.parseInt(lenText, 10);
    if (len > 128) return failed(`invalid parameter "${text}" (prefix length over 128)`);
    const mask = len === 0 ? 0n : (ALL128 << BigInt(128 - len)) & ALL128;
    const addr = v6 & mask;
    const r: AccessRule = { action, text, directive, families: IPV6, all: false, v6: { addr, mask, len } };
    if (addr !== v6) r.warning = `low address bits of ${text} are meaningless`;
    return r;
  }
  return failed(`invalid parameter "${text}"`);
}

/** Rules of one allow/deny directive list (in order). */
export function accessRulesOf(directives: Directive[]): AccessRule[] {
  const out: AccessRule[] = [];
  for (const d of directives) {
    if ((d.name === 'allow' || d.name === 'deny') && d.args.length >= 1) out.push(parseAccessRule(d.name, d.args[0].value, d));
  }
  return out;
}

/** Parse a client address: IPv4, IPv6 (IPv4-mapped becomes IPv4, as the access module does), or `unix:`. */
export function parseClient(text: string): ClientAddress | null {
  const t = text.trim();
  if (t === 'unix:' || t.startsWith('unix:')) return { family: 'unix', text: t };
  const v4 = parseIPv4(t);
  if (v4 !== null) return { family: 'ipv4', v4, text: t };
  const bare = t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
  const v6 = parseIPv6(bare);
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn && (v6 & ~((1n << 32n) - 1n)) === V4MAPPED_PREFIX) {
    return { family: 'ipv4', v4: Number(v6 & 0xffffffffn), text: t };
  }
  return { family: 'ipv6', v6, text: t };
}

/** Whether one rule matches a client. */
export function ruleMatches(rule: AccessRule, client: ClientAddress): boolean {
  if (rule.error || !rule.families.includes(client.family)) return false;
  if (client.family === 'unix') return true;
  if (client.family === 'ipv4') return !!rule.v4 && (client.v4 & rule.v4.mask) >>> 0 === rule.v4.addr;
  return !!rule.v6 && (client.v6 & rule.v6.mask) === rule.v6.addr;
}

/** The first rule that matches the client (the one nginx applies), or null (the module declines). */
export function firstMatch(rules: AccessRule[], client: ClientAddress | string): { rule: AccessRule; index: number } | null {
  const c = typeof client === 'string' ? parseClient(client) : client;
  if (!c) return null;
  for (let i = 0; i < rules.length; i++) if (ruleMatches(rules[i], c)) return { rule: rules[i], index: i };
  return null;
}

/** True when every address `inner` matches in `family` is also matched by `outer`. */
function covers(outer: AccessRule, inner: AccessRule, family: Family): boolean {
  if (outer.error || !outer.families.includes(family)) return false;
  if (family === 'unix') return true;
  if (family === 'ipv4') {
    const o = outer.v4!;
    const i = inner.v4!;
    return o.len <= i.len && (i.addr & o.mask) >>> 0 === o.addr;
  }
  const o = outer.v6!;
  const i = inner.v6!;
  return o.len <= i.len && (i.addr & o.mask) === o.addr;
}

/** The address range [lo, hi] a rule covers in one family (IPv4 and IPv6 as bigints). */
function range(r: AccessRule, family: 'ipv4' | 'ipv6'): [bigint, bigint] {
  if (family === 'ipv4') {
    const v = r.v4!;
    const lo = BigInt(v.addr);
    return [lo, lo + (1n << BigInt(32 - v.len)) - 1n];
  }
  const v = r.v6!;
  return [v.addr, v.addr + (1n << BigInt(128 - v.len)) - 1n];
}

/**
 * The earlier rules that make `rule` dead: for every family the rule applies to, earlier rules whose
 * union covers all of its addresses there (one covering rule when there is one, else the smallest
 * set found left to right). Null when some address would still reach `rule`.
 */
export function shadowedBy(rule: AccessRule, earlier: AccessRule[]): AccessRule[] | null {
  if (rule.error || rule.families.length === 0) return null;
  const by: AccessRule[] = [];
  const add = (x: AccessRule) => {
    if (!by.includes(x)) by.push(x);
  };
  for (const f of rule.families) {
    const single = earlier.find((e) => covers(e, rule, f));
    if (single) {
      add(single);
      continue;
    }
    if (f === 'unix') return null;
    const [lo, hi] = range(rule, f);
    const parts = earlier
      .filter((e) => !e.error && e.families.includes(f))
      .map((e) => ({ e, r: range(e, f) }))
      .filter((x) => x.r[1] >= lo && x.r[0] <= hi)
      .sort((a, b) => (a.r[0] < b.r[0] ? -1 : a.r[0] > b.r[0] ? 1 : 0));
    let next = lo;
    const used: AccessRule[] = [];
    for (const x of parts) {
      if (x.r[0] > next) break;
      if (x.r[1] >= next) {
        used.push(x.e);
        next = x.r[1] + 1n;
      }
      if (next > hi) break;
    }
    if (next <= hi) return null;
    used.forEach(add);
  }
  return by;
}

/** One range of addresses of a family and the rule that decides it (null: no rule matches, the
 * access module declines, the client is let through). */
export interface AccessSegment {
  lo: bigint;
  hi: bigint;
  rule: AccessRule | null;
}

/**
 * How a rule list decides every address of one family, as consecutive ranges in address order, each
 * with the first rule that matches it (ngx_http_access_handler: first match wins, none = declined).
 * IPv4-mapped IPv6 clients are checked against the IPv4 list by nginx; the IPv6 answer here is for
 * native IPv6 clients.
 */
export function accessSegments(rules: AccessRule[], family: 'ipv4' | 'ipv6'): AccessSegment[] {
  const top = family === 'ipv4' ? (1n << 32n) - 1n : ALL128;
  let free: [bigint, bigint][] = [[0n, top]];
  const out: AccessSegment[] = [];
  for (const r of rules) {
    if (free.length === 0) break;
    if (r.error || !r.families.includes(family)) continue;
    const [a, b] = range(r, family);
    const next: [bigint, bigint][] = [];
    for (const [lo, hi] of free) {
      if (hi < a || lo > b) {
        next.push([lo, hi]);
        continue;
      }
      const s = lo > a ? lo : a;
      const e = hi < b ? hi : b;
      out.push({ lo: s, hi: e, rule: r });
      if (lo < s) next.push([lo, s - 1n]);
      if (e < hi) next.push([e + 1n, hi]);
    }
    free = next;
  }
  for (const [lo, hi] of free) out.push({ lo, hi, rule: null });
  return out.sort((x, y) => (x.lo < y.lo ? -1 : x.lo > y.lo ? 1 : 0));
}

/** Whether a segment's verdict lets the client through (no rule, or `allow`). */
export const segmentAllows = (s: { rule: AccessRule | null }): boolean => s.rule === null || s.rule.action === 'allow';

/** Where two rule lists disagree about a family: ranges with the rule of each list that decides them. */
export function accessDiff(
  before: AccessRule[],
  after: AccessRule[],
  family: 'ipv4' | 'ipv6',
): { lo: bigint; hi: bigint; before: AccessRule | null; after: AccessRule | null }[] {
  const a = accessSegments(before, family);
  const b = accessSegments(after, family);
  const out: { lo: bigint; hi: bigint; before: AccessRule | null; after: AccessRule | null }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = a[i].lo > b[j].lo ? a[i].lo : b[j].lo;
    const hi = a[i].hi < b[j].hi ? a[i].hi : b[j].hi;
    if (lo <= hi && segmentAllows(a[i]) !== segmentAllows(b[j])) out.push({ lo, hi, before: a[i].rule, after: b[j].rule });
    if (a[i].hi === hi) i++;
    if (b[j].hi === hi) j++;
  }
  return out;
}

/** An address of a family as text (IPv6 in full lower-case hex groups, `::` for the longest zero run). */
export function addressText(v: bigint, family: 'ipv4' | 'ipv6'): string {
  if (family === 'ipv4') return v4ToText(Number(v));
  const g: number[] = [];
  for (let k = 7; k >= 0; k--) g.push(Number((v >> BigInt(16 * k)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let s = 0; s < 8; s++) {
    let e = s;
    while (e < 8 && g[e] === 0) e++;
    if (e - s > bestLen) {
      best = s;
      bestLen = e - s;
    }
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  return best === -1 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}
