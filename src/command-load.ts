/**
 * Loading a config for `explain`, `map` and the other commands exactly as lint loads it: the settings
 * of its config file, then the command line (src/settings.ts), then the loader. Apart from settings.ts
 * so that lint's startup does not load it.
 */
import { isAbsolute, relative } from 'node:path';
import type { ConfigSet, PathMapping, ServerKind } from './ast.js';
import { ConfigError, ConfigResolver, type LoadedConfig } from './config.js';
import type { LoadOptions } from './load-options.js';
import { loadConfig } from './load.js';
import type { Settings } from './rule.js';
import { loadOptionsFor, settingsFor, validationRules, type CommandLineOptions } from './settings.js';

/** A config loaded for a command the way lint loads it: its config file's settings, then the command
 * line; or why it cannot be used (a bad config file, parse errors). */
export type LoadedForCommand =
  { ok: true; set: ConfigSet; lo: LoadOptions; settings: Settings } | { ok: false; message: string; usageHint: boolean };

/**
 * Load `path` with the settings lint would read for it (`.why403.json`… unless `lookup` is false, or
 * `configFile`), the command line winning. Parse errors make it unusable, except unknown directives
 * (a third-party module's directive does not stop an explanation, a map or a diff).
 */
export async function loadForCommand(
  path: string,
  cli: CommandLineOptions,
  o: { lookup?: boolean; configFile?: string; cwd?: string } = {},
): Promise<LoadedForCommand> {
  const cwd = o.cwd ?? process.cwd();
  let cfg: LoadedConfig = { file: null, dir: cwd, config: {} };
  if (o.configFile || o.lookup !== false) {
    try {
      cfg = new ConfigResolver(await validationRules(), { ...(o.configFile ? { configFile: o.configFile } : {}), cwd }).forFile(path);
    } catch (e) {
      if (e instanceof ConfigError) return { ok: false, message: e.message, usageHint: true };
      throw e;
    }
  }
  const lo = loadOptionsFor(cfg, cli, cwd);
  const set = loadConfig(path, lo);
  const errs = [...set.errors, ...[...set.files.values()].flatMap((f) => f.errors)].filter(
    (d) => d.severity === 'error' && d.code !== 'unknown-directive',
  );
  if (errs.length) {
    const lines = errs.slice(0, 10).map((d) => `  ${relPath(d.file, cwd)}:${d.span.start.line}:${d.span.start.column}: ${d.message}`);
    if (errs.length > 10) lines.push(`  … and ${errs.length - 10} more`);
    return { ok: false, message: `${relPath(path, cwd)} does not parse:\n${lines.join('\n')}`, usageHint: false };
  }
  return { ok: true, set, lo, settings: settingsFor(cfg) };
}

function relPath(p: string, cwd: string): string {
  const r = relative(cwd, p);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : p;
}

/** The command-line options of explain/map-like commands, each kept only for the server it is for. */
/** `--define NAME[=VALUE]` options as Apache's `-D` takes them; the first bad one is returned as an error. */
export function parseDefines(list: readonly string[]): { defines: Record<string, string> } | { error: string } {
  const defines: Record<string, string> = {};
  for (const d of list) {
    const i = d.indexOf('=');
    const name = i === -1 ? d : d.slice(0, i);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return { error: `--define expects NAME or NAME=VALUE, got "${d}"` };
    defines[name] = i === -1 ? '' : d.slice(i + 1);
  }
  return { defines };
}

export function commandLineFor(
  server: ServerKind,
  a: { pathMap?: PathMapping[]; context?: string; prefix?: string; serverRoot?: string },
  defines: Record<string, string>,
): CommandLineOptions {
  return {
    server,
    ...(a.pathMap ? { pathMap: a.pathMap } : {}),
    ...(a.context ? { context: a.context } : {}),
    ...(a.prefix && server === 'nginx' ? { prefix: a.prefix } : {}),
    ...(a.serverRoot && server === 'apache' ? { serverRoot: a.serverRoot } : {}),
    ...(Object.keys(defines).length ? { defines } : {}),
  };
}
