/**
 * Effective settings of a scope after nginx's inheritance, each with the directive that set it.
 *
 * - Plain values (root/alias, index, autoindex, random_index, satisfy, auth_basic, auth_basic_user_file,
 *   auth_request, disable_symlinks, internal, limit_req_status, limit_conn_status, *_intercept_errors,
 *   recursive_error_pages, merge_slashes): the nearest scope that sets them (the *_merge_loc_conf
 *   functions of each module). `root` and `alias` share one slot (ngx_http_core_merge_loc_conf).
 * - allow/deny (ngx_http_access_merge_loc_conf): the nearest scope with **any** allow or deny; its
 *   list replaces every inherited rule, in all address families.
 * - error_page, index, limit_req, limit_conn, proxy_cache_valid, valid_referers: the list of the nearest
 *   scope that has one, replaced and never appended.
 * - try_files and the rewrite module's directives (return, rewrite, if, set, break) are not inherited
 *   at all (ngx_http_try_files_module has no merge function; ngx_http_rewrite_merge_loc_conf keeps the
 *   child's own code). So a `limit_except` or `if` scope has neither.
 * - The content handler (proxy_pass, fastcgi_pass, …, stub_status, empty_gif, perl, echo, flv, mp4) is
 *   the location's own; `if` and `limit_except` scopes keep the enclosing location's (their loc conf is
 *   "noname" and ngx_http_update_location_config keeps r->content_handler).
 */
import type { Directive } from '../../ast.js';
import { accessRulesOf, type AccessRule } from './address.js';
import type { Scope } from './tree.js';
import { nearest, own } from './tree.js';

export interface Setting<T> {
  value: T;
  /** The directive that set it; null when it is nginx's default. */
  directive: Directive | null;
  /** The scope the directive stands in (null for the default). */
  from: Scope | null;
}

export interface ErrorPage {
  codes: number[];
  /** -1: no `=` (status stays the error's), 0: `=` alone (the target's status), else `=N`. */
  overwrite: number;
  target: string;
  directive: Directive;
}

export const CONTENT_HANDLERS = [
  'proxy_pass',
  'fastcgi_pass',
  'uwsgi_pass',
  'scgi_pass',
  'grpc_pass',
  'memcached_pass',
  'stub_status',
  'empty_gif',
  'perl',
  'flv',
  'mp4',
  'echo',
  'echo_exec',
  'echo_location',
  'echo_location_async',
  'echo_subrequest',
  'echo_subrequest_async',
  'echo_duplicate',
  'echo_flush',
  'echo_sleep',
  'echo_status',
  'content_by_lua',
  'content_by_lua_block',
  'content_by_lua_file',
  'js_content',
];

function plain<T>(scope: Scope, names: string[], read: (d: Directive) => T, def: T): Setting<T> {
  const n = nearest(scope, names);
  if (!n) return { value: def, directive: null, from: null };
  const d = n.directives[n.directives.length - 1];
  return { value: read(d), directive: d, from: n.scope };
}

const flag = (d: Directive) => d.args[0]?.value === 'on';

export type AccessList = { rules: AccessRule[]; directives: Directive[]; from: Scope | null };

const NO_ACCESS: AccessList = Object.freeze({ rules: [], directives: [], from: null }) as AccessList;
/** The allow/deny list of each scope that has one, parsed once (issue 12: it was parsed again for
 * every scope that inherits it and for every simulated request). Shared: never changed. */
const accessLists = new WeakMap<Scope, AccessList>();
const pageLists = new WeakMap<Scope, { pages: ErrorPage[]; from: Scope | null }>();

/** The first scope from `scope` up that has a directive named in `names`. */
function ownerOf(scope: Scope, names: string[]): Scope | null {
  for (let s: Scope | null = scope; s; s = s.parent) for (const n of names) if (s.byName.has(n)) return s;
  return null;
}

export function accessList(scope: Scope): AccessList {
  const owner = ownerOf(scope, ['allow', 'deny']);
  if (!owner) return NO_ACCESS;
  let l = accessLists.get(owner);
  if (!l) {
    const n = nearest(owner, ['allow', 'deny'])!;
    // at its exact length (a list grown by push keeps room for 17; kept once per scope with rules)
    l = { rules: accessRulesOf(n.directives).slice(), directives: n.directives, from: n.scope };
    accessLists.set(owner, l);
  }
  return l;
}

export function rootOf(scope: Scope): Setting<{ kind: 'root' | 'alias'; path: string }> {
  return plain(scope, ['root', 'alias'], (d) => ({ kind: d.name as 'root' | 'alias', path: d.args[0]?.value ?? '' }), {
    kind: 'root',
    path: 'html',
  });
}

