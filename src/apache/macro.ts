/**
 * mod_macro (httpd modules/core/mod_macro.c), as httpd reads it: `<Macro name $a @b>` … `</Macro>`
 * stores the body's lines unread; `Use name x y` substitutes the arguments into a copy of the body and
 * httpd reads the result in place of the `Use` line, in the context of that line (inside a
 * `<VirtualHost>`, say); `UndefMacro name` forgets a macro. Both are executed when read, so a macro
 * must be defined before its first use in reading order, and a later definition replaces it.
 *
 * Substitution is textual, line by line: the earliest occurrence of any parameter name is replaced
 * (the longest name when two start at the same place), then the search goes on after it. A parameter
 * named `@x` is replaced by its value in double quotes with `"` and `\` escaped; `$x` and `%x` by the
 * value as it is. Names, not `${x}` syntax: `$x` also matches inside `$xy`.
 *
 * The expansion is parsed as a text of its own and its nodes are kept on the `Use` directive
 * (`Directive.expansion`), which the walks read in its place. Their source and positions are those of
 * the macro's body in the file that defines it: the body line a node comes from, the column kept within
 * that line (exact up to the line's first substitution), the offset of that place in the file;
 * `expansionOf(node)` tells an expanded node apart (the linter never offers a fix there: it would edit
 * the macro for every use).
 */
import type { ConfigSet, Diagnostic, Directive, Node, ParsedFile } from '../ast.js';
import { CompactSpan, SourceFile, type Position, type Span } from '../source.js';
import { parseApache, type ApacheParseOptions } from './parser.js';

export interface MacroDef {
  /** lower-case name */
  name: string;
  params: string[];
  /** the `<Macro>` section */
  directive: Directive;
  /** physical lines of the body (between the opening and the closing tag lines) */
  body: string[];
  /** 1-based line of the body's first line in the defining file */
  firstLine: number;
  /** `defined on line N of "F"`, httpd's words */
  location: string;
}

/** A `<Macro>` section as mod_macro's macro_section reads it, or httpd's error text. */
export function defineMacro(d: Directive): MacroDef | { error: string } {
  const words = d.args.map((a) => a.value);
  const name = (words[0] ?? '').toLowerCase();
  if (!name) return { error: '<Macro macro definition: name not found' };
  const location = `defined on line ${d.span.start.line} of "${d.source.path}"`;
  // flags (/IgnoreEmptyArgs, /IgnoreBadNesting) come first and only change warnings
  let i = 1;
  while (i < words.length && words[i].startsWith('/')) i++;
  const params = words.slice(i);
  for (let a = 0; a < params.length; a++) {
    if (params[a] === '') return { error: `macro '${name}' (${location}): empty argument #${a + 1} name` };
    for (let b = a + 1; b < params.length; b++)
      if (params[a] === params[b])
        return {
          error: `argument name conflict in macro '${name}' (${location}): argument '${params[a]}': #${a + 1} and #${b + 1}, change argument names!`,
        };
  }
  const text = d.source.text;
  const open = d.blockSpan ?? d.span;
  const afterOpen = text.indexOf('\n', open.start.offset);
  // a <Macro> inside an expansion: its body is the expansion's (substituted) text, not the defining
  // file's; the lines are the same ones (a substitution never adds a line)
  const body = substitutedBodies.get(d) ?? bodyLines(text, open);
  // the line after the opening tag's (counted from the tag, not from the file's start: a scan from the
  // start per macro would be quadratic in a file of many macros)
  const firstLine = afterOpen === -1 ? open.start.line : open.start.line + 1;
  return { name, params, directive: d, body, firstLine, location };
}

/**
 * httpd's table of macros as a configuration is read: `<Macro>` adds (or replaces), `UndefMacro`
 * removes. One per main configuration; a `.htaccess` file reads a copy of the table the main
 * configuration ended with (macros it defines itself stay in that copy).
 */
export class MacroTable {
  readonly macros = new Map<string, MacroDef>();
  /** Whether any `<Macro>` was read: httpd's table exists from then on, even once emptied. */
  anyDefined = false;
  /** `Use` lines expanded so far, against `limit` (a macro used in a macro used in … doubles at each
   * level: the reading stops expanding, and says so once). */
  private used = 0;

