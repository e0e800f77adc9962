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
import type { ConfigSet, Directive } from '../../ast.js';
import type { Settings } from '../../rule.js';
import { servedRoots, type ServedRoot } from './cache.js';
import { modelFor, type ModelOptions } from '../../model/index.js';
import { flatten, sectionKey, type CondEnv } from './conditions.js';
import { mergeDirConf, type DirConf } from './dirconf.js';
import { apacheDirective } from '../directives.js';
import { ModuleSet } from './modules.js';
import { OPT_ALL, OPT_MULTI, OPT_SYM_OWNER, parseAllowOpts } from './options.js';
import { checkOverride, parseAllowOverride, type OverrideState, type OverrideViolation } from './overrides.js';
import { fnmatch } from './regex.js';
import { countDirs, type ApacheModel, type ServerModel } from './sections.js';

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

const registry = new WeakMap<ConfigSet, readonly MainConfig[]>();
const contexts = new WeakMap<ConfigSet, HtaccessContext>();

/** Engine hook: the Apache server-context sets linted in the same run as this .htaccess set. */
export function linkHtaccess(htaccess: ConfigSet, mains: readonly MainConfig[]): void {
  registry.set(htaccess, mains);
  contexts.delete(htaccess);
}

const slash = (p: string) => (p.endsWith('/') ? p : `${p}/`);
const under = (dir: string, base: string) => base === '/' || dir === base || dir.startsWith(`${base}/`);

/** The merged `<Directory>` config at `dir` (non-regex sections from `/` down, as the walk merges them). */
export function dirConfAt(server: ServerModel, dir: string): DirConf {
  let conf = server.base;
  const levels = ['/'];
  for (const part of dir.split('/').filter(Boolean)) levels.push(`${levels[levels.length - 1]}${part}/`);
  for (const cur of levels) {
    const comps = cur === '/' ? 0 : countDirs(cur);
    for (const s of server.directories) {
      if (s.components !== comps) continue;
      if (s.wildcard ? fnmatch(s.path, cur) : s.path === cur) conf = mergeDirConf(conf, s.conf, `<Directory ${s.path}>`, s.directive);
    }
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

/** Where the .htaccess set `set` is read, per the configs linked to it (see the file comment). */
export function htaccessContext(set: ConfigSet, settings: Settings): HtaccessContext {
  const cached = contexts.get(set);
  if (cached) return cached;
  const dir = (set.root.htaccessDir ?? set.root.source.path.replace(/\/[^/]*$/, '')).replace(/(.)\/+$/, '$1');
  const links: HtaccessLink[] = [];
  for (const main of registry.get(set) ?? []) {
    const view = modelFor(main.set, { ...(main.modelOptions ?? {}), settings: main.settings });
    if (view.server !== 'apache') continue;
    const model = view.tree;
    const modulesKnown = model.top.some((d) => d.key === 'loadmodule');
    const roots = servedRoots(model);
    for (const server of [model.main, ...model.vhosts]) {
      const root = roots.filter((r) => r.server === server && under(dir, r.dir)).sort((a, b) => b.dir.length - a.dir.length)[0] ?? null;
      const covered = root || server.directories.some((s) => s.path !== '/' && !s.wildcard && under(dir, s.path.replace(/(.)\/$/, '$1')));
      if (!covered) continue;
      const rest = root ? dir.slice(root.dir === '/' ? 0 : root.dir.length).replace(/^\/+/, '') : '';
      const url = root ? (rest ? `${root.url}${rest.split('/').map(encodeURIComponent).join('/')}/` : root.url) : null;
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
