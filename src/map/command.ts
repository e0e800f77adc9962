/**
 * `why403 map <config…> [-f text|json|markdown|sarif]`: every place of each config that can answer 403
 * (or 401), who gets it, and a sample request explain shows to get it. Exit 0 when the map was made
 * (whatever it holds), 2 on bad input (a config that cannot be read or does not parse).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PathMapping, ServerKind } from '../ast.js';
import type { CliIO } from '../cli-io.js';
import { serverFor } from '../load.js';
import { commandLineFor, loadForCommand, parseDefines } from '../command-load.js';
import { modelOptionsOf } from '../settings.js';
import { packageVersion } from '../version.js';
import { mapConfig, type MapResult } from './index.js';
import { renderMap, type MapFormat } from './render.js';

export interface MapArgs {
  configs: string[];
  format?: string;
  server?: string;
  pathMap?: PathMapping[];
  context?: string;
  prefix?: string;
  serverRoot?: string;
  define?: string | string[];
  configLookup?: boolean;
  /** Read the disk the config serves (the model's disk view; proofs explain with it). */
  fs?: boolean;
}

const FORMATS: MapFormat[] = ['text', 'json', 'markdown', 'sarif'];

function usage(io: CliIO, msg: string): number {
  io.err(`why403 map: ${msg}\n(see why403 map --help)\n`);
  return 2;
}

export async function mapCommand(a: MapArgs, io: CliIO): Promise<number> {
  const format = (a.format ?? 'text') as MapFormat;
  if (!FORMATS.includes(format)) return usage(io, `--format must be one of ${FORMATS.join(', ')}, got "${a.format}"`);
  if (!a.configs.length) return usage(io, 'name at least one main config (nginx.conf, apache2.conf, httpd.conf) or .htaccess');
  const parsedDefines = parseDefines(a.define === undefined ? [] : Array.isArray(a.define) ? a.define : [a.define]);
  if ('error' in parsedDefines) return usage(io, parsedDefines.error);
  const { defines } = parsedDefines;
  const results: MapResult[] = [];
  for (const given of a.configs) {
    const path = resolve(given);
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch (e) {
      return usage(
        io,
        `cannot read ${given}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String((e as Error).message)}`,
      );
    }
    if (isDir)
      return usage(io, `${given} is a directory: name the main config file (nginx.conf, apache2.conf, httpd.conf) or an .htaccess`);
    const server = (a.server as ServerKind | undefined) ?? serverFor(path) ?? undefined;
    if (!server) return usage(io, `cannot tell whether ${given} is an nginx or an Apache config; choose with --server nginx|apache`);
    const loaded = await loadForCommand(path, commandLineFor(server, a, defines), { lookup: a.configLookup });
    if (!loaded.ok) return usage(io, loaded.usageHint ? loaded.message : `${loaded.message}\nso no map can be made`);
    const { set, lo, settings } = loaded;
    results.push(mapConfig(set, { ...modelOptionsOf(lo), settings, ...(a.fs ? { fs: true } : {}) }));
  }
  io.out(renderMap(results, format, process.cwd(), packageVersion()));
  return 0;
}
