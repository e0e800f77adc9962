import type { ConfigSet, Node, ParsedFile, PathMapping, ServerKind } from './ast.js';
import type { SourceFile } from './source.js';

export interface LoadOptions {
  /** Force the server kind instead of detecting it. */
  server?: ServerKind;
  /** Context of the entry file's top level (nginx: main/http/server/location/…; Apache: server/directory/htaccess). */
  context?: string;
  /** Installed path prefixes mapped to where the files are checked out. Longest `from` wins. */
  pathMap?: PathMapping[];
  /** nginx prefix (`nginx -p`); relative include paths resolve against the main config's directory. */
  prefix?: string;
  /** Apache ServerRoot, when the config does not say (default: Debian's /etc/apache2). */
  serverRoot?: string;
  /** Apache `-D`/Define variables known in advance. */
  defines?: Record<string, string>;
  /** Text to use for the entry file instead of reading it (stdin). */
  text?: string;
  /** nginx: extra directive names (third-party modules) that are not `unknown directive` errors. */
  nginxDirectives?: string[];
  /** Apache: extra directive names (third-party modules) that are not `Invalid command` errors. */
  apacheDirectives?: string[];
  /** Apache: the modules assumed loaded (`settings.apacheModules`), for `<IfModule>` tests. */
  apacheModules?: string[];
  /**
   * Main configs already read in this run (src/load.ts fills it when a fragment is looked up through
   * the main config around it), so that each is read once however many fragments sit beside it.
   */
  mainSets?: Map<string, ConfigSet>;
  /** Filled by the loaders: includes that leave the tree (src/load.ts turns them into LoadInfo). */
  trace?: LoadTrace;
  /** Parsed files kept between loads (the language server, src/lsp/: only an edited buffer is parsed
   * again). See `parseCached`. */
  parseCache?: ParseCache;
}

/** Parsed files by path and parse options; the language server drops those a run did not use. */
export type ParseCache = Map<string, ParsedFile>;

/**
 * `parse()`, or the file parsed before from the same path, text and parse options (`how`). Only a file
 * without include directives is kept: the loaders write what each include read into its node, so a
 * file with includes is parsed for each load (two sets never share a node a loader writes to).
 */
export function parseCached(
  cache: ParseCache | undefined,
  source: SourceFile,
  how: object,
  includeKeys: ReadonlySet<string>,
  parse: () => ParsedFile,
): ParsedFile {
  if (!cache) return parse();
  const key = JSON.stringify([source.path, source.bom, source.invalidUtf8, how]);
  const hit = cache.get(key);
  if (hit && hit.source.text === source.text) return hit;
  const parsed = parse();
  if (hasInclude(parsed.nodes, includeKeys)) cache.delete(key);
  else cache.set(key, parsed);
  return parsed;
}

function hasInclude(nodes: Node[], keys: ReadonlySet<string>): boolean {
  const stack = [nodes];
  while (stack.length) {
    for (const n of stack.pop()!) {
      if (n.type !== 'directive') continue;
      if (keys.has(n.key)) return true;
      if (n.block) stack.push(n.block);
    }
  }
  return false;
}

/** Apply the longest matching path mapping to an absolute path. */
export function mapPath(path: string, map: PathMapping[] | undefined): string {
  if (!map || map.length === 0) return path;
  let best: PathMapping | null = null;
  for (const m of map) {
    const from = m.from.replace(/\/+$/, '');
    if (path === from || path.startsWith(from + '/')) {
      if (!best || from.length > best.from.replace(/\/+$/, '').length) best = m;
    }
  }
  if (!best) return path;
  const from = best.from.replace(/\/+$/, '');
  return best.to.replace(/\/+$/, '') + path.slice(from.length);
}

/** An include that reads a file outside the linted tree (the live system) while the main config
 * lives elsewhere (issue 14). */
