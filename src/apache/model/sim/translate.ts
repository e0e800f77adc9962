/**
 * The first phases of a request (server/request.c ap_process_request_internal up to map_to_storage):
 * the absolute-URI and forward-proxy check, ap_normalize_path and unescaping, the virtual host, and
 * translate_name — server-context mod_rewrite, mod_alias (Redirect, then Alias/ScriptAlias) and
 * core's DocumentRoot.
 */
import type { Directive } from '../../../ast.js';
import { isUnknown, type ConfigRegex } from '../../../regex-engine.js';
import { mergeDirConf } from '../dirconf.js';
import { fnmatch } from '../regex.js';
import { sectionLabel } from '../sections.js';
import { accessChecks } from './access.js';
import { applyEnvIf } from './env.js';
import { applyRewrite } from './rewrite.js';
import { ABSOLUTE, fin, type Final, type Sim } from './state.js';
import { ifWalk, locationMatches } from './walk.js';

/** ap_normalize_path + unescape: `/./`, `/../`, `//` and %XX (an encoded slash is a 404 by default). */
export function normalizeUri(path: string): { path: string } | { status: number; message: string } {
  let p = path.replace(/%(2[dDeE]|[46][1-9a-fA-F]|[57][0-9aA]|3[0-9]|5[fF]|7[eE])/g, (m) => decodeURIComponent(m));
  const segs: string[] = [];
  const trailing = p.endsWith('/') || p.endsWith('/.') || p.endsWith('/..');
  for (const s of p.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (segs.length === 0) return { status: 400, message: 'invalid URI path (above the root)' };
      segs.pop();
    } else segs.push(s);
  }
  p = '/' + segs.join('/') + (trailing && segs.length ? '/' : '');
  if (/%2[fF]/.test(p)) return { status: 404, message: "found %2f (encoded '/') in URI path, returning 404 (AllowEncodedSlashes Off)" };
  try {
    p = decodeURIComponent(p.replace(/%(?![0-9a-fA-F]{2})/g, '%25'));
  } catch {
    return { status: 400, message: 'bad %-encoding in the URI' };
  }
  return { path: p };
}

/** mod_alias alias_matches: prefix match where runs of `/` in either side count as one. Returns the URI length consumed. */
export function aliasPrefix(fake: string, uri: string): number | null {
  let a = 0;
  let u = 0;
  while (a < fake.length) {
    if (fake[a] === '/') {
      if (uri[u] !== '/') return null;
      while (fake[a] === '/') a++;
      while (uri[u] === '/') u++;
    } else {
      if (uri[u] !== fake[a]) return null;
      a++;
      u++;
    }
  }
  if (fake.endsWith('/')) return u;
  if (u < uri.length && uri[u] !== '/') return null;
  return u;
}

/** What translate_name leaves for map_to_storage. */
export interface Translated {
  /** The file name the URI maps to. */
  filename: string;
  /** The URI path after server-context rewriting. */
  uriPath: string;
  query: string;
  /** Mapped by ScriptAlias (the cgi-script handler, no ExecCGI needed). */
  scriptAliased: boolean;
}

/** The trace step naming the server that answers (each request that is not a lookup subrequest). */
export function vhostStep(sim: Sim) {
  const server = sim.server;
  if (sim.tracing)
    sim.step(
      'vhost',
      server.directive
        ? `virtual host ${server.serverName ?? server.addresses.join(' ')} answers for Host "${sim.req.host ?? 'localhost'}"`
        : 'the main server answers (no <VirtualHost> matches)',
      server.directive,
    );
}

