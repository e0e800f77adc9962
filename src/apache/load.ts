/**
 * Loading an Apache configuration: the entry file and every file its Include/IncludeOptional lines
 * pull in, as httpd reads them. Sync, never throws.
 *
 * - Relative include paths resolve against ServerRoot: LoadOptions.serverRoot, else the last
 *   `ServerRoot` directive read before the include (as httpd processes it when read), else the
 *   entry file's directory (Debian's /etc/apache2/apache2.conf sits in its ServerRoot; a file in a
 *   `conf/` folder, as upstream's conf/httpd.conf, uses the folder above; a fragment up to three
 *   folders below an apache2.conf/httpd.conf, as Debian's sites-available/x.conf, uses that one's).
 * - Paths are the server's paths; LoadOptions.pathMap maps them to where the files are checked out
 *   (ServerRoot values too). `Directive.includes` and `ConfigSet.files` use the mapped paths.
 * - `${VAR}` in include paths and ServerRoot is expanded with LoadOptions.defines, the `Define`s read
 *   so far and Debian's envvars (vars.ts).
 * - Include problems are ConfigSet.errors at the include directive: missing file for `Include`
 *   (a wildcard with no match too, as httpd 2.4 fails then), unreadable file, include cycle,
 *   nesting deeper than httpd's AP_MAX_INCLUDE_DEPTH (128).
 * - The walk is an explicit stack, so deep nesting cannot overflow the JS stack.
 */
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { ConfigSet, Diagnostic, Directive, Node, ParsedFile, PathMapping } from '../ast.js';
import { mapPath, noteOutside, parseCached, type LoadOptions } from '../load-options.js';
import { isNormalAbsolute } from '../files.js';
import { isFile, newBudget, readSource } from '../read.js';
import { SourceFile } from '../source.js';
import { expandInclude } from './glob.js';
import { expandAccessSet, MacroTable, recordMacroTable } from './macro.js';
import { parseApache, type ApacheContext, type ApacheParseOptions } from './parser.js';
import { DEBIAN_ENVVARS, expandVars } from './vars.js';
import { MAX_NESTING, nestingDepth, walkDirectives } from '../walk.js';

/** Directives the loader writes into (`includes`, `expansion`): a file with one is never shared between loads. */
const INCLUDE_KEYS = new Set(['include', 'includeoptional', 'use']);

export const AP_MAX_INCLUDE_DEPTH = 128;

/** mod_macro `Use` lines expanded per configuration at most (a shared host's 10,000 vhosts with a few
 * macros each stay far below; nested macros that double at each level do not). */
export const MAX_MACRO_EXPANSIONS = 50_000;

/** The context a file is parsed in when the caller does not say: .htaccess-like names → htaccess. */
export function inferApacheContext(path: string): ApacheContext {
  const b = basename(path).toLowerCase();
  if (
    b === '.htaccess' ||
    b.endsWith('.htaccess') ||
    b === 'htaccess' ||
    b === 'htaccess.txt' ||
    /^\.htaccess\.(dist|sample|example|txt|bak|orig|default)$/.test(b)
  ) {
    return 'htaccess';
  }
  return 'server';
}

/** Inverse of mapPath: a checked-out path back to the server's path (longest `to` wins). */
export function unmapPath(path: string, map: PathMapping[] | undefined): string {
  if (!map || map.length === 0) return path;
  let best: PathMapping | null = null;
  let bestLen = -1;
  for (const m of map) {
    const to = resolve(m.to).replace(/\/+$/, '');
    if ((path === to || path.startsWith(to + '/')) && to.length > bestLen) {
      best = m;
      bestLen = to.length;
    }
  }
  if (!best) return path;
  return best.from.replace(/\/+$/, '') + path.slice(bestLen);
}