  /** `limit` expansions at most, `where` (e.g. "one configuration") for the message past it; `from`:
   * the table to start from (its macros, not its count). */
  constructor(
    private readonly limit: number,
    private readonly where: string,
    from?: MacroTable,
  ) {
    if (!from) return;
    for (const [k, v] of from.macros) this.macros.set(k, v);
    this.anyDefined = from.anyDefined;
  }

  /** `Use …` with the macros defined so far (see expandUse): its expansion, httpd's error, or null for
   * every Use past the limit after the first (which gets the error). */
  expand(
    use: Directive,
    active: readonly string[],
    parseOpts: ApacheParseOptions,
    budget?: { left: number },
  ): Expansion | { error: string; code?: string } | null {
    if (++this.used > this.limit)
      return this.used === this.limit + 1
        ? {
            code: 'too-large',
            error: `more than ${this.limit} mod_macro expansions in ${this.where}: this Use and the ones after it are not expanded`,
          }
        : null;
    return expandUse(use, this.macros, this.anyDefined, active, parseOpts, budget);
  }

  /** `<Macro …>`: null, or httpd's error text. */
  define(d: Directive): string | null {
    const m = defineMacro(d);
    this.anyDefined = true;
    if ('error' in m) return m.error;
    this.macros.set(m.name, m);
    return null;
  }

  /** `UndefMacro name`: null, or httpd's error text. */
  undefine(d: Directive): string | null {
    const name = (d.args[0]?.value ?? '').toLowerCase();
    const known = this.macros.delete(name);
    if (known) return null;
    return this.anyDefined ? `cannot remove undefined macro '${name}'` : 'no macro defined before UndefMacro';
  }
}

/** The table each loaded main configuration ended with (src/apache/load.ts records it). */
const tables = new WeakMap<ConfigSet, MacroTable>();
export const recordMacroTable = (set: ConfigSet, table: MacroTable): void => void tables.set(set, table);
/** The macros a main configuration defines once read; undefined when it defines none. */
export const macroTableOf = (set: ConfigSet): MacroTable | undefined => tables.get(set);

/** Expansions of one `.htaccess` file at most (each is parsed; a file of a few thousand lines stays far
 * below), and characters of expanded text. */
export const MAX_ACCESS_FILE_EXPANSIONS = 5_000;
export const MAX_ACCESS_FILE_EXPANSION_CHARS = 4 * 1024 * 1024;

const expandedWith = new WeakMap<ParsedFile, { table: MacroTable | undefined; standalone: boolean; errors: Diagnostic[] }>();

/**
 * mod_macro in a `.htaccess` file (mod_macro.c: `<Macro>`, `Use` and `UndefMacro` are EXEC_ON_READ and
 * OR_ALL, so allowed there): every `Use` is expanded in place (`Directive.expansion`) with the main
 * configuration's macros (`inherited`) and those the file defines before it. Returns httpd's errors,
 * which make real Apache answer 500 for every request that reads the file. Done once per file and table.
 *
 * `standalone`: the configuration that reads the file is not known (a .htaccess linted alone), so a
 * macro the file does not define may be the server's: that `Use` is left unexpanded with a warning that
 * says so, not httpd's "undefined" error.
 */
