/**
 * One model per server, and everything reads it. `modelFor(set, options)` is the only place a
 * semantic model is built: the lint engine hands it to rules as `ctx.model`, `explain` asks it for
 * the same set and options, and so do the proofs attached to findings (src/model/proof.ts). A model
 * is built once per (ConfigSet, options) and kept as long as the set is alive.
 *
 * The model is a discriminated union: `model.server` says which server's queries it offers. Rules
 * read queries here instead of re-implementing matching, inheritance or access logic.
 */
import type { ConfigSet, Directive, Node, PathMapping, ServerKind } from '../ast.js';
import type { Settings } from '../rule.js';
import {
  buildApacheModel,
  type ApacheModel,
  type ModelSettings as ApacheModelSettings,
  type ServerModel,
} from '../apache/model/sections.js';
import {
  directoryProbes,
  encodeSegment,
  hostFor,
  impliedModules,
  portOf,
  isBlanketDenial,
  probeUrl,
  servedRoots,
  type Probe,
  type ServedRoot,
} from '../apache/model/cache.js';
import type { DirectiveOwner, NestedSection } from '../apache/model/dirconf.js';
import { dirConfAt, htaccessContext, linkedViolations, type HtaccessContext, type HtaccessLink } from '../apache/model/htaccess-link.js';
import type { OverrideViolation } from '../apache/model/overrides.js';
import { applyOptions, effectiveOptions, mergeOptions, newOptions } from '../apache/model/options.js';
import { fnmatch } from '../apache/model/regex.js';
import type { SimResult as ApacheSimResult } from '../apache/model/simulate.js';
import { buildModel, configPathOf, type NginxModel, type Scope, type Server } from '../nginx/model/tree.js';
import { deadAccessRules, refusedBy, scopesOf, serverOf, type DeadAccessRule } from '../nginx/model/cache.js';
import { accessDiff, accessSegments, addressText, segmentAllows, type AccessRule } from '../nginx/model/address.js';
import { findLocation } from '../nginx/model/locations.js';
import { toBinary } from '../nginx/model/regex.js';
import { effectiveSettings, type EffectiveSettings } from '../nginx/model/settings.js';
import { requestTo } from './nginx-samples.js';
import { requestsForDirective } from './apache-samples.js';
import type { SampleInput } from './types.js';
import { DiskFs, type FileSystemView } from '../nginx/model/fs.js';
import type { DiskScan } from './disk.js';

/** The disk scanner (src/model/disk.ts registers it when it is loaded: the disk rules and lint --fs
 * load it; importing it from here would make an import cycle through the Apache .htaccess linker). */
let scanDisk: ((view: Model, fs: DiskFs) => DiskScan) | null = null;
export function registerDiskScanner(scan: (view: Model, fs: DiskFs) => DiskScan): void {
  scanDisk = scan;
}

/** What a model is built from besides the ConfigSet: the lint settings and the load options that
 * change what the server does (the same ones `explain` takes). */
export interface ModelOptions {
  settings?: Settings;
  /** Installed path → checked-out path (also read from `settings.pathMap`). */
  pathMap?: PathMapping[];
  /** nginx `-p` prefix for relative paths. */
  prefix?: string;
  /** Apache ServerRoot when the config does not set one. */
  serverRoot?: string;
  /** Apache `-D` defines. */
  defines?: Record<string, string>;
  /** Read the disk (`--fs`): root/alias/DocumentRoot on disk, modes and owners against the worker user
   * (`settings.user`, else the config's `user`/`User`), .htaccess files where Apache looks. Rules read
   * it through `model.disk()`; proofs are explained with the disk too. */
  fs?: boolean;
}

interface ModelBase {
  readonly server: ServerKind;
  readonly set: ConfigSet;
  readonly options: ModelOptions;
  /** The disk as the worker sees it (through the path map); null without `options.fs`. */
  readonly fs: FileSystemView | null;
  /** The files the configuration names that the server opens per request but does not serve
   * (password files): the disk through the same path map, with or without `--fs`, as `explain --auth`
   * reads them. The `--fs` view when there is one. */
  configFiles(): FileSystemView;
  /** The bounded scan of every served directory (src/model/disk.ts), built on first use; null
   * without `options.fs`. */
  disk(): DiskScan | null;
}

