/**
 * Loading any config: decide the server (LoadOptions.server, else detect.ts) and hand over to the
 * nginx or Apache loader. Sync, never throws.
 *
 * When the server cannot be told, the ConfigSet has no nodes and one error `unknown-server` (file
 * level, line 1) that says how to choose; its `server` field is then only a placeholder.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { ConfigSet, Directive, Node, ParsedFile, PathMapping, ServerKind } from './ast.js';
import { inferApacheContext, loadApache } from './apache/load.js';
import { DETECT_HEAD_BYTES, detectByName, detectServer } from './detect.js';
import {
  loadInfo,
  setLoadInfo,
  type LoadInfo,
  type LoadOptions,
  type LoadTrace,
  type OutsideInclude,
  type PartialConfig,
} from './load-options.js';
import { loadNginx } from './nginx/load.js';
import { fileDiagnostic, isFile, readBytes, readSource } from './read.js';
import { SourceFile } from './source.js';
import { realOrSelf } from './files.js';

export { detectServer } from './detect.js';

/** The first bytes of a file as text, or undefined when it cannot be read (read.ts: never blocks). */
function readHead(path: string): string | undefined {
  const r = readBytes(path, DETECT_HEAD_BYTES, true);
  return r.ok ? r.bytes.toString('utf8') : undefined;
}

function unknownServer(path: string, opts: LoadOptions): ConfigSet {
  const abs = resolve(path);
  const errors = [];
  if (opts.text === undefined) {
    const r = readSource(abs);
    if (!r.ok) errors.push(r.error);
  }
  // a file that cannot be read: its read error says it all
  if (errors.length === 0)
    errors.push(
      fileDiagnostic(
        abs,
        'unknown-server',
        `cannot tell whether ${abs} is an nginx or an Apache httpd config (neither its name, its folder nor its first lines say); choose with --server nginx or --server apache`,
      ),
    );
  const root: ParsedFile = {
    server: 'nginx',
    source: new SourceFile(abs, opts.text ?? ''),
    nodes: [],
    errors,
    context: opts.context ?? '',
  };
  return { server: 'nginx', root, files: new Map([[abs, root]]), errors: [] };
}

/** Which server a config is for, given options (the `server` option wins). */
export function serverFor(path: string, opts: LoadOptions = {}): ServerKind | null {
  if (opts.server) return opts.server;
  // a name that decides alone (.htaccess, apache2.conf, nginx.conf…) needs no read of the file's head
  return detectByName(path) ?? detectServer(path, opts.text ?? readHead(path));
}

/**
 * Load a config as the server reads it. Besides the loaders' work (see src/nginx/load.ts and
 * src/apache/load.ts), three things the user did not ask for but would want (issue 14), each
 * recorded in `loadInfo(set)` so that lint and explain say so:
 *
 * - A fragment (a vhost in sites-enabled/, a snippet) in a standard layout is loaded through the
 *   main config beside or above it (nginx.conf; apache2.conf, httpd.conf or conf/httpd.conf, up to
 *   three directories up) when that main config includes it: `set.root` is then the main config and
 *   `info.requested` the file asked for.
 * - When the tree mirrors an installed layout (nginx.conf with `include /etc/nginx/sites-enabled/*`
 *   and a sites-enabled/ of its own beside it), the path map that keeps the includes inside the tree
 *   is inferred and applied (`info.inferredPathMap`).
 * - Includes that still read outside the tree are listed (`info.outside`), and a configuration
 *   whose main config was not read is `info.partial`.
 */
export function loadConfig(path: string, opts: LoadOptions = {}): ConfigSet {
  const server = serverFor(path, opts);
  if (server === null) return unknownServer(path, opts);
  const abs = resolve(path);
  let notIncludedBy: string | null = null;
  if (opts.text === undefined && opts.context === undefined && !MAIN_NAMES[server].includes(basename(abs)) && !isHtaccess(server, abs)) {
    for (const main of mainCandidates(abs, server)) {
      // a main config already read in this run (opts.mainSets) that does not include the file is not
      // read again: 1,000 .conf files beside one apache2.conf would otherwise read it 1,000 times
      const key = opts.mainSets ? mainKey(main, opts) : '';
      const cached = opts.mainSets?.get(key);
      let set = cached ?? loadInferring(server, main, opts);
      if (!cached) opts.mainSets?.set(key, set);
      let read = pathInSet(set, abs);
      if (read !== null && cached) {
        // the caller gets a set of its own (its load info says which file was asked for)
        set = loadInferring(server, main, opts);
        read = pathInSet(set, abs);
      }
      if (read !== null) {
        const info = loadInfo(set)!;
        info.requested = read;
        info.mainFound = main;
        return set;
      }
      notIncludedBy ??= main;
    }
  }
  const set = loadInferring(server, abs, opts);
  if (opts.mainSets && MAIN_NAMES[server].includes(basename(abs))) opts.mainSets.set(mainKey(abs, opts), set);
  const info = loadInfo(set)!;
  info.partial = partialOf(set, notIncludedBy);
  return set;
}

