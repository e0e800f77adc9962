/**
 * Building the Apache model from a ConfigSet: conditionals evaluated, servers and virtual hosts
 * found, every section compiled once into its own per-dir config, and the section lists sorted as
 * httpd sorts them (server/core.c: reorder_sorter — non-regex `<Directory>` by number of path
 * components, then config order with the main server's sections before a vhost's; regex sections
 * after them in config order).
 */
import { existsSync } from 'node:fs';
import type { ConfigSet, Directive, PathMapping } from '../../ast.js';
import { mapPath } from '../../load-options.js';
import { DEBIAN_ENVVARS } from '../vars.js';
import { argValues, flatten, hasLoadModule, sectionKey, type CondEnv, type ModelNote } from './conditions.js';
import {
  compileNested,
  compileSection,
  emptyDirConf,
  kids,
  mergeDirConf,
  newRewriteConf,
  type AliasEntry,
  type DirConf,
  type DirectiveOwner,
  type NestedSection,
  type RedirectEntry,
  type RewriteConf,
  type Setting,
} from './dirconf.js';
import { debianDefaultModules, ModuleSet, DEBIAN_STATIC_MODULES } from './modules.js';
import { compilePcre, isFnmatchPattern, type Compiled } from './regex.js';
import { globMatch } from '../../regex-engine.js';

export interface ModelSettings {
  /** Server version the conditionals see (default 2.4.71, Debian's). */
  apacheVersion?: string;
  /** Extra loaded modules (`mod_rewrite.c`, `rewrite_module`, `mod_rewrite`). */
  modules?: string[];
  /** Replace the module set entirely instead of Debian's default + LoadModule lines. */
  modulesExact?: boolean;
  /** `-D` defines. */
  defines?: Record<string, string>;
  /** Environment variables for `${VAR}` besides Debian's envvars. */
  env?: Record<string, string>;
  /** ServerRoot when the config does not set one (default /etc/apache2). */
  serverRoot?: string;
  /** Installed paths → checked-out paths, for reading .htaccess and the document tree from disk. */
  pathMap?: PathMapping[];
  /** Worker user/group (default: the config's User/Group, else www-data). */
  user?: string;
  group?: string;
  /** Numeric ids, when known (otherwise resolved from /etc/passwd and /etc/group). */
  uid?: number;
  gid?: number;
}

export type SectionKind = 'directory' | 'directorymatch' | 'location' | 'locationmatch' | 'proxy' | 'proxymatch';

export interface Section {
  kind: SectionKind;
  directive: Directive;
  /** Directory path with trailing slash, Location path, or the regex source. */
  path: string;
  regex: Compiled | null;
  wildcard: boolean;
  /** ap_count_dirs of the path (0 for `/`). */
  components: number;
  conf: DirConf;
  /** 0 for the main server, else 1 + vhost index (reorder_sorter puts main first). */
  owner: number;
  order: number;
  /** How traces and merge trails name the section (`<Directory /srv/www/>`, `<LocationMatch ^/a>`),
   * made once: every simulated request that meets the section would build it again. Optional so a
   * hand-made section still works; then the walks build it. */
  label?: string;
}

/** The trail label of a section as the walks name it: literal directories as `<Directory path>`, the
 * rest with the directive's own name. */
export function sectionLabel(s: Section): string {
  return (s.label ??= s.kind === 'directory' && !s.regex ? `<Directory ${s.path}>` : `<${s.directive.name} ${s.path}>`);
}