/** The nginx model and its queries. */
export interface NginxView extends ModelBase {
  readonly server: 'nginx';
  readonly tree: NginxModel;
  /** Every scope once, parents before children: http, servers, locations (nested), ifs, limit_except. */
  scopes(): Scope[];
  /** Why every request whose configuration is `scope` is refused before the content phase, or null. */
  refusesEveryone(scope: Scope): { directive: Directive; why: string } | null;
  /** The server a scope belongs to (null for http). */
  serverOf(scope: Scope | null): Server | null;
  /** `allow`/`deny` rules that never match because earlier rules cover them. */
  deadAccessRules(action: 'allow' | 'deny'): DeadAccessRule[];
  /** A request that reaches `scope` (its server and innermost location; for `limit_except`, a method
   * it does not list), checked with the model's own server and location search; null if none found. */
  requestTo(scope: Scope): SampleInput | null;
  /** Where a relative path in the config (`auth_basic_user_file`) points: joined to the conf prefix the
   * loader resolved includes against, as the simulator joins it. */
  configPath(path: string): string;
  /** The effective settings of a scope after inheritance (computed once per scope). */
  settingsAt(scope: Scope): EffectiveSettings;
  /** The configuration a request for `uri` (a path, `?args` ignored) gets on `server`: the location
   * nginx's search picks (nested and regex locations included), or the server itself. */
  scopeAt(server: Server, uri: string): Scope;
  /** What the effective allow/deny list of `scope` does to clients of a family: an address it lets
   * through and one it refuses (null when there is none). No list at all lets everyone through. */
  clientsOf(scope: Scope, family?: 'ipv4' | 'ipv6'): ClientsOf;
  /** The address ranges where the allow/deny lists of two scopes disagree, with the rule that decides
   * each side (null: no rule matches, the client is let through) and an example address. */
  accessChanges(before: Scope, after: Scope, family: 'ipv4' | 'ipv6'): AccessChange[];
  /** How the effective allow/deny list of `scope` decides every address of a family: consecutive
   * ranges in address order, each with the rule that decides it (null: no rule matches, let through). */
  accessRanges(scope: Scope, family?: 'ipv4' | 'ipv6'): AccessRange[];
}

export interface AccessRange {
  lo: bigint;
  hi: bigint;
  rule: AccessRule | null;
  /** Whether clients in the range get past the list. */
  allowed: boolean;
}

export interface ClientsOf {
  /** An address the list lets through, null when it refuses every client of the family. */
  allowed: string | null;
  /** An address the list refuses, null when it lets every client of the family through. */
  refused: string | null;
}

export interface AccessChange {
  before: AccessRule | null;
  after: AccessRule | null;
  /** An address in the range (its end when the range starts at 0). */
  example: string;
}

/** The Apache model and its queries. */
export interface ApacheView extends ModelBase {
  readonly server: 'apache';
  readonly tree: ApacheModel;
  /** DocumentRoot and Alias targets of every server. */
  servedRoots(): ServedRoot[];
  /** A neutral GET of every served root and of every `<Directory>` below one (cached). */
  probes(): Probe[];
  /** A neutral request to `uri` on `server`. */
  probeUrl(server: ServerModel, uri: string, method?: string): ApacheSimResult;
  /** The section (and server) a compiled directive belongs to. */
  ownerOf(d: Directive): DirectiveOwner | null;
  /** `Require all denied`/`Deny from all` closing its section to everyone. */
  isBlanketDenial(d: Directive): boolean;
  /** A request for `uri` that selects `server` (its ServerName and port). */
  requestTo(server: ServerModel, uri: string, method?: string): SampleInput;
  /** Candidate requests that reach the context of `d` (enclosed by `parents`), to be proven. */
  requestsFor(d: Directive, parents: readonly Directive[]): SampleInput[];
  /** For a .htaccess set: its directory and the main configs of the run that cover it (cached). */
  htaccess(): HtaccessContext;
  /** For a .htaccess set: its directives that the AllowOverride of a linked config forbids or ignores. */
  htaccessViolations(): { violation: OverrideViolation; link: HtaccessLink }[];
  /** For a .htaccess set: the Options in force in its directory under `link` (the linked config's
   * merged sections, then this file's own top-level Options lines as AllowOverride lets them), and the
   * config's last Options directive that set them. */
  htaccessOptions(link: HtaccessLink): { bits: number; by: Directive | null };
  /** For a .htaccess set: the model of the main config `link` belongs to, built with the same options. */
  linkedModel(link: HtaccessLink): Model;
  /** The effective Options bits `server` has for the directory `dir` (merged `<Directory>` sections). */
  optionsAt(server: ServerModel, dir: string): number;
  /** The server-level `<Files>`/`<FilesMatch>` sections whose pattern matches the base name `name`. */
  filesSectionsFor(server: ServerModel, name: string): NestedSection[];
  /** The URL path that reaches the directory `dir` on `server` through a served root (null: none). */
  urlOfDir(server: ServerModel, dir: string): string | null;
}

