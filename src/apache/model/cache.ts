/**
 * Apache model queries the rules read through `ctx.model` (src/model/index.ts): which directories
 * are served (DocumentRoot, Alias/ScriptAlias targets), the
 * URL that reaches each `<Directory>` section below them, and what a neutral GET of that URL gets.
 */
import type { ConfigSet, Directive } from '../../ast.js';
import { walkDirectives } from '../../walk.js';
import { mainReachable, mainServerPort, serverPorts, type ApacheModel, type ServerModel, type Section } from './sections.js';
import { simulate, type SimResult } from './simulate.js';

/** Directives whose use outside `<IfModule>` proves their module is loaded (httpd refuses to start
 * on an unknown directive), for modules Debian does not enable by default. */
const IMPLIES: Record<string, string> = {
  rewriteengine: 'mod_rewrite',
  rewriterule: 'mod_rewrite',
  rewritecond: 'mod_rewrite',
  rewritebase: 'mod_rewrite',
  sslengine: 'mod_ssl',
  sslrequiressl: 'mod_ssl',
  proxyrequests: 'mod_proxy',
  proxy: 'mod_proxy',
  proxymatch: 'mod_proxy',
};

/** Modules a set needs loaded because it uses their directives unguarded. In reading order, as
 * `walk` visits the set (includes and `Use` expansions in place, include cycles not followed twice on
 * one path, `<Macro>` bodies unread), but without `walk`'s context object per node: this runs once
 * per model, over every node of the set (100,000 for 1,000 vhosts). */
export function impliedModules(set: ConfigSet): string[] {
  const out = new Set<string>();
  // the state: whether the directive stands inside an <IfModule> (then it implies nothing)
  walkDirectives(
    set,
    false,
    (n, guarded) => {
      if (guarded) return;
      const m = IMPLIES[n.key.startsWith('<') ? n.key.slice(1) : n.key];
      if (m !== undefined) out.add(m);
    },
    (n, guarded) => guarded || n.key === 'ifmodule' || n.key === '<ifmodule',
  );
  return [...out];
}

/** A path segment percent-encoded for a URL. Names read from configs may hold raw bytes that are not
 * UTF-8 (kept as U+DC80..U+DCFF by SourceFile): those become %XX of the byte, never an exception. */
export function encodeSegment(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    let out = '';
    for (const ch of s) {
      const c = ch.charCodeAt(0);
      if (ch.length === 1 && c >= 0xdc80 && c <= 0xdcff) out += `%${(c - 0xdc00).toString(16).toUpperCase().padStart(2, '0')}`;
      else if (ch.length === 1 && c >= 0xd800 && c <= 0xdfff) out += '%EF%BF%BD';
      else out += encodeURIComponent(ch);
    }
    return out;
  }
}

/** A directory the server maps URLs onto. */
export interface ServedRoot {
  server: ServerModel;
  kind: 'documentroot' | 'alias' | 'scriptalias';
  /** Filesystem directory, no trailing slash (except `/`). */
  dir: string;
  /** URL prefix that maps onto `dir`, ending in `/`. */
  url: string;
  by: Directive;
}

/** A probe: one URL, the served root it falls under, the section it aims at, and the simulation.
 * Probes are simulated without a trace (`trace` is empty): a rule that reports one proves it with
 * `ctx.prove`, which explains the request again and carries that trace. */
export interface Probe {
  root: ServedRoot;
  /** The `<Directory>` section whose directory the URL reaches (null: the root itself). */
  section: Section | null;
  /** True when the URL is the served root's own URL. */
  atRoot: boolean;
  /** The directory URL (ends in `/`). */
  url: string;
  /** GET of the directory URL. */
  result: SimResult;
  /** GET of a typical file in it (`index.html`): per-dir rewrites and handlers apply to files. */
  file: SimResult;
}

const trim = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);

/** DocumentRoot and non-regex Alias/ScriptAlias targets of the main server and every vhost. */
export function servedRoots(model: ApacheModel): ServedRoot[] {
  const out: ServedRoot[] = [];
  for (const server of [model.main, ...model.vhosts]) {
    if (server.documentRoot && !server.documentRoot.value.includes('${')) {
      out.push({ server, kind: 'documentroot', dir: trim(server.documentRoot.value), url: '/', by: server.documentRoot.by });
    }
    for (const a of server.aliases) {
      if (a.regex || a.fake.includes('${') || a.real.includes('${') || !a.real.startsWith('/')) continue;
      // an Alias to a file (no trailing slash on either side and a dotted last part) is not a directory
      if (!a.fake.endsWith('/') && /\.[a-z0-9]+$/i.test(a.real)) continue;
      const url = a.fake.endsWith('/') ? a.fake : `${a.fake}/`;
      out.push({ server, kind: a.script ? 'scriptalias' : 'alias', dir: trim(a.real), url, by: a.directive });
    }
  }
  return out;
}

/** A host name that selects `server` (its ServerName, else its first alias, else localhost). */
export function hostFor(server: ServerModel): string {
  return server.serverName ?? server.serverAliases.find((a) => !/[*?]/.test(a)) ?? 'localhost';
}

