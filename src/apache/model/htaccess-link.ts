/**
 * Tying a `.htaccess` file to the server configuration that reads it.
 *
 * A .htaccess file on its own does not say whether Apache reads it: that is decided by the
 * `AllowOverride` / `AllowOverrideList` in force for its directory in the main configuration
 * (server/request.c ap_directory_walk reads the access file only when the merged per-dir config
 * allows some override; server/config.c invoke_cmd then checks every directive against it).
 *
 * When a lint run holds Apache main configurations as well as .htaccess files (the usual repository:
 * httpd.conf or sites-available/*.conf beside public/.htaccess), the engine calls `linkHtaccess`
 * for each .htaccess set with the server-context sets of the run. `htaccessContext` then finds, in
 * each of those configs and each of their servers, the served root (DocumentRoot, Alias,
 * ScriptAlias) or `<Directory>` section that covers the file's directory — the directory is the
 * installed path, i.e. after the path map — and merges the non-regex `<Directory>` sections from `/`
 * down to it, as the directory walk does, to get the AllowOverride state there.
 *
 * Without any covering config the state is not known. Then the setting `apacheAllowOverride` (the
 * arguments of an `AllowOverride` line, e.g. ["All"] or ["None"]) is used when given; otherwise the
 * rules claim only what holds whatever AllowOverride is (a directive that is never allowed in
 * .htaccess answers 500 whenever the file is read). The default is deliberately not Debian's stock
 * `AllowOverride None`: a .htaccess exists because its author expects it to be read, and calling
 * every lone .htaccess dead would be wrong for most hosts that set `AllowOverride All`.
 */
import type { ConfigSet, Directive, ParsedFile } from '../../ast.js';
import type { Settings } from '../../rule.js';
import { encodeSegment, servedRoots, type ServedRoot } from './cache.js';
import { modelFor, type ModelOptions } from '../../model/index.js';
import { flatten, sectionKey, type CondEnv } from './conditions.js';
import { mergeDirConf, type DirConf } from './dirconf.js';
import { apacheDirective } from '../directives.js';
import { ModuleSet } from './modules.js';
import { OPT_ALL, OPT_MULTI, OPT_SYM_OWNER, parseAllowOpts } from './options.js';
import { checkOverride, parseAllowOverride, type OverrideState, type OverrideViolation } from './overrides.js';
import { fnmatch } from './regex.js';
import { expandAccessSet, macroTableOf } from '../macro.js';
import { countDirs, directoryIndex, sectionLabel, type ApacheModel, type ServerModel } from './sections.js';

/** A server-context set of the same lint run and the settings it was linted with. */
export interface MainConfig {
  set: ConfigSet;
  settings: Settings;
  /** The load options it was linted with (the model is the one its rules read). */
  modelOptions?: Omit<ModelOptions, 'settings'>;
}

/** The AllowOverride state a .htaccess directory gets, and the directives that set it. */
export interface OverrideAt extends OverrideState {
  /** The `AllowOverride` line in force (null: httpd's default, None since 2.3.9). */
  by: Directive | null;
  /** The `AllowOverrideList` line in force, if any. */
  listBy: Directive | null;
}

/** One config (and server in it) that serves the .htaccess directory. */
export interface HtaccessLink {
  main: ConfigSet;
  model: ApacheModel;
  server: ServerModel;
  /** The served root covering the directory (null: only a `<Directory>` section covers it). */
  root: ServedRoot | null;
  /** URL of the directory on that server (null when no served root covers it). */
  url: string | null;
  state: OverrideAt;
  /** True when the config lists its modules itself (LoadModule lines), so "module not loaded" is known. */
  modulesKnown: boolean;
}

export interface HtaccessContext {
  /** The .htaccess directory (installed path, no trailing slash). */
  dir: string;
  /** Configs of the run that cover the directory; empty when none does. */
  links: HtaccessLink[];
  /** AllowOverride assumed from the `apacheAllowOverride` setting when no config covers the directory. */
  assumed: OverrideAt | null;
}

/** Work counter for the shape tests: .htaccess files checked against a linked config's AllowOverride. */
export const htaccessLinkStats = { violationChecks: 0 };

const registry = new WeakMap<ConfigSet, readonly MainConfig[]>();
const contexts = new WeakMap<ConfigSet, HtaccessContext>();
/** Per main config: the files of the .htaccess sets linked to it, by directory (a later link of a set
 * for the same directory, e.g. an editor's new buffer, replaces the earlier one). */
