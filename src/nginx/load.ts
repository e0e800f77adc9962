/**
 * Loading an nginx configuration as nginx reads it: the entry file, then every `include`, in
 * reading order, each file parsed in the context of the include that pulls it in.
 *
 * - Relative include paths resolve against the conf prefix: the directory of the main config
 *   (nginx: dirname of `-c`). When the entry file sits in sites-enabled/, sites-available/,
 *   conf.d/, snippets/ or modules-enabled/ (so it is not the main config), the prefix is that
 *   directory's parent, as on Debian (/etc/nginx); a fragment up to three directories below an
 *   nginx.conf (h5bp's h5bp/location/*.conf) resolves against that nginx.conf's directory.
 *   `-p` (LoadOptions.prefix) does not change it.
 * - Patterns with `*`, `?` or `[` are expanded as glob(3) with flags 0 does (nginx's
 *   ngx_open_glob): one path segment at a time, `*` and `?` never match `/` nor a leading `.`,
 *   `[...]`/`[!...]` classes, backslash escapes, no `{a,b}` and no `**`; results sorted in byte
 *   order; no match is not an error.
 * - A missing explicit file is `open() "…" failed (2: No such file or directory)` at the include.
 *   An include of a file already being read on the same include path is a cycle, reported at the
 *   include that closes it, and not followed.
 * - LoadOptions.pathMap maps installed paths (e.g. /etc/nginx) to the checkout.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { ConfigSet, Diagnostic, Directive, Node, ParsedFile } from '../ast.js';
import { mapPath, noteOutside, parseCached, type LoadOptions } from '../load-options.js';
import { isFile, newBudget, readSource } from '../read.js';
import { SourceFile } from '../source.js';
import { childContext, normalizeContext, type NginxContext } from './directives.js';
import { parseNginx, type NginxParseOptions } from './parser.js';
import { compileGlob } from '../regex-engine.js';
import { MAX_NESTING, nestingDepth } from '../walk.js';

const GLOB_META = /[*?[]/;
/** Directives the loader writes into (`includes`): a file with one is never shared between loads. */
const INCLUDE_KEYS = new Set(['include']);

/** Segment pattern of glob(3) → a linear matcher (null when the segment has no meta characters). */
function segmentRegex(seg: string): { test(name: string): boolean } | null {
  if (!GLOB_META.test(seg)) return null;
  const m = compileGlob(seg, { slash: false });
  return { test: m };
}

function byteCompare(a: string, b: string): number {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return Buffer.compare(ba, bb);
}