const MAIN_NAMES: Record<ServerKind, string[]> = { nginx: ['nginx.conf'], apache: ['apache2.conf', 'httpd.conf'] };
/** How many directories above a fragment's own directory a main config is looked for. */
const MAIN_LEVELS = 3;

/** Main configs beside or above `file` (nearest first): those a fragment is looked up through, and
 * the ones the language server lints an open file with. */
export function mainCandidates(file: string, server: ServerKind): string[] {
  const out: string[] = [];
  let dir = dirname(file);
  for (let i = 0; i <= MAIN_LEVELS && dir !== dirname(dir); i++, dir = dirname(dir)) {
    for (const name of MAIN_NAMES[server]) {
      for (const p of [join(dir, name), ...(server === 'apache' ? [join(dir, 'conf', name)] : [])]) {
        if (p !== file && isFile(p) && !out.includes(p)) out.push(p);
      }
    }
  }
  return out;
}

/** A .htaccess-like file: Apache reads it per directory, so it is linted in that context (src/apache/model/htaccess-link.ts), not looked up through a main config. */
function isHtaccess(server: ServerKind, file: string): boolean {
  return server === 'apache' && inferApacheContext(file) === 'htaccess';
}

/** What a loaded main config depends on besides its path (the options that change what is read). */
function mainKey(main: string, o: LoadOptions): string {
  return JSON.stringify([
    main,
    o.server,
    o.pathMap,
    o.prefix,
    o.serverRoot,
    o.defines,
    o.nginxDirectives,
    o.apacheDirectives,
    o.apacheModules,
  ]);
}

/** The files of a set by real path (computed once per set). */
const realFiles = new WeakMap<ConfigSet, Map<string, string>>();

/** The path under which the set read `file` (itself, or a symbolic link to it, e.g. sites-enabled/x →
 * sites-available/x), or null. */
export function pathInSet(set: ConfigSet, file: string): string | null {
  if (set.files.has(file) || set.root.source.path === file) return file;
  let byReal = realFiles.get(set);
  if (!byReal) {
    byReal = new Map();
    for (const p of set.files.keys()) if (!byReal.has(realOrSelf(p))) byReal.set(realOrSelf(p), p);
    realFiles.set(set, byReal);
  }
  return byReal.get(realOrSelf(file)) ?? null;
}

/** The parsed file of a set at `file` (see pathInSet), or null. */
export function fileInSet(set: ConfigSet, file: string): ParsedFile | null {
  const p = pathInSet(set, file);
  if (p === null) return null;
  return set.files.get(p) ?? (set.root.source.path === p ? set.root : null);
}

/** Sets loaded so far (each a parse of every file it reads); the shape test counts them. */
export const loadStats = { loads: 0 };

function loadOnce(server: ServerKind, path: string, opts: LoadOptions): ConfigSet {
  loadStats.loads++;
  return server === 'apache' ? loadApache(path, opts) : loadNginx(path, opts);
}

/** Load; when includes leave the tree and the tree mirrors the installed layout they name, load again
 * with the inferred path map. */
function loadInferring(server: ServerKind, path: string, opts: LoadOptions): ConfigSet {
  let trace: LoadTrace = { outside: [] };
  let set = loadOnce(server, path, { ...opts, trace });
  const inferred = inferPathMap(trace.outside, opts.pathMap ?? []);
  if (inferred.length > 0) {
    trace = { outside: [] };
    set = loadOnce(server, path, { ...opts, pathMap: [...(opts.pathMap ?? []), ...inferred], trace });
  }
  const info: LoadInfo = { inferredPathMap: inferred, outside: dedupe(trace.outside), partial: null };
  setLoadInfo(set, info);
  return set;
}