const linkedTo = new WeakMap<ConfigSet, Map<string, ParsedFile>>();

/** The installed directory of a .htaccess set (no trailing slash), where Apache reads it. */
export const htaccessDirOf = (set: ConfigSet): string =>
  (set.root.htaccessDir ?? set.root.source.path.replace(/\/[^/]*$/, '')).replace(/(.)\/+$/, '$1');

/** The .htaccess files the run linked to the main config `main`, by installed directory (what a proof
 * on that config reads for those directories instead of the disk: the text the run linted). */
export function linkedAccessFiles(main: ConfigSet): ReadonlyMap<string, ParsedFile> {
  return linkedTo.get(main) ?? new Map();
}

/** Engine hook: the Apache server-context sets linted in the same run as this .htaccess set. */
export function linkHtaccess(htaccess: ConfigSet, mains: readonly MainConfig[]): void {
  registry.set(htaccess, mains);
  contexts.delete(htaccess);
  // (the run links a set just before linting it: added to the index, not a new index per set)
  const dir = htaccessDirOf(htaccess);
  for (const m of mains) {
    let l = linkedTo.get(m.set);
    if (!l) linkedTo.set(m.set, (l = new Map()));
    l.set(dir, htaccess.root);
  }
  // mod_macro: the file's Use lines read the macros of the configuration that reads it (the first
  // linked one that defines any; a run whose configs define different macros of the same name is rare)
  const table = mains.map((m) => macroTableOf(m.set)).find((t) => t !== undefined);
  // (none defines any: the file stays read alone, its unknown macros said to be unknown)
  if (table) expandAccessSet(htaccess, table, false);
}

const slash = (p: string) => (p.endsWith('/') ? p : `${p}/`);

const dirConfs = new WeakMap<ServerModel, Map<string, DirConf>>();

/** The merged `<Directory>` config at `dir` (non-regex sections from `/` down, as the walk merges them).
 * Computed once per server and directory: a directory's config is its parent's merged with the
 * sections of its own path (found in the server's path index), and cached along the path. */
export function dirConfAt(server: ServerModel, dir: string): DirConf {
  let memo = dirConfs.get(server);
  if (!memo) dirConfs.set(server, (memo = new Map()));
  const parts = dir.split('/').filter(Boolean);
  // the deepest level already known, then merge down from it
  let depth = parts.length;
  let cur = parts.length ? `/${parts.join('/')}/` : '/';
  const levels: string[] = [];
  let conf: DirConf | undefined;
  for (;;) {
    conf = memo.get(cur);
    if (conf) break;
    levels.push(cur);
    if (depth === 0) break;
    depth--;
    cur = depth ? `/${parts.slice(0, depth).join('/')}/` : '/';
  }
  if (!conf) conf = server.base;
  const idx = directoryIndex(server);
  for (let i = levels.length - 1; i >= 0; i--) {
    const level = levels[i];
    const comps = level === '/' ? 0 : countDirs(level);
    const hits = [...(idx.exact.get(level) ?? [])];
    for (const w of idx.wildcard.get(comps) ?? []) {
      const s = w.section;
      if (fnmatch(s.path, level)) hits.push(w);
    }
    if (hits.length > 1) hits.sort((x, y) => x.pos - y.pos);
    for (const { section: s } of hits) conf = mergeDirConf(conf, s.conf, sectionLabel(s), s.directive);
    memo.set(level, conf);
  }
  return conf;
}

function stateOf(conf: DirConf): OverrideAt {
  return {
    classes: conf.override?.classes ?? new Set(),
    nonfatal: conf.override?.nonfatal ?? new Set(),
    optsAllowed: conf.overrideOpts ?? 0xff,
    list: conf.overrideList?.value ?? new Set(),
    by: conf.override?.by ?? null,
    listBy: conf.overrideList?.by ?? null,
  };
}

/** The state the `apacheAllowOverride` setting describes, or null when it is not set or invalid. */
export function assumedOverride(settings: Settings): OverrideAt | null {
  const args = settings.apacheAllowOverride;
  if (!args || args.length === 0) return null;
  const p = parseAllowOverride(args);
  if (typeof p === 'string') return null;
  const optsAllowed = p.classes.has('Options')
    ? p.optsList !== null
      ? parseAllowOpts(p.optsList)
      : p.all
        ? OPT_ALL | OPT_SYM_OWNER | OPT_MULTI
        : OPT_ALL
    : 0xff;
  return { classes: p.classes, nonfatal: p.nonfatal, optsAllowed, list: new Set(), by: null, listBy: null };
}