function defaultServerRoot(entry: string): string {
  const d = dirname(entry);
  if (!MAIN_NAMES.has(basename(entry))) {
    // a fragment below the main config (Debian's sites-available/x.conf, h5bp's h5bp/basic.conf):
    // httpd reads it through that config, so relative includes resolve against its ServerRoot
    let up = dirname(d);
    for (let i = 0; i < MAIN_SEARCH_LEVELS && up !== dirname(up); i++, up = dirname(up)) {
      if ([...MAIN_NAMES].some((n) => isFile(join(up, n)))) return basename(up) === 'conf' ? dirname(up) : up;
    }
  }
  return basename(d) === 'conf' ? dirname(d) : d;
}

const MAIN_NAMES = new Set(['apache2.conf', 'httpd.conf']);
/** How many directories above a fragment's own directory to look for the main config. */
const MAIN_SEARCH_LEVELS = 3;

function emptyFile(path: string, context: string, error: Diagnostic): ParsedFile {
  return { server: 'apache', source: new SourceFile(path, ''), nodes: [], errors: [error], context };
}

/** A list of nodes being walked, or the files one include directive still has to read. */
type Frame =
  | {
      kind: 'nodes';
      nodes: Node[];
      i: number;
      /** set when these are a file's top level */
      file: string | null;
      /** inside a per-directory section (<Directory>, <Location>, <Files>, <If>, …) */
      perDir: boolean;
      /** how many sections enclose these nodes, includes expanded */
      depth: number;
      /** set when these are the expansion of a mod_macro `Use` of this macro */
      macro?: string;
    }
  | { kind: 'include'; dir: Directive; files: string[]; i: number; perDir: boolean; depth: number };

/** Sections whose contents are per-directory configuration in httpd. */
const PER_DIR = new Set([
  'directory',
  'directorymatch',
  'location',
  'locationmatch',
  'files',
  'filesmatch',
  'proxy',
  'proxymatch',
  'if',
  'elseif',
  'else',
]);

