/**
 * nginx variables as the simulator evaluates them for one request: the request's own ($uri, $args,
 * $arg_*, $http_*, $cookie_*, $remote_addr after realip, $scheme, $host, …), `set`, regex captures,
 * and the ones the config computes: `map` (exact, `hostnames` wildcards, regexes, `default`,
 * `volatile`), `geo` (CIDR, `ranges`, `default`, `proxy`, `delete`), `split_clients` (nginx's
 * MurmurHash2 of the key), `valid_referers` ($invalid_referer) and `secure_link` ($secure_link,
 * MD5 and expiry). Each config-computed value is a trace step at the directive that gave it.
 */
import { createHash } from 'node:crypto';
import type { Directive, Node } from '../../ast.js';
import { expandIncludes } from '../../walk.js';
import { parseAccessRule, parseClient, parseIPv4, ruleMatches, type AccessRule, type ClientAddress } from './address.js';
import { openAs } from './fs.js';
import { fromBinary, isUnknown, matchRegex, toBinary, translatePcre } from './regex.js';
import { effectiveSettings } from './settings.js';
import type { ReqState, Sim } from './sim/context.js';
import { at } from './sim/types.js';
import { nearest, type NginxModel, type Scope } from './tree.js';

/** Values of config-computed variables already evaluated in one run. */
export type VarCache = Map<string, string | null>;

/** Expand `$var` / `${var}` in a value; undefined when any variable is unknown. */
export function expand(sim: Sim, s: string, st: ReqState, phase: string): string | undefined {
  let unknown = false;
  const out = s.replace(/\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (_m, a: string | undefined, b: string | undefined) => {
    const v = variable(sim, a ?? b!, st, phase);
    if (v === undefined) {
      unknown = true;
      return '';
    }
    return v;
  });
  return unknown ? undefined : out;
}

/** The value of `$name` (a binary string), undefined when the simulator cannot know it. */
export function variable(sim: Sim, name: string, st: ReqState, phase: string): string | undefined {
  if (/^[0-9]$/.test(name)) return st.captures[Number(name)] ?? '';
  if (st.vars.has(name)) return st.vars.get(name) ?? undefined;
  const def = definitions(sim.model).get(name);
  if (def) return computed(sim, name, def, st, phase);
  const h = (k: string) => sim.headers.get(k);
  switch (name) {
    case 'uri':
    case 'document_uri':
      return st.uri;
    case 'request_uri':
      return toBinary(st.rawTarget);
    case 'args':
    case 'query_string':
      return st.args ?? '';
    case 'is_args':
      return st.args ? '?' : '';
    case 'request_method':
      return st.method;
    case 'remote_addr':
      return sim.realAddr ?? sim.req.clientIp ?? '127.0.0.1';
    case 'binary_remote_addr':
      return undefined;
    case 'host': {
      const hv = sim.req.lineHost ?? h('host');
      if (hv)
        return hv
          .toLowerCase()
          .replace(/:[0-9]+$/, '')
          .replace(/\.$/, '');
      return sim.server?.names[0]?.name ?? '';
    }
    case 'server_name':
      return sim.server?.names[0]?.name ?? '';
    case 'scheme':
      return sim.req.scheme ?? 'http';
    case 'https':
      return sim.req.scheme === 'https' ? 'on' : '';
    case 'server_protocol':
      return 'HTTP/1.1';
    case 'server_port':
      return String(sim.req.port ?? sim.server?.listens[0]?.port ?? 80);
    case 'server_addr':
      return sim.req.localAddr ?? '127.0.0.1';
    case 'nginx_version':
      return '1.22.1';
    case 'document_root': {
      const root = sim.docRoot(sim.scope(), st);
      return root ?? undefined;
    }
    case 'request_filename': {
      const p = sim.mapPath(sim.scope(), st.uri, st);
      return p === null ? undefined : toBinary(p);
    }
    case 'invalid_referer':
      return invalidReferer(sim, phase);
    case 'secure_link':
      return secureLink(sim, st, phase).value;
    case 'secure_link_expires':
      return secureLink(sim, st, phase).expires;
    default:
      break;
  }
  if (name.startsWith('http_')) {
    const v = h(name.slice(5).replace(/_/g, '-'));
    return v ?? '';
  }
  if (name.startsWith('arg_')) {
    const key = name.slice(4).toLowerCase();
    for (const kv of (st.args ?? '').split('&')) {
      const i = kv.indexOf('=');
      const k = i === -1 ? kv : kv.slice(0, i);
      if (k.toLowerCase() === key) return i === -1 ? '' : kv.slice(i + 1);
    }
    return '';
  }
  if (name.startsWith('cookie_')) {
    const key = name.slice(7);
    for (const part of (h('cookie') ?? '').split(/;\s*/)) {
      const i = part.indexOf('=');
      if (i !== -1 && part.slice(0, i) === key) return part.slice(i + 1);
    }
    return '';
  }
  if (st.named[name] !== undefined) return st.named[name];
  sim.r.unknown.push(`$${name} is not known to the simulator (map, geo, split_clients or a module variable)`);
  return undefined;
}