/** The address a lint probe comes from: a documentation address, so `Require local`/`ip` do not grant. */
export const NEUTRAL_CLIENT = '192.0.2.10';

const probes = new WeakMap<ApacheModel, Probe[]>();

/**
 * GET of every served root's URL and of the URL of every plain `<Directory>` section below a served
 * root (from a neutral client, no credentials, no filesystem). Cached per model.
 */
export function directoryProbes(model: ApacheModel): Probe[] {
  const cached = probes.get(model);
  if (cached) return cached;
  const out: Probe[] = [];
  // the main server's roots when no request reaches it: each probe would select a virtual host
  const mainToo = mainReachable(model);
  for (const root of servedRoots(model)) {
    if (!mainToo && root.server === model.main) continue;
    const seen = new Set<string>();
    const host = hostFor(root.server);
    const port = portOf(root.server, model);
    const targets: { section: Section | null; url: string }[] = [{ section: null, url: root.url }];
    for (const s of root.server.directories) {
      if (s.wildcard || s.path === '/') continue;
      const dir = trim(s.path);
      const base = root.dir === '/' ? '' : root.dir;
      if (dir !== root.dir && !dir.startsWith(base + '/')) continue;
      const rest = dir.slice(base.length).replace(/^\/+/, '');
      targets.push({ section: s, url: rest ? `${root.url}${rest.split('/').map(encodeSegment).join('/')}/` : root.url });
    }
    for (const t of targets) {
      const key = `${t.url}|${t.section?.order ?? -1}`;
      if (seen.has(key) || (t.section === null && targets.some((x) => x.section && x.url === t.url))) continue;
      seen.add(key);
      const get = (uri: string) => simulate(model, { method: 'GET', uri, host, port, clientIp: NEUTRAL_CLIENT, fs: null, trace: false });
      const result = get(t.url);
      // a root the server never answers for (the main server's DocumentRoot behind catch-all vhosts)
      if (result.server !== root.server) continue;
      out.push({ root, section: t.section, atRoot: t.url === root.url, url: t.url, result, file: get(`${t.url}index.html`) });
    }
  }
  probes.set(model, out);
  return out;
}

/** The port a request for `server` goes to: its `<VirtualHost>`'s, or for the main server (`model`
 * given) a `Listen` port no virtual host answers on (80 without Listen lines: `serverPorts`); undefined
 * (port 80) for a virtual host without a port. When no request reaches the main server
 * (`mainReachable`), its requests go to the first `Listen` port, where a virtual host answers them, as
 * the real server does (not to port 80, which nothing may listen on). */
export function portOf(server: ServerModel, model?: ApacheModel): number | undefined {
  for (const a of server.addresses) {
    const m = /:(\d+)$/.exec(a);
    if (m) return Number(m[1]);
  }
  if (!model || server !== model.main) return undefined;
  return mainServerPort(model) ?? serverPorts(model)[0];
}

/** The server that answers the requests for `root`'s URL: its own, or, when that is the main server
 * and no request reaches it (`mainReachable`), the first virtual host that inherits the same serving
 * directive at the same URL (a main-server Alias, or the DocumentRoot of a vhost without its own);
 * null when none does (a root only the unreachable main server has: no request shows it). */
export function servingServer(model: ApacheModel, root: ServedRoot, roots: readonly ServedRoot[]): ServerModel | null {
  if (root.server !== model.main || mainReachable(model)) return root.server;
  return roots.find((r) => r.server !== model.main && r.by === root.by && r.url === root.url && r.dir === root.dir)?.server ?? null;
}

/** Simulate one more request on the server of a served root (same neutral client, no filesystem, no
 * trace). */
export function probeUrl(model: ApacheModel, server: ServerModel, uri: string, method = 'GET'): SimResult {
  return simulate(model, {
    method,
    uri,
    host: hostFor(server),
    port: portOf(server, model),
    clientIp: NEUTRAL_CLIENT,
    fs: null,
    trace: false,
  });
}

const words = (d: Directive) => d.args.map((a) => a.value.toLowerCase()).join(' ');
/** Directives of a section, into `<RequireAll/Any/None>` and `<Limit>` but not nested sections. */
const inSection = (s: Directive | null): Directive[] =>
  (s?.block ?? []).flatMap((n) =>
    n.type !== 'directive'
      ? []
      : /^(requireall|requireany|requirenone|limit|limitexcept)$/.test(n.key.replace(/^</, ''))
        ? inSection(n)
        : [n],
  );

/** A blanket denial (`Require all denied` / `Deny from all` with no other Require or Allow beside it in
 * its section): the author closed the section to everyone, not to some clients. */
export function isBlanketDenial(model: ApacheModel, d: Directive): boolean {
  const deny = (d.key === 'require' && words(d) === 'all denied') || (d.key === 'deny' && words(d) === 'from all');
  if (!deny) return false;
  const section = model.owners.get(d)?.section ?? null;
  return !inSection(section).some((x) => x.key === 'allow' || (x.key === 'require' && words(x) !== 'all denied'));
}
