/**
 * nginx parser: tokens → Directive/Comment tree, with nginx's own error messages, recovery where
 * it makes sense, then a check of every directive against the directive table (context, arity,
 * block or not) in the context the file is read in.
 *
 * Never throws on input, never recurses per nesting level (explicit stacks), linear in the input.
 */
import { MAX_NESTING } from '../walk.js';
import type { Arg, Comment, Diagnostic, Directive, Node, ParsedFile, Position, Span } from '../ast.js';
import { CompactSpan, spanAt, type SourceFile } from '../source.js';
import { NginxLexer, Tok } from './lexer.js';
import {
  CTX,
  NGX_CONF_BLOCK,
  arityOk,
  canonicalName,
  childContext,
  isLuaBlock,
  isThirdPartyDirective,
  lookupDirective,
  normalizeContext,
  specIn,
  unknownNginxMessage,
  type NginxContext,
} from './directives.js';

export interface NginxParseOptions {
  /** Context of the file's top level (`main`, `http`, `server`, `location`, …). Inferred when absent. */
  context?: string;
  /** Path hint for context inference (defaults to the source path). */
  pathHint?: string;
  /** Report directives missing from the table as `unknown-directive` errors, as nginx does (default: yes). */
  reportUnknown?: boolean;
  /** Names of extra directives (third-party modules, `settings.nginxDirectives`): known, not checked. */
  extraDirectives?: readonly string[];
  /** Skip the directive-table checks (syntax only). */
  syntaxOnly?: boolean;
}

/** Column (1-based) of `offset` on `line`, from the file's line table: the lexer counts lines as
 * `SourceFile.lineStarts` does (LF ends a line), so this is the column the lexer tracked. */
function columnOf(source: SourceFile, offset: number, line: number): number {
  return offset - source.lineStarts[line - 1] + 1;
}

/**
 * A directive of the nginx tree, stored compactly: a big config has one per line, and three span
 * objects each (span, nameSpan, blockSpan) were most of the tree's memory. The positions are kept as
 * offsets only: a line is found in the file's line table (`SourceFile.lineOf`, a binary search; the
 * lexer counts lines as the table does, LF only), a column from the line's start. `span`, `nameSpan`
 * and `blockSpan` are made on each read (equal, not identical, from one read to the next), `key` is
 * the name (nginx compares names as written). The span starts at the name; the block ends where the
 * directive does.
 */
export class NginxDirective implements Directive {
  declare readonly type: 'directive';
  name: string;
  args: Arg[];
  block: Node[] | null;
  source: SourceFile;
  declare rawBody?: string;
  declare includes?: string[];
  declare section?: boolean;
  /** Start offset (the name's) and end offset. */
  so: number;
  eo: number;
  constructor(name: string, args: Arg[], block: Node[] | null, source: SourceFile, so: number, eo: number) {
    this.name = name;
    this.args = args;
    this.block = block;
    this.source = source;
    this.so = so;
    this.eo = eo;
  }
  /** End offset of the name: the end of the token at its start. A name of letters, digits and `_`
   * (every name in nginx's table) that the text holds at the start, followed by what ends a word,
   * ends there; any other is read again by the lexer. */
  get ne(): number {
    const name = this.name;
    const t = this.source.text;
    const e = this.so + name.length;
    if (plainName(name) && t.startsWith(name, this.so)) {
      if (e === t.length) return e;
      const c = t.charCodeAt(e);
      if (c === 32 || c === 9 || c === 10 || c === 13 || c === 59 || c === 123) return e;
    }
    return tokenFrom(this.source, this.so).end;
  }
  /** Offset of the block's `{` (-1 when there is no block): the first token after the last argument
   * (or the name) that is not a comment. */
  get bo(): number {
    if (this.block === null) return -1;
    const a = this.args;
    return tokenFrom(this.source, a.length > 0 ? (a[a.length - 1] as NginxArgBase).eo : this.ne).start;
  }
  get key(): string {
    return this.name;
  }
  get span(): Span {
    return spanAt(this.source, this.so, this.eo);
  }
  set span(v: Span) {
    this.so = v.start.offset;
    this.eo = v.end.offset;
  }
  get nameSpan(): Span {
    return spanAt(this.source, this.so, this.ne);
  }
  get blockSpan(): Span | null {
    const bo = this.bo;
    return bo < 0 ? null : spanAt(this.source, bo, this.eo);
  }
  /** Set the end of the directive (and of its block). */
  endAt(offset: number): void {
    this.eo = offset;
  }
}
Object.defineProperty(NginxDirective.prototype, 'type', { value: 'directive', enumerable: true });