/** True when the state lets Apache read the access file at all. */
export const readsHtaccess = (s: OverrideState) => s.classes.size > 0 || s.list.size > 0;

/** Per model: served roots and `<Directory>` sections indexed by directory, for placing .htaccess files. */
interface LinkIndex {
  servers: ServerModel[];
  position: Map<ServerModel, number>;
  /** Served-root directory → roots, in servedRoots order. */
  roots: Map<string, ServedRoot[]>;
  /** Directory (no trailing slash) → servers with a literal `<Directory>` section of their own there
   * (the main server's sections count for the main server only). */
  sections: Map<string, Set<ServerModel>>;
  /** Vhosts whose merged config may differ from the main server's in a directory that only the main
   * server's sections cover (own wildcard or `/` sections, AllowOverride at the vhost's top level). */
  differing: ServerModel[];
}

const linkIndexes = new WeakMap<ApacheModel, LinkIndex>();

function linkIndex(model: ApacheModel): LinkIndex {
  let idx = linkIndexes.get(model);
  if (idx) return idx;
  const servers = [model.main, ...model.vhosts];
  idx = { servers, position: new Map(servers.map((s, i) => [s, i])), roots: new Map(), sections: new Map(), differing: [] };
  for (const r of servedRoots(model)) {
    const list = idx.roots.get(r.dir);
    if (list) list.push(r);
    else idx.roots.set(r.dir, [r]);
  }
  servers.forEach((server, i) => {
    let differs =
      server.base.override !== model.main.base.override ||
      server.base.overrideOpts !== model.main.base.overrideOpts ||
      server.base.overrideList !== model.main.base.overrideList;
    for (const s of server.directories) {
      if (s.owner !== i) continue; // inherited from the main server
      if (s.wildcard || s.path === '/') {
        differs = true;
        continue;
      }
      const key = s.path.replace(/(.)\/$/, '$1');
      const set = idx!.sections.get(key);
      if (set) set.add(server);
      else idx!.sections.set(key, new Set([server]));
    }
    if (i > 0 && differs) idx!.differing.push(server);
  });
  linkIndexes.set(model, idx);
  return idx;
}

/** What placing a .htaccess needs of one main config of the run, looked up once per main config
 * rather than once per .htaccess file and main config (a run links every .htaccess to every main). */
const linkedMains = new WeakMap<MainConfig, { model: ApacheModel; modulesKnown: boolean; idx: LinkIndex } | null>();

function linkedMain(main: MainConfig): { model: ApacheModel; modulesKnown: boolean; idx: LinkIndex } | null {
  let out = linkedMains.get(main);
  if (out !== undefined) return out;
  const view = modelFor(main.set, { ...(main.modelOptions ?? {}), settings: main.settings });
  out =
    view.server === 'apache'
      ? { model: view.tree, modulesKnown: view.tree.top.some((d) => d.key === 'loadmodule'), idx: linkIndex(view.tree) }
      : null;
  linkedMains.set(main, out);
  return out;
}

/** `dir` and every directory above it (the bases `under(dir, base)` accepts), deepest first. */
function ancestors(dir: string): string[] {
  const out = [dir];
  for (let i = dir.length - 1; i > 0; i--) if (dir[i] === '/') out.push(dir.slice(0, i));
  if (out[out.length - 1] !== '/') out.push('/');
  return out;
}

/**
 * Where the .htaccess set `set` is read, per the configs linked to it (see the file comment).
 *
 * A server is linked when a served root of its own covers the directory, or a literal `<Directory>`
 * section does. A vhost covered only by the main server's sections is left out when its merged
 * config there cannot differ from the main server's (which is linked, and first): it would repeat
 * the main server's state, and listing every vhost of a shared-hosting config for every .htaccess
 * is what made linking quadratic.
 */