export type Model = NginxView | ApacheView;

const cache = new WeakMap<ConfigSet, Map<string, Model>>();

/** The settings and options that change an Apache model, as the Apache model builder takes them. */
export function apacheModelSettings(set: ConfigSet, o: ModelOptions): ApacheModelSettings {
  const s = o.settings ?? {};
  const out: ApacheModelSettings = {};
  if (s.apacheVersion) out.apacheVersion = s.apacheVersion;
  const modules = [...(s.apacheModules ?? []), ...impliedModules(set)];
  if (modules.length) out.modules = modules;
  if (s.user) out.user = s.user;
  const pathMap = [...(o.pathMap ?? []), ...Object.entries(s.pathMap ?? {}).map(([from, to]) => ({ from, to }))];
  if (pathMap.length) out.pathMap = pathMap;
  if (o.serverRoot) out.serverRoot = o.serverRoot;
  if (o.defines) out.defines = o.defines;
  return out;
}

function keyOf(o: ModelOptions): string {
  return JSON.stringify([o.settings ?? {}, o.pathMap ?? [], o.prefix ?? '', o.serverRoot ?? '', o.defines ?? {}, !!o.fs]);
}

/** The model of `set` under `options`, built on first use. */
export function modelFor(set: ConfigSet, options: ModelOptions = {}): Model {
  let byKey = cache.get(set);
  if (!byKey) cache.set(set, (byKey = new Map()));
  const key = keyOf(options);
  let m = byKey.get(key);
  if (!m) byKey.set(key, (m = set.server === 'apache' ? apacheView(set, options) : nginxView(set, options)));
  return m;
}

/** The path map a model reads the disk through: the options' and the settings'. */
function pathMapOf(o: ModelOptions): PathMapping[] {
  return [...(o.pathMap ?? []), ...Object.entries(o.settings?.pathMap ?? {}).map(([from, to]) => ({ from, to }))];
}

function nginxView(set: ConfigSet, options: ModelOptions): NginxView {
  const tree = buildModel(set);
  let scopes: Scope[] | null = null;
  const dead = new Map<string, DeadAccessRule[]>();
  const samples = new Map<Scope, SampleInput | null>();
  const fs = options.fs ? new DiskFs(pathMapOf(options)) : null;
  let files: FileSystemView | undefined;
  let disk: DiskScan | undefined;
  const view: NginxView = {
    server: 'nginx',
    set,
    options,
    tree,
    fs,
    configFiles: () => (files ??= fs ?? new DiskFs(pathMapOf(options))),
    disk: () => (disk ??= fs && scanDisk ? scanDisk(view, fs) : undefined) ?? null,
    scopes: () => (scopes ??= scopesOf(tree)),
    refusesEveryone: refusedBy,
    requestTo: (scope) => {
      // one per scope (several rules ask for the same scope); a copy, so no caller can change another's
      let r = samples.get(scope);
      if (r === undefined) samples.set(scope, (r = requestTo(tree, scope)));
      return r && { ...r };
    },
    serverOf,
    configPath: (p) => configPathOf(set, p),
    settingsAt: effectiveSettings,
    scopeAt: (server, uri) => findLocation(server, toBinary(uri.split('?')[0])).location ?? server,
    clientsOf(scope, family = 'ipv4') {
      const segs = view.accessRanges(scope, family);
      const ok = segs.find((x) => x.allowed);
      const no = segs.find((x) => !x.allowed);
      return { allowed: ok ? addressText(ok.lo, family) : null, refused: no ? addressText(no.lo, family) : null };
    },
    accessRanges: (scope, family = 'ipv4') =>
      accessSegments(effectiveSettings(scope).access.rules, family).map((s) => ({ ...s, allowed: segmentAllows(s) })),
    accessChanges: (before, after, family) =>
      accessDiff(effectiveSettings(before).access.rules, effectiveSettings(after).access.rules, family).map((p) => ({
        before: p.before,
        after: p.after,
        example: addressText(p.lo === 0n ? p.hi : p.lo, family),
      })),
    deadAccessRules(action) {
      let d = dead.get(action);
      if (!d) dead.set(action, (d = deadAccessRules(tree, action)));
      return d;
    },
  };
  return view;
}

/** Keys of the directives that can make a served root (DocumentRoot, Alias/ScriptAlias and their
 * Match forms, a VirtualHost): without one of them a set serves nothing, whatever its conditions. */