export function indexOf(scope: Scope): Setting<string[]> {
  const n = nearest(scope, ['index']);
  if (!n) return { value: ['index.html'], directive: null, from: null };
  const value: string[] = [];
  for (const d of n.directives) for (const a of d.args) value.push(a.value);
  return { value: value.slice(), directive: n.directives[0], from: n.scope };
}

const NO_PAGES: { pages: ErrorPage[]; from: Scope | null } = Object.freeze({ pages: [], from: null }) as {
  pages: ErrorPage[];
  from: Scope | null;
};

/** The error_page list in force in a scope (read once per scope that has one). */
export function errorPages(scope: Scope): { pages: ErrorPage[]; from: Scope | null } {
  const owner = ownerOf(scope, ['error_page']);
  if (!owner) return NO_PAGES;
  let l = pageLists.get(owner);
  if (!l) {
    l = readErrorPages(owner);
    pageLists.set(owner, l);
  }
  return l;
}

function readErrorPages(scope: Scope): { pages: ErrorPage[]; from: Scope | null } {
  const n = nearest(scope, ['error_page'])!;
  const pages: ErrorPage[] = [];
  for (const d of n.directives) {
    const a = d.args.map((x) => x.value);
    if (a.length < 2) continue;
    const target = a[a.length - 1];
    let overwrite = -1;
    const codes: number[] = [];
    for (const v of a.slice(0, -1)) {
      if (v.startsWith('=')) overwrite = v.length === 1 ? 0 : Number.parseInt(v.slice(1), 10);
      else if (/^[0-9]{3}$/.test(v)) codes.push(Number(v));
    }
    pages.push({ codes: codes.slice(), overwrite, target, directive: d });
  }
  // lists at their exact length (grown by push they keep room for 17 entries)
  return { pages: pages.slice(), from: n.scope };
}

/** The content handler directive of a scope (see the module comment). */
export function handlerOf(scope: Scope): Directive | null {
  for (let s: Scope | null = scope; s; s = s.parent) {
    if (s.kind === 'http' || s.kind === 'server') return null;
    for (const d of s.body) if (!d.block && CONTENT_HANDLERS.includes(d.name)) return d;
    if (s.kind !== 'if' && s.kind !== 'limit_except') return null;
  }
  return null;
}

export interface EffectiveSettings {
  access: { rules: AccessRule[]; directives: Directive[]; from: Scope | null };
  satisfy: Setting<'all' | 'any'>;
  authBasic: Setting<string | null>;
  authBasicUserFile: Setting<string | null>;
  authRequest: Setting<string | null>;
  root: Setting<{ kind: 'root' | 'alias'; path: string }>;
  index: Setting<string[]>;
  autoindex: Setting<boolean>;
  randomIndex: Setting<boolean>;
  tryFiles: Directive | null;
  disableSymlinks: Setting<{ mode: 'off' | 'on' | 'if_not_owner'; from: string | null }>;
  errorPages: { pages: ErrorPage[]; from: Scope | null };
  recursiveErrorPages: Setting<boolean>;
  handler: Directive | null;
  internal: Setting<boolean>;
  limitReq: Directive[];
  limitConn: Directive[];
  limitReqStatus: Setting<number>;
  limitConnStatus: Setting<number>;
  proxyInterceptErrors: Setting<boolean>;
  fastcgiInterceptErrors: Setting<boolean>;
  uwsgiInterceptErrors: Setting<boolean>;
  scgiInterceptErrors: Setting<boolean>;
  grpcInterceptErrors: Setting<boolean>;
  proxyCacheValid: Directive[];
  davMethods: Setting<string[]>;
  validReferers: Directive | null;
}

const settingsCache = new WeakMap<Scope, EffectiveSettings>();

/** The effective settings of a scope (computed once per scope; the model is immutable). */
export function effectiveSettings(scope: Scope): EffectiveSettings {
  let s = settingsCache.get(scope);
  if (!s) {
    s = computeSettings(scope);
    settingsCache.set(scope, s);
  }
  return s;
}

type Inherited = Exclude<keyof EffectiveSettings, 'tryFiles' | 'handler'>;