export function htaccessContext(set: ConfigSet, settings: Settings): HtaccessContext {
  const cached = contexts.get(set);
  if (cached) return cached;
  const dir = htaccessDirOf(set);
  const above = ancestors(dir);
  const links: HtaccessLink[] = [];
  for (const main of registry.get(set) ?? []) {
    const linked = linkedMain(main);
    if (!linked) continue;
    const { model, modulesKnown, idx } = linked;
    // the deepest served root of each server that covers the directory
    const rootOf = new Map<ServerModel, ServedRoot>();
    const covered = new Set<ServerModel>();
    for (const a of above) {
      for (const r of idx.roots.get(a) ?? []) {
        if (!rootOf.has(r.server)) rootOf.set(r.server, r);
        covered.add(r.server);
      }
      if (a === '/') continue;
      for (const s of idx.sections.get(a) ?? []) covered.add(s);
    }
    const mainBySection = above.some((a) => a !== '/' && idx.sections.get(a)?.has(model.main));
    if (mainBySection) for (const v of idx.differing) covered.add(v);
    const ordered = [...covered].sort((x, y) => idx.position.get(x)! - idx.position.get(y)!);
    for (const server of ordered) {
      const root = rootOf.get(server) ?? null;
      const rest = root ? dir.slice(root.dir === '/' ? 0 : root.dir.length).replace(/^\/+/, '') : '';
      const url = root ? (rest ? `${root.url}${rest.split('/').map(encodeSegment).join('/')}/` : root.url) : null;
      links.push({ main: main.set, model, server, root, url, state: stateOf(dirConfAt(server, slash(dir))), modulesKnown });
    }
  }
  const ctx: HtaccessContext = { dir, links, assumed: links.length ? null : assumedOverride(settings) };
  contexts.set(set, ctx);
  return ctx;
}

/**
 * The directives of the .htaccess that Apache would refuse under `state` (real Apache: 500 for every
 * request below the directory, or the directive ignored with `AllowOverride Nonfatal=…`). Conditional
 * sections are resolved with the model's modules and defines; without a model (`model` null) the
 * directives inside a conditional section are not checked, since whether Apache reads them is unknown.
 */
export function overrideViolations(
  set: ConfigSet,
  state: OverrideState,
  model: ApacheModel | null,
  modulesKnown = false,
): OverrideViolation[] {
  htaccessLinkStats.violationChecks++;
  const out: OverrideViolation[] = [];
  const modules = model?.modules ?? null;
  let list: Directive[];
  if (model) {
    const env: CondEnv = {
      modules: model.modules.clone(),
      defines: new Map(model.defines),
      version: model.version,
      fileExists: () => null,
      serverRoot: model.serverRoot,
      envVars: {},
    };
    list = flatten(set, set.root.nodes, env, []);
  } else {
    list = set.root.nodes.filter((n): n is Directive => n.type === 'directive' && !(n.block && /^<?if/i.test(n.name)));
  }
  // Without a model, every module is taken as loaded: only "not allowed here" is certain.
  const all = modules ?? ({ has: () => true } as unknown as ModuleSet);
  const rec = (ds: Directive[]) => {
    for (const d of ds) {
      const v = checkOverride(d, state, all);
      if (v) {
        // "Invalid command": a name httpd does not know at all is already a syntax error; a module
        // not loaded is certain only when the config lists its modules itself.
        if (v.kind !== 'unknown' || (modulesKnown && apacheDirective(d.block ? `<${sectionKey(d)}` : sectionKey(d)))) out.push(v);
        continue;
      }
      if (d.block)
        rec(
          d.block.filter(
            (n): n is Directive =>
              n.type === 'directive' && !(!model && n.block !== undefined && n.block !== null && /^<?if/i.test(n.name)),
          ),
        );
    }
  };
  rec(list);
  return out;
}

/** Every directive of the .htaccess that some linked config which reads the file refuses, once each
 * (with the first such link) per kind: the 500s (`nonfatal` false) and the skipped ones (`nonfatal` true). */
export function linkedViolations(set: ConfigSet, hc: HtaccessContext): { violation: OverrideViolation; link: HtaccessLink }[] {
  const out: { violation: OverrideViolation; link: HtaccessLink }[] = [];
  // once per directive and kind: a directive fatal under one config and skipped under another is both
  const seen = { fatal: new Set<Directive>(), nonfatal: new Set<Directive>() };
  for (const link of hc.links) {
    // A file Apache does not read cannot fail (apache-htaccess-ignored says so).
    if (!readsHtaccess(link.state)) continue;
    for (const violation of overrideViolations(set, link.state, link.model, link.modulesKnown)) {
      const kind = violation.nonfatal ? seen.nonfatal : seen.fatal;
      if (kind.has(violation.directive)) continue;
      kind.add(violation.directive);
      out.push({ violation, link });
    }
  }
  return out;
}