const SERVING_KEYS = new Set(['documentroot', 'alias', 'aliasmatch', 'scriptalias', 'scriptaliasmatch', 'virtualhost']);

/** Whether any directive of the set (its files, included files, `Use` expansions and `<Macro>`
 * bodies, every condition taken) is one of SERVING_KEYS: a superset of what the model builder reads. */
function mayServe(set: ConfigSet): boolean {
  const stack: Node[][] = [set.root.nodes];
  for (const f of set.files.values()) stack.push(f.nodes);
  while (stack.length > 0) {
    for (const n of stack.pop()!) {
      if (n.type !== 'directive') continue;
      if (SERVING_KEYS.has(n.key.startsWith('<') ? n.key.slice(1) : n.key)) return true;
      if (n.block) stack.push(n.block);
      if (n.expansion) stack.push(n.expansion);
    }
  }
  return false;
}

function apacheView(set: ConfigSet, options: ModelOptions): ApacheView {
  // Built on first use: the rules of a .htaccess set mostly read the main configs it is linked to
  // (htaccess(), htaccessViolations(), optionsAt()), and one that serves nothing has no probes.
  let built: ApacheModel | null = null;
  const model = (): ApacheModel => (built ??= buildApacheModel(set, apacheModelSettings(set, options)));
  let roots: ServedRoot[] | null = null;
  let violations: { hc: HtaccessContext; list: ReturnType<ApacheView['htaccessViolations']> } | null = null;
  const fs = options.fs ? new DiskFs(pathMapOf(options)) : null;
  let files: FileSystemView | undefined;
  let disk: DiskScan | undefined;
  const view: ApacheView = {
    server: 'apache',
    set,
    options,
    get tree() {
      return model();
    },
    fs,
    configFiles: () => (files ??= fs ?? new DiskFs(pathMapOf(options))),
    disk: () => (disk ??= fs && scanDisk ? scanDisk(view, fs) : undefined) ?? null,
    servedRoots: () => (roots ??= built === null && !mayServe(set) ? [] : servedRoots(model())),
    requestTo: (server, uri, method) => {
      const port = portOf(server, model());
      const tls = server.sslEngine?.value === 'on';
      return {
        host: hostFor(server),
        path: uri,
        ...(port !== undefined ? { port } : {}),
        ...(method ? { method } : {}),
        ...(tls ? { scheme: 'https' as const } : {}),
      };
    },
    probes: () => (view.servedRoots().length === 0 ? [] : directoryProbes(model())),
    probeUrl: (server, uri, method) => probeUrl(model(), server, uri, method),
    ownerOf: (d) => model().owners.get(d) ?? null,
    requestsFor: (d, parents) => requestsForDirective(view, d, parents),
    isBlanketDenial: (d) => isBlanketDenial(model(), d),
    htaccess: () => htaccessContext(set, options.settings ?? {}),
    htaccessViolations() {
      // read by two rules per .htaccess set: checked once per placing of the file (a new link of the
      // set to the run's main configs places it again)
      const hc = htaccessContext(set, options.settings ?? {});
      if (violations?.hc !== hc) violations = { hc, list: linkedViolations(set, hc) };
      return violations.list;
    },
    optionsAt: (server, dir) => effectiveOptions(dirConfAt(server, dir).options),
    htaccessOptions(link) {
      const dir = htaccessContext(set, options.settings ?? {}).dir;
      const conf = dirConfAt(link.server, dir.endsWith('/') ? dir : `${dir}/`);
      const own = newOptions();
      for (const n of set.root.nodes)
        if (n.type === 'directive' && n.key === 'options')
          applyOptions(
            own,
            n.args.map((a) => a.value),
            link.state.optsAllowed,
          );
      return { bits: effectiveOptions(mergeOptions(conf.options, own)), by: conf.optionsBy.at(-1) ?? null };
    },
    linkedModel: (link) => modelFor(link.main, options),
    filesSectionsFor: (server, name) =>
      server.files.filter((f) =>
        f.kind === 'files' ? fnmatch(f.pattern, name) : f.regex?.ok === true && f.regex.re.matches(name) === true,
      ),
    urlOfDir(server, path) {
      const dir = path.replace(/\/+$/, '');
      for (const r of view.servedRoots().filter((x) => x.server === server)) {
        if (r.dir === dir || r.dir.startsWith(dir + '/')) return r.url;
        if (dir.startsWith(r.dir + '/'))
          return (
            r.url +
            dir
              .slice(r.dir.length + 1)
              .split('/')
              .map(encodeSegment)
              .join('/') +
            '/'
          );
      }
      return null;
    },
  };
  return view;
}