/** The request line, the virtual host and translate_name. */
export function translate(sim: Sim, uri: string, depth: number, sub: boolean): Translated | Final {
  const abs = ABSOLUTE.exec(uri);
  if (abs) {
    // mod_proxy's proxy_detect: with ProxyRequests On, an absolute URI that does not name this
    // server (scheme, name, port) is a forward proxy request; otherwise the path is served here.
    const pr = sim.server.proxyRequests;
    const host = abs[3].toLowerCase();
    const local =
      abs[1].toLowerCase() === (sim.tls ? 'https' : 'http') &&
      sim.namesThisServer(host) &&
      (!abs[4] || sim.req.port === undefined || Number(abs[4]) === sim.req.port);
    if (pr?.value && sim.model.modules.has('mod_proxy') && !local && !sub && depth === 0) return forwardProxy(sim, uri, pr.by);
    uri = (abs[5] || '/').startsWith('/') ? abs[5] || '/' : `/${abs[5]}`;
  }
  const q = uri.indexOf('?');
  const rawPath = q >= 0 ? uri.slice(0, q) : uri;
  const query = q >= 0 ? uri.slice(q + 1) : '';
  if (!rawPath.startsWith('/')) return fin(400, null, null, 'the request path does not start with /');
  const norm = normalizeUri(rawPath);
  if ('status' in norm) return fin(norm.status, null, null, norm.message);
  const path = norm.path;
  const server = sim.server;
  sim.cur = { uri: path, query, filename: null };
  // post_read_request: the server's own SetEnvIf/BrowserMatch lines (once per request)
  if (!sub && depth === 0) applyEnvIf(sim, server.base.envIf, 'post_read_request');
  if (!sub) vhostStep(sim);

  // ---- translate_name: server-context mod_rewrite (runs before any access check) ----
  let filename: string | null = null;
  let scriptAliased = false;
  let uriPath = path;
  if (server.rewrite.state && server.rewrite.rules.length && sim.model.modules.has('mod_rewrite')) {
    const r = applyRewrite(sim, server.rewrite.rules, path, path, null, query, 'translate_name');
    if (r.final) return r.final;
    if (r.newPath !== undefined) {
      if (r.newPath.startsWith('/') && sim.isFsPath(r.newPath)) filename = r.newPath;
      else uriPath = r.newPath;
    }
  }
  // ---- mod_alias: Redirect first, then Alias/ScriptAlias ----
  if (filename === null && sim.model.modules.has('mod_alias')) {
    for (const rd of server.redirects) {
      const m = redirectMatches(sim, rd, uriPath);
      if (m) {
        const cause = rd.status === 403 ? 'A29' : null;
        if (sim.tracing) sim.step('translate_name', `${rd.directive.name} answers ${rd.status} for ${uriPath}`, rd.directive);
        return fin(rd.status, cause, rd.directive, `${rd.directive.name} ${rd.status}`);
      }
    }
    for (const al of server.aliases) {
      const target = aliasTarget(sim, al, uriPath);
      if (target !== null) {
        filename = target;
        scriptAliased = al.script;
        if (sim.tracing) sim.step('translate_name', `${al.directive.name} maps ${uriPath} to ${target}`, al.directive);
        break;
      }
    }
  }
  if (filename === null) {
    const root = server.documentRoot?.value ?? '/var/www/html';
    filename = root.replace(/\/+$/, '') + uriPath;
    if (sim.tracing) sim.step('translate_name', `DocumentRoot ${root} maps ${uriPath} to ${filename}`, server.documentRoot?.by ?? null);
  }

  sim.cur.filename = filename;
  return { filename, uriPath, query, scriptAliased };
}

/** A forward proxy request: proxy_walk (`<Proxy>` sections on `proxy:<url>`, no directory walk),
 * the Location walk on the full URL, then the access checks (docs/403-causes.md#a43). */
export function forwardProxy(sim: Sim, url: string, by: Directive): Final & { filename?: string } {
  const filename = `proxy:${url}`;
  if (sim.tracing)
    sim.step(
      'translate_name',
      `mod_proxy: ProxyRequests On and ${url} does not name this server → forward proxy request for ${filename}`,
      by,
    );
  let conf = sim.server.base;
  for (const px of sim.server.proxies) {
    let hit: boolean;
    if (px.regex) {
      const re = px.regex as { ok: true; re: ConfigRegex } | { ok: false; reason: string };
      if (!re.ok) sim.unknown(re.reason);
      hit = re.ok && sim.rxMatches(re.re, url);
    } else hit = px.wildcard ? fnmatch(px.path, url, false) : url.startsWith(px.path);
    if (!hit) continue;
    const label = sectionLabel(px);
    conf = mergeDirConf(conf, px.conf, label, px.directive);
    if (sim.tracing) sim.step('proxy_walk', `${label} applies to ${url}`, px.directive);
  }
  for (const loc of sim.server.locations) {
    if (locationMatches(sim, loc.kind, loc.path, loc.regex, url)) {
      const label = sectionLabel(loc);
      conf = mergeDirConf(conf, loc.conf, label, loc.directive);
      if (sim.tracing) sim.step('location_walk', `${label} applies`, loc.directive);
    }
  }
  conf = ifWalk(sim, conf);
  sim.applied = conf.trail;
  const access = accessChecks(sim, conf, filename);
  if (access) return { ...access, cause: access.status === 403 ? 'A43' : access.cause, filename };
  if (sim.tracing) sim.step('handler', `mod_proxy forwards the request to ${url}; the origin server answers`, by);
  return { status: null, outcome: 'unknown', cause: null, by, message: `forwarded to ${url}`, filename };
}

export function redirectMatches(
  sim: Sim,
  rd: { match: string; regex: { ok: boolean } | null; directive: Directive },
  uri: string,
): boolean {
  if (rd.regex) {
    const re = rd.regex as { ok: true; re: ConfigRegex } | { ok: false; reason: string };
    if (!re.ok) {
      sim.unknown(re.reason);
      return false;
    }
    return sim.rxMatches(re.re, uri);
  }
  return aliasPrefix(rd.match, uri) !== null;
}

export function aliasTarget(sim: Sim, al: { fake: string; real: string; regex: { ok: boolean } | null }, uri: string): string | null {
  if (al.regex) {
    const re = al.regex as { ok: true; re: ConfigRegex } | { ok: false; reason: string };
    if (!re.ok) {
      sim.unknown(re.reason);
      return null;
    }
    const m = re.re.exec(uri);
    if (m && isUnknown(m)) sim.unknown(`regex ${re.re.source} cannot be evaluated: ${m.unknown}`);
    if (!m || isUnknown(m)) return null;
    return al.real.replace(/\$(\d)/g, (_, n) => m.captures[Number(n)] ?? '');
  }
  const len = aliasPrefix(al.fake, uri);
  if (len === null) return null;
  return al.real + uri.slice(len);
}
