/**
 * One model per server, and everything reads it. `modelFor(set, options)` is the only place a
 * semantic model is built: the lint engine hands it to rules as `ctx.model`, `explain` asks it for
 * the same set and options, and so do the proofs attached to findings (src/model/proof.ts). A model
 * is built once per (ConfigSet, options) and kept as long as the set is alive.
 *
 * The model is a discriminated union: `model.server` says which server's queries it offers. Rules
 * read queries here instead of re-implementing matching, inheritance or access logic.
 */
import type { ConfigSet, Directive, PathMapping, ServerKind } from '../ast.js';
import type { Settings } from '../rule.js';
import {
  buildApacheModel,
  type ApacheModel,
  type ModelSettings as ApacheModelSettings,
  type ServerModel,
} from '../apache/model/sections.js';
import {
  directoryProbes,
  hostFor,
  impliedModules,
  portOf,
  isBlanketDenial,
  probeUrl,
  servedRoots,
  type Probe,
  type ServedRoot,
} from '../apache/model/cache.js';
import type { DirectiveOwner } from '../apache/model/dirconf.js';
import type { SimResult as ApacheSimResult } from '../apache/model/simulate.js';
import { buildModel, type NginxModel, type Scope, type Server } from '../nginx/model/tree.js';
import { deadAccessRules, refusedBy, scopesOf, serverOf, type DeadAccessRule } from '../nginx/model/cache.js';
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
  const fs = options.fs ? new DiskFs(pathMapOf(options)) : null;
  let disk: DiskScan | undefined;
  const view: NginxView = {
    server: 'nginx',
    set,
    options,
    tree,
    fs,
    disk: () => (disk ??= fs && scanDisk ? scanDisk(view, fs) : undefined) ?? null,
    scopes: () => (scopes ??= scopesOf(tree)),
    refusesEveryone: refusedBy,
    requestTo: (scope) => requestTo(tree, scope),
    serverOf,
    deadAccessRules(action) {
      let d = dead.get(action);
      if (!d) dead.set(action, (d = deadAccessRules(tree, action)));
      return d;
    },
  };
  return view;
}

function apacheView(set: ConfigSet, options: ModelOptions): ApacheView {
  const tree = buildApacheModel(set, apacheModelSettings(set, options));
  let roots: ServedRoot[] | null = null;
  const fs = options.fs ? new DiskFs(pathMapOf(options)) : null;
  let disk: DiskScan | undefined;
  const view: ApacheView = {
    server: 'apache',
    set,
    options,
    tree,
    fs,
    disk: () => (disk ??= fs && scanDisk ? scanDisk(view, fs) : undefined) ?? null,
    servedRoots: () => (roots ??= servedRoots(tree)),
    requestTo: (server, uri, method) => {
      const port = portOf(server);
      const tls = server.sslEngine?.value === 'on';
      return {
        host: hostFor(server),
        path: uri,
        ...(port !== undefined ? { port } : {}),
        ...(method ? { method } : {}),
        ...(tls ? { scheme: 'https' as const } : {}),
      };
    },
    probes: () => directoryProbes(tree),
    probeUrl: (server, uri, method) => probeUrl(tree, server, uri, method),
    ownerOf: (d) => tree.owners.get(d) ?? null,
    requestsFor: (d, parents) => requestsForDirective(view, d, parents),
    isBlanketDenial: (d) => isBlanketDenial(tree, d),
  };
  return view;
}