/** Expand an absolute glob(3) pattern; sorted in byte order like glibc's glob in the C locale. */
export function globNginx(pattern: string): string[] {
  const parts = pattern.split('/');
  let bases = [parts[0] === '' ? '/' : parts[0]];
  for (let k = 1; k < parts.length; k++) {
    const seg = parts[k];
    if (seg === '') continue;
    const re = segmentRegex(seg);
    const next: string[] = [];
    for (const base of bases) {
      if (re === null) {
        const p = join(base, seg.replace(/\\(.)/g, '$1'));
        if (k === parts.length - 1) {
          try {
            statSync(p);
            next.push(p);
          } catch {
            /* not there: no match */
          }
        } else next.push(p);
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      for (const name of names) {
        if (name.startsWith('.') && !seg.startsWith('.')) continue;
        if (re.test(name)) next.push(join(base, name));
      }
    }
    bases = next;
    if (bases.length === 0) break;
  }
  return bases.sort(byteCompare);
}

const NON_MAIN_DIRS = new Set(['sites-enabled', 'sites-available', 'conf.d', 'snippets', 'modules-enabled', 'modules-available']);

/** The conf prefix relative includes resolve against, for an entry file. */
export function confPrefixFor(entry: string): string {
  // nginx: conf_prefix is the directory of the -c file; -p (LoadOptions.prefix) does not move it
  const dir = dirname(entry);
  if (basename(entry) !== 'nginx.conf') {
    // a fragment below the main config (h5bp's h5bp/location/x.conf, conf.d/templates/x.conf):
    // nginx reads it through nginx.conf, so its includes resolve against that directory
    let up = dirname(dir);
    for (let i = 0; i < MAIN_SEARCH_LEVELS && up !== dirname(up); i++, up = dirname(up)) {
      if (isFile(join(up, 'nginx.conf'))) return up;
    }
  }
  return NON_MAIN_DIRS.has(basename(dir)) ? dirname(dir) : dir;
}

/** How many directories above a fragment's own directory to look for the main nginx.conf. */
const MAIN_SEARCH_LEVELS = 3;

function openFailed(file: string, why: string, code: number): string {
  return `open() "${file}" failed (${code}: ${why})`;
}

/** Load an nginx config and everything it includes. Never throws on bad input. */
export interface NginxLoadOptions extends LoadOptions {
  /** Report directives that are not in the table as `unknown-directive` errors (default: yes). */
  reportUnknown?: boolean;
}

export function loadNginx(path: string, opts: NginxLoadOptions = {}): ConfigSet {
  const abs = resolve(path);
  const files = new Map<string, ParsedFile>();
  const errors: Diagnostic[] = [];
  let rootSource: SourceFile;
  const budget = newBudget();
  if (opts.text !== undefined) {
    rootSource = new SourceFile(abs, opts.text);
    budget.spent += opts.text.length; // not `left`: that asks node:v8 for the heap limit
  } else {
    const r = readSource(abs, budget);
    if (!r.ok) {
      const empty = new SourceFile(abs, '');
      const root: ParsedFile = { server: 'nginx', source: empty, nodes: [], errors: [r.error], context: opts.context ?? 'main' };
      files.set(abs, root);
      return { server: 'nginx', root, files, errors: [] };
    }
    rootSource = r.source;
  }
  const parse = (source: SourceFile, o: NginxParseOptions) =>
    parseCached(opts.parseCache, source, o, INCLUDE_KEYS, () => parseNginx(source, o));
  const root = parse(rootSource, {
    context: opts.context,
    pathHint: abs,
    reportUnknown: opts.reportUnknown,
    extraDirectives: opts.nginxDirectives,
  });
  files.set(abs, root);
  const prefix = confPrefixFor(abs);
  const onPath = new Set<string>([abs]);

  // How deep each file's nodes reach below its top level, its followed includes counted: an include
  // is followed only when what it brings stays within MAX_NESTING levels of the whole configuration
  // (walk, the rules and the models then never see deeper nesting, whatever the include chain).
  const reach = new Map<string, number>();

  /** Load the includes of `file`, whose top level sits `base` levels deep; returns its reach. */
  const loadIncludes = (file: ParsedFile, fileCtx: string, base: number): number => {
    // explicit stack over the file's blocks, tracking the context and depth of each block
    const stack: { nodes: Node[]; ctx: string; depth: number }[] = [{ nodes: file.nodes, ctx: fileCtx, depth: 0 }];
    const found: { d: Directive; ctx: string; depth: number }[] = [];
    let deepest = 0;
    while (stack.length > 0) {
      const f = stack.pop()!;
      if (f.nodes.length > 0 && f.depth > deepest) deepest = f.depth;
      for (let i = f.nodes.length - 1; i >= 0; i--) {
        const n = f.nodes[i];
        if (n.type !== 'directive') continue;
        if (n.name === 'include' && n.block === null) found.push({ d: n, ctx: f.ctx, depth: f.depth });
        if (n.block && n.rawBody === undefined) {
          const known = normalizeContext(f.ctx);
          const child = known ? childContext(n.name, known) : null;
          stack.push({ nodes: n.block, ctx: child === 'freeform' ? n.name : (child ?? `unknown:${n.name}`), depth: f.depth + 1 });
        }
      }
    }
    // `found` is in reverse reading order
    for (let k = found.length - 1; k >= 0; k--) {
      const r = includeOne(found[k].d, found[k].ctx, base + found[k].depth);
      if (found[k].depth + r > deepest) deepest = found[k].depth + r;
    }
    reach.set(file.source.path, deepest);
    return deepest;
  };

  /** Follow one include sitting `depth` levels deep; returns how deep its files reach below it. */
  const includeOne = (d: Directive, ctx: string, depth: number): number => {
    d.includes = [];
    let deepest = 0;
    if (d.args.length !== 1) return 0; // the parser reports the arity
    const arg = d.args[0];
    const target = arg.value;
    // the argument's span is made only for a problem (it is found from the text when read)
    const report = (code: string, message: string) =>
      errors.push({ code, message, file: d.source.path, span: arg.span, severity: 'error' });
    if (target === '') {
      report('include-not-found', openFailed(prefix + '/', 'Is a directory', 21));
      return 0;
    }
    const full = isAbsolute(target) ? target : join(prefix, target);
    const mapped = mapPath(full, opts.pathMap);
    const shown = mapped === full ? full : `${full}" (mapped to "${mapped}`;
    let paths: string[];
    if (GLOB_META.test(mapped)) {
      // a mapping may also name single files (e.g. links stored as text): apply it to the matches
      paths = globNginx(mapped).map((p) => mapPath(p, opts.pathMap));
    } else {
      paths = [mapped];
    }
    for (const p of paths) {
      const pAbs = resolve(p);
      if (onPath.has(pAbs)) {
        report('include-cycle', `include cycle: "${pAbs}" is already being read (included again by ${d.source.path}:${d.span.start.line})`);
        continue;
      }
      let pf = files.get(pAbs);
      if (!pf) {
        const r = readSource(pAbs, budget);
        if (!r.ok) {
          const code = r.error.code;
          if (code === 'not-found') report('include-not-found', openFailed(shown, 'No such file or directory', 2));
          else if (code === 'unreadable' && /permission/.test(r.error.message))
            report('include-unreadable', openFailed(shown, 'Permission denied', 13));
          else report(`include-${code}`, `${r.error.message} (included here)`);
          continue;
        }
        pf = parse(r.source, {
          context: ctx,
          pathHint: pAbs,
          reportUnknown: opts.reportUnknown,
          extraDirectives: opts.nginxDirectives,
        });
        if (depth + nestingDepth(pf.nodes) >= MAX_NESTING) {
          reportTooDeep(pAbs);
          continue;
        }
        files.set(pAbs, pf);
        d.includes.push(pAbs);
        onPath.add(pAbs);
        deepest = Math.max(deepest, loadIncludes(pf, ctx, depth));
        onPath.delete(pAbs);
      } else {
        const r = reach.get(pAbs) ?? nestingDepth(pf.nodes);
        if (depth + r >= MAX_NESTING) {
          reportTooDeep(pAbs);
          continue;
        }
        d.includes.push(pAbs);
        deepest = Math.max(deepest, r);
      }
    }
    // an absolute include that reads outside the tree (no path map applied): the live system
    if (mapped === full && isAbsolute(target)) noteOutside(opts.trace, d, full, prefix, d.includes.length);
    return deepest;

    function reportTooDeep(p: string) {
      report(
        'too-deep',
        `nesting deeper than ${MAX_NESTING} levels is not analysed: "${p}" would nest blocks deeper than that here, so it is not followed`,
      );
    }
  };

  loadIncludes(root, root.context, 0);
  return { server: 'nginx', root, files, errors, confPrefix: prefix };
}

/** Contexts, for callers that want to know whether a name is a real nginx context. */
export function isNginxContext(name: string): name is NginxContext {
  return normalizeContext(name) !== null;
}