/** The condition of an `if` as written, without the parentheses. */
export function condText(d: Directive): string {
  return d.args
    .map((a) => a.raw)
    .join(' ')
    .replace(/^\(|\)$/g, '');
}

/** `set $name value`. */
export function setVariable(sim: Sim, d: Directive, st: ReqState, phase: string): void {
  const name = (d.args[0]?.value ?? '').replace(/^\$/, '');
  const v = expand(sim, d.args[1]?.value ?? '', st, phase);
  st.vars.set(name, v === undefined ? null : v);
  if (sim.tracing) sim.step(phase, `set $${name} = ${v === undefined ? '(unknown)' : `"${fromBinary(v)}"`}`, d);
}

/** The operands of each `if` without the parentheses, read once per directive (every simulated
 * request through the scope evaluates it; the config does not change). Read only. */
const conditions = new WeakMap<Directive, readonly string[]>();
function operands(d: Directive): readonly string[] {
  let a = conditions.get(d) as string[] | undefined;
  if (a) return a;
  // The parentheses are tokens of their own or stick to the first/last argument (unquoted).
  a = d.args.map((x) => x.value);
  const raws = d.args.map((x) => x.raw);
  if (raws[0] === '(') (a.shift(), raws.shift());
  else if (a.length && raws[0].startsWith('(')) a[0] = a[0].slice(1);
  if (raws[raws.length - 1] === ')') (a.pop(), raws.pop());
  else if (a.length && raws[raws.length - 1].endsWith(')') && d.args.at(-1)!.quote === null) a[a.length - 1] = a[a.length - 1].slice(0, -1);
  conditions.set(d, a);
  return a;
}