export function loadApache(path: string, opts: LoadOptions = {}): ConfigSet {
  const entry = isNormalAbsolute(path) ? path : resolve(path);
  const context = (opts.context as ApacheContext | undefined) ?? inferApacheContext(entry);
  const htaccessDir = context === 'htaccess' ? unmapPath(dirname(entry), opts.pathMap) : undefined;
  const known = { extraDirectives: opts.apacheDirectives, modules: opts.apacheModules };
  const parseOpts = { context, htaccessDir, ...known };

  const parse = (source: SourceFile, o: ApacheParseOptions) =>
    parseCached(opts.parseCache, source, o, INCLUDE_KEYS, () => parseApache(source, o));
  let root: ParsedFile;
  const budget = newBudget();
  if (opts.text !== undefined) {
    root = parse(new SourceFile(entry, opts.text), parseOpts);
    budget.spent += opts.text.length; // not `left`: that asks node:v8 for the heap limit
  } else {
    const r = readSource(entry, budget);
    root = r.ok ? parse(r.source, parseOpts) : emptyFile(entry, context, r.error);
    if (!r.ok && htaccessDir !== undefined) root.htaccessDir = htaccessDir;
  }
  const set: ConfigSet = { server: 'apache', root, files: new Map([[entry, root]]), errors: [] };
  if (context === 'htaccess') {
    // .htaccess files cannot Include; their macro uses are expanded with the file's own macros until the
    // engine links the file to the configuration that reads it (src/apache/model/htaccess-link.ts)
    if (anyUse(root.nodes)) expandAccessSet(set, undefined, true);
    return set;
  }

  const defines: Record<string, string> = { ...DEBIAN_ENVVARS, ...(opts.defines ?? {}) };
  let serverRoot = opts.serverRoot !== undefined ? mapPath(resolve(opts.serverRoot), opts.pathMap) : null;
  const fixedRoot = serverRoot !== null;
  const fallbackRoot = defaultServerRoot(entry);

  const stack: Frame[] = [{ kind: 'nodes', nodes: root.nodes, i: 0, file: entry, perDir: context === 'directory', depth: 0 }];
  const macros = new MacroTable(MAX_MACRO_EXPANSIONS, 'one configuration');
  const depthOf = new Map<string, number>();
  const onPath: string[] = [entry];
  const onPathSet = new Set<string>([entry]);

  const addError = (d: Directive, code: string, message: string) => {
    set.errors.push({ code, message, file: d.source.path, span: d.span, severity: 'error' });
  };

  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (f.kind === 'include') {
      if (f.i >= f.files.length) {
        stack.pop();
        continue;
      }
      const p = f.files[f.i++];
      const node = f.dir;
      if (onPathSet.has(p)) {
        const chain = [...onPath.slice(onPath.indexOf(p)), p].join(' -> ');
        addError(node, 'include-cycle', `include cycle: ${chain}`);
        continue;
      }
      if (onPath.length >= AP_MAX_INCLUDE_DEPTH) {
        addError(node, 'include-depth', `Exceeded maximum include depth of ${AP_MAX_INCLUDE_DEPTH}, There appears to be a recursion.`);
        continue;
      }
      let pf = set.files.get(p);
      if (!pf) {
        const r = readSource(p, budget);
        if (!r.ok) {
          addError(node, r.error.code === 'not-found' ? 'include-not-found' : 'include-unreadable', r.error.message);
          continue;
        }
        // the context of the first include that reads it (a file included in two places keeps one)
        pf = parse(r.source, { context: f.perDir ? 'directory' : 'server', ...known });
        set.files.set(p, pf);
      }
      // the sections of the whole configuration, includes expanded, stay within MAX_NESTING levels
      // (so walks, rules and models never see deeper nesting, whatever the include chain)
      let own = depthOf.get(p);
      if (own === undefined) depthOf.set(p, (own = nestingDepth(pf.nodes)));
      if (f.depth + own >= MAX_NESTING) {
        addError(
          node,
          'too-deep',
          `nesting deeper than ${MAX_NESTING} levels is not analysed: ${p} would nest sections deeper than that here, so it is not followed`,
        );
        continue;
      }
      (node.includes as string[]).push(p);
      onPath.push(p);
      onPathSet.add(p);
      stack.push({ kind: 'nodes', nodes: pf.nodes, i: 0, file: p, perDir: f.perDir, depth: f.depth });
      continue;
    }
    if (f.i >= f.nodes.length) {
      stack.pop();
      if (f.file !== null) {
        onPath.pop();
        onPathSet.delete(f.file);
      }
      continue;
    }
    const node = f.nodes[f.i++];
    if (node.type !== 'directive') continue;
    const key = node.key;
    if (key === 'macro' && node.section) {
      // mod_macro stores the body unread (src/apache/macro.ts); nothing in it applies until a Use
      const e = macros.define(node);
      if (e) addError(node, 'macro', e);
      continue;
    }
    if (key === 'undefmacro' && !node.block) {
      const e = macros.undefine(node);
      if (e) addError(node, 'macro', e);
      continue;
    }
    if (key === 'use' && !node.block) {
      const active = stack.flatMap((x) => (x.kind === 'nodes' && x.macro ? [x.macro] : []));
      const x = macros.expand(node, active, { context: f.perDir ? 'directory' : 'server', ...known }, budget);
      if (!x) continue;
      if ('error' in x) {
        addError(node, x.code ?? 'macro', x.error);
        continue;
      }
      if (f.depth + nestingDepth(x.nodes) >= MAX_NESTING) {
        addError(
          node,
          'too-deep',
          `nesting deeper than ${MAX_NESTING} levels is not analysed: this Use would nest sections deeper than that here, so it is not expanded`,
        );
        continue;
      }
      node.expansion = x.nodes;
      set.errors.push(...x.errors);
      if (x.nodes.length) stack.push({ kind: 'nodes', nodes: x.nodes, i: 0, file: null, perDir: f.perDir, depth: f.depth, macro: x.name });
      continue;
    }
    if (node.block) {
      if (node.block.length > 0) {
        stack.push({ kind: 'nodes', nodes: node.block, i: 0, file: null, perDir: f.perDir || PER_DIR.has(key), depth: f.depth + 1 });
      }
      continue;
    }
    if (key === 'define') {
      if (node.args.length >= 1) {
        const name = expandVars(node.args[0].value, defines);
        defines[name] = node.args.length >= 2 ? expandVars(node.args[1].value, defines) : (defines[name] ?? '');
      }
      continue;
    }
    if (key === 'undefine') {
      if (node.args.length >= 1) delete defines[expandVars(node.args[0].value, defines)];
      continue;
    }
    if (key === 'serverroot') {
      if (!fixedRoot && node.args.length >= 1) {
        const v = expandVars(node.args[0].value, defines);
        serverRoot = mapPath(isAbsolute(v) ? v.replace(/\/+$/, '') || '/' : resolve(fallbackRoot, v), opts.pathMap);
      }
      continue;
    }
    if (key !== 'include' && key !== 'includeoptional') continue;
    const optional = key === 'includeoptional';
    node.includes = [];
    if (node.args.length !== 1) {
      addError(node, 'include-args', `${node.name} takes one argument, Name of the config file to be included`);
      continue;
    }
    const raw = expandVars(node.args[0].value, defines);
    const rootDir = serverRoot ?? fallbackRoot;
    const serverPath = isAbsolute(raw) ? raw : rootDir.replace(/\/+$/, '') + '/' + raw;
    const mapped = mapPath(serverPath, opts.pathMap);
    const g = expandInclude(mapped, optional);
    if (g.error !== null) {
      const where = mapped !== serverPath ? ` (${serverPath} mapped to ${mapped})` : '';
      addError(node, g.notFound ? 'include-not-found' : 'include-unreadable', g.error + where);
    }
    // a mapping may also name single files (e.g. symlinks checked out as text): apply it to each match
    const files = opts.pathMap && opts.pathMap.length > 0 ? g.files.map((p) => mapPath(p, opts.pathMap)) : g.files;
    // read outside the tree (an absolute path, or a ServerRoot directive naming another place) with
    // no path map applied: the live system
    if (mapped === serverPath && (isAbsolute(raw) || (serverRoot !== null && !fixedRoot)))
      noteOutside(opts.trace, node, serverPath, fallbackRoot, files.length);
    if (files.length > 0) stack.push({ kind: 'include', dir: node, files, i: 0, perDir: f.perDir, depth: f.depth });
  }
  // the .htaccess files this configuration reads use the macros it ended with
  if (macros.anyDefined) recordMacroTable(set, macros);
  return set;
}

/** The variables `Define`d in reading order (after LoadOptions.defines and Debian's envvars). */
export function apacheDefines(set: ConfigSet, base: Record<string, string> = { ...DEBIAN_ENVVARS }): Record<string, string> {
  const defines = { ...base };
  walkDirectives(set, undefined, (d) => {
    if (d.key === 'define' && d.args.length >= 1) {
      const name = expandVars(d.args[0].value, defines);
      defines[name] = d.args.length >= 2 ? expandVars(d.args[1].value, defines) : (defines[name] ?? '');
    } else if (d.key === 'undefine' && d.args.length >= 1) {
      delete defines[expandVars(d.args[0].value, defines)];
    }
  });
  return defines;
}

/** Whether a `Use` line appears anywhere in `nodes` (most files have none: nothing to expand). */
function anyUse(nodes: readonly Node[]): boolean {
  const stack = [...nodes];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.type !== 'directive') continue;
    if (n.key === 'use') return true;
    if (n.block) for (const c of n.block) stack.push(c);
  }
  return false;
}

/** Visit directives in reading order with includes and macro expansions in place (src/walk.ts). */
export { walkDirectives } from '../walk.js';