/** An argument of an nginx directive, stored as its value, its file and its start offset: lines come from the file's line
 * table (see NginxDirective), and its quote is its first character's (a quote starts a quoted word
 * only where a word starts, and a quoted word always starts with its quote). The raw text is the
 * value itself for most words (no quotes, no backslash: NginxArg); the others keep it
 * (NginxRawArg). The end is the start plus the raw text's length. */
export abstract class NginxArgBase implements Arg {
  value: string;
  abstract readonly raw: string;
  source: SourceFile;
  so: number;
  constructor(value: string, source: SourceFile, so: number) {
    this.value = value;
    this.source = source;
    this.so = so;
  }
  get quote(): '"' | "'" | null {
    const c = this.source.text.charCodeAt(this.so);
    return c === 34 ? '"' : c === 39 ? "'" : null;
  }
  /** The offset just past the argument: its raw text is the source's from its start to its end. */
  get eo(): number {
    return this.so + this.raw.length;
  }
  get span(): Span {
    return spanAt(this.source, this.so, this.eo);
  }
}

/** An argument written as its value (no quotes, no backslash). */
export class NginxArg extends NginxArgBase {
  get raw(): string {
    return this.value;
  }
}

/** An argument whose source text differs from its value. */
export class NginxRawArg extends NginxArgBase {
  readonly raw: string;
  constructor(value: string, raw: string, source: SourceFile, so: number) {
    super(value, source, so);
    this.raw = raw;
  }
}

/** True for a non-empty name of ASCII letters, digits and `_` only. */
function plainName(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95)) return false;
  }
  return true;
}

/** A comment of the nginx tree: its file, the offset of its `#` and whether it follows a directive
 * on its line. It ends where its line does (before a CR LF's CR); its text and span are read from the
 * file (real configs are often half comments: an object for the span and a string for the text each
 * were three quarters of a comment's memory). */
export class NginxComment implements Comment {
  declare readonly type: 'comment';
  source: SourceFile;
  so: number;
  trailing: boolean;
  constructor(source: SourceFile, so: number, trailing: boolean) {
    this.source = source;
    this.so = so;
    this.trailing = trailing;
  }
  /** The offset just past the comment (as the lexer finds it). */
  get eo(): number {
    const t = this.source.text;
    let e = t.indexOf('\n', this.so);
    if (e === -1) e = t.length;
    if (e > this.so && t.charCodeAt(e - 1) === 13) e--;
    return e;
  }
  get text(): string {
    return this.source.text.slice(this.so + 1, this.eo);
  }
  get span(): Span {
    const s = this.source;
    const eo = this.eo;
    const line = s.lineOf(this.so);
    // a comment is on one line
    return new CompactSpan(this.so, line, columnOf(s, this.so, line), eo, line, columnOf(s, eo, line));
  }
}
Object.defineProperty(NginxComment.prototype, 'type', { value: 'comment', enumerable: true });

const discarded: Diagnostic[] = [];
/** A lexer at the first token from `at` that is not a comment (its diagnostics dropped: the parse
 * reported them). A directive's name end and its block's `{` are found this way when read, rather
 * than kept in every directive. */
function tokenFrom(source: SourceFile, at: number): NginxLexer {
  const lx = new NginxLexer(source, discarded);
  lx.seek(at, 1, 0);
  while (lx.next() === Tok.Comment);
  discarded.length = 0;
  return lx;
}

/** Directives kept by error recovery (cut short by `}` or the end of the file): nginx never gets
 * to check them, so the table check skips them rather than pile an arity error on the syntax one. */
const incomplete = new WeakSet<Directive>();

interface Frame {
  directive: NginxDirective | null;
  nodes: Node[];
}

function diag(source: SourceFile, code: string, message: string, span: Span, severity: 'error' | 'warning' = 'error'): Diagnostic {
  return { code, message, file: source.path, span, severity };
}

function pointSpan(p: Position, len = 1, text?: string): Span {
  const endOff = text ? Math.min(p.offset + len, text.length) : p.offset + len;
  return { start: p, end: { offset: endOff, line: p.line, column: p.column + (endOff - p.offset) } };
}