/** Evaluate an `if` condition (ngx_http_rewrite_if_condition); unknown parts become a choice point. */
export function ifCondition(sim: Sim, d: Directive, st: ReqState, phase: string): boolean {
  const a = operands(d);
  const ask = (why: string): boolean =>
    sim.r.choose(`if:${at(d)}:${st.uri}`, [`if (${condText(d)}) is true (${why})`, `if (${condText(d)}) is false (${why})`]) === 0;
  if (a.length === 1) {
    const v = expand(sim, a[0], st, phase);
    if (v === undefined) return ask(`${a[0]} is not known`);
    return v !== '' && v !== '0';
  }
  if (a.length === 2 && /^!?-[fdex]$/.test(a[0])) {
    const neg = a[0].startsWith('!');
    const op = a[0].slice(neg ? 2 : 1);
    const p = expand(sim, a[1], st, phase);
    if (p === undefined) return ask(`${a[1]} is not known`);
    const path = fromBinary(p);
    let res: boolean;
    if (sim.req.fs && sim.worker) {
      const o = openAs(sim.req.fs, path, sim.worker);
      res = !o.ok ? false : op === 'f' ? o.type === 'file' : op === 'd' ? o.type === 'dir' : op === 'e' ? true : o.type === 'file';
    } else {
      const o = sim.open(
        path,
        effectiveSettings(sim.scope()),
        false,
        `-${op}`,
        op === 'd' ? ['dir', 'none'] : op === 'e' ? ['file', 'none', 'dir'] : ['file', 'none'],
      );
      res = !o.ok ? false : op === 'd' ? o.type === 'dir' : op === 'e' ? true : o.type === 'file';
    }
    return neg ? !res : res;
  }
  if (a.length === 3) {
    const lhs = expand(sim, a[0], st, phase);
    const op = a[1];
    if (lhs === undefined) return ask(`${a[0]} is not known`);
    if (op === '=' || op === '!=') {
      const rhs = expand(sim, a[2], st, phase);
      if (rhs === undefined) return ask(`${a[2]} is not known`);
      return (lhs === rhs) === (op === '=');
    }
    if (op === '~' || op === '~*' || op === '!~' || op === '!~*') {
      const v = translatePcre(a[2], op.endsWith('*'), d);
      if (!v.ok) return ask(`the regex cannot be evaluated: ${v.reason}`);
      const m = matchRegex(v, lhs);
      if (m && isUnknown(m)) return ask(`the regex cannot be evaluated: ${m.unknown}`);
      if (m && !op.startsWith('!')) {
        st.captures = m.captures;
        for (const [k, val] of Object.entries(m.named)) if (val !== undefined) st.vars.set(k, val);
      }
      return !!m !== op.startsWith('!');
    }
  }
  return ask('condition not understood');
}

// ---------------------------------------------------------------- map, geo, split_clients

const defsCache = new WeakMap<NginxModel, Map<string, Directive>>();

/** The `map`/`geo`/`split_clients` blocks by the variable they define (the last one wins, as nginx
 * replaces the handler of a changeable variable). */
export function definitions(model: NginxModel): Map<string, Directive> {
  const cached = defsCache.get(model);
  if (cached) return cached;
  const out = new Map<string, Directive>();
  for (const d of model.http.body) {
    if (!d.block) continue;
    const target = d.name === 'geo' ? d.args.at(-1)?.value : d.name === 'map' || d.name === 'split_clients' ? d.args[1]?.value : undefined;
    if (target?.startsWith('$')) out.set(target.slice(1), d);
  }
  defsCache.set(model, out);
  return out;
}

function entries(sim: Sim, d: Directive): Directive[] {
  return expandIncludes(sim.model.set, d.block ?? []).filter((n: Node): n is Directive => n.type === 'directive');
}

const show = (v: string) => JSON.stringify(fromBinary(v));

/** The value of a map/geo/split_clients variable, computed once per request unless `volatile`. */
function computed(sim: Sim, name: string, d: Directive, st: ReqState, phase: string): string | undefined {
  if (sim.varCache.has(name)) return sim.varCache.get(name) ?? undefined;
  let volatile = false;
  let v: string | undefined;
  if (d.name === 'map') {
    const r = evalMap(sim, name, d, st, phase);
    v = r.value;
    volatile = r.volatile;
  } else if (d.name === 'geo') v = evalGeo(sim, name, d, st, phase);
  else v = evalSplit(sim, name, d, st, phase);
  if (!volatile) sim.varCache.set(name, v ?? null);
  return v;
}

