/**
 * Which server block a request goes to (ngx_http_add_listen / ngx_http_optimize_servers in
 * src/http/ngx_http.c, ngx_http_find_virtual_server and ngx_http_validate_host in
 * src/http/ngx_http_request.c):
 *
 * - The connection's local address and port pick a socket. When some server listens on that exact
 *   address and port, only the servers listening on that exact address are candidates; otherwise the
 *   ones listening on the wildcard address (`*:port`, `0.0.0.0:port`, `[::]:port` for IPv6).
 * - The default server of that socket is the one marked `default_server`, else the first one listed.
 * - The Host header (lower-cased, port and one trailing dot removed) is looked up: exact names, then
 *   the longest `*.` wildcard, then the longest `.*` wildcard, then the regex names in config order.
 *   No match, or no Host, means the default server.
 */
import type { Listen, NginxModel, Server, ServerName } from './tree.js';
import { isUnknown, matchRegex, toBinary } from './regex.js';

export interface ServerChoice {
  server: Server | null;
  /** The listen entry of the chosen socket. */
  listen: Listen | null;
  by: 'exact' | 'wildcard-head' | 'wildcard-tail' | 'regex' | 'default' | 'none';
  name: ServerName | null;
  /** Regex server_name captures. */
  named: Record<string, string | undefined>;
  captures: (string | undefined)[];
  reason: string;
  /** Set when the Host is invalid (nginx answers 400). */
  badHost?: string;
  /** Set when a regex server_name could not be evaluated. */
  unknown?: string;
}

/** The Host as nginx keeps it, or null when nginx would answer 400. */
export function normalizeHost(host: string): string | null {
  let h = host.toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end === -1) return null;
    h = h.slice(0, end + 1);
  } else {
    const c = h.indexOf(':');
    if (c !== -1) h = h.slice(0, c);
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h.includes('/') || h.includes('\\') || h.includes('\0') || h.startsWith('.') || h.includes('..')) return null;
  return h;
}

function addrMatches(listenAddr: string, local: string): boolean {
  return (
    listenAddr === local || (listenAddr === '127.0.0.1' && local === 'localhost') || (listenAddr === 'localhost' && local === '127.0.0.1')
  );
}

/** All listen ports of the model, in order of first appearance. */
const portsCache = new WeakMap<NginxModel, number[]>();

export function listenPorts(model: NginxModel): number[] {
  const hit = portsCache.get(model);
  if (hit) return hit;
  const ports: number[] = [];
  portsCache.set(model, ports);
  for (const s of model.servers) for (const l of s.listens) if (!ports.includes(l.port) && l.port) ports.push(l.port);
  return ports;
}

interface Entry {
  s: Server;
  l: Listen;
  n: ServerName;
}

interface SocketIndex {
  def: { s: Server; l: Listen } | null;
  exact: Map<string, Entry>;
  /** Leading wildcards, longest first. */
  heads: Entry[];
  /** Trailing wildcards, longest first. */
  tails: Entry[];
  regexes: Entry[];
  empty: string | null;
}

const indexCache = new WeakMap<NginxModel, Map<string, SocketIndex>>();