/**
 * Scan a Lua block body starting just after its `{`: returns the offset of the matching `}` (or -1),
 * skipping Lua strings, comments and long brackets. Tracks lines for the lexer.
 */
function scanLua(text: string, from: number): { close: number; line: number; lineStart: number; lines: number } {
  let depth = 1;
  let i = from;
  const n = text.length;
  let lines = 0;
  let lineStart = -1;
  const nl = (at: number) => {
    lines++;
    lineStart = at + 1;
  };
  // long bracket level at i (`[` followed by `=`* and `[`), or -1
  const longOpen = (at: number): number => {
    if (text.charCodeAt(at) !== 91) return -1;
    let k = at + 1;
    while (k < n && text.charCodeAt(k) === 61) k++;
    return k < n && text.charCodeAt(k) === 91 ? k - at - 1 : -1;
  };
  const skipLong = (at: number, level: number): number => {
    // at points at the first `[`; returns the offset after the closing bracket
    const close = ']' + '='.repeat(level) + ']';
    let k = at + level + 2;
    for (;;) {
      const e = text.indexOf(close, k);
      const stop = e === -1 ? n : e;
      for (let q = k; q < stop; q++) if (text.charCodeAt(q) === 10) nl(q);
      if (e === -1) return n;
      return e + close.length;
    }
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      nl(i);
      i++;
    } else if (c === 123) {
      depth++;
      i++;
    } else if (c === 125) {
      depth--;
      if (depth === 0) return { close: i, line: lines, lineStart, lines };
      i++;
    } else if (c === 34 || c === 39) {
      let k = i + 1;
      while (k < n) {
        const d = text.charCodeAt(k);
        if (d === 92) {
          if (text.charCodeAt(k + 1) === 10) nl(k + 1);
          k += 2;
          continue;
        }
        if (d === c) break;
        if (d === 10) {
          nl(k);
          break; // unterminated short string ends at the line end in Lua
        }
        k++;
      }
      i = k + 1;
    } else if (c === 45 && text.charCodeAt(i + 1) === 45) {
      const lvl = longOpen(i + 2);
      if (lvl >= 0) i = skipLong(i + 2, lvl);
      else {
        const e = text.indexOf('\n', i);
        i = e === -1 ? n : e;
      }
    } else if (c === 91) {
      const lvl = longOpen(i);
      if (lvl >= 0) i = skipLong(i, lvl);
      else i++;
    } else i++;
  }
  return { close: -1, line: lines, lineStart, lines };
}