function dedupe(list: OutsideInclude[]): OutsideInclude[] {
  const seen = new Set<string>();
  return list.filter((o) => {
    const k = `${o.file}:${o.line}:${o.column}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const GLOB = /[*?[]/;

/**
 * The installed directory each outside include stands for, when the tree holds it: for
 * `/etc/nginx/sites-enabled/*` read from a tree that has its own `sites-enabled/`, `/etc/nginx` is
 * the tree. The shortest prefix (at least one directory) whose next path segment is a literal name
 * the tree has, and that is not the tree itself nor above it.
 */
export function inferPathMap(outside: readonly OutsideInclude[], given: readonly PathMapping[]): Array<PathMapping & { because: string }> {
  const out: Array<PathMapping & { because: string }> = [];
  for (const o of outside) {
    const parts = o.target.split('/');
    for (let k = 2; k < parts.length; k++) {
      const from = parts.slice(0, k).join('/');
      const next = parts[k];
      if (next === '' || GLOB.test(next) || GLOB.test(from)) break;
      const tree = o.tree.replace(/\/+$/, '');
      if (from === tree || tree.startsWith(from + '/')) continue; // the tree itself or above it
      if (!existsSync(join(tree, next))) continue;
      if (!out.some((m) => m.from === from) && !given.some((m) => m.from.replace(/\/+$/, '') === from))
        out.push({ from, to: tree, because: `${o.target} is included and ${join(tree, next)} mirrors ${from}/${next}` });
      break;
    }
  }
  return out;
}

/** Whether the configuration read has a main config at its root. */
function partialOf(set: ConfigSet, notIncludedBy: string | null): PartialConfig | null {
  const root = set.root;
  const file = root.source.path;
  const missed = notIncludedBy ? ` (${notIncludedBy} was found but does not include ${basename(file)}: is it enabled?)` : '';
  if (set.server === 'nginx') {
    if (root.context === 'main' || root.context === '') return null;
    const around = root.context === 'http' ? 'http' : root.context === 'server' ? 'server' : root.context;
    return {
      reason: `nginx's main config (nginx.conf) was not loaded${missed}: ${basename(file)} was read alone, as if inside ${around} {}`,
      unknown: [
        `the ${around} {} block around it: inherited root, index, autoindex, allow/deny, auth_basic, satisfy and error_page`,
        ...(around === 'http' ? ['other server {} blocks that may answer for a Host (default_server)'] : []),
        'the `user` the workers run as',
      ],
    };
  }
  if (root.context === 'htaccess') {
    return {
      reason: `the server config that reads ${basename(file)} was not loaded`,
      unknown: [
        'the AllowOverride in force for its directory (whether Apache reads the file at all)',
        '<Directory />',
        '<FilesMatch ^\\.ht>',
        'module defaults (which modules are loaded, DirectoryIndex)',
      ],
    };
  }
  if (MAIN_NAMES.apache.includes(basename(file)) || hasMainDirectives(set)) return null;
  return {
    reason: `Apache's main config (apache2.conf) was not loaded${missed}`,
    unknown: [
      '<Directory />',
      '<FilesMatch ^\\.ht>',
      'module defaults (which modules are loaded, DirectoryIndex, AllowOverride)',
      'other virtual hosts that may answer for a Host',
    ],
  };
}

/** An Apache config that loads modules or sets ServerRoot at its top level is a main config. */
function hasMainDirectives(set: ConfigSet): boolean {
  const seen = new Set<string>();
  const stack: Node[][] = [set.root.nodes];
  while (stack.length > 0) {
    for (const n of stack.pop()!) {
      if (n.type !== 'directive') continue;
      const d = n as Directive;
      if (d.key === 'loadmodule' || d.key === 'serverroot') return true;
      // <IfModule>/<IfDefine> hold main-level directives too; includes are followed once
      if (d.block && (d.key === '<ifmodule' || d.key === '<ifdefine' || d.key === 'ifmodule' || d.key === 'ifdefine')) stack.push(d.block);
      for (const p of d.includes ?? []) {
        const f = set.files.get(p);
        if (f && !seen.has(p)) {
          seen.add(p);
          stack.push(f.nodes);
        }
      }
    }
  }
  return false;
}

/** Load text that did not come from a file (stdin); `path` is the name it is reported under. */
export function loadText(path: string, text: string, opts: LoadOptions = {}): ConfigSet {
  return loadConfig(path, { ...opts, text });
}