/** How each inherited setting is read in a scope, and the directives that set it there. */
const READERS: { [K in Inherited]: [string[], (scope: Scope) => EffectiveSettings[K]] } = {
  access: [['allow', 'deny'], (scope) => accessList(scope)],
  satisfy: [['satisfy'], (scope) => plain(scope, ['satisfy'], (d) => (d.args[0]?.value === 'any' ? 'any' : 'all'), 'all' as 'all' | 'any')],
  authBasic: [
    ['auth_basic'],
    (scope) => plain(scope, ['auth_basic'], (d) => (d.args[0]?.value === 'off' ? null : (d.args[0]?.value ?? null)), null as string | null),
  ],
  authBasicUserFile: [
    ['auth_basic_user_file'],
    (scope) => plain(scope, ['auth_basic_user_file'], (d) => d.args[0]?.value ?? null, null as string | null),
  ],
  authRequest: [
    ['auth_request'],
    (scope) =>
      plain(scope, ['auth_request'], (d) => (d.args[0]?.value === 'off' ? null : (d.args[0]?.value ?? null)), null as string | null),
  ],
  root: [['root', 'alias'], (scope) => rootOf(scope)],
  index: [['index'], (scope) => indexOf(scope)],
  autoindex: [['autoindex'], (scope) => plain(scope, ['autoindex'], flag, false)],
  randomIndex: [['random_index'], (scope) => plain(scope, ['random_index'], flag, false)],
  disableSymlinks: [
    ['disable_symlinks'],
    (scope) =>
      plain(
        scope,
        ['disable_symlinks'],
        (d) => {
          const m = d.args[0]?.value;
          const from = d.args.find((a) => a.value.startsWith('from='))?.value.slice(5) ?? null;
          return { mode: m === 'on' ? 'on' : m === 'if_not_owner' ? 'if_not_owner' : 'off', from } as const;
        },
        { mode: 'off', from: null } as { mode: 'off' | 'on' | 'if_not_owner'; from: string | null },
      ),
  ],
  errorPages: [['error_page'], (scope) => errorPages(scope)],
  recursiveErrorPages: [['recursive_error_pages'], (scope) => plain(scope, ['recursive_error_pages'], flag, false)],
  internal: [['internal'], (scope) => plain(scope, ['internal'], () => true, false)],
  limitReq: [['limit_req'], (scope) => nearest(scope, ['limit_req'])?.directives ?? []],
  limitConn: [['limit_conn'], (scope) => nearest(scope, ['limit_conn'])?.directives ?? []],
  limitReqStatus: [['limit_req_status'], (scope) => plain(scope, ['limit_req_status'], (d) => Number(d.args[0]?.value), 503)],
  limitConnStatus: [['limit_conn_status'], (scope) => plain(scope, ['limit_conn_status'], (d) => Number(d.args[0]?.value), 503)],
  proxyInterceptErrors: [['proxy_intercept_errors'], (scope) => plain(scope, ['proxy_intercept_errors'], flag, false)],
  fastcgiInterceptErrors: [['fastcgi_intercept_errors'], (scope) => plain(scope, ['fastcgi_intercept_errors'], flag, false)],
  uwsgiInterceptErrors: [['uwsgi_intercept_errors'], (scope) => plain(scope, ['uwsgi_intercept_errors'], flag, false)],
  scgiInterceptErrors: [['scgi_intercept_errors'], (scope) => plain(scope, ['scgi_intercept_errors'], flag, false)],
  grpcInterceptErrors: [['grpc_intercept_errors'], (scope) => plain(scope, ['grpc_intercept_errors'], flag, false)],
  proxyCacheValid: [['proxy_cache_valid'], (scope) => nearest(scope, ['proxy_cache_valid'])?.directives ?? []],
  davMethods: [
    ['dav_methods'],
    (scope) => plain(scope, ['dav_methods'], (d) => d.args.map((a) => a.value.toUpperCase()).filter((m) => m !== 'OFF'), [] as string[]),
  ],
  validReferers: [['valid_referers'], (scope) => nearest(scope, ['valid_referers'])?.directives.at(-1) ?? null],
};
const INHERITED = Object.keys(READERS) as Inherited[];
/** The settings a directive name changes. */
const SETS = new Map<string, Inherited[]>();
for (const key of INHERITED) for (const name of READERS[key][0]) SETS.set(name, [...(SETS.get(name) ?? []), key]);

function read<K extends Inherited>(key: K, scope: Scope): EffectiveSettings[K] {
  return READERS[key][1](scope);
}

/** The settings few scopes set: kept in a second object that a scope shares with its parent unless
 * it sets one of them (see NginxSettings). */