export interface ServerModel {
  /** null for the main server. */
  directive: Directive | null;
  addresses: string[];
  serverName: string | null;
  serverAliases: string[];
  documentRoot: Setting<string> | null;
  /** lookup_defaults: per-dir directives at the server's top level, merged over the main server's. */
  base: DirConf;
  directories: Section[];
  regexDirectories: Section[];
  locations: Section[];
  /** Top-level `<Files>`/`<If>` (in base.nested as well). */
  files: NestedSection[];
  aliases: AliasEntry[];
  redirects: RedirectEntry[];
  rewrite: RewriteConf;
  /** mod_ssl `SSLEngine` (on/off/optional) of this server, inherited from the main server when unset. */
  sslEngine: Setting<string> | null;
  /** mod_proxy `ProxyRequests` (forward proxy), inherited from the main server when unset. */
  proxyRequests: Setting<boolean> | null;
  /** `<Proxy>`/`<ProxyMatch>` sections (the main server's first), matched by mod_proxy's proxy_walk
   * against `proxy:<url>` of a proxied request instead of the directory walk. */
  proxies: Section[];
}

export interface ApacheModel {
  set: ConfigSet;
  settings: ModelSettings;
  modules: ModuleSet;
  version: number[];
  defines: Map<string, string>;
  serverRoot: string;
  main: ServerModel;
  vhosts: ServerModel[];
  accessFileNames: string[];
  user: string;
  group: string;
  /** The `User` directive that set the worker user (null when it is the default or a setting). */
  userDirective: Directive | null;
  /** Config errors and things the model could not decide while building. */
  notes: ModelNote[];
  /** The flattened top level (includes and conditionals resolved). */
  top: Directive[];
  /** Which section (and kind of context) each compiled directive belongs to (see DirectiveOwner):
   * lets causes be classified (A06 `<Directory />`, A07 `.ht*`, A10 `<Limit>`). Read it with
   * the model's `ownerOf(directive)`. */
  owners: WeakMap<Directive, DirectiveOwner>;
  /** True when some directive sets environment variables (Require env / Allow from env= then depend on the request). */
  setsEnv: boolean;
  /** The ports of the top-level `Listen` lines, in order (`Listen [addr:]port [protocol]`). */
  listenPorts: number[];
}

const KNOWN_PROVIDERS: Record<string, string> = {
  all: 'mod_authz_core',
  env: 'mod_authz_core',
  method: 'mod_authz_core',
  expr: 'mod_authz_core',
  ip: 'mod_authz_host',
  host: 'mod_authz_host',
  'forward-dns': 'mod_authz_host',
  local: 'mod_authz_host',
  user: 'mod_authz_user',
  'valid-user': 'mod_authz_user',
  group: 'mod_authz_groupfile',
  'file-owner': 'mod_authz_owner',
  'file-group': 'mod_authz_owner',
  'dbm-group': 'mod_authz_dbm',
  'dbd-group': 'mod_authz_dbd',
  'ldap-user': 'mod_authnz_ldap',
  'ldap-group': 'mod_authnz_ldap',
  'ldap-dn': 'mod_authnz_ldap',
  'ldap-attribute': 'mod_authnz_ldap',
  'ldap-filter': 'mod_authnz_ldap',
  'ldap-search': 'mod_authnz_ldap',
};

export function resolvePath(p: string, root: string): string {
  if (p.startsWith('/')) return p;
  return `${root.replace(/\/+$/, '')}/${p}`;
}

/** Canonical directory path as dirsection stores it: no `.`/`..`/`//`, trailing slash. */
export function canonicalDir(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return '/' + parts.join('/') + (parts.length ? '/' : '');
}

export function countDirs(p: string): number {
  if (p === '/') return 0;
  let n = 0;
  for (let i = 0; i < p.length; i++) if (p.charCodeAt(i) === 47 /* / */) n++;
  return n;
}

const ENV_SETTERS = new Set([
  'setenv',
  'setenvif',
  'setenvifnocase',
  'browsermatch',
  'browsermatchnocase',
  'setenvifexpr',
  'passenv',
  'unsetenv',
]);

/** Work counter for the shape tests (test/scale-shape.test.ts): models built. Only ever incremented. */
export const apacheModelStats = { builds: 0 };