export interface OutsideInclude {
  /** The include directive (its file and span are where the finding goes). */
  file: string;
  line: number;
  column: number;
  /** The path the server reads, as the config names it (variables expanded, ServerRoot applied). */
  target: string;
  /** The directory the config was loaded from (nginx conf prefix, Apache default ServerRoot). */
  tree: string;
  /** The `--path-map` that would keep the include inside the tree. */
  suggest: PathMapping;
  /** How many files it read (0: none found there either). */
  read: number;
}

/** What a configuration is missing: the main config was not read. */
export interface PartialConfig {
  /** One sentence: what was not loaded. */
  reason: string;
  /** What is unknown because of it. */
  unknown: string[];
}

/** What loadConfig worked out on its own, to be said in the output (lint findings, explain notes). */
export interface LoadInfo {
  /** The file that was asked for, when it was loaded through the main config that includes it: the
   * path the main config reads it under (sites-enabled/x for sites-available/x). */
  requested?: string;
  /** The main config found in the standard layout around `requested` and loaded instead. */
  mainFound?: string;
  /** Path mappings inferred because the tree mirrors the installed layout (applied to the load). */
  inferredPathMap: Array<PathMapping & { because: string }>;
  /** Includes that left the tree. */
  outside: OutsideInclude[];
  /** Set when the main config was not read. */
  partial: PartialConfig | null;
}

const infos = new WeakMap<object, LoadInfo>();

/** What the loader inferred for `set` (undefined: a set not made by loadConfig). */
export function loadInfo(set: object): LoadInfo | undefined {
  return infos.get(set);
}

/** The set was loaded without its main config (a fragment alone): what was not loaded and what is
 * not known because of it, a copy every consumer (explain, map, diff, test) may keep; null otherwise. */
export function partialOf(set: object): PartialConfig | null {
  const p = infos.get(set)?.partial;
  return p ? { reason: p.reason, unknown: [...p.unknown] } : null;
}

export function setLoadInfo(set: object, info: LoadInfo): void {
  infos.set(set, info);
}

/** Collects outside-tree includes during one load (the loaders push into it). */
export interface LoadTrace {
  outside: OutsideInclude[];
}

/** Directories where an installed configuration lives: a tree there is the live system itself, so
 * its absolute includes (/etc/letsencrypt/…) are not "leaving a checkout". */
const LIVE_ROOTS = ['/etc/', '/usr/', '/opt/'];

function under(dir: string, path: string): boolean {
  const d = dir.replace(/\/+$/, '');
  return path === d || path.startsWith(d + '/');
}

/**
 * Record an include read from outside `tree` (the directory the config was loaded from), unless
 * the tree is itself an installed location. `target` is the server's path (no user mapping applied).
 */
export function noteOutside(
  trace: LoadTrace | undefined,
  d: { source: { path: string }; span: { start: { line: number; column: number } } },
  target: string,
  tree: string,
  read: number,
): void {
  if (!trace || !target.startsWith('/') || under(tree, target)) return;
  if (LIVE_ROOTS.some((r) => under(r, tree + '/'))) return;
  trace.outside.push({
    file: d.source.path,
    line: d.span.start.line,
    column: d.span.start.column,
    target,
    tree,
    suggest: suggestMap(target, tree),
    read,
  });
}

/** The `--path-map FROM=TO` that would read `target` from `tree`: FROM is the installed directory the
 * tree stands for (the target's prefix up to the tree's own name, e.g. /etc/nginx for deploy/nginx),
 * else the target's directory. */
export function suggestMap(target: string, tree: string): PathMapping {
  const parts = target.split('/');
  const name = tree.replace(/\/+$/, '').split('/').pop() ?? '';
  const at = name ? parts.lastIndexOf(name) : -1;
  const glob = parts.findIndex((p) => /[*?[]/.test(p));
  if (at > 0 && (glob === -1 || at < glob)) return { from: parts.slice(0, at + 1).join('/'), to: tree };
  const stop = glob === -1 ? parts.length - 1 : glob;
  return { from: parts.slice(0, Math.max(stop, 2)).join('/') || '/', to: tree };
}
