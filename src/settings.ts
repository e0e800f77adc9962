/**
 * From a config file (`.why403.json` …) and the command line to what the loaders, the models and
 * the rules take. Lint and explain both resolve their options here, so `why403 explain` builds the
 * same model as the lint run whose finding it is asked about.
 */
import { join, resolve } from 'node:path';
import type { PathMapping, ServerKind } from './ast.js';
import { configPathMap, type LoadedConfig } from './config.js';
import { SETTINGS, SETTING_NAMES } from './settings-table.js';
import type { LoadOptions } from './load-options.js';
import type { ModelOptions } from './model/index.js';
import { packageRoot, type Rule, type Settings } from './rule.js';
import { loadRules, ruleStubsFromSchema } from './rule-manifest.js';

/** What the command line says; it wins over the config file. */
export interface CommandLineOptions {
  server?: ServerKind;
  context?: string;
  pathMap?: PathMapping[];
  /** nginx `-p` prefix (absolute or relative to the working directory). */
  prefix?: string;
  /** Apache ServerRoot. */
  serverRoot?: string;
  defines?: Record<string, string>;
}

/** The `settings` of a config file as rules and models read them (paths resolved). */
export function settingsFor(cfg: LoadedConfig): Settings {
  const s = cfg.config.settings ?? {};
  const out: Record<string, unknown> = {};
  for (const k of SETTING_NAMES) {
    if (SETTINGS[k].kind !== 'rule' || s[k] === undefined) continue;
    // pathMap targets resolve against the config file's folder
    out[k] = k === 'pathMap' ? Object.fromEntries(configPathMap(cfg).map((m) => [m.from, m.to])) : s[k];
  }
  return out as Settings;
}

/** A prefix as nginx keeps it: absolute, ending in `/`. */
const asPrefix = (p: string, base: string): string => resolve(base, p).replace(/\/*$/, '/');

/** Load options for a file under `cfg`, the command line winning. */
export function loadOptionsFor(cfg: LoadedConfig, o: CommandLineOptions, cwd = process.cwd()): LoadOptions {
  const s = cfg.config.settings ?? {};
  const lo: LoadOptions = {};
  if (o.server) lo.server = o.server;
  if (o.context) lo.context = o.context;
  const pm = [...(o.pathMap ?? []), ...configPathMap(cfg)];
  if (pm.length) lo.pathMap = pm;
  if (o.prefix) lo.prefix = asPrefix(o.prefix, cwd);
  else if (s.nginxPrefix) lo.prefix = asPrefix(s.nginxPrefix, cfg.dir);
  if (o.serverRoot) lo.serverRoot = resolve(cwd, o.serverRoot);
  else if (s.apacheServerRoot) lo.serverRoot = resolve(cfg.dir, s.apacheServerRoot);
  if (o.defines && Object.keys(o.defines).length) lo.defines = o.defines;
  if (s.nginxDirectives) lo.nginxDirectives = s.nginxDirectives;
  if (s.apacheDirectives) lo.apacheDirectives = s.apacheDirectives;
  if (s.apacheModules) lo.apacheModules = s.apacheModules;
  return lo;
}

/** The load options that change what the model predicts (the rest only find files). */
export function modelOptionsOf(lo: LoadOptions): Omit<ModelOptions, 'settings'> {
  const m: Omit<ModelOptions, 'settings'> = {};
  if (lo.pathMap?.length) m.pathMap = lo.pathMap;
  if (lo.prefix) m.prefix = lo.prefix;
  if (lo.serverRoot) m.serverRoot = lo.serverRoot;
  if (lo.defines) m.defines = lo.defines;
  return m;
}

let stubsCache: readonly Rule<string, object>[] | null | undefined;
/** What config files are validated against when the rules are loaded lazily: stand-ins built from
 * the shipped schema, or (no usable schema file) every rule. */
export async function validationRules(): Promise<readonly Rule<string, object>[]> {
  if (stubsCache === undefined) stubsCache = ruleStubsFromSchema(join(packageRoot(), 'schemas', 'why403.schema.json'));
  return stubsCache ?? loadRules();
}
