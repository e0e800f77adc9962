/**
 * mod_access_compat: Order / Allow / Deny / Satisfy (modules/aaa/mod_access_compat.c).
 *
 * The module has no merge function, so a section that uses any of these directives gets a fresh
 * config that *replaces* the inherited one (server/config.c: ap_merge_per_dir_configs keeps the
 * new vector entry when the module has no merger). check_dir_access evaluates every Allow and
 * every Deny line; their order in the file does not matter, only `Order` does.
 */
import type { Directive } from '../../ast.js';
import { ALL_METHODS, inSet, type MethodSet } from './methods.js';
import { parseSubnet, subnetMatches, type Subnet } from './net.js';

export type OrderKind = 'deny,allow' | 'allow,deny' | 'mutual-failure';
export type SatisfyKind = 'all' | 'any' | 'nospec';

export interface AllowDenyEntry {
  allow: boolean;
  type: 'all' | 'ip' | 'host' | 'env' | 'nenv';
  value: string;
  subnet: Subnet | null;
  limited: MethodSet;
  directive: Directive;
}

export interface AccessCompatConf {
  /** Order assignments in config order, each for the methods its `<Limit>` covered. */
  orders: { order: OrderKind; limited: MethodSet; directive: Directive }[];
  entries: AllowDenyEntry[];
  satisfies: { satisfy: SatisfyKind; limited: MethodSet; directive: Directive }[];
  /** The first directive of the section that created this config (for traces). */
  origin: Directive;
}

export function newAccessCompat(origin: Directive): AccessCompatConf {
  return { orders: [], entries: [], satisfies: [], origin };
}

/** Apply one order/allow/deny/satisfy directive; returns httpd's error text or null. */
export function applyAccessCompat(conf: AccessCompatConf, d: Directive, limited: MethodSet = ALL_METHODS): string | null {
  const args = d.args.map((a) => a.value);
  if (d.key === 'order') {
    const v = (args[0] ?? '').toLowerCase();
    if (args.length !== 1 || !['allow,deny', 'deny,allow', 'mutual-failure'].includes(v)) return 'unknown order';
    conf.orders.push({ order: v as OrderKind, limited, directive: d });
    return null;
  }
  if (d.key === 'satisfy') {
    const v = (args[0] ?? '').toLowerCase();
    if (v !== 'all' && v !== 'any') return "Satisfy either 'any' or 'all'.";
    conf.satisfies.push({ satisfy: v, limited, directive: d });
    return null;
  }
  if (d.key === 'allow' || d.key === 'deny') {
    if ((args[0] ?? '').toLowerCase() !== 'from') return "allow and deny must be followed by 'from'";
    if (args.length < 2) return `${d.name} requires at least two arguments`;
    for (const where of args.slice(1)) {
      const lw = where.toLowerCase();
      let e: AllowDenyEntry;
      const base = { allow: d.key === 'allow', limited, directive: d, subnet: null };
      if (lw.startsWith('env=!')) e = { ...base, type: 'nenv', value: where.slice(5) };
      else if (lw.startsWith('env=')) e = { ...base, type: 'env', value: where.slice(4) };
      else if (lw === 'all') e = { ...base, type: 'all', value: where };
      else {
        const sub = parseSubnet(where);
        if (sub) e = { ...base, type: 'ip', value: where, subnet: sub };
        else if (where.includes('/')) return 'An IP address was expected';
        else if (where.includes('#')) return 'No comments are allowed here';
        else e = { ...base, type: 'host', value: where };
      }
      conf.entries.push(e);
    }
    return null;
  }
  return null;
}

export function orderFor(conf: AccessCompatConf, method: string): { order: OrderKind; directive: Directive | null } {
  let o: { order: OrderKind; directive: Directive | null } = { order: 'deny,allow', directive: null };
  for (const x of conf.orders) if (inSet(x.limited, method)) o = { order: x.order, directive: x.directive };
  return o;
}