function evalMap(sim: Sim, name: string, d: Directive, st: ReqState, phase: string): { value: string | undefined; volatile: boolean } {
  const es = entries(sim, d);
  let hostnames = false;
  let volatile = false;
  let def: Directive | null = null;
  const exact: Directive[] = [];
  const regexes: Directive[] = [];
  for (const e of es) {
    if (e.name === 'hostnames' && e.args.length === 0) hostnames = true;
    else if (e.name === 'volatile' && e.args.length === 0) volatile = true;
    else if (e.name === 'default') def = e;
    else if (e.name.startsWith('~')) regexes.push(e);
    else exact.push(e);
  }
  const srcText = d.args[0]?.value ?? '';
  const src = expand(sim, srcText, st, phase);
  const label = `map ${d.args[0]?.raw ?? ''} $${name}`;
  if (src === undefined) {
    if (sim.tracing) sim.step(phase, `$${name}: ${label} cannot be evaluated: ${srcText} is not known`, d);
    return { value: undefined, volatile };
  }
  const finish = (e: Directive | null, why: string): { value: string | undefined; volatile: boolean } => {
    const raw = e ? (e.args[0]?.value ?? '') : '';
    const value = expand(sim, raw, st, phase);
    if (sim.tracing)
      sim.step(
        phase,
        `$${name} = ${value === undefined ? '(unknown)' : show(value)} from ${label}${volatile ? ' (volatile)' : ''}: ${why}`,
        e ?? d,
      );
    return { value, volatile };
  };
  let key = src;
  if (hostnames && key.endsWith('.')) key = key.slice(0, -1);
  const low = key.toLowerCase();
  const literal = (e: Directive) => (e.name.startsWith('\\') ? e.name.slice(1) : e.name).toLowerCase();
  for (const e of exact) {
    const k = literal(e);
    if (k === low && !(hostnames && (k.startsWith('*.') || k.startsWith('.') || k.endsWith('.*'))))
      return finish(e, `${show(src)} is the key ${JSON.stringify(e.name)}`);
  }
  if (hostnames) {
    let best: Directive | null = null;
    let bestLen = -1;
    for (const e of exact) {
      const k = literal(e);
      const suffix = k.startsWith('*.') ? k.slice(1) : k.startsWith('.') ? k : null;
      const hit = suffix !== null && (low.endsWith(suffix) || (k.startsWith('.') && low === k.slice(1)));
      if (hit && k.length > bestLen) [best, bestLen] = [e, k.length];
    }
    if (!best)
      for (const e of exact) {
        const k = literal(e);
        if (k.endsWith('.*') && low.startsWith(k.slice(0, -1)) && k.length > bestLen) [best, bestLen] = [e, k.length];
      }
    if (best) return finish(best, `${show(src)} matches the wildcard ${best.name}`);
  }
  for (const e of regexes) {
    const caseless = e.name.startsWith('~*');
    const pat = e.name.slice(caseless ? 2 : 1);
    const rx = translatePcre(pat, caseless, e);
    const m = rx.ok ? matchRegex(rx, src) : null;
    if (!rx.ok || (m && isUnknown(m))) {
      const why = !rx.ok ? rx.reason : (m as { unknown: string }).unknown;
      const i = sim.r.choose(`map:${at(e)}:${src}`, [
        `map regex ${e.name} matches ${show(src)} (${why})`,
        `map regex ${e.name} does not match`,
      ]);
      if (i === 1) continue;
      return finish(e, `assumed to match ${e.name}`);
    }
    if (m && !isUnknown(m)) {
      if (m.captures.length > 1) st.captures = m.captures;
      for (const [k, val] of Object.entries(m.named)) if (val !== undefined) st.vars.set(k, val);
      return finish(e, `${show(src)} matched ${e.name}`);
    }
  }
  return finish(def, def ? `${show(src)} matches no key: default` : `${show(src)} matches no key and there is no default: empty`);
}

/** An address for geo: as nginx parses the source value (not an address: 255.255.255.255). */
function geoAddress(text: string): ClientAddress {
  return parseClient(text) ?? { family: 'ipv4', v4: 0xffffffff, text };
}