export function buildApacheModel(set: ConfigSet, settings: ModelSettings = {}): ApacheModel {
  apacheModelStats.builds++;
  try {
    return buildModel(set, settings);
  } catch (e) {
    // Never throw on bad input: an empty model with the reason as a note.
    const empty = buildModel({ ...set, root: { ...set.root, nodes: [] }, files: new Map() }, settings);
    const d = set.root.nodes.find((n): n is Directive => n.type === 'directive');
    if (d) empty.notes.push({ directive: d, message: `the model could not be built: ${(e as Error).message}`, severity: 'error' });
    return empty;
  }
}

function buildModel(set: ConfigSet, settings: ModelSettings): ApacheModel {
  const notes: ModelNote[] = [];
  const owners = new WeakMap<Directive, DirectiveOwner>();
  let modules: ModuleSet;
  if (settings.modulesExact) modules = new ModuleSet(settings.modules ?? []);
  else {
    modules = hasLoadModule(set) ? new ModuleSet(DEBIAN_STATIC_MODULES) : debianDefaultModules();
    for (const m of settings.modules ?? []) modules.add(m);
  }
  const version = (settings.apacheVersion ?? '2.4.71').split('.').map(Number);
  const defines = new Map(Object.entries(settings.defines ?? {}));
  // ServerRoot may be set by the config itself; find it before evaluating IfFile.
  let serverRoot = settings.serverRoot ?? '/etc/apache2';
  for (const n of set.root.nodes) if (n.type === 'directive' && n.key === 'serverroot' && n.args[0]) serverRoot = n.args[0].value;
  const env: CondEnv = {
    modules,
    defines,
    version,
    serverRoot,
    envVars: { ...DEBIAN_ENVVARS, ...(settings.env ?? {}) },
    fileExists: (p) => {
      try {
        return existsSync(mapPath(p, settings.pathMap));
      } catch {
        return null;
      }
    },
  };
  const top = flatten(set, set.root.nodes, env, notes);
  const knownProvider = (name: string) => {
    const m = KNOWN_PROVIDERS[name];
    return m !== undefined && modules.has(m);
  };

  let order = 0;
  let accessFileNames = ['.htaccess'];
  let user = settings.user ?? 'www-data';
  let group = settings.group ?? 'www-data';
  let setsEnv = false;
  let userDirective: Directive | null = null;
  const scanEnv = (list: Directive[]) => {
    for (const d of list) {
      if (ENV_SETTERS.has(sectionKey(d))) setsEnv = true;
      if (d.key === 'rewriterule' && /\b(E|env)=/i.test(d.args[2]?.value ?? '')) setsEnv = true;
      if (d.block) scanEnv(kids(d));
    }
  };
  scanEnv(top);

  const buildServer = (list: Directive[], owner: number, directive: Directive | null, parent: ServerModel | null): ServerModel => {
    const sink = { rewrite: newRewriteConf(null), redirects: [] as RedirectEntry[], aliases: [] as AliasEntry[] };
    const topLevel: Directive[] = [];
    const directories: Section[] = [];
    const regexDirectories: Section[] = [];
    const locations: Section[] = [];
    let documentRoot: Setting<string> | null = null;
    let sslEngine: Setting<string> | null = null;
    let proxyRequests: Setting<boolean> | null = null;
    const proxies: Section[] = [];
    let serverName: string | null = null;
    const serverAliases: string[] = [];
    for (const d of list) {
      const k = sectionKey(d);
      const args = argValues(d);
      if (d.block && (k === 'directory' || k === 'directorymatch')) {
        let path = args[0] ?? '';
        let isRegex = k === 'directorymatch';
        if (k === 'directory' && path === '~') {
          isRegex = true;
          path = args[1] ?? '';
        }
        if (!isRegex) path = path === '/' ? '/' : canonicalDir(resolvePath(path, serverRoot));
        const conf = compileSection(kids(d), {
          kind: isRegex ? 'directorymatch' : 'directory',
          path,
          notes,
          knownProvider,
          owners,
          section: d,
        });
        const sec: Section = {
          kind: isRegex ? 'directorymatch' : 'directory',
          directive: d,
          path,
          regex: isRegex ? compilePcre(path) : null,
          wildcard: !isRegex && isFnmatchPattern(path),
          components: isRegex ? 0 : countDirs(path),
          conf,
          owner,
          order: order++,
        };
        (isRegex ? regexDirectories : directories).push(sec);
        continue;
      }
      if (d.block && (k === 'location' || k === 'locationmatch')) {
        let path = args[0] ?? '';
        let isRegex = k === 'locationmatch';
        if (k === 'location' && path === '~') {
          isRegex = true;
          path = args[1] ?? '';
        }
        const conf = compileSection(kids(d), {
          kind: isRegex ? 'locationmatch' : 'location',
          path,
          notes,
          knownProvider,
          owners,
          section: d,
        });
        locations.push({
          kind: isRegex ? 'locationmatch' : 'location',
          directive: d,
          path,
          regex: isRegex ? compilePcre(path) : null,
          wildcard: !isRegex && isFnmatchPattern(path),
          components: 0,
          conf,
          owner,
          order: order++,
        });
        continue;
      }
      if (d.block && (k === 'proxy' || k === 'proxymatch')) {
        let path = args[0] ?? '';
        let isRegex = k === 'proxymatch';
        if (k === 'proxy' && path === '~') {
          isRegex = true;
          path = args[1] ?? '';
        }
        const conf = compileSection(kids(d), { kind: 'location', path, notes, knownProvider, owners, section: d });
        proxies.push({
          kind: isRegex ? 'proxymatch' : 'proxy',
          directive: d,
          path,
          regex: isRegex ? compilePcre(path) : null,
          wildcard: !isRegex && isFnmatchPattern(path),
          components: 0,
          conf,
          owner,
          order: order++,
        });
        continue;
      }
      if (d.block && k === 'virtualhost') continue;
      switch (k) {
        case 'documentroot':
          if (args[0]) documentRoot = { value: resolvePath(args[0], serverRoot).replace(/(.)\/+$/, '$1'), by: d };
          break;
        case 'servername':
          serverName = (args[0] ?? '')
            .replace(/^[a-z]+:\/\//i, '')
            .replace(/:\d+$/, '')
            .toLowerCase();
          break;
        case 'sslengine':
          sslEngine = { value: (args[0] ?? '').toLowerCase(), by: d };
          break;
        case 'proxyrequests':
          proxyRequests = { value: (args[0] ?? '').toLowerCase() === 'on', by: d };
          break;
        case 'serveralias':
          serverAliases.push(...args.map((a) => a.toLowerCase()));
          break;
        case 'accessfilename':
          if (owner === 0) accessFileNames = args;
          break;
        case 'user':
          if (owner === 0 && args[0] && !args[0].includes('${')) {
            userDirective = d;
            if (!settings.user) user = args[0];
          }
          break;
        case 'group':
          if (owner === 0 && !settings.group && args[0] && !args[0].includes('${')) group = args[0];
          break;
      }
      topLevel.push(d);
    }
    const own = compileSection(topLevel, { kind: 'server', path: null, notes, knownProvider, owners, server: sink });
    // Top-level <Files>/<If> go to the server's own sec_file / sec_if.
    const files: NestedSection[] = [];
    for (const d of topLevel) {
      const k = sectionKey(d);
      if (d.block && (k === 'files' || k === 'filesmatch' || k === 'if' || k === 'elseif' || k === 'else')) {
        files.push(compileNested(d, { kind: 'files', path: null, notes, knownProvider, owners }));
      }
    }
    own.nested = files;
    const base = parent
      ? mergeDirConf(parent.base, own, 'VirtualHost', directive)
      : mergeDirConf(emptyDirConf(true), own, 'server config', null);
    const sortDirs = (a: Section, b: Section) => a.components - b.components || a.owner - b.owner || a.order - b.order;
    return {
      directive,
      addresses: directive ? argValues(directive) : [],
      serverName,
      serverAliases,
      documentRoot: documentRoot ?? parent?.documentRoot ?? null,
      base,
      directories: [...(parent?.directories ?? []), ...directories].sort(sortDirs),
      regexDirectories: [...(parent?.regexDirectories ?? []), ...regexDirectories],
      locations: [...(parent?.locations ?? []), ...locations],
      files: [...(parent?.files ?? []), ...files],
      aliases: [...sink.aliases, ...(parent?.aliases ?? [])],
      redirects: [...sink.redirects, ...(parent?.redirects ?? [])],
      // Server-context rewrite config is per virtual host; RewriteOptions Inherit is not modelled.
      rewrite: sink.rewrite,
      sslEngine: sslEngine ?? parent?.sslEngine ?? null,
      proxyRequests: proxyRequests ?? parent?.proxyRequests ?? null,
      proxies: [...(parent?.proxies ?? []), ...proxies],
    };
  };

  const main = buildServer(top, 0, null, null);
  const listenPorts: number[] = [];
  for (const d of top) {
    if (d.block || d.key !== 'listen') continue;
    const m = /(?:^|:)(\d+)$/.exec(d.args[0]?.value ?? '');
    if (m && !listenPorts.includes(Number(m[1]))) listenPorts.push(Number(m[1]));
  }
  const vhosts: ServerModel[] = [];
  for (const d of top) {
    if (d.block && sectionKey(d) === 'virtualhost') vhosts.push(buildServer(kids(d), vhosts.length + 1, d, main));
  }
  return {
    set,
    settings,
    modules,
    version,
    defines,
    serverRoot,
    main,
    vhosts,
    accessFileNames,
    user,
    group,
    userDirective,
    notes,
    top,
    owners,
    setsEnv,
    listenPorts,
  };
}

/** The vhosts one (port, local address) pair can select, indexed by name (see selectServer). */
interface VhostIndex {
  candidates: ServerModel[];
  /** ServerName or literal ServerAlias → position of the first candidate that has it. */
  exact: Map<string, number>;
  /** `*literal` aliases: literal suffix → position of the first candidate that has it. */
  suffix: Map<string, number>;
  /** Other wildcard aliases, in candidate order. */
  general: { pos: number; alias: string }[];
}

const vhostIndexes = new WeakMap<ApacheModel, Map<string, VhostIndex | null>>();

/** Work counter for the algorithmic-shape test (test/scale-shape.test.ts): vhosts and wildcard
 * aliases looked at while selecting servers. Only ever incremented; read the difference around a run. */
export const vhostSelectStats = { scanned: 0 };

function addrScore(addr: string, port: number | undefined, localIp: string): 0 | 1 | 2 {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+|\*))?$/.exec(addr);
  if (!m) return 0;
  const ip = m[1];
  const p = m[2];
  if (port !== undefined && p && p !== '*' && Number(p) !== port) return 0;
  if (ip === '*' || ip === '_default_') return 1;
  return ip === localIp || (ip === 'localhost' && localIp.startsWith('127.')) ? 2 : 0;
}