export function satisfyFor(conf: AccessCompatConf | null, method: string): { satisfy: SatisfyKind; directive: Directive | null } {
  let s: { satisfy: SatisfyKind; directive: Directive | null } = { satisfy: 'nospec', directive: null };
  if (!conf) return s;
  for (const x of conf.satisfies) if (inSet(x.limited, method)) s = { satisfy: x.satisfy, directive: x.directive };
  return s;
}

export interface CompatRequest {
  method: string;
  clientIp: string;
  /** Environment variables (SetEnvIf…); null when the model cannot know them. */
  env: Record<string, string> | null;
}

type Match = { matched: true; by: Directive } | { matched: false } | { unknown: string; by: Directive };

function find(conf: AccessCompatConf, allow: boolean, req: CompatRequest): Match {
  let unknown: Match | null = null;
  for (const e of conf.entries) {
    if (e.allow !== allow || !inSet(e.limited, req.method)) continue;
    switch (e.type) {
      case 'all':
        return { matched: true, by: e.directive };
      case 'ip':
        if (subnetMatches(e.subnet!, req.clientIp)) return { matched: true, by: e.directive };
        break;
      case 'env':
      case 'nenv': {
        if (req.env === null) {
          unknown ??= { unknown: `depends on environment variable ${e.value}`, by: e.directive };
          break;
        }
        const set = Object.prototype.hasOwnProperty.call(req.env, e.value);
        if (set === (e.type === 'env')) return { matched: true, by: e.directive };
        break;
      }
      case 'host':
        unknown ??= { unknown: `host name "${e.value}" needs a double-reverse DNS lookup of ${req.clientIp}`, by: e.directive };
        break;
    }
  }
  return unknown ?? { matched: false };
}

export interface CompatVerdict {
  /** 'unknown' when a host/env entry could change the answer. */
  result: 'ok' | 'forbidden' | 'unknown';
  by: Directive | null;
  why: string;
}

/** check_dir_access for one request. */
export function checkAccessCompat(conf: AccessCompatConf, req: CompatRequest): CompatVerdict {
  const { order, directive: orderDir } = orderFor(conf, req.method);
  const a = find(conf, true, req);
  const d = find(conf, false, req);
  const isM = (m: Match) => 'matched' in m && m.matched;
  const isU = (m: Match) => 'unknown' in m;
  const by = (m: Match) => ('by' in m ? m.by : null);
  const unknownWhy = [a, d]
    .filter(isU)
    .map((m) => (m as { unknown: string }).unknown)
    .join('; ');
  const orderName = `Order ${order}${orderDir ? '' : ' (default)'}`;
  if (order === 'allow,deny') {
    if (isM(d)) return { result: 'forbidden', by: by(d), why: `${orderName}: a Deny line matches` };
    if (isU(d)) return { result: 'unknown', by: by(d), why: unknownWhy };
    if (isM(a)) return { result: 'ok', by: by(a), why: `${orderName}: an Allow line matches and no Deny does` };
    if (isU(a)) return { result: 'unknown', by: by(a), why: unknownWhy };
    return { result: 'forbidden', by: orderDir ?? conf.origin, why: `${orderName}: no Allow line matches ${req.clientIp}` };
  }
  if (order === 'deny,allow') {
    if (isM(a)) return { result: 'ok', by: by(a), why: `${orderName}: an Allow line matches` };
    if (isU(a)) return { result: 'unknown', by: by(a), why: unknownWhy };
    if (isM(d)) return { result: 'forbidden', by: by(d), why: `${orderName}: a Deny line matches and no Allow does` };
    if (isU(d)) return { result: 'unknown', by: by(d), why: unknownWhy };
    return { result: 'ok', by: orderDir, why: `${orderName}: nothing matches, allowed` };
  }
  if (isM(a) && !isM(d) && !isU(d)) return { result: 'ok', by: by(a), why: `${orderName}: Allow matches, Deny does not` };
  if (isM(d) || (!isM(a) && !isU(a)))
    return { result: 'forbidden', by: by(d) ?? orderDir, why: `${orderName}: needs an Allow match and no Deny match` };
  return { result: 'unknown', by: by(a) ?? by(d), why: unknownWhy };
}