/** The servers of one listen socket, indexed by name the way nginx hashes them (first wins). */
function socketIndex(model: NginxModel, port: number, local: string): SocketIndex {
  let perModel = indexCache.get(model);
  if (!perModel) indexCache.set(model, (perModel = new Map()));
  const key = `${local}|${port}`;
  const hit = perModel.get(key);
  if (hit) return hit;
  const family6 = local.includes(':');
  const onPort: { s: Server; l: Listen }[] = [];
  for (const s of model.servers) for (const l of s.listens) if (l.port === port) onPort.push({ s, l });
  let socket = onPort.filter((x) => addrMatches(x.l.addr, local));
  if (socket.length === 0) socket = onPort.filter((x) => (family6 ? x.l.addr === '::' : x.l.addr === '*'));
  const idx: SocketIndex = { def: null, exact: new Map(), heads: [], tails: [], regexes: [], empty: null };
  if (onPort.length === 0) idx.empty = `no server listens on port ${port}`;
  else if (socket.length === 0) idx.empty = `no server listens on ${local}:${port}`;
  const seen = new Set<Server>();
  for (const x of socket) {
    if (seen.has(x.s)) continue;
    seen.add(x.s);
    if (!idx.def || (x.l.defaultServer && !idx.def.l.defaultServer)) idx.def = x;
    for (const n of x.s.names) {
      const e = { ...x, n };
      if (n.kind === 'exact') {
        if (!idx.exact.has(n.name)) idx.exact.set(n.name, e);
      } else if (n.kind === 'head') idx.heads.push(e);
      else if (n.kind === 'tail') idx.tails.push(e);
      else idx.regexes.push(e);
    }
  }
  const byLen = (a: Entry, b: Entry) => b.n.name.length - a.n.name.length;
  idx.heads.sort(byLen);
  idx.tails.sort(byLen);
  perModel.set(key, idx);
  return idx;
}

export function selectServer(model: NginxModel, req: { host?: string; port?: number; localAddr?: string }): ServerChoice {
  const local = req.localAddr ?? '127.0.0.1';
  const port = req.port ?? listenPorts(model)[0] ?? 80;
  const none = (reason: string): ServerChoice => ({ server: null, listen: null, by: 'none', name: null, named: {}, captures: [], reason });
  const idx = socketIndex(model, port, local);
  if (idx.empty || !idx.def) return none(idx.empty ?? `no server listens on ${local}:${port}`);
  const def = idx.def;
  const defReason = def.l.defaultServer
    ? 'it is marked default_server for this address and port'
    : 'it is the first server listening on this address and port';
  if (req.host === undefined) {
    return {
      server: def.s,
      listen: def.l,
      by: 'default',
      name: null,
      named: {},
      captures: [],
      reason: `no Host header: the default server, because ${defReason}`,
    };
  }
  const host = normalizeHost(req.host);
  if (host === null) return { ...none(`invalid Host "${req.host}"`), badHost: req.host };
  const exact = idx.exact.get(host);
  if (exact)
    return {
      server: exact.s,
      listen: exact.l,
      by: 'exact',
      name: exact.n,
      named: {},
      captures: [],
      reason: `server_name "${exact.n.name}" equals the Host`,
    };
  const head = idx.heads.find((x) => host.endsWith(x.n.name));
  if (head)
    return {
      server: head.s,
      listen: head.l,
      by: 'wildcard-head',
      name: head.n,
      named: {},
      captures: [],
      reason: `the longest leading wildcard "*${head.n.name}" matches the Host`,
    };
  const tail = idx.tails.find((x) => host.startsWith(x.n.name) && host.length > x.n.name.length);
  if (tail)
    return {
      server: tail.s,
      listen: tail.l,
      by: 'wildcard-tail',
      name: tail.n,
      named: {},
      captures: [],
      reason: `the longest trailing wildcard "${tail.n.name}*" matches the Host`,
    };
  for (const x of idx.regexes) {
    const v = x.n.regex!;
    if (!v.ok)
      return {
        ...none(''),
        unknown: `server_name ~${x.n.name} cannot be evaluated: ${v.reason}`,
        reason: 'a regex server_name cannot be evaluated',
      };
    const m = matchRegex(v, toBinary(host));
    if (m && isUnknown(m))
      return {
        ...none(''),
        unknown: `server_name ~${x.n.name} cannot be evaluated: ${m.unknown}`,
        reason: 'a regex server_name cannot be evaluated',
      };
    if (m)
      return {
        server: x.s,
        listen: x.l,
        by: 'regex',
        name: x.n,
        named: m.named,
        captures: m.captures,
        reason: `regex server_name "~${x.n.name}" is the first regex that matches the Host`,
      };
  }
  return {
    server: def.s,
    listen: def.l,
    by: 'default',
    name: null,
    named: {},
    captures: [],
    reason: `no server_name matches "${host}": the default server, because ${defReason}`,
  };
}
