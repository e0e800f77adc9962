/**
 * Request simulator: follows server/request.c ap_process_request_internal phase by phase —
 * translate_name (server-context mod_rewrite, mod_alias, core), map_to_storage (ap_directory_walk
 * with .htaccess, symlink and permission checks, regex directories, ap_file_walk), the Location walk,
 * access_checker (mod_access_compat) and access_checker_ex (mod_authz_core, userless) combined by
 * Satisfy, authentication, fixups (per-dir mod_rewrite, mod_alias fixup_redir, mod_dir with its
 * index subrequests) and the handler (cgi, autoindex, default_handler).
 *
 * Every decision carries the Directive that made it. What the model cannot know (DNS, expressions,
 * the disk when no filesystem is given) becomes a list of possible outcomes, never a guess.
 */
import type { Directive, ParsedFile } from '../../ast.js';
import type { CauseId } from '../../causes.js';
import { SourceFile } from '../../source.js';
import { parseApache } from '../parser.js';
import { checkAccessCompat, satisfyFor } from './access-compat.js';
import { evaluateAuthz, type AuthzProviderNode, type AuthzResult, type ProviderVerdict } from './authz.js';
import { expandDirective, flatten, sectionKey } from './conditions.js';
import { compileSection, kids, mergeDirConf, type DirConf, type RewriteRuleEntry } from './dirconf.js';
import { permits, resolveWorker, type FsStat, type ModelFs, type Worker } from './fs.js';
import { isLocal, parseSubnet, subnetMatches } from './net.js';
import { describeOptions, effectiveOptions, OPT_EXECCGI, OPT_INDEXES, OPT_SYM_LINKS, OPT_SYM_OWNER } from './options.js';
import { checkOverride, type OverrideState } from './overrides.js';
import { compilePcre, fnmatch, isFnmatchPattern } from './regex.js';
import { isUnknown, type ConfigRegex } from '../../regex-engine.js';
import { canonicalDir, countDirs, selectServer, type ApacheModel, type ServerModel } from './sections.js';

export interface SimRequest {
  method?: string;
  /** Request target as sent: path and optional query. */
  uri: string;
  host?: string;
  port?: number;
  clientIp?: string;
  headers?: Record<string, string>;
  /** An authenticated user (credentials assumed valid), or null/undefined for none. */
  user?: string | null;
  /** Environment variables the request would carry (SetEnvIf…). Unknown when omitted and the config sets any. */
  env?: Record<string, string>;
  /** The disk; without it, disk-dependent outcomes are listed as possibilities. */
  fs?: ModelFs | null;
  /** Parsed .htaccess files keyed by directory (no trailing slash), used when `fs` is not given. */
  htaccess?: Map<string, ParsedFile>;
  /** The connection is TLS (default: the selected server has `SSLEngine on`). */
  tls?: boolean;
}