/** A `Listen` port on which no virtual host answers, so the main server does (null when there is none:
 * every request then reaches a virtual host). */
export function mainServerPort(model: ApacheModel): number | null {
  for (const p of serverPorts(model)) if (!vhostIndex(model, p, '127.0.0.1')) return p;
  return null;
}

/** The ports the server listens on: its `Listen` lines, or 80 when it has none (a vhost file read
 * alone, or a config whose Listen lives elsewhere, as Debian's ports.conf). A request for the main
 * server names one, so that it selects a virtual host as explain's request (port 80 by default) does:
 * a request without a port would match virtual hosts on any port. */
export function serverPorts(model: ApacheModel): number[] {
  return model.listenPorts.length ? model.listenPorts : [80];
}

/** False when no request reaches the main server: there are virtual hosts and every `Listen` port (port
 * 80 when the config has no `Listen`) has some, so each request goes to a virtual host on its port (the
 * first one when no name matches; server/vhost.c). The main server's settings then act only where a
 * virtual host inherits them. */
export function mainReachable(model: ApacheModel): boolean {
  return model.vhosts.length === 0 || mainServerPort(model) !== null;
}

/** Built once per model and (port, local address): one pass over the vhosts instead of one per request. */
function vhostIndex(model: ApacheModel, port: number | undefined, localIp: string): VhostIndex | null {
  let byKey = vhostIndexes.get(model);
  if (!byKey) vhostIndexes.set(model, (byKey = new Map()));
  const key = `${port ?? ''}|${localIp}`;
  const cached = byKey.get(key);
  if (cached !== undefined) return cached;
  let best = 0;
  const scored: { v: ServerModel; score: number }[] = [];
  for (const v of model.vhosts) {
    vhostSelectStats.scanned++;
    let score = 0;
    for (const a of v.addresses) score = Math.max(score, addrScore(a, port, localIp));
    if (score > 0) scored.push({ v, score });
    best = Math.max(best, score);
  }
  let idx: VhostIndex | null = null;
  if (scored.length > 0) {
    idx = { candidates: [], exact: new Map(), suffix: new Map(), general: [] };
    for (const { v, score } of scored) {
      if (score !== best) continue;
      const pos = idx.candidates.push(v) - 1;
      const names = v.serverName !== null ? [v.serverName] : [];
      for (const a of v.serverAliases) {
        if (!isFnmatchPattern(a)) names.push(a);
        else if (a.startsWith('*') && !isFnmatchPattern(a.slice(1))) {
          if (!idx.suffix.has(a.slice(1))) idx.suffix.set(a.slice(1), pos);
        } else idx.general.push({ pos, alias: a.toLowerCase() });
      }
      for (const n of names) if (!idx.exact.has(n)) idx.exact.set(n, pos);
    }
  }
  byKey.set(key, idx);
  return idx;
}