export function expandAccessFile(parsed: ParsedFile, inherited: MacroTable | undefined, standalone = false): Diagnostic[] {
  const done = expandedWith.get(parsed);
  if (done && done.table === inherited && done.standalone === standalone) return done.errors;
  const table = new MacroTable(MAX_ACCESS_FILE_EXPANSIONS, 'one .htaccess file', inherited);
  const errors: Diagnostic[] = [];
  const budget = { left: MAX_ACCESS_FILE_EXPANSION_CHARS };
  const opts: ApacheParseOptions = {
    context: 'htaccess',
    ...(parsed.htaccessDir !== undefined ? { htaccessDir: parsed.htaccessDir } : {}),
  };
  const fail = (d: Directive, message: string, code = 'macro', severity: Diagnostic['severity'] = 'error') =>
    errors.push({ code, message, file: d.source.path, span: d.span, severity });
  // iterative: a macro using a macro using … nests one level per distinct macro
  const stack: Array<{ nodes: Node[]; i: number; macro: string | null }> = [{ nodes: parsed.nodes, i: 0, macro: null }];
  while (stack.length) {
    const f = stack[stack.length - 1];
    if (f.i >= f.nodes.length) {
      stack.pop();
      continue;
    }
    const n = f.nodes[f.i++];
    if (n.type !== 'directive') continue;
    if (n.key === 'macro' && n.section) {
      const e = table.define(n);
      if (e) fail(n, e);
      continue;
    }
    if (n.key === 'undefmacro' && !n.block) {
      const e = table.undefine(n);
      if (e && !standalone) fail(n, e);
      continue;
    }
    if (n.key === 'use' && !n.block) {
      delete n.expansion;
      const name = (n.args[0]?.value ?? '').toLowerCase();
      if (standalone && name && !table.macros.has(name)) {
        fail(
          n,
          `macro '${name}' is not defined in this file; it may be defined by the server configuration that reads the file, which was not linted with it: this Use is not expanded, so what it does is unknown (lint the .htaccess together with that configuration)`,
          'macro-unknown',
          'warning',
        );
        continue;
      }
      const x = table.expand(
        n,
        stack.flatMap((y) => (y.macro ? [y.macro] : [])),
        opts,
        budget,
      );
      if (!x) continue;
      if ('error' in x) {
        fail(n, x.error, x.code);
        continue;
      }
      n.expansion = x.nodes;
      errors.push(...x.errors);
      if (x.nodes.length) stack.push({ nodes: x.nodes, i: 0, macro: x.name });
      continue;
    }
    if (n.block && n.block.length) stack.push({ nodes: n.block, i: 0, macro: null });
  }
  expandedWith.set(parsed, { table: inherited, standalone, errors });
  return errors;
}

/**
 * A `.htaccess` set read with the macros of the configuration that reads it (or alone when none is
 * known): expands its `Use` lines and keeps the set's macro diagnostics to that reading.
 */
export function expandAccessSet(set: ConfigSet, inherited: MacroTable | undefined, standalone: boolean): void {
  const before = inSet.get(set);
  const errors = expandAccessFile(set.root, inherited, standalone);
  if (before === errors) return;
  if (before) {
    const old = new Set(before);
    for (let i = set.errors.length - 1; i >= 0; i--) if (old.has(set.errors[i])) set.errors.splice(i, 1);
  }
  set.errors.push(...errors);
  inSet.set(set, errors);
}

/** The macro diagnostics each .htaccess set holds (the simulator may expand the same file again with
 * another table: what it returns is not what the set reports). */
const inSet = new WeakMap<ConfigSet, Diagnostic[]>();

/** The physical lines between a section's opening tag line and its closing tag line. */
function bodyLines(text: string, open: Span): string[] {
  const afterOpen = text.indexOf('\n', open.start.offset);
  const closeTag = text.lastIndexOf('<', open.end.offset);
  const closeLine = text.lastIndexOf('\n', closeTag);
  return afterOpen === -1 || closeLine <= afterOpen ? [] : text.slice(afterOpen + 1, closeLine).split('\n');
}

/** The body of each <Macro> read from an expansion, as substituted (see defineMacro). */
const substitutedBodies = new WeakMap<Directive, string[]>();

/** httpd's line buffer (MAX_STRING_LEN): a substitution that would not fit is an error. */
const MAX_LINE = 8192;

/** One line with the macro's parameters replaced (mod_macro substitute_macro_args); null when the result
 * would not fit httpd's buffer ("cannot substitute, buffer size too small"). */
export function substituteLine(line: string, params: readonly string[], values: readonly string[]): string | null {
  let buf = line;
  let from = 0;
  for (;;) {
    let at = -1;
    let which = -1;
    for (let k = 0; k < params.length; k++) {
      const f = buf.indexOf(params[k], from);
      if (f !== -1 && (at === -1 || f < at || (f === at && params[k].length > params[which].length))) {
        at = f;
        which = k;
      }
    }
    if (at === -1) return buf;
    const v = values[which];
    const rep = params[which].startsWith('@') ? `"${v.replace(/["\\]/g, '\\$&')}"` : v;
    buf = buf.slice(0, at) + rep + buf.slice(at + params[which].length);
    if (buf.length >= MAX_LINE) return null;
    // httpd goes on after as many characters as the value has, not its quoted form
    from = at + v.length;
  }
}

/** The nodes of each expansion, and the `Use` line that made them. */
const expansions = new WeakMap<Node, Directive>();

/** The `Use` directive a node was expanded from, if it was. */
export function expansionOf(node: Node): Directive | undefined {
  return expansions.get(node);
}