/** An absolute-form request target (`http://host:port/path`): scheme, host, port, path. */
const ABSOLUTE = /^([a-z][a-z0-9+.-]*):\/\/([^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)(?::(\d*))?([^#]*)/i;

export type Outcome =
  | 'ok'
  | 'listing'
  | 'cgi'
  | 'forbidden'
  | 'unauthorized'
  | 'not-found'
  | 'redirect'
  | 'gone'
  | 'method-not-allowed'
  | 'server-error'
  | 'bad-request'
  | 'unknown';

export interface TraceStep {
  phase: string;
  message: string;
  directive: Directive | null;
}

export interface PossibleOutcome {
  when: string;
  status: number | null;
  outcome: Outcome;
  cause: CauseId | null;
}

export interface SimResult {
  status: number | null;
  outcome: Outcome;
  /** Catalog row (docs/403-causes.md), e.g. 'A01'; null for non-403 results. */
  cause: CauseId | null;
  /** The directive that decided the result. */
  decidedBy: Directive | null;
  message: string;
  possibleOutcomes: PossibleOutcome[];
  trace: TraceStep[];
  /** The filesystem path the URI mapped to. */
  filename: string | null;
  /** Sections (and .htaccess files) merged for the request, in httpd's merge order; `directive` is the
   * section's opening directive (null for the server's own config and for .htaccess files). */
  sections: { label: string; directive: Directive | null }[];
  server: ServerModel;
  /** Things the model could not know. */
  unknowns: string[];
  /** For a directory URL handled by mod_dir: its DirectoryIndex lookup (null otherwise). */
  dirIndex: DirIndexLookup | null;
  /** The Require that granted access, when authz granted (null otherwise). */
  grantedBy: Directive | null;
  /** Effective Options bits where the request last met them (per-dir rewrite, autoindex). */
  options: number | null;
  /** For A18: the DirectoryIndex names that were not found ("none" when disabled). */
  indexNames: string | null;
}

/** A DirectoryIndex candidate whose subrequest answered an error (not 200, not 404). */
export interface IndexCandidate {
  name: string;
  /** The URL of the subrequest. */
  target: string;
  status: number;
  cause: CauseId | null;
  by: Directive | null;
}

/** mod_dir's DirectoryIndex lookup for one directory URL (fixup_dir). */
export interface DirIndexLookup {
  /** The candidate names in order (`[]` for DirectoryIndex disabled). */
  names: string[];
  /** The DirectoryIndex directive in force (null: the built-in `index.html`). */
  by: Directive | null;
  /** Candidates refused by their own subrequest: when no candidate is served, mod_dir answers the
   * last refusal's status instead of listing the directory. */
  refused: IndexCandidate[];
  /** What mod_autoindex would answer when no candidate is served and none is refused. */
  listing: Outcome;
}

interface Final {
  status: number | null;
  outcome: Outcome;
  cause: CauseId | null;
  by: Directive | null;
  message: string;
  possible?: PossibleOutcome[];
}

const STATUS_OUTCOME = (s: number): Outcome =>
  s === 403
    ? 'forbidden'
    : s === 401
      ? 'unauthorized'
      : s === 404
        ? 'not-found'
        : s === 410
          ? 'gone'
          : s >= 300 && s < 400
            ? 'redirect'
            : s === 405
              ? 'method-not-allowed'
              : s >= 500
                ? 'server-error'
                : s === 400
                  ? 'bad-request'
                  : 'ok';

function fin(status: number, cause: CauseId | null, by: Directive | null, message: string, outcome?: Outcome): Final {
  return {
    status,
    outcome: outcome ?? STATUS_OUTCOME(status),
    cause: status === 403 ? cause : cause && status !== 403 ? cause : null,
    by,
    message,
  };
}

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

/** The worker's ids, resolved once per model (reading /etc/passwd per request would dominate). */
const workers = new WeakMap<ApacheModel, Worker>();

class Simulation {
  trace: TraceStep[] = [];
  unknowns: string[] = [];
  worker: Worker;
  method: string;
  clientIp: string;
  fs: ModelFs | null;
  server: ServerModel;
  /** The sections merged for the (last) main request, in merge order. */
  applied: DirConf['trail'] = [];
  /** mod_dir's index lookup for the (last) directory served. */
  dirIndex: DirIndexLookup | null = null;
  /** The Require that granted access (the last one, for the main request). */
  grantedBy: Directive | null = null;
  /** Effective Options where the request was last checked against them (fixups, autoindex). */
  options: number | null = null;
  /** DirectoryIndex names mod_autoindex refused to replace with a listing (A18), as Apache logs them. */
  indexNames: string | null = null;

  constructor(
    public model: ApacheModel,
    public req: SimRequest,
  ) {
    let w = workers.get(model);
    if (!w) {
      w = resolveWorker(model.user, model.group, model.settings.uid, model.settings.gid);
      workers.set(model, w);
    }
    this.worker = w;
    this.method = (req.method ?? 'GET').toUpperCase();
    this.clientIp = req.clientIp ?? '127.0.0.1';
    this.fs = req.fs ?? null;
    // An absolute-URI request line names the host itself (ap_parse_uri: r->hostname); Host is ignored.
    const abs = ABSOLUTE.exec(req.uri);
    this.server = selectServer(model, abs ? abs[3].toLowerCase() : (req.host ?? 'localhost'), req.port);
    this.tls = req.tls ?? (model.modules.has('mod_ssl') && this.server.sslEngine?.value === 'on');
  }

  tls: boolean;

  step(phase: string, message: string, directive: Directive | null = null) {
    this.trace.push({ phase, message, directive });
  }

  unknown(msg: string) {
    if (!this.unknowns.includes(msg)) this.unknowns.push(msg);
  }

  /** A config regex against a subject; an over-budget subject is recorded as unknown and reads as no match. */
  rxMatches(re: ConfigRegex, subject: string): boolean {
    const r = re.matches(subject);
    if (isUnknown(r)) {
      this.unknown(`regex ${re.source} cannot be evaluated on "${subject.slice(0, 80)}": ${r.unknown}`);
      return false;
    }
    return r;
  }

  /** Process one (sub)request; `sub` = a mod_dir index lookup (no handler run). */
  run(uri: string, depth: number, sub: boolean): Final & { filename?: string; type?: FsStat['type'] | 'missing' | 'unknown' } {
    if (depth > 10) return fin(500, null, null, 'more than 10 internal redirects (LimitInternalRecursion)');
    const abs = ABSOLUTE.exec(uri);
    if (abs) {
      // mod_proxy's proxy_detect: with ProxyRequests On, an absolute URI that does not name this
      // server (scheme, name, port) is a forward proxy request; otherwise the path is served here.
      const pr = this.server.proxyRequests;
      const host = abs[3].toLowerCase();
      const names = [this.server.serverName ?? 'localhost', ...this.server.serverAliases];
      const local =
        abs[1].toLowerCase() === (this.tls ? 'https' : 'http') &&
        names.some((n) => (isFnmatchPattern(n) ? fnmatch(n, host, false) : n === host)) &&
        (!abs[4] || this.req.port === undefined || Number(abs[4]) === this.req.port);
      if (pr?.value && this.model.modules.has('mod_proxy') && !local && !sub && depth === 0) return this.forwardProxy(uri, pr.by);
      uri = (abs[5] || '/').startsWith('/') ? abs[5] || '/' : `/${abs[5]}`;
    }
    const q = uri.indexOf('?');
    const rawPath = q >= 0 ? uri.slice(0, q) : uri;
    const query = q >= 0 ? uri.slice(q + 1) : '';
    if (!rawPath.startsWith('/')) return fin(400, null, null, 'the request path does not start with /');
    const norm = normalizeUri(rawPath);
    if ('status' in norm) return fin(norm.status, null, null, norm.message);
    const path = norm.path;
    const server = this.server;
    if (!sub)
      this.step(
        'vhost',
        server.directive
          ? `virtual host ${server.serverName ?? server.addresses.join(' ')} answers for Host "${this.req.host ?? 'localhost'}"`
          : 'the main server answers (no <VirtualHost> matches)',
        server.directive,
      );

    // ---- translate_name: server-context mod_rewrite (runs before any access check) ----
    let filename: string | null = null;
    let scriptAliased = false;
    let uriPath = path;
    if (server.rewrite.state && server.rewrite.rules.length && this.model.modules.has('mod_rewrite')) {
      const r = this.applyRewrite(server.rewrite.rules, path, path, null, query, 'translate_name');
      if (r.final) return r.final;
      if (r.newPath !== undefined) {
        if (r.newPath.startsWith('/') && this.isFsPath(r.newPath)) filename = r.newPath;
        else uriPath = r.newPath;
      }
    }
    // ---- mod_alias: Redirect first, then Alias/ScriptAlias ----
    if (filename === null && this.model.modules.has('mod_alias')) {
      for (const rd of server.redirects) {
        const m = this.redirectMatches(rd, uriPath);
        if (m) {
          const cause = rd.status === 403 ? 'A29' : null;
          this.step('translate_name', `${rd.directive.name} answers ${rd.status} for ${uriPath}`, rd.directive);
          return fin(rd.status, cause, rd.directive, `${rd.directive.name} ${rd.status}`);
        }
      }
      for (const al of server.aliases) {
        const target = this.aliasTarget(al, uriPath);
        if (target !== null) {
          filename = target;
          scriptAliased = al.script;
          this.step('translate_name', `${al.directive.name} maps ${uriPath} to ${target}`, al.directive);
          break;
        }
      }
    }
    if (filename === null) {
      const root = server.documentRoot?.value ?? '/var/www/html';
      filename = root.replace(/\/+$/, '') + uriPath;
      this.step('translate_name', `DocumentRoot ${root} maps ${uriPath} to ${filename}`, server.documentRoot?.by ?? null);
    }

    // ---- map_to_storage: directory walk ----
    const walk = this.directoryWalk(filename, uriPath);
    if ('status' in walk) return { ...walk, filename };
    let conf = walk.conf;
    // ---- Location walk (overrides everything from map_to_storage) ----
    for (const loc of server.locations) {
      if (this.locationMatches(loc.kind, loc.path, loc.regex, uriPath)) {
        conf = mergeDirConf(conf, loc.conf, `<${loc.directive.name} ${loc.path}>`, loc.directive);
        this.step('location_walk', `<${loc.directive.name} ${loc.path}> applies`, loc.directive);
      }
    }
    conf = this.ifWalk(conf);
    if (!sub) this.applied = conf.trail;

    // ---- access checks ----
    const access = this.accessChecks(conf, walk.filename);
    if (access) return { ...access, filename: walk.filename };

    // ---- fixups: per-dir mod_rewrite ----
    const rw = conf.rewrite;
    const opts = effectiveOptions(conf.options);
    this.options = opts;
    if (rw && rw.state && rw.directory !== null && this.model.modules.has('mod_rewrite')) {
      const dirNoSlash = rw.directory.replace(/\/$/, '');
      if (walk.filename !== dirNoSlash) {
        if (!(opts & (OPT_SYM_LINKS | OPT_SYM_OWNER))) {
          const by = rw.stateBy ?? rw.rules[0]?.directive ?? null;
          this.step(
            'fixups',
            `RewriteEngine On in per-directory context while Options (${describeOptions(opts)}) has neither FollowSymLinks nor SymLinksIfOwnerMatch: AH00670`,
            by,
          );
          return {
            ...fin(
              403,
              'A25',
              by,
              'AH00670: Options FollowSymLinks and SymLinksIfOwnerMatch are both off, so the RewriteRule directive is also forbidden',
            ),
            filename: walk.filename,
          };
        }
        const rel = walk.filename.startsWith(rw.directory) ? walk.filename.slice(rw.directory.length) : walk.filename;
        const r = this.applyRewrite(rw.rules, rel, uriPath, walk.filename, query, 'fixups');
        if (r.final) return { ...r.final, filename: walk.filename };
        if (r.newPath !== undefined) {
          let target = r.newPath;
          if (!target.startsWith('/')) {
            const full = rw.directory + target;
            const root = (server.documentRoot?.value ?? '/var/www/html').replace(/\/+$/, '');
            if (full.startsWith(root + '/')) target = full.slice(root.length);
            else {
              this.unknown(`per-directory rewrite to ${full} outside DocumentRoot needs RewriteBase, not modelled`);
              return {
                status: null,
                outcome: 'unknown',
                cause: null,
                by: r.by ?? null,
                message: 'rewrite target not modelled',
                filename: walk.filename,
              };
            }
          }
          this.step('fixups', `internal redirect to ${target}`, r.by);
          return this.run(target + (query ? `?${query}` : ''), depth + 1, sub);
        }
      }
    }
    // ---- fixups: per-dir Redirect ----
    if (this.model.modules.has('mod_alias')) {
      for (const rd of conf.redirects) {
        if (this.redirectMatches(rd, uriPath)) {
          this.step('fixups', `${rd.directive.name} answers ${rd.status} for ${uriPath}`, rd.directive);
          return {
            ...fin(rd.status, rd.status === 403 ? 'A29' : null, rd.directive, `${rd.directive.name} ${rd.status}`),
            filename: walk.filename,
          };
        }
      }
    }
    if (sub) return { ...fin(200, null, null, 'subrequest passed'), filename: walk.filename, type: walk.type };

    // ---- handlers ----
    const handler = scriptAliased ? { value: 'cgi-script', by: null as Directive | null } : this.handlerFor(conf, walk.filename);
    if (walk.type === 'dir') {
      if (handler.value === 'cgi-script' && this.cgiLoaded()) {
        return { ...fin(403, 'A31', handler.by, 'attempt to invoke directory as script'), filename: walk.filename };
      }
      return { ...this.directory(conf, uriPath, query, walk.filename, depth), filename: walk.filename };
    }
    if (handler.value === 'cgi-script' && this.cgiLoaded()) {
      if (!(opts & OPT_EXECCGI) && !scriptAliased) {
        const by = conf.optionsBy[conf.optionsBy.length - 1] ?? handler.by;
        this.step(
          'handler',
          `cgi-script handler (${handler.by ? handler.by.name : 'ScriptAlias'}) but Options (${describeOptions(opts)}) lacks ExecCGI`,
          by,
        );
        return { ...fin(403, 'A30', by, 'Options ExecCGI is off in this directory'), filename: walk.filename };
      }
      if (walk.type === 'missing') return { ...fin(404, null, null, 'script not found'), filename: walk.filename };
      this.step('handler', 'cgi-script runs the file; its own output decides the status', handler.by);
      return { status: null, outcome: 'cgi', cause: null, by: handler.by, message: 'CGI script output', filename: walk.filename };
    }
    if (handler.value === 'server-status' && this.model.modules.has('mod_status')) {
      this.step('handler', 'server-status handler', handler.by);
      return { ...fin(200, null, handler.by, 'server status page'), filename: walk.filename };
    }
    return { ...this.defaultHandler(walk.filename, walk.type), filename: walk.filename };
  }

  /** A forward proxy request: proxy_walk (`<Proxy>` sections on `proxy:<url>`, no directory walk),
   * the Location walk on the full URL, then the access checks (docs/403-causes.md#a43). */
  forwardProxy(url: string, by: Directive): Final & { filename?: string } {
    const filename = `proxy:${url}`;
    this.step(
      'translate_name',
      `mod_proxy: ProxyRequests On and ${url} does not name this server → forward proxy request for ${filename}`,
      by,
    );
    let conf = this.server.base;
    for (const px of this.server.proxies) {
      let hit: boolean;
      if (px.regex) {
        const re = px.regex as { ok: true; re: ConfigRegex } | { ok: false; reason: string };
        if (!re.ok) this.unknown(re.reason);
        hit = re.ok && this.rxMatches(re.re, url);
      } else hit = px.wildcard ? fnmatch(px.path, url, false) : url.startsWith(px.path);
      if (!hit) continue;
      conf = mergeDirConf(conf, px.conf, `<${px.directive.name} ${px.path}>`, px.directive);
      this.step('proxy_walk', `<${px.directive.name} ${px.path}> applies to ${url}`, px.directive);
    }
    for (const loc of this.server.locations) {
      if (this.locationMatches(loc.kind, loc.path, loc.regex, url)) {
        conf = mergeDirConf(conf, loc.conf, `<${loc.directive.name} ${loc.path}>`, loc.directive);
        this.step('location_walk', `<${loc.directive.name} ${loc.path}> applies`, loc.directive);
      }
    }
    conf = this.ifWalk(conf);
    this.applied = conf.trail;
    const access = this.accessChecks(conf, filename);
    if (access) return { ...access, cause: access.status === 403 ? 'A43' : access.cause, filename };
    this.step('handler', `mod_proxy forwards the request to ${url}; the origin server answers`, by);
    return { status: null, outcome: 'unknown', cause: null, by, message: `forwarded to ${url}`, filename };
  }

  /** mod_ssl's access check (ssl_hook_Access): SSLRequireSSL on a connection that is not TLS. */
  sslCheck(conf: DirConf, filename: string): Final | null {
    const by = conf.sslRequireSSL;
    if (!by || this.tls || !this.model.modules.has('mod_ssl')) return null;
    if (this.server.sslEngine?.value === 'optional') {
      this.step('access_checker', 'SSLRequireSSL on an `SSLEngine optional` server over plain HTTP: 426 Upgrade Required', by);
      return fin(426, null, by, 'SSLRequireSSL: upgrade to TLS required', 'bad-request');
    }
    this.step('access_checker', 'SSLRequireSSL and the connection is plain HTTP → 403 AH02219', by);
    return fin(403, 'A37', by, `AH02219: access to ${filename} failed, reason: SSL connection required`);
  }

  cgiLoaded() {
    return this.model.modules.has('mod_cgi') || this.model.modules.has('mod_cgid');
  }

  isFsPath(p: string): boolean {
    const first = p.split('/')[1];
    if (!first) return false;
    if (!this.fs) return false;
    return this.fs.lstat('/' + first) !== null;
  }

  handlerFor(conf: DirConf, filename: string): { value: string; by: Directive | null } {
    if (conf.handler && conf.handler.value !== 'none') return { value: conf.handler.value, by: conf.handler.by };
    if (this.model.modules.has('mod_mime')) {
      const base = filename.slice(filename.lastIndexOf('/') + 1);
      const exts = base.split('.').slice(1);
      let h: { value: string; by: Directive | null } = { value: '', by: null };
      for (const e of exts) {
        const x = conf.addHandlers.get(e.toLowerCase());
        if (x) h = { value: x.value, by: x.by };
      }
      return h;
    }
    return { value: '', by: null };
  }

  redirectMatches(rd: { match: string; regex: { ok: boolean } | null; directive: Directive }, uri: string): boolean {
    if (rd.regex) {
      const re = rd.regex as { ok: true; re: ConfigRegex } | { ok: false; reason: string };
      if (!re.ok) {
        this.unknown(re.reason);
        return false;
      }
      return this.rxMatches(re.re, uri);
    }
    return aliasPrefix(rd.match, uri) !== null;
  }

  aliasTarget(al: { fake: string; real: string; regex: { ok: boolean } | null }, uri: string): string | null {
    if (al.regex) {
      const re = al.regex as { ok: true; re: ConfigRegex } | { ok: false; reason: string };
      if (!re.ok) {
        this.unknown(re.reason);
        return null;
      }
      const m = re.re.exec(uri);
      if (m && isUnknown(m)) this.unknown(`regex ${re.re.source} cannot be evaluated: ${m.unknown}`);
      if (!m || isUnknown(m)) return null;
      return al.real.replace(/\$(\d)/g, (_, n) => m.captures[Number(n)] ?? '');
    }
    const len = aliasPrefix(al.fake, uri);
    if (len === null) return null;
    return al.real + uri.slice(len);
  }

  locationMatches(kind: string, path: string, regex: { ok: boolean } | null, uri: string): boolean {
    if (kind === 'locationmatch') {
      const re = regex as { ok: true; re: ConfigRegex } | { ok: false; reason: string };
      if (!re.ok) {
        this.unknown(re.reason);
        return false;
      }
      return this.rxMatches(re.re, uri);
    }
    if (/[*?[]/.test(path)) return fnmatch(path, uri);
    const p = path.replace(/\/+/g, '/');
    if (!uri.startsWith(p)) return false;
    return p.endsWith('/') || uri.length === p.length || uri[p.length] === '/';
  }

  /** ap_directory_walk + regex directories + ap_file_walk. */
  directoryWalk(filename: string, uri: string): { conf: DirConf; filename: string; type: FsStat['type'] | 'missing' | 'unknown' } | Final {
    const server = this.server;
    let conf = server.base;
    const dirs = server.directories;
    let secIdx = 0;
    const parts = filename.split('/').filter((x) => x !== '');
    const trailing = filename.endsWith('/');
    let cur = '/';
    let type: FsStat['type'] | 'missing' | 'unknown' = 'dir';
    let seg = 0;
    let finalName = filename.replace(/\/+$/, '') || '/';
    for (;;) {
      const comps = cur === '/' ? 0 : countDirs(cur);
      // <Directory> sections of this level (sorted by component count).
      for (; secIdx < dirs.length && dirs[secIdx].components <= comps; secIdx++) {
        const s = dirs[secIdx];
        if (s.components !== comps) continue;
        const match = s.wildcard ? fnmatch(s.path, cur) : s.path === cur;
        if (!match) continue;
        conf = mergeDirConf(conf, s.conf, `<Directory ${s.path}>`, s.directive);
        this.step('directory_walk', `<Directory ${s.path}> applies to ${cur}`, s.directive);
      }
      // This level's .htaccess.
      const ht = this.htaccess(cur, conf);
      if (ht && 'status' in ht) return ht;
      if (ht) conf = ht;
      if (seg >= parts.length) break;
      // Descend into the next component.
      const next = cur + parts[seg];
      const isLast = seg === parts.length - 1;
      if (this.fs) {
        const parent = this.fs.stat(cur.replace(/(.)\/$/, '$1'));
        if (parent && !permits(parent, this.worker, 1)) {
          this.step(
            'directory_walk',
            `${this.worker.user} lacks search (x) permission on ${cur} (mode ${parent.mode.toString(8)}): AH00035`,
            this.model.userDirective,
          );
          return fin(
            403,
            'A12',
            this.model.userDirective,
            `AH00035: access to ${uri} denied because search permissions are missing on a component of the path`,
          );
        }
        const ls = this.fs.lstat(next);
        if (!ls) {
          type = 'missing';
          break;
        }
        let st: FsStat | null = ls;
        if (ls.type === 'symlink') {
          const o = effectiveOptions(conf.options);
          const by = conf.optionsBy[conf.optionsBy.length - 1] ?? null;
          if (!(o & (OPT_SYM_LINKS | OPT_SYM_OWNER))) {
            this.step(
              'directory_walk',
              `${next} is a symlink and Options for ${cur} (${describeOptions(o)}) allow neither FollowSymLinks nor SymLinksIfOwnerMatch: AH00037`,
              by,
            );
            return fin(403, 'A11', by, `AH00037: Symbolic link not allowed or link target not accessible: ${next}`);
          }
          st = this.fs.stat(next);
          if (!st) {
            this.step('directory_walk', `${next} is a dangling symlink: AH00037`, by);
            return fin(403, 'A11', by, `AH00037: Symbolic link not allowed or link target not accessible: ${next}`);
          }
          if (o & OPT_SYM_OWNER && st.uid !== ls.uid) {
            this.step(
              'directory_walk',
              `${next}: SymLinksIfOwnerMatch and the link owner (${ls.uid}) differs from the target owner (${st.uid}): AH00037`,
              by,
            );
            return fin(403, 'A11', by, `AH00037: Symbolic link not allowed or link target not accessible: ${next}`);
          }
        }
        if (st.type === 'file') {
          type = 'file';
          finalName = next;
          if (!isLast) {
            type = 'file'; // PATH_INFO follows; AcceptPathInfo default for static files gives 404
            return fin(404, null, null, `${next} is a file and the URI has extra path info`);
          }
          break;
        }
        if (st.type === 'other') return fin(403, 'A15', null, `AH00038: Forbidden: ${next} doesn't point to a file or directory`);
        cur = next + '/';
        seg++;
        if (isLast) {
          type = 'dir';
          finalName = next + (trailing ? '/' : '');
          // One more round merges the directory's own sections and .htaccess.
        }
        continue;
      }
      // No filesystem: intermediate components are directories; the last is a file unless the URI ends in '/'.
      if (isLast && !trailing) {
        type = 'unknown';
        finalName = next;
        break;
      }
      cur = next + '/';
      seg++;
      if (isLast) {
        type = 'dir';
        finalName = next + '/';
      }
    }
    if (type === 'dir' && !finalName.endsWith('/') && trailing) finalName += '/';
    // Regex <Directory ~> / <DirectoryMatch>, in config order, against the whole filename.
    const testName = type === 'dir' ? cur : finalName;
    for (const s of server.regexDirectories) {
      if (!s.regex) continue;
      if (!s.regex.ok) {
        this.unknown(s.regex.reason);
        continue;
      }
      if (this.rxMatches(s.regex.re, testName)) {
        conf = mergeDirConf(conf, s.conf, `<${s.directive.name} ${s.path}>`, s.directive);
        this.step('directory_walk', `<${s.directive.name} ${s.path}> applies`, s.directive);
      }
    }
    // ap_file_walk: <Files>/<FilesMatch> on the last component.
    const testFile = type === 'dir' && finalName.endsWith('/') ? '' : finalName.slice(finalName.lastIndexOf('/') + 1);
    for (const f of conf.nested) {
      if (f.kind !== 'files' && f.kind !== 'filesmatch') continue;
      let m = false;
      if (f.kind === 'filesmatch') {
        if (!f.regex || !f.regex.ok) {
          if (f.regex && !f.regex.ok) this.unknown(f.regex.reason);
          continue;
        }
        m = this.rxMatches(f.regex.re, testFile);
      } else m = /[*?[]/.test(f.pattern) ? fnmatch(f.pattern, testFile, false) : f.pattern === testFile;
      if (m) {
        conf = mergeDirConf(conf, f.conf, `<${f.directive.name} ${f.pattern}>`, f.directive);
        this.step('file_walk', `<${f.directive.name} ${f.pattern}> applies to "${testFile}"`, f.directive);
      }
    }
    return { conf, filename: finalName, type };
  }

  /** `<If>` sections: only the literal `true`/`false` expressions are evaluated. */
  ifWalk(conf: DirConf): DirConf {
    let out = conf;
    for (const f of conf.nested) {
      if (f.kind === 'files' || f.kind === 'filesmatch') continue;
      const e = f.pattern.trim().toLowerCase();
      if (f.kind === 'if' && (e === 'true' || e === '-t true')) out = mergeDirConf(out, f.conf, '<If true>', f.directive);
      else if (f.kind === 'if' && (e === 'false' || e === '!true')) continue;
      else this.unknown(`<${f.directive.name} ${f.pattern}> is an ap_expr expression, not evaluated`);
    }
    return out;
  }

  /** One level's .htaccess (ap_parse_htaccess); returns the merged config, a Final (403/500) or null. */
  htaccess(dir: string, conf: DirConf): DirConf | Final | null {
    const classes = conf.override?.classes ?? new Set<string>();
    const list = conf.overrideList?.value ?? new Set<string>();
    if (classes.size === 0 && list.size === 0) return null;
    const by = conf.override?.by ?? conf.overrideList?.by ?? null;
    for (const name of this.model.accessFileNames) {
      const path = dir + name;
      let text: string | null = null;
      let parsed: ParsedFile | null = null;
      const dirKey = dir.replace(/(.)\/$/, '$1');
      if (this.fs) {
        const st = this.fs.stat(path);
        if (!st) continue;
        const parent = this.fs.stat(dirKey);
        if (!permits(st, this.worker, 4) || (parent && !permits(parent, this.worker, 1))) {
          this.step('directory_walk', `${path} exists but ${this.worker.user} cannot read it: AH00529`, by);
          return fin(
            403,
            'A16',
            by,
            `AH00529: ${path} pcfg_openfile: unable to check htaccess file, ensure it is readable and that '${dir}' is executable`,
          );
        }
        text = this.fs.readFile(path);
        if (text === null) {
          // httpd reads this file and we cannot (a FIFO, a device, unreadable by us): its effect is unknown
          const why = this.fs.readError?.(path) ?? `cannot read ${path}`;
          this.unknown(why);
          return { status: null, outcome: 'unknown', cause: null, by, message: why };
        }
        parsed = parseApache(new SourceFile(path, text), { context: 'htaccess', htaccessDir: dirKey });
      } else {
        parsed = this.req.htaccess?.get(dirKey) ?? null;
        if (!parsed) {
          if (!this.req.htaccess) this.unknown(`AllowOverride lets ${path} change the outcome; no filesystem given to read it`);
          continue;
        }
      }
      return this.applyHtaccess(parsed, dir, conf, by);
    }
    return null;
  }

  applyHtaccess(parsed: ParsedFile, dir: string, conf: DirConf, by: Directive | null): DirConf | Final {
    const st: OverrideState = {
      classes: conf.override?.classes ?? new Set(),
      nonfatal: conf.override?.nonfatal ?? new Set(),
      optsAllowed: conf.overrideOpts ?? 0xff,
      list: conf.overrideList?.value ?? new Set(),
    };
    const notes = this.model.notes;
    const env = {
      modules: this.model.modules,
      defines: new Map(this.model.defines),
      version: this.model.version,
      fileExists: () => null,
      serverRoot: this.model.serverRoot,
      envVars: {},
    };
    const list = flatten(
      { server: 'apache', root: parsed, files: new Map([[parsed.source.path, parsed]]), errors: [] },
      parsed.nodes,
      env,
      notes,
    );
    if (parsed.errors.length) {
      const e = parsed.errors[0];
      this.step('directory_walk', `${parsed.source.path}: syntax error: ${e.message}`, null);
      return fin(500, null, null, `${parsed.source.path}: ${e.message}`);
    }
    const kept: Directive[] = [];
    const check = (ds: Directive[], into: Directive[]): Final | null => {
      for (const d0 of ds) {
        const d = expandDirective(d0, this.model.defines);
        const v = checkOverride(d, st, this.model.modules);
        if (v) {
          if (v.nonfatal) {
            this.step('directory_walk', `${parsed.source.path}: ${v.message} (ignored: AllowOverride Nonfatal)`, d);
            continue;
          }
          this.step('directory_walk', `${parsed.source.path}: ${v.message}; real Apache answers 500`, d);
          return fin(500, null, d, `${parsed.source.path}: ${v.message}`);
        }
        if (d.block) {
          const inner: Directive[] = [];
          const r = check(kids(d), inner);
          if (r) return r;
          into.push({ ...d, block: inner });
        } else into.push(d);
      }
      return null;
    };
    const bad = check(list, kept);
    if (bad) return bad;
    const local: typeof notes = [];
    const compiled = compileSection(kept, {
      kind: 'htaccess',
      path: dir,
      notes: local,
      knownProvider: () => true,
      optsAllowed: st.optsAllowed,
      section: null,
      owners: this.model.owners,
    });
    const err = local.find((n) => n.severity === 'error');
    if (err) {
      this.step('directory_walk', `${parsed.source.path}: ${err.message}; real Apache answers 500`, err.directive);
      return fin(500, null, err.directive, `${parsed.source.path}: ${err.message}`);
    }
    this.step('directory_walk', `${parsed.source.path} is read (AllowOverride allows it)`, by);
    return mergeDirConf(conf, compiled, parsed.source.path, null);
  }

  providerVerdict(p: AuthzProviderNode, user: string | null, filename: string): ProviderVerdict {
    const a = p.args;
    switch (p.name) {
      case 'all':
        if (a[0]?.toLowerCase() === 'granted') return { result: 'GRANTED', why: 'Require all granted' };
        return { result: 'DENIED', why: 'Require all denied' };
      case 'ip': {
        for (const spec of a) {
          const sub = parseSubnet(spec);
          if (sub && subnetMatches(sub, this.clientIp)) return { result: 'GRANTED', why: `${this.clientIp} is in ${spec}` };
        }
        return { result: 'DENIED', why: `${this.clientIp} is not in ${a.join(' ')}` };
      }
      case 'local':
        return isLocal(this.clientIp)
          ? { result: 'GRANTED', why: `${this.clientIp} is local` }
          : { result: 'DENIED', why: `${this.clientIp} is not local` };
      case 'host':
      case 'forward-dns':
        return { unknown: `Require ${p.name} ${a.join(' ')} needs DNS for ${this.clientIp}`, possible: ['GRANTED', 'DENIED'] };
      case 'method':
        return a.map((x) => x.toUpperCase()).includes(this.method) ||
          (this.method === 'HEAD' && a.map((x) => x.toUpperCase()).includes('GET'))
          ? { result: 'GRANTED', why: `method ${this.method} is listed` }
          : { result: 'DENIED', why: `method ${this.method} is not in ${a.join(' ')}` };
      case 'env': {
        const env = this.req.env ?? (this.model.setsEnv ? null : {});
        if (env === null)
          return { unknown: `Require env ${a.join(' ')} depends on variables set by the config`, possible: ['GRANTED', 'DENIED'] };
        return a.some((x) => x in env)
          ? { result: 'GRANTED', why: 'variable set' }
          : { result: 'DENIED', why: `none of ${a.join(' ')} is set` };
      }
      case 'expr': {
        const e = a.join(' ').trim().toLowerCase();
        if (e === 'true') return { result: 'GRANTED', why: 'expr true' };
        if (e === 'false') return { result: 'DENIED', why: 'expr false' };
        return { unknown: `Require expr ${a.join(' ')} is not evaluated`, possible: ['GRANTED', 'DENIED'] };
      }
      case 'valid-user':
        return user
          ? { result: 'GRANTED', why: `user ${user} is authenticated` }
          : { result: 'DENIED_NO_USER', why: 'needs an authenticated user' };
      case 'user':
        if (!user) return { result: 'DENIED_NO_USER', why: 'needs an authenticated user' };
        return a.includes(user)
          ? { result: 'GRANTED', why: `user ${user} is listed` }
          : { result: 'DENIED', why: `user ${user} is not listed` };
      default:
        if (!user) return { result: 'DENIED_NO_USER', why: 'needs an authenticated user' };
        void filename;
        return { unknown: `Require ${p.name} depends on data outside the config`, possible: ['GRANTED', 'DENIED'] };
    }
  }

  classifyAuthz(by: Directive | null, conf: DirConf, compatOk: boolean): CauseId {
    const owner = by ? this.model.owners.get(by) : undefined;
    if (owner?.limit) return 'A10';
    // A05 before A06: a section that passes old-style Allow while an inherited Require still
    // denies (Debian's `<Directory />`) is the mixed-syntax case, whatever section the Require is in.
    if ((owner?.kind === 'files' || owner?.kind === 'filesmatch') && owner.path && /\\?\.ht/.test(owner.path)) return 'A07';
    if (conf.compat && compatOk && conf.compat.entries.some((e) => e.allow)) return 'A05';
    if (owner?.kind === 'directory' && owner.path === '/') return 'A06';
    return 'A01';
  }

  /** access_checker (mod_access_compat) + access_checker_ex (authz_core) + authn, per Satisfy. */
  accessChecks(conf: DirConf, filename: string): Final | null {
    const m = this.method;
    const compatLoaded = this.model.modules.has('mod_access_compat');
    const { satisfy, directive: satDir } = compatLoaded ? satisfyFor(conf.compat, m) : { satisfy: 'nospec' as const, directive: null };
    let compatOk = true;
    let compatFinal: Final | null = null;
    if (compatLoaded && conf.compat) {
      const env = this.req.env ?? (this.model.setsEnv ? null : {});
      const v = checkAccessCompat(conf.compat, { method: m, clientIp: this.clientIp, env });
      if (v.result === 'unknown') {
        this.unknown(v.why);
        this.step('access_checker', `mod_access_compat: ${v.why}`, v.by);
        return {
          status: null,
          outcome: 'unknown',
          cause: 'A04',
          by: v.by,
          message: v.why,
          possible: [
            { when: 'Allow/Deny matches as needed', status: 200, outcome: 'ok', cause: null },
            { when: 'access_compat denies', status: 403, outcome: 'forbidden', cause: 'A04' },
          ],
        };
      }
      compatOk = v.result === 'ok';
      this.step('access_checker', `mod_access_compat: ${v.why} → ${compatOk ? 'OK' : '403 (AH01797)'}`, v.by);
      if (!compatOk) {
        const owner = v.by ? this.model.owners.get(v.by) : undefined;
        compatFinal = fin(403, owner?.limit ? 'A10' : 'A04', v.by, `AH01797: client denied by server configuration: ${filename}`);
      }
    }
    const sslFinal = this.sslCheck(conf, filename);
    if (satisfy === 'any' && compatOk && conf.compat && !sslFinal) {
      this.step('access_checker', 'Satisfy Any and mod_access_compat passed: authorization is skipped', satDir);
      return null;
    }
    if (satisfy !== 'any' && (compatFinal || sslFinal)) return compatFinal ?? sslFinal;
    // Satisfy Any: a failed access_checker (access_compat or SSLRequireSSL) can still be passed by authorization
    return this.authz(conf, filename, compatOk);
  }

  authz(conf: DirConf, filename: string, compatOk: boolean): Final | null {
    const section = conf.authz.section;
    if (!section) {
      if (conf.authType)
        return fin(500, null, conf.authType.by, 'AH01627: AuthType configured with no corresponding authorization directives');
      this.step('access_checker_ex', 'no Require applies: granted (AH01628)', null);
      return null;
    }
    const userless = evaluateAuthz(section, this.method, (p) => this.providerVerdict(p, null, filename));
    for (const u of userless.unknowns) this.unknown(u.reason);
    const finals: { r: AuthzResult; f: Final | null }[] = [];
    for (const [r, e] of userless.results) {
      let f: Final | null;
      if (r === 'GRANTED') {
        this.step('access_checker_ex', `authz_core: GRANTED (${e.why})`, e.by);
        this.grantedBy = e.by;
        f = null;
      } else if (r === 'DENIED' || r === 'NEUTRAL') {
        const cause = this.classifyAuthz(e.by, conf, compatOk);
        this.step('access_checker_ex', `authz_core: ${r} (${e.why}) → 403 AH01630`, e.by);
        f = fin(403, cause, e.by, `AH01630: client denied by server configuration: ${filename}`);
      } else {
        f = this.authn(conf, filename, e.by);
      }
      finals.push({ r, f });
    }
    if (finals.length === 1) return finals[0].f;
    const possible: PossibleOutcome[] = finals.map(({ r, f }) => ({
      when: `authorization ${r}`,
      status: f ? f.status : 200,
      outcome: f ? f.outcome : 'ok',
      cause: f ? f.cause : null,
    }));
    const statuses = new Set(possible.map((p) => p.status));
    if (statuses.size === 1 && finals[0].f) return finals[0].f;
    const denial = finals.find((x) => x.f)?.f ?? null;
    return {
      status: null,
      outcome: 'unknown',
      cause: denial?.cause ?? null,
      by: denial?.by ?? null,
      message: 'depends on providers the model cannot evaluate',
      possible,
    };
  }

  authn(conf: DirConf, filename: string, by: Directive | null): Final | null {
    if (!conf.authType || conf.authType.value.toLowerCase() === 'none') {
      this.step('check_user_id', 'a Require needs a user but no AuthType is configured: AH00027 → 500', by);
      return fin(
        500,
        null,
        by,
        'AH00027: No authentication done but request not allowed without authentication. Authentication not configured?',
      );
    }
    const user = this.req.user ?? null;
    if (!user) {
      this.step('check_user_id', `AuthType ${conf.authType.value}: no credentials sent → 401`, conf.authType.by);
      return fin(401, null, conf.authType.by, 'authentication required');
    }
    const again = evaluateAuthz(conf.authz.section!, this.method, (p) => this.providerVerdict(p, user, filename));
    const [r, e] = [...again.results.entries()][0];
    if (r === 'GRANTED') {
      this.step('auth_checker', `authz_core with user ${user}: GRANTED`, e.by);
      this.grantedBy = e.by;
      return null;
    }
    if (r === 'DENIED_NO_USER') return fin(401, null, e.by, 'AH01629: authorization failure (no authenticated user)');
    if (conf.authz.forbiddenOnFail) {
      this.step('auth_checker', `user ${user}: ${r}, AuthzSendForbiddenOnFailure On → 403`, e.by);
      return fin(403, 'A02', e.by, `AH01631: user ${user}: authorization failure`);
    }
    this.step('auth_checker', `user ${user}: ${r} → 401 (AH01631)`, e.by);
    return fin(401, null, e.by, `AH01631: user ${user}: authorization failure`);
  }

  /** mod_rewrite rule list; returns a final status, a new path, or nothing. */
  applyRewrite(
    rules: RewriteRuleEntry[],
    subject: string,
    uri: string,
    filename: string | null,
    query: string,
    phase: string,
  ): { final?: Final; newPath?: string; by?: Directive } {
    let current = subject;
    let changed: string | undefined;
    let by: Directive | undefined;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (!rule.re.ok) {
        this.unknown(rule.re.reason);
        return { final: { status: null, outcome: 'unknown', cause: null, by: rule.directive, message: rule.re.reason } };
      }
      const r = rule.re.re.exec(current);
      if (r && isUnknown(r)) {
        const why = `RewriteRule ${rule.pattern} cannot be evaluated on ${current}: ${r.unknown}`;
        this.unknown(why);
        return { final: { status: null, outcome: 'unknown', cause: null, by: rule.directive, message: why } };
      }
      const m = r ? r.captures : null;
      if (!!m === rule.negate) continue;
      let condsOk = true;
      for (const c of rule.conds) {
        const v = this.evalCond(c.test, c.pattern, c.flags, uri, filename, query, m);
        if (v === null) {
          const why = `RewriteCond ${c.test} ${c.pattern} is not modelled`;
          this.unknown(why);
          return { final: { status: null, outcome: 'unknown', cause: null, by: c.directive, message: why } };
        }
        if (!v) {
          condsOk = false;
          if (!c.flags.has('or') && !c.flags.has('ornext')) break;
        } else if (c.flags.has('or') || c.flags.has('ornext')) {
          condsOk = true;
          break;
        }
      }
      if (!condsOk) continue;
      const f = rule.flags;
      if (f.has('f')) {
        this.step(phase, `RewriteRule ${rule.pattern} [F] matches ${current} → 403`, rule.directive);
        return { final: fin(403, 'A23', rule.directive, 'RewriteRule [F]') };
      }
      if (f.has('g')) {
        this.step(phase, `RewriteRule ${rule.pattern} [G] matches → 410`, rule.directive);
        return { final: fin(410, null, rule.directive, 'RewriteRule [G]') };
      }
      const subst = rule.subst.replace(/\$(\d)/g, (_, n) => (m ? (m[Number(n)] ?? '') : ''));
      if (f.has('r')) {
        const code = f.get('r') ? Number(f.get('r')) : 302;
        if (!Number.isInteger(code) || code < 100 || code > 599) {
          // mod_rewrite refuses the config ("invalid HTTP response code"): no status to predict
          this.unknown(`RewriteRule ${rule.pattern} [R=${f.get('r')}]: httpd refuses to start with that code`);
          return {
            final: {
              status: null,
              outcome: 'unknown',
              cause: null,
              by: rule.directive,
              message: `RewriteRule [R=${f.get('r')}] is invalid`,
            },
          };
        }
        if (code < 300 || code > 399) {
          this.step(phase, `RewriteRule ${rule.pattern} [R=${code}] matches ${current} → ${code}`, rule.directive);
          return { final: fin(code, code === 403 ? 'A24' : null, rule.directive, `RewriteRule [R=${code}]`) };
        }
        this.step(phase, `RewriteRule ${rule.pattern} redirects to ${subst} (${code})`, rule.directive);
        return { final: fin(code, null, rule.directive, `redirect to ${subst}`) };
      }
      if (subst !== '-') {
        current = subst;
        changed = subst;
        by = rule.directive;
        this.step(phase, `RewriteRule ${rule.pattern} rewrites to ${subst}`, rule.directive);
      }
      if (f.has('l') || f.has('end')) break;
    }
    return changed !== undefined ? { newPath: changed, by } : {};
  }

  evalCond(
    test: string,
    pattern: string,
    flags: Set<string>,
    uri: string,
    filename: string | null,
    query: string,
    m: (string | undefined)[] | null,
  ): boolean | null {
    const headers = Object.fromEntries(Object.entries(this.req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    let unknownVar = false;
    const val = test
      .replace(/%\{([^}]+)\}/g, (_, name: string) => {
        const n = name.toUpperCase();
        if (n === 'REQUEST_URI') return uri;
        if (n === 'REQUEST_FILENAME' || n === 'SCRIPT_FILENAME') return filename ?? uri;
        if (n === 'QUERY_STRING') return query;
        if (n === 'REMOTE_ADDR') return this.clientIp;
        if (n === 'REQUEST_METHOD') return this.method;
        if (n === 'HTTP_HOST') return this.req.host ?? 'localhost';
        if (n.startsWith('HTTP:')) return headers[n.slice(5).toLowerCase()] ?? '';
        if (n.startsWith('HTTP_')) return headers[n.slice(5).toLowerCase().replace(/_/g, '-')] ?? '';
        unknownVar = true;
        return '';
      })
      .replace(/\$(\d)/g, (_, i) => (m ? (m[Number(i)] ?? '') : ''));
    if (unknownVar) return null;
    let pat = pattern;
    let neg = false;
    if (pat.startsWith('!')) {
      neg = true;
      pat = pat.slice(1);
    }
    let r: boolean;
    if (pat === '-f' || pat === '-d' || pat === '-s' || pat === '-l' || pat === '-F') {
      if (!this.fs) return null;
      const st = pat === '-l' ? this.fs.lstat(val) : this.fs.stat(val);
      r = pat === '-d' ? st?.type === 'dir' : pat === '-l' ? st?.type === 'symlink' : st?.type === 'file';
    } else if (pat.startsWith('=')) {
      r = flags.has('nc') ? val.toLowerCase() === pat.slice(1).toLowerCase() : val === pat.slice(1);
    } else if (pat.startsWith('-')) {
      return null;
    } else {
      const re = compilePcre(pat, flags.has('nc'));
      const hit = re.ok ? re.re.matches(val) : null;
      if (hit === null || isUnknown(hit)) return null;
      r = hit;
    }
    return neg ? !r : r;
  }

  /** A directory: DirectorySlash, DirectoryIndex subrequests, then mod_autoindex. */
  directory(conf: DirConf, uri: string, query: string, dirname: string, depth: number): Final {
    const hasDir = this.model.modules.has('mod_dir');
    if (hasDir && !uri.endsWith('/')) {
      if (conf.dirSlash?.value === false) {
        this.step('fixups', 'DirectorySlash Off: no redirect, no index', conf.dirSlash.by);
      } else {
        this.step('fixups', `mod_dir: ${uri} is a directory → 301 to ${uri}/`, conf.dirSlash?.by ?? null);
        return fin(301, null, conf.dirSlash?.by ?? null, `redirect to ${uri}/`);
      }
    } else if (hasDir) {
      const names = conf.dirIndex ? conf.dirIndex.value : ['index.html'];
      let errorStatus: Final | null = null;
      const refused: IndexCandidate[] = [];
      const possible: PossibleOutcome[] = [];
      for (const name of names) {
        const target = name.startsWith('/') ? name : uri + name;
        const saved = this.trace.length;
        const sub = this.run(target + (query ? `?${query}` : ''), depth + 1, true);
        const subTrace = this.trace.splice(saved);
        if (sub.status === 200 && (sub.type === 'file' || sub.type === 'unknown')) {
          if (sub.type === 'unknown') {
            // No filesystem: the index may or may not be there.
            const served = this.run(target, depth + 1, false);
            if (served.status === null && served.possible) {
              for (const p of served.possible) if (p.status !== 404) possible.push({ ...p, when: `${target}: ${p.when}` });
            } else possible.push({ when: `${target} exists`, status: served.status, outcome: served.outcome, cause: served.cause });
            continue;
          }
          this.step('fixups', `mod_dir: DirectoryIndex ${name} found → internal redirect to ${target}`, conf.dirIndex?.by ?? null);
          this.trace.push(...subTrace);
          return this.run(target + (query ? `?${query}` : ''), depth + 1, false);
        }
        if (sub.status !== null && sub.status !== 200 && sub.status !== 404) {
          this.trace.push(...subTrace);
          this.step('fixups', `mod_dir: the subrequest for ${target} answered ${sub.status}`, sub.by);
          // mod_dir keeps the last such status and returns it when no candidate is served (fixup_dir)
          errorStatus = { ...sub, cause: sub.status === 403 ? 'A20' : sub.cause };
          refused.push({ name, target, status: sub.status, cause: sub.cause, by: sub.by });
        }
      }
      const savedTrace = this.trace.length;
      const listing = this.autoindex(conf, dirname);
      if (errorStatus) this.trace.splice(savedTrace); // mod_autoindex never runs
      this.dirIndex = { names, by: conf.dirIndex?.by ?? null, refused, listing: listing.outcome };
      const fallback = errorStatus ?? listing;
      if (possible.length) {
        possible.push({
          when: `no DirectoryIndex file (${names.join(' ') || 'none'}) exists`,
          status: fallback.status,
          outcome: fallback.outcome,
          cause: fallback.cause,
        });
        const st = new Set(possible.map((p) => p.status));
        if (st.size === 1) return { ...fallback, possible };
        return {
          status: null,
          outcome: 'unknown',
          cause: fallback.cause,
          by: fallback.by,
          message: 'depends on which index files exist',
          possible,
        };
      }
      return fallback;
    }
    return this.autoindex(conf, dirname);
  }

  autoindex(conf: DirConf, dirname: string): Final {
    const opts = effectiveOptions(conf.options);
    const by = conf.optionsBy[conf.optionsBy.length - 1] ?? null;
    if (!this.model.modules.has('mod_autoindex')) {
      this.step('handler', 'no index file and mod_autoindex is not loaded: AH00129 → 404', null);
      return fin(404, null, null, `AH00129: Attempt to serve directory: ${dirname}`);
    }
    if (!(opts & OPT_INDEXES)) {
      const names = conf.dirIndex ? conf.dirIndex.value.join(', ') || 'none' : 'index.html';
      this.options = opts;
      this.indexNames = names;
      this.step(
        'handler',
        `no DirectoryIndex file and Options (${describeOptions(opts)}) lacks Indexes: AH01276`,
        by ?? conf.dirIndex?.by ?? null,
      );
      return fin(
        403,
        'A18',
        by ?? conf.dirIndex?.by ?? null,
        `AH01276: Cannot serve directory ${dirname}: No matching DirectoryIndex (${names}) found, and server-generated directory index forbidden by Options directive`,
      );
    }
    if (this.fs) {
      const st = this.fs.stat(dirname.replace(/(.)\/$/, '$1'));
      if (st && !permits(st, this.worker, 4))
        return fin(403, 'A19', this.model.userDirective ?? by, `AH01275: Can't open directory for index: ${dirname}`);
    }
    this.step('handler', 'mod_autoindex lists the directory (Options Indexes)', by);
    return fin(200, null, by, 'directory listing', 'listing');
  }

  defaultHandler(filename: string, type: FsStat['type'] | 'missing' | 'unknown'): Final {
    if (type === 'missing') {
      this.step('handler', `${filename} does not exist → 404`, null);
      return fin(404, null, null, `File does not exist: ${filename}`);
    }
    // core.c default_handler serves GET and POST (and HEAD, OPTIONS) of an existing file; other
    // methods get 405 — after the missing-file 404 (checked on real Apache 2.4: POST → 200).
    const served = ['GET', 'HEAD', 'POST', 'OPTIONS'].includes(this.method);
    if (!served && type !== 'unknown') {
      return fin(405, null, null, `${this.method} is not allowed on a static file`);
    }
    if (type === 'unknown' && !served) {
      return {
        status: null,
        outcome: 'unknown',
        cause: null,
        by: null,
        message: 'depends on the disk',
        possible: [
          { when: `${filename} exists`, status: 405, outcome: 'method-not-allowed', cause: null },
          { when: `${filename} does not exist`, status: 404, outcome: 'not-found', cause: null },
        ],
      };
    }
    if (type === 'unknown') {
      return {
        status: null,
        outcome: 'unknown',
        cause: null,
        by: null,
        message: 'depends on the disk',
        possible: [
          { when: `${filename} exists and is readable`, status: 200, outcome: 'ok', cause: null },
          { when: `${filename} does not exist`, status: 404, outcome: 'not-found', cause: null },
          { when: `${filename} is not readable by ${this.worker.user}`, status: 403, outcome: 'forbidden', cause: 'A17' },
        ],
      };
    }
    if (this.fs) {
      const st = this.fs.stat(filename);
      if (st && !permits(st, this.worker, 4)) {
        this.step(
          'handler',
          `${this.worker.user} cannot read ${filename} (mode ${st.mode.toString(8)}): AH00132`,
          this.model.userDirective,
        );
        return fin(403, 'A17', this.model.userDirective, `AH00132: file permissions deny server access: ${filename}`);
      }
    }
    this.step('handler', `default handler serves ${filename}`, null);
    return fin(200, null, null, 'file served');
  }
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

/** Simulate one request against the model. Never throws on bad input. */
export function simulate(model: ApacheModel, req: SimRequest): SimResult {
  const sim = new Simulation(model, req);
  let f: ReturnType<Simulation['run']>;
  try {
    f = sim.run(req.uri, 0, false);
  } catch (e) {
    f = { status: null, outcome: 'unknown', cause: null, by: null, message: `internal error in the simulator: ${(e as Error).message}` };
  }
  let possible = f.possible ?? [];
  let status = f.status;
  let outcome = f.outcome;
  if (status !== null && sim.unknowns.length === 0) possible = possible.length ? possible : [];
  if (status === null && possible.length) {
    const s = new Set(possible.map((p) => p.status));
    if (s.size === 1) {
      status = possible[0].status;
      outcome = possible[0].outcome;
    }
  }
  return {
    status,
    outcome,
    cause: status === 403 || status === null ? f.cause : null,
    decidedBy: f.by,
    message: f.message,
    possibleOutcomes: possible,
    trace: sim.trace,
    filename: f.filename ?? null,
    sections: sim.applied,
    server: sim.server,
    unknowns: sim.unknowns,
    dirIndex: sim.dirIndex,
    grantedBy: sim.grantedBy,
    options: sim.options,
    indexNames: sim.indexNames,
  };
}

export { canonicalDir, sectionKey };