const RARE = [
  'randomIndex',
  'disableSymlinks',
  'recursiveErrorPages',
  'limitReq',
  'limitConn',
  'limitReqStatus',
  'limitConnStatus',
  'proxyInterceptErrors',
  'fastcgiInterceptErrors',
  'uwsgiInterceptErrors',
  'scgiInterceptErrors',
  'grpcInterceptErrors',
  'proxyCacheValid',
  'davMethods',
  'validReferers',
] as const;
type Rare = (typeof RARE)[number];
type RareSettings = Pick<EffectiveSettings, Rare>;
const IS_RARE = new Set<string>(RARE);

function rareOf(get: <K extends Rare>(key: K) => EffectiveSettings[K]): RareSettings {
  // one literal with every key (one shape)
  return {
    randomIndex: get('randomIndex'),
    disableSymlinks: get('disableSymlinks'),
    recursiveErrorPages: get('recursiveErrorPages'),
    limitReq: get('limitReq'),
    limitConn: get('limitConn'),
    limitReqStatus: get('limitReqStatus'),
    limitConnStatus: get('limitConnStatus'),
    proxyInterceptErrors: get('proxyInterceptErrors'),
    fastcgiInterceptErrors: get('fastcgiInterceptErrors'),
    uwsgiInterceptErrors: get('uwsgiInterceptErrors'),
    scgiInterceptErrors: get('scgiInterceptErrors'),
    grpcInterceptErrors: get('grpcInterceptErrors'),
    proxyCacheValid: get('proxyCacheValid'),
    davMethods: get('davMethods'),
    validReferers: get('validReferers'),
  };
}

/**
 * A scope's settings: the twelve that most scopes read or set in the object itself, the fifteen
 * others (RARE) in `rare`, read through getters. A big tree has a settings object per location that
 * sets anything; with the rare ones shared from the parent it is 120 bytes instead of 240.
 */
class NginxSettings implements EffectiveSettings {
  constructor(
    public access: EffectiveSettings['access'],
    public satisfy: EffectiveSettings['satisfy'],
    public authBasic: EffectiveSettings['authBasic'],
    public authBasicUserFile: EffectiveSettings['authBasicUserFile'],
    public authRequest: EffectiveSettings['authRequest'],
    public root: EffectiveSettings['root'],
    public index: EffectiveSettings['index'],
    public autoindex: EffectiveSettings['autoindex'],
    public tryFiles: EffectiveSettings['tryFiles'],
    public errorPages: EffectiveSettings['errorPages'],
    public handler: EffectiveSettings['handler'],
    public internal: EffectiveSettings['internal'],
    public rare: RareSettings,
  ) {}
}
// the RARE settings are read from `rare`: one getter each on the prototype, made from the list
interface NginxSettings extends Readonly<RareSettings> {}
for (const k of RARE)
  Object.defineProperty(NginxSettings.prototype, k, {
    get(this: NginxSettings) {
      return this.rare[k];
    },
  });

/**
 * A scope's settings from its parent's: a setting the scope does not set itself is its parent's
 * (what `nearest` would find), so only the settings named in the scope are read (issue 12: about
 * 25 walks up the parent chain per scope before). try_files and the content handler are the
 * scope's own.
 */
function computeSettings(scope: Scope): EffectiveSettings {
  const p = scope.parent ? (effectiveSettings(scope.parent) as NginxSettings) : null;
  // a scope that sets none of the inherited settings, has no try_files under a parent without one
  // (try_files is not inherited) and keeps its parent's content handler has its parent's settings:
  // the same (immutable) object, not a copy per scope
  let setsRare = p === null;
  // the inherited settings the scope sets itself (read here; the others are the parent's)
  let owned: Inherited[] | null = null;
  if (p) {
    let tryFiles = false;
    for (const name of scope.byName.keys()) {
      if (name === 'try_files') tryFiles = true;
      const keys = SETS.get(name);
      if (keys === undefined) continue;
      owned ??= [];
      for (const key of keys) {
        owned.push(key);
        if (IS_RARE.has(key)) setsRare = true;
      }
    }
    if (owned === null && !tryFiles && p.tryFiles === null && handlerOf(scope) === p.handler) return p;
  }
  const get = <K extends Inherited>(key: K): EffectiveSettings[K] =>
    p && (owned === null || !owned.includes(key)) ? p[key] : read(key, scope);
  return new NginxSettings(
    get('access'),
    get('satisfy'),
    get('authBasic'),
    get('authBasicUserFile'),
    get('authRequest'),
    get('root'),
    get('index'),
    get('autoindex'),
    ownTryFiles(scope),
    get('errorPages'),
    handlerOf(scope),
    get('internal'),
    setsRare ? rareOf(get) : p!.rare,
  );
}

function ownTryFiles(scope: Scope): Directive | null {
  return own(scope, 'try_files')[0] ?? null;
}