function evalGeo(sim: Sim, name: string, d: Directive, st: ReqState, phase: string): string | undefined {
  const es = entries(sim, d);
  const label = `geo${d.args.length > 1 ? ` ${d.args[0].raw}` : ''} $${name}`;
  let addrText: string | undefined;
  if (d.args.length > 1) addrText = expand(sim, d.args[0].value, st, phase);
  else addrText = sim.realAddr ?? sim.req.clientIp ?? '127.0.0.1';
  if (addrText === undefined) {
    if (sim.tracing) sim.step(phase, `$${name}: ${label} cannot be evaluated: ${d.args[0].raw} is not known`, d);
    return undefined;
  }
  const ranges = es.some((e) => e.name === 'ranges' && e.args.length === 0);
  const proxies: AccessRule[] = es.filter((e) => e.name === 'proxy').map((e) => parseAccessRule('allow', e.args[0]?.value ?? '', e));
  const recursive = es.some((e) => e.name === 'proxy_recursive');
  let addr = geoAddress(fromBinary(addrText));
  let via = '';
  if (d.args.length === 1 && proxies.length && proxies.some((p) => ruleMatches(p, addr))) {
    // ngx_http_geo_real_addr: X-Forwarded-For from a trusted proxy
    const xff = (sim.headers.get('x-forwarded-for') ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    let real: string | undefined = xff[xff.length - 1];
    if (recursive)
      for (let i = xff.length - 1; i >= 0; i--) {
        real = xff[i];
        const c = parseClient(xff[i]);
        if (!c || !proxies.some((p) => ruleMatches(p, c))) break;
      }
    const c = real ? parseClient(real) : null;
    if (c) {
      via = ` (${addr.text} is a trusted proxy: the address ${c.text} from X-Forwarded-For)`;
      addr = c;
    }
  }
  let def: Directive | null = null;
  let best: Directive | null = null;
  if (ranges) {
    const v4 = addr.family === 'ipv4' ? addr.v4 : null;
    for (const e of es) {
      if (e.name === 'default') def = e;
      const m = /^([0-9.]+)-([0-9.]+)$/.exec(e.name);
      if (!m) continue;
      const lo = parseIPv4(m[1]);
      const hi = parseIPv4(m[2]);
      if (lo === null || hi === null || v4 === null) continue;
      if (e.name.startsWith('delete')) continue;
      if (v4 >= lo && v4 <= hi) best = e; // a later range replaces an earlier one where they overlap
    }
    for (const e of es) {
      if (e.name !== 'delete' || !best || v4 === null) continue;
      const m = /^([0-9.]+)-([0-9.]+)$/.exec(e.args[0]?.value ?? '');
      const lo = m ? parseIPv4(m[1]) : null;
      const hi = m ? parseIPv4(m[2]) : null;
      if (lo !== null && hi !== null && v4 >= lo && v4 <= hi) best = null;
    }
  } else {
    const nets: { e: Directive; rule: AccessRule; len: number }[] = [];
    const key = (r: AccessRule) => (r.v4 ? `4:${r.v4.addr}/${r.v4.len}` : r.v6 ? `6:${r.v6.addr}/${r.v6.len}` : r.text);
    for (const e of es) {
      if (['ranges', 'proxy', 'proxy_recursive', 'include'].includes(e.name)) continue;
      if (e.name === 'delete') {
        const r = parseAccessRule('allow', e.args[0]?.value ?? '');
        for (let i = nets.length - 1; i >= 0; i--) if (key(nets[i].rule) === key(r)) nets.splice(i, 1);
        continue;
      }
      if (e.name === 'default' || e.name === '0.0.0.0/0') {
        def = e;
        continue;
      }
      const rule = parseAccessRule('allow', e.name, e);
      if (rule.error || rule.all) continue;
      const len = rule.v4?.len ?? rule.v6?.len ?? 0;
      const same = nets.findIndex((n) => key(n.rule) === key(rule));
      if (same >= 0) nets.splice(same, 1); // a duplicate network: the later value replaces it
      nets.push({ e, rule, len });
    }
    let bestLen = -1;
    for (const n of nets)
      if (ruleMatches(n.rule, addr) && n.len > bestLen) {
        best = n.e;
        bestLen = n.len;
      }
  }
  const pick = best ?? def;
  const value = pick ? (pick.args[0]?.value ?? '') : '';
  if (sim.tracing)
    sim.step(
      phase,
      `$${name} = ${show(value)} from ${label}: ${addr.text}${via} ${best ? `is in ${best.name}` : pick ? 'is in no listed network: default' : 'is in no listed network and there is no default: empty'}`,
      pick ?? d,
    );
  return value;
}

/** ngx_murmur_hash2 (src/core/ngx_murmurhash.c) over bytes. */
export function murmurHash2(bytes: Uint8Array): number {
  let len = bytes.length;
  let h = (0 ^ len) >>> 0;
  let i = 0;
  const M = 0x5bd1e995;
  while (len >= 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
    i += 4;
    len -= 4;
  }
  if (len === 3) h ^= bytes[i + 2] << 16;
  if (len >= 2) h ^= bytes[i + 1] << 8;
  if (len >= 1) {
    h ^= bytes[i];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h >>> 0;
}

function evalSplit(sim: Sim, name: string, d: Directive, st: ReqState, phase: string): string | undefined {
  const parts: { e: Directive; limit: number }[] = [];
  let last = 0;
  for (const e of entries(sim, d)) {
    if (e.name === '*') parts.push({ e, limit: 0 });
    else {
      const m = /^([0-9]+(?:\.[0-9]{1,2})?)%$/.exec(e.name);
      if (!m) continue;
      const pct = Math.round(Number(m[1]) * 100);
      last += Math.floor((pct * 0xffffffff) / 10000);
      parts.push({ e, limit: last });
    }
  }
  const label = `split_clients ${d.args[0]?.raw ?? ''} $${name}`;
  const src = expand(sim, d.args[0]?.value ?? '', st, phase);
  const buckets = parts.map((p) => `${p.e.name} → ${show(p.e.args[0]?.value ?? '')}`).join(', ');
  if (src === undefined) {
    // The key is not known: every bucket is possible.
    const opts = [...parts.map((p) => `$${name} is ${show(p.e.args[0]?.value ?? '')} (the ${p.e.name} bucket of ${label})`)];
    if (!parts.some((p) => p.limit === 0)) opts.push(`$${name} is "" (no bucket of ${label})`);
    const i = sim.r.choose(`split:${at(d)}`, opts);
    const e = parts[i]?.e ?? null;
    const value = e ? (e.args[0]?.value ?? '') : '';
    if (sim.tracing)
      sim.step(
        phase,
        `$${name} = ${show(value)} from ${label}: the key is not known, so it depends on its hash (buckets: ${buckets})`,
        e ?? d,
      );
    return value;
  }
  const hash = murmurHash2(Buffer.from(src, 'latin1'));
  const hit = parts.find((p) => hash < p.limit || p.limit === 0) ?? null;
  const value = hit ? (hit.e.args[0]?.value ?? '') : '';
  if (sim.tracing)
    sim.step(
      phase,
      `$${name} = ${show(value)} from ${label}: MurmurHash2 of ${show(src)} is ${hash} (${((hash / 0x100000000) * 100).toFixed(2)}% of the range): ${hit ? `the ${hit.e.name} bucket` : 'no bucket: empty'} (buckets: ${buckets})`,
      hit?.e ?? d,
    );
  return value;
}

// ---------------------------------------------------------------- valid_referers, secure_link

/**
 * $invalid_referer (ngx_http_referer_variable): "" when the Referer is valid, "1" when not. The host
 * of the Referer is looked up among the exact names and wildcards (`*.example.com`, `.example.com`,
 * `www.example.*`) first; a host that is found with a URI part must also match that prefix (no regex
 * is tried then). Regexes (`~`) are matched, caseless, against the Referer without its scheme,
 * anywhere in it.
 */
function invalidReferer(sim: Sim, phase: string): string | undefined {
  const d = nearest(sim.scope(), ['valid_referers'])?.directives.at(-1);
  if (!d) return '';
  const ref = sim.headers.get('referer');
  const vals = d.args.map((a) => a.value);
  const result = (v: string, why: string): string => {
    if (sim.tracing) sim.step(phase, `$invalid_referer = ${show(v)}: ${why}`, d);
    return v;
  };
  if (ref === undefined) return result(vals.includes('none') ? '' : '1', `no Referer header${vals.includes('none') ? ' (none)' : ''}`);
  const sch = /^https?:\/\//i.exec(ref);
  // shorter than "http://i.ru", or another scheme: a Referer "blocked" by a proxy
  if (!sch || ref.length < 11)
    return result(
      vals.includes('blocked') ? '' : '1',
      `Referer ${show(ref)} is shorter than 11 bytes or does not start with http:// or https://${vals.includes('blocked') ? ' (blocked)' : ''}`,
    );
  const rest = ref.slice(sch[0].length);
  const hostEnd = rest.search(/[/:]/);
  const host = (hostEnd === -1 ? rest : rest.slice(0, hostEnd)).toLowerCase();
  if (host.length > 255) return result('1', 'the Referer host is longer than 255 bytes');
  const afterHost = hostEnd === -1 ? '' : rest.slice(hostEnd);
  const slashAt = afterHost.indexOf('/');
  const uriPart = slashAt === -1 ? '' : afterHost.slice(slashAt);
  type Entry = { host: string; uri: string | null; text: string };
  const plain: Entry[] = [];
  const regexes: string[] = [];
  const add = (v: string, text: string) => {
    const slash = v.indexOf('/');
    plain.push({ host: (slash === -1 ? v : v.slice(0, slash)).toLowerCase(), uri: slash === -1 ? null : v.slice(slash), text });
  };
  for (const v of vals) {
    if (v === 'none' || v === 'blocked') continue;
    if (v === 'server_names') {
      for (const n of sim.server?.names ?? []) {
        if (n.kind === 'regex') regexes.push('server_name:' + (n.directive?.args.find((a) => a.value.startsWith('~'))?.value ?? ''));
        else add(n.kind === 'head' ? '*' + n.name : n.kind === 'tail' ? n.name + '*' : n.name, `server_name ${n.name}`);
      }
      continue;
    }
    if (v.startsWith('~')) regexes.push(v.slice(1));
    else add(v, v);
  }
  const exactHit = plain.find((p) => p.host === host);
  let hit: Entry | undefined = exactHit;
  if (!hit) {
    let bestLen = -1;
    for (const p of plain) {
      const suffix = p.host.startsWith('*.') ? p.host.slice(1) : p.host.startsWith('.') ? p.host : null;
      if (suffix !== null && (host.endsWith(suffix) || (p.host.startsWith('.') && host === p.host.slice(1))) && p.host.length > bestLen)
        [hit, bestLen] = [p, p.host.length];
    }
    if (!hit)
      for (const p of plain)
        if (p.host.endsWith('.*') && host.startsWith(p.host.slice(0, -1)) && p.host.length > bestLen) [hit, bestLen] = [p, p.host.length];
  }
  if (hit) {
    if (hit.uri === null) return result('', `the Referer host ${show(host)} is listed (${hit.text})`);
    return uriPart.startsWith(hit.uri)
      ? result('', `the Referer host ${show(host)} and path ${show(uriPart)} match ${hit.text}`)
      : result(
          '1',
          `the Referer host ${show(host)} is listed with the path ${hit.uri}, and ${show(uriPart || '/')} does not start with it`,
        );
  }
  for (const r of regexes) {
    const isName = r.startsWith('server_name:');
    const pat = isName ? r.slice('server_name:'.length).replace(/^~/, '') : r;
    const rx = translatePcre(pat, !isName);
    if (!rx.ok) return undefined;
    const m = matchRegex(rx, isName ? host : rest);
    if (m && isUnknown(m)) return undefined;
    if (m) return result('', `the Referer ${isName ? 'host' : 'without its scheme'} ${show(isName ? host : rest)} matches ~${pat}`);
  }
  return result('1', `the Referer host ${show(host)} is not listed in valid_referers`);
}

/** $secure_link and $secure_link_expires (ngx_http_secure_link_module), once per scope and request. */
function secureLink(sim: Sim, st: ReqState, phase: string): { value: string; expires: string } {
  const scope = sim.scope();
  const key = `secure_link@${at(scope.block) ?? scope.kind}`;
  const hit = sim.varCache.get(key);
  if (hit != null) return JSON.parse(hit) as { value: string; expires: string };
  const r = computeSecureLink(sim, scope, st, phase);
  sim.varCache.set(key, JSON.stringify(r));
  return r;
}

function computeSecureLink(sim: Sim, scope: Scope, st: ReqState, phase: string): { value: string; expires: string } {
  const link = nearest(scope, ['secure_link'])?.directives.at(-1);
  const md5 = nearest(scope, ['secure_link_md5'])?.directives.at(-1);
  const secret = nearest(scope, ['secure_link_secret'])?.directives.at(-1);
  const say = (value: string, expires: string, why: string, d: Directive | undefined) => {
    if (sim.tracing) sim.step(phase, `$secure_link = ${show(value)}: ${why}`, d ?? null);
    return { value, expires };
  };
  if (link && md5) {
    const v = expand(sim, link.args[0]?.value ?? '', st, phase);
    if (v === undefined) return say('', '', 'the secure_link value is not known', link);
    const comma = v.indexOf(',');
    const hashText = comma === -1 ? v : v.slice(0, comma);
    let expires = 0;
    let expiresText = '';
    if (comma !== -1) {
      expiresText = v.slice(comma + 1);
      expires = /^[0-9]+$/.test(expiresText) ? Number(expiresText) : -1;
      if (expires <= 0) return say('', '', `the expiry ${show(expiresText)} is not a positive number`, link);
    }
    if (hashText.length > 24) return say('', expiresText, `the hash ${show(hashText)} is longer than 24 characters`, link);
    const eq = hashText.indexOf('=');
    const body = eq === -1 ? hashText : hashText.slice(0, eq);
    if (!/^[A-Za-z0-9_-]*$/.test(body) || body.length % 4 === 1)
      return say('', expiresText, `the hash ${show(hashText)} is not base64url`, link);
    const given = Buffer.from(body, 'base64url');
    if (given.length !== 16) return say('', expiresText, `the hash ${show(hashText)} does not decode to 16 bytes`, link);
    // $secure_link_expires is readable by secure_link_md5 while it is evaluated
    const saved = st.vars.get('secure_link_expires');
    st.vars.set('secure_link_expires', expiresText);
    const text = expand(sim, md5.args[0]?.value ?? '', st, phase);
    if (saved === undefined) st.vars.delete('secure_link_expires');
    else st.vars.set('secure_link_expires', saved);
    if (text === undefined) return say('', expiresText, 'the secure_link_md5 expression is not known', md5);
    const want = createHash('md5').update(Buffer.from(text, 'latin1')).digest();
    if (!want.equals(given)) return say('', expiresText, `MD5(${show(text)}) is ${want.toString('base64url')}, not ${show(hashText)}`, md5);
    const now = Math.floor(Date.now() / 1000);
    if (expires && expires < now) return say('0', expiresText, `the MD5 matches but the link expired at ${expires} (now ${now})`, link);
    return say('1', expiresText, `MD5(${show(text)}) matches${expires ? ` and the link expires at ${expires}` : ''}`, md5);
  }
  if (secret) {
    // /prefix/<32 hex>/<link>: MD5(link + secret) in hex (on the request target as sent)
    const raw = toBinary(st.rawTarget);
    const parts = /^\/([^/]*)\/(.*)$/s.exec(raw);
    if (!parts) return say('', '', 'the URI has no /<hash>/<link> part', secret);
    const afterFirst = parts[2];
    const slash = afterFirst.indexOf('/');
    if (slash === -1) return say('', '', 'the URI has no /<hash>/<link> part', secret);
    const hash = afterFirst.slice(0, slash);
    const linkPart = afterFirst.slice(slash + 1);
    if (hash.length !== 32 || linkPart === '') return say('', '', `${show(hash)} is not a 32-character MD5 followed by a link`, secret);
    const want = createHash('md5')
      .update(Buffer.from(linkPart + (secret.args[0]?.value ?? ''), 'latin1'))
      .digest('hex');
    if (want !== hash.toLowerCase()) return say('', '', `MD5(link + secret) is ${want}, not ${hash}`, secret);
    return say(linkPart, '', `MD5(${show(linkPart)} + secret) matches`, secret);
  }
  return { value: '', expires: '' };
}