/** Name-based virtual host selection (server/vhost.c: ap_update_vhost_given_ip, check_hostalias):
 * the first vhost (of the best address match) whose ServerName or a ServerAlias matches the host. */
export function selectServer(model: ApacheModel, host: string | undefined, port: number | undefined, localIp = '127.0.0.1'): ServerModel {
  const idx = vhostIndex(model, port, localIp);
  if (!idx) return model.main;
  const h = (host ?? '').toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  let pos = idx.exact.get(h) ?? Infinity;
  // `*literal` matches every host that ends in the literal (`*` also matches dots and nothing)
  for (let i = 0; i <= h.length; i++) {
    const p = idx.suffix.get(h.slice(i));
    if (p !== undefined && p < pos) pos = p;
  }
  for (const g of idx.general) {
    if (g.pos >= pos) break;
    vhostSelectStats.scanned++;
    // ap_strcasecmp_match: only `*` and `?` are special (linear matcher, no RegExp).
    if (globMatch(g.alias.replace(/[[\\]/g, '\\$&'), h, { slash: false })) {
      pos = g.pos;
      break;
    }
  }
  return idx.candidates[pos === Infinity ? 0 : pos];
}

/** A server's non-regex `<Directory>` sections indexed by path, each with its place in `directories`
 * (httpd's merge order). */
export interface DirectoryIndex {
  /** Literal path (trailing slash) → sections, in merge order. */
  exact: Map<string, { pos: number; section: Section }[]>;
  /** Wildcard sections by number of path components, in merge order. */
  wildcard: Map<number, { pos: number; section: Section }[]>;
}

const dirIndexes = new WeakMap<ServerModel, DirectoryIndex>();

export function directoryIndex(server: ServerModel): DirectoryIndex {
  let idx = dirIndexes.get(server);
  if (idx) return idx;
  idx = { exact: new Map(), wildcard: new Map() };
  const add = <K>(map: Map<K, { pos: number; section: Section }[]>, key: K, pos: number, section: Section) => {
    const list = map.get(key);
    if (list) list.push({ pos, section });
    else map.set(key, [{ pos, section }]);
  };
  server.directories.forEach((section, pos) => {
    if (section.wildcard) add(idx!.wildcard, section.components, pos, section);
    else add(idx!.exact, section.path, pos, section);
  });
  dirIndexes.set(server, idx);
  return idx;
}
