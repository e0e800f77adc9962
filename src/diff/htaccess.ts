/**
 * The .htaccess files of an Apache tree given to `why403 diff`: found under every served root
 * (DocumentRoot, Alias) of the model, on disk through the path map, read with the safe reader and
 * parsed as Apache reads them (context `htaccess`). diff hands them to explain (the model's
 * `SimRequest.htaccess`), so a change in an .htaccess file is a change of the tree, and their
 * directories and `Require ip` boundaries become probes.
 *
 * Bounded: at most MAX_DIRS directories and MAX_DEPTH levels under each root; symbolic links are
 * not followed (a loop or a link out of the tree cannot make the walk run away).
 */
import { readdirSync } from 'node:fs';
import type { Directive, Node, ParsedFile } from '../ast.js';
import { mapPath } from '../load-options.js';
import type { ApacheView, Model } from '../model/index.js';
import { readAccessFile } from '../explain/htaccess.js';

const MAX_DIRS = 2000;
const MAX_DEPTH = 12;

/** The parsed .htaccess files, keyed by installed directory (no trailing slash), for an Apache model. */
export function htaccessFiles(model: Model): Map<string, ParsedFile> {
  const out = new Map<string, ParsedFile>();
  if (model.server !== 'apache') return out;
  const names = model.tree.accessFileNames?.length ? model.tree.accessFileNames : ['.htaccess'];
  const pathMap = model.options.pathMap ?? [];
  let budget = MAX_DIRS;
  const seen = new Set<string>();
  const visit = (installed: string, depth: number) => {
    if (budget-- <= 0 || depth > MAX_DEPTH || seen.has(installed)) return;
    seen.add(installed);
    const real = mapPath(installed, pathMap);
    let entries;
    try {
      entries = readdirSync(real, { withFileTypes: true });
    } catch {
      return;
    }
    const key = installed.replace(/(.)\/+$/, '$1');
    for (const name of names) {
      if (!entries.some((e) => e.name === name && e.isFile())) continue;
      const parsed = readAccessFile(`${real.replace(/\/+$/, '')}/${name}`, key);
      if (!parsed) continue;
      out.set(key, parsed);
      break;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1)))
      if (e.isDirectory() && !e.isSymbolicLink()) visit(`${key === '/' ? '' : key}/${e.name}`, depth + 1);
  };
  for (const root of model.servedRoots()) visit(root.dir, 0);
  return out;
}

/** Every directive of the .htaccess files, nested ones included. */
export function* htaccessDirectives(files: Map<string, ParsedFile>): Generator<Directive> {
  const rec = function* (nodes: Node[]): Generator<Directive> {
    for (const n of nodes) {
      if (n.type !== 'directive') continue;
      yield n;
      if (n.block) yield* rec(n.block);
    }
  };
  for (const f of files.values()) yield* rec(f.nodes);
}

/** URLs that reach each .htaccess directory (the served root's URL plus the path below it). */
type ServerOf = Parameters<ApacheView['requestTo']>[0];
export function htaccessUrls(model: Model, files: Map<string, ParsedFile>): Array<{ server: ServerOf; url: string; dir: string }> {
  if (model.server !== 'apache') return [];
  const out: Array<{ server: ServerOf; url: string; dir: string }> = [];
  for (const dir of files.keys())
    for (const root of model.servedRoots()) {
      const base = root.dir.replace(/\/+$/, '');
      if (dir !== base && !dir.startsWith(`${base}/`)) continue;
      const below = dir.slice(base.length).replace(/^\/+/, '');
      out.push({ server: root.server, url: `${root.url}${below ? `${below}/` : ''}`, dir });
    }
  return out;
}