export interface Expansion {
  /** the macro's lower-case name */
  name: string;
  nodes: Node[];
  errors: Diagnostic[];
}

/**
 * `Use name values…` with `macros` defined so far; `active`: the macros being expanded around this line
 * (httpd refuses a recursive use). An error is httpd's text (it refuses the configuration).
 */
export function expandUse(
  use: Directive,
  macros: ReadonlyMap<string, MacroDef>,
  /** whether any <Macro> was read before (httpd's table exists from then on, UndefMacro or not) */
  anyDefined: boolean,
  active: readonly string[],
  parseOpts: ApacheParseOptions,
  budget?: { left: number },
): Expansion | { error: string; code?: string } {
  if (!anyDefined) return { error: 'no macro defined before Use' };
  const name = (use.args[0]?.value ?? '').toLowerCase();
  if (!name) return { error: 'no macro name specified with Use' };
  const m = macros.get(name);
  if (!m) return { error: `macro '${name}' undefined` };
  if (active.includes(name)) return { error: `recursive use of macro '${name}' is invalid` };
  const values = use.args.slice(1).map((a) => a.value);
  if (values.length !== m.params.length)
    return { error: `macro '${name}' (${m.location}) used with ${values.length} arguments instead of ${m.params.length}` };
  const lines: string[] = [];
  for (let i = 0; i < m.body.length; i++) {
    const l = substituteLine(m.body[i], m.params, values);
    if (l === null)
      return {
        error: `macro '${name}' (${m.location}) used on line ${use.span.start.line} of "${use.source.path}" error while substituting: while processing line ${i + 1} of macro '${name}' (${m.location}) cannot substitute, buffer size too small`,
      };
    lines.push(l);
  }
  const text = lines.join('\n');
  // the expansion counts as configuration read (a macro used in a macro used … grows fast)
  if (budget) {
    if (text.length > budget.left)
      return {
        code: 'too-large',
        error: `the expansion of macro '${name}' would take the configuration over the ${budget.left + text.length} characters why403 reads; it is not expanded`,
      };
    budget.left -= text.length;
  }
  const parsed = parseApache(new SourceFile(m.directive.source.path, text), parseOpts);
  // Positions and source are the defining file's: the line of the body the node comes from, the column
  // kept within that line, the offset where that column is in the file. So every consumer (formatters,
  // suppressions, the language server, rules reading the text around a node) sees a real place.
  const real = m.directive.source;
  const at = (line: number, column: number): Position => {
    const l = Math.min(Math.max(line + m.firstLine - 1, 1), real.lineStarts.length);
    const start = real.lineStarts[l - 1];
    const end = l < real.lineStarts.length ? real.lineStarts[l] - 1 : real.text.length;
    const c = Math.min(column, end - start + 1);
    return { offset: start + c - 1, line: l, column: c };
  };
  const move = (sp: Span): Span => CompactSpan.from(at(sp.start.line, sp.start.column), at(sp.end.line, sp.end.column));
  const stack: Node[] = [...parsed.nodes];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.type === 'directive' && x.key === 'macro' && x.section) substitutedBodies.set(x, bodyLines(text, x.blockSpan ?? x.span));
    expansions.set(x, use);
    // every span is read in the expansion's text before any is moved: the parser's nodes compute
    // them from their file and offsets (src/apache/nodes.ts), which the moves change
    const span = move(x.span);
    if (x.type !== 'directive') {
      x.text = x.text; // kept as substituted (the defining file's line may differ)
      x.source = real;
      x.span = span;
      continue;
    }
    const nameSpan = move(x.nameSpan);
    const blockSpan = x.blockSpan ? move(x.blockSpan) : null;
    const argSpans = x.args.map((a) => move(a.span));
    x.source = real;
    x.span = span;
    x.nameSpan = nameSpan;
    if (blockSpan) x.blockSpan = blockSpan;
    x.args.forEach((a, i) => {
      if ('source' in a) (a as { source: SourceFile }).source = real;
      a.span = argSpans[i];
    });
    if (x.block) for (const c of x.block) stack.push(c);
  }
  const where = `in macro '${name}' as used on line ${use.span.start.line} of "${use.source.path}"`;
  const errors = parsed.errors.map((e) => ({ ...e, file: real.path, span: move(e.span), message: `${e.message} (${where})` }));
  return { name, nodes: parsed.nodes, errors };
}