/** Parse nginx syntax only: the tree and the syntax diagnostics. */
export function parseNginxSyntax(source: SourceFile): { nodes: Node[]; errors: Diagnostic[] } {
  const errors: Diagnostic[] = [];
  const lx = new NginxLexer(source, errors);
  const text = source.text;
  const root: Node[] = [];
  const stack: Frame[] = [{ directive: null, nodes: root }];
  let frame = stack[0];
  let tooDeep = false;

  // the statement being read: its name (nameSpan null when none yet) and arguments (a scratch
  // array, copied at its exact size when the directive ends)
  const scratch: NginxArgBase[] = [];
  // one string per distinct word of the file: a big config repeats its directive names and most
  // of its arguments (`location`, `off`, `all`, …) thousands of times, each a fresh slice of the text
  const pool = new Map<string, string>();
  const intern = (w: string): string => {
    const have = pool.get(w);
    if (have !== undefined) return have;
    pool.set(w, w);
    return w;
  };
  let name = '';
  // the name's start and end (offset, line); named === false until the statement has a name
  let named = false;
  let nso = 0;
  let neo = 0;
  let insertAt = 0;
  let lastTokLine = 0;
  // errors.length when the statement began: a statement with a tokenizer error in it is not
  // checked against the table (nginx stopped at the tokenizer error)
  let errorsAtStart = 0;

  const finish = (endOffset: number, block: Node[] | null): NginxDirective => {
    const d = new NginxDirective(name, scratch.length === 0 ? [] : scratch.slice(), block, source, nso, endOffset);
    if (insertAt === frame.nodes.length) frame.nodes.push(d);
    else frame.nodes.splice(insertAt, 0, d);
    if (errors.length > errorsAtStart) incomplete.add(d);
    named = false;
    scratch.length = 0;
    return d;
  };

  for (;;) {
    const k = lx.next();
    if (k === Tok.Comment) {
      frame.nodes.push(new NginxComment(source, lx.start, lastTokLine === lx.startLine));
      continue;
    }
    if (k === Tok.Word) {
      lastTokLine = lx.endLine;
      lx.word();
      if (!named) {
        // known names are the directive table's own strings already
        name = canonicalName(lx.wordValue);
        named = true;
        nso = lx.start;
        neo = lx.end;
        insertAt = frame.nodes.length;
        errorsAtStart = errors.length;
      } else {
        const value = intern(lx.wordValue);
        scratch.push(
          lx.wordRaw === lx.wordValue
            ? new NginxArg(value, source, lx.start)
            : new NginxRawArg(value, intern(lx.wordRaw), source, lx.start),
        );
      }
      continue;
    }
    if (k === Tok.Semi) {
      lastTokLine = lx.endLine;
      if (!named) {
        errors.push(diag(source, 'unexpected-semicolon', 'unexpected ";"', lx.span()));
        continue;
      }
      finish(lx.end, null);
      continue;
    }
    if (k === Tok.LBrace) {
      lastTokLine = lx.endLine;
      const openOffset = lx.start;
      if (!named) {
        errors.push(diag(source, 'unexpected-brace', 'unexpected "{"', lx.span()));
        // read the block anyway so its `}` does not close the enclosing one; its children are kept
        // in the enclosing block
        stack.push({ directive: null, nodes: frame.nodes });
        frame = stack[stack.length - 1];
        continue;
      }
      if (isLuaBlock(name)) {
        const bodyFrom = lx.end;
        const r = scanLua(text, bodyFrom);
        const startLine = lx.endLine;
        if (r.close === -1) {
          const d = finish(lx.end, []);
          d.rawBody = text.slice(bodyFrom);
          lx.seek(text.length, startLine + r.lines, r.lines > 0 ? r.lineStart : lx.cursorLineStart);
          const eof = lx.eofPosition();
          d.endAt(eof.offset);
          errors.push(diag(source, 'unexpected-eof', 'unexpected end of file, expecting "}"', pointSpan(eof, 0)));
          break;
        }
        const lineStart = r.lines > 0 ? r.lineStart : lx.cursorLineStart;
        const line = startLine + r.lines;
        lx.seek(r.close + 1, line, lineStart);
        const d = finish(r.close + 1, []);
        d.rawBody = text.slice(bodyFrom, r.close);
        lastTokLine = line;
        continue;
      }
      const d = finish(openOffset, []); // the end is set when the block closes
      if (stack.length >= MAX_NESTING) {
        // too deep to analyse: the block is read (its braces still count) into a list that is
        // thrown away, so every later stage sees at most MAX_NESTING levels
        if (!tooDeep) {
          tooDeep = true;
          errors.push(
            diag(
              source,
              'too-deep',
              `nesting deeper than ${MAX_NESTING} levels is not analysed: the contents of this "${d.name}" block are skipped`,
              d.nameSpan,
            ),
          );
        }
        stack.push({ directive: d, nodes: [] });
        frame = stack[stack.length - 1];
        continue;
      }
      stack.push({ directive: d, nodes: d.block! });
      frame = stack[stack.length - 1];
      continue;
    }
    if (k === Tok.RBrace) {
      lastTokLine = lx.endLine;
      if (named) {
        // nginx: `unexpected "}"` — most often a missing `;`. Keep the directive.
        errors.push(diag(source, 'unexpected-brace', 'unexpected "}"', lx.span()));
        const last = scratch.length > 0 ? scratch[scratch.length - 1] : null;
        incomplete.add(last ? finish(last.eo, null) : finish(neo, null));
      }
      if (stack.length === 1) {
        if (!named && errors[errors.length - 1]?.span.start.offset !== lx.start) {
          errors.push(diag(source, 'unexpected-brace', 'unexpected "}"', lx.span()));
        }
        continue;
      }
      const closed = stack.pop()!;
      frame = stack[stack.length - 1];
      if (closed.directive) {
        closed.directive.endAt(lx.end);
        // an array grown by push keeps spare capacity (17 slots for one child): keep an exact copy,
        // which makes a large config's tree markedly smaller
        if (closed.directive.block === closed.nodes) closed.directive.block = closed.nodes.slice();
      }
      continue;
    }
    // EOF
    const eof = lx.eofPosition();
    if (lx.unterminated) {
      // the last word was a quoted string without its closing quote
    }
    if (named) {
      errors.push(diag(source, 'unexpected-eof', 'unexpected end of file, expecting ";" or "}"', pointSpan(eof, 0)));
      const last = scratch.length > 0 ? scratch[scratch.length - 1] : null;
      incomplete.add(last ? finish(last.eo, null) : finish(neo, null));
    } else if (stack.length > 1) {
      errors.push(diag(source, 'unexpected-eof', 'unexpected end of file, expecting "}"', pointSpan(eof, 0)));
    }
    // close open blocks at the end of the file
    while (stack.length > 1) {
      const closed = stack.pop()!;
      if (closed.directive) closed.directive.endAt(eof.offset);
    }
    break;
  }
  return { nodes: root, errors };
}

// ---------------------------------------------------------------------------------------------
// Context inference and the directive-table check

const INFER_ORDER: NginxContext[] = [
  'main',
  'http',
  'server',
  'location',
  'events',
  'upstream',
  'stream',
  'stream-server',
  'stream-upstream',
  'mail',
  'mail-server',
  'limit_except',
];

/**
 * The context a file that is not a main config is most likely read in, judged from its top-level
 * directives: a file with `server { }` blocks is an http-level file (sites-enabled/, conf.d/);
 * directives only valid in main (`user`, `events`, `http`, …) make it a main config; a snippet of
 * location-level directives is read in `location` (or `server`, when it has `location` blocks or
 * server-only directives).
 */
export function inferNginxContext(nodes: Node[], pathHint?: string): NginxContext {
  const names: string[] = [];
  for (const n of nodes) if (n.type === 'directive' && n.name !== 'include' && lookupDirective(n.name)) names.push(n.name);
  if (names.length === 0) return pathHint && /(^|\/)(sites-(enabled|available)|conf\.d)\//.test(pathHint) ? 'http' : 'main';
  const validIn = (ctx: NginxContext) => {
    let ok = 0;
    for (const name of names) if (specIn(name, CTX[ctx])) ok++;
    return ok;
  };
  const has = (n: string) => names.includes(n);
  // explicit shapes first
  if (has('server') && validIn('http') === names.length && !has('listen')) return 'http';
  if (has('location') && validIn('server') === names.length) return 'server';
  if (validIn('location') === names.length) return 'location';
  let best: NginxContext = 'main';
  let bestScore = -1;
  for (const ctx of INFER_ORDER) {
    const s = validIn(ctx);
    if (s === names.length) return ctx;
    if (s > bestScore) {
      best = ctx;
      bestScore = s;
    }
  }
  return best;
}

interface CheckFrame {
  nodes: Node[];
  /** null: not checked; 'names': only unknown names are checked (the body of a third-party block) */
  ctx: NginxContext | 'freeform' | 'names' | null;
}

/** What `checkNginx` does with names missing from the table. */
export interface UnknownCheck {
  /** Report them (default: yes). */
  report?: boolean;
  /** Extra known names (`settings.nginxDirectives`). */
  extra?: readonly string[];
}

/**
 * Check every directive against the table in context `ctx` (as ngx_conf_handler does): an unknown
 * name is `unknown directive "x"` (with the closest known name), unless it is declared
 * (`unknown.extra`) or of a third-party namespace (isThirdPartyDirective); a known name not allowed
 * in the context is `"x" directive is not allowed here`, then block-ness and arity. In the body of
 * an unknown, declared or third-party block only the names are checked (its module decides the
 * rest); bodies of free-form blocks are not checked (a `{` inside one is `unexpected "{"`).
 */
export function checkNginx(
  nodes: Node[],
  ctx: NginxContext | 'freeform',
  source: SourceFile,
  errors: Diagnostic[],
  unknown: UnknownCheck | boolean = {},
): void {
  const u: UnknownCheck = typeof unknown === 'boolean' ? { report: unknown } : unknown;
  const reportUnknown = u.report !== false;
  const extra = u.extra ?? [];
  const extraSet = new Set(extra);
  // nginx names the line where it read the directive's `;` or `{`; the span runs from the name to
  // that terminator, so it covers both the name's line and nginx's
  const at = (n: Directive): Span => {
    if (n.blockSpan) {
      const b = n.blockSpan.start;
      return { start: n.nameSpan.start, end: { offset: b.offset + 1, line: b.line, column: b.column + 1 } };
    }
    return { start: n.nameSpan.start, end: n.span.end };
  };
  const stack: CheckFrame[] = [{ nodes, ctx }];
  while (stack.length > 0) {
    const f = stack.pop()!;
    for (const n of f.nodes) {
      if (n.type !== 'directive') continue;
      if (f.ctx === null) continue;
      if (f.ctx === 'freeform') {
        if (n.block !== null) {
          errors.push(diag(source, 'unexpected-brace', 'unexpected "{"', n.blockSpan ? pointSpan(n.blockSpan.start) : n.nameSpan));
          stack.push({ nodes: n.block, ctx: null });
        }
        continue;
      }
      // a directive cut short or holding a tokenizer error was never seen whole by nginx
      const skip = incomplete.has(n);
      const specs = lookupDirective(n.name);
      if (!specs) {
        const declared = extraSet.has(n.name) || isThirdPartyDirective(n.name);
        if (reportUnknown && !skip && !declared) errors.push(diag(source, 'unknown-directive', unknownNginxMessage(n.name, extra), at(n)));
        // nginx stops at an unknown name; a declared block's body is read by its module: names only
        if (n.block && n.rawBody === undefined) stack.push({ nodes: n.block, ctx: declared ? 'names' : null });
        continue;
      }
      if (f.ctx === 'names') {
        if (n.block && n.rawBody === undefined) stack.push({ nodes: n.block, ctx: 'names' });
        continue;
      }
      const spec = specIn(n.name, CTX[f.ctx]);
      if (!spec) {
        if (!skip) errors.push(diag(source, 'not-allowed-here', `"${n.name}" directive is not allowed here`, at(n)));
        if (n.block) stack.push({ nodes: n.block, ctx: null });
        continue;
      }
      const isBlock = (spec.type & NGX_CONF_BLOCK) !== 0;
      if (skip) {
        // reported as a syntax error already
      } else if (!isBlock && n.block !== null && n.rawBody === undefined) {
        errors.push(diag(source, 'not-terminated', `directive "${n.name}" is not terminated by ";"`, at(n)));
      } else if (isBlock && n.block === null) {
        errors.push(diag(source, 'no-opening-brace', `directive "${n.name}" has no opening "{"`, at(n)));
      } else if (!arityOk(spec.type, n.args.length)) {
        errors.push(diag(source, 'invalid-args', `invalid number of arguments in "${n.name}" directive`, at(n)));
      }
      if (n.block) stack.push({ nodes: n.block, ctx: isBlock ? childContext(n.name, f.ctx) : null });
    }
  }
}

/** Parse an nginx file: syntax, context (given or inferred) and the directive-table check. */
export function parseNginx(source: SourceFile, opts: NginxParseOptions = {}): ParsedFile {
  const { nodes, errors } = parseNginxSyntax(source);
  const given = opts.context === undefined ? null : opts.context;
  let ctx: NginxContext | 'freeform' | null = normalizeContext(given ?? undefined);
  let ctxName: string;
  if (ctx === null && given !== null) {
    // a free-form body (an include inside `map { }`, `types { }`, …) or an unknown block
    ctxName = given;
    ctx = given === 'freeform' || ['types', 'map', 'geo', 'split_clients', 'charset_map', 'geoip2'].includes(given) ? 'freeform' : null;
  } else {
    if (ctx === null) ctx = inferNginxContext(nodes, opts.pathHint ?? source.path);
    ctxName = ctx;
  }
  if (!opts.syntaxOnly && ctx !== null) checkNginx(nodes, ctx, source, errors, { report: opts.reportUnknown, extra: opts.extraDirectives });
  if (!opts.syntaxOnly && source.bom) {
    // nginx has no BOM handling: the three bytes are part of the first token, so nginx -t fails
    // the first token: the BOM and what follows it up to a space, `;`, `{` (a `#` after it starts no comment)
    const word = /^[^\s;{}]*/.exec(source.text)![0].slice(0, 40);
    const what = `unknown directive "\\xEF\\xBB\\xBF${word}"`;
    const start = { offset: 0, line: 1, column: 1 };
    errors.push(
      diag(
        source,
        'bom',
        `the file starts with a UTF-8 byte order mark, which nginx reads as part of the first word (${what}): save it without the BOM`,
        {
          start,
          end: start,
        },
      ),
    );
  }
  errors.sort((a, b) => a.span.start.offset - b.span.start.offset);
  return { server: 'nginx', source, nodes, errors, context: ctxName };
}
