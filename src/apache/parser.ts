/**
 * Apache httpd config / .htaccess parser. Sync, never throws, keeps exact positions.
 *
 * Follows httpd 2.4 (server/util.c, server/config.c):
 * - A logical line is read by ap_cfg_getline: a `\` right before the line feed (or CR LF) removes
 *   both and joins the next physical line (its leading blanks kept). A `\` before the end of a
 *   file that has no final line feed is kept. Leading and trailing whitespace is dropped.
 * - A line whose first character is `#` is a comment, including the lines a `\` joins to it
 *   (so `# note \` hides the next line). There are no trailing comments: `Require all denied # x`
 *   has the arguments `all`, `denied`, `#`, `x`.
 * - Words are split as ap_getword_conf does: a word that starts with `"` or `'` runs to the same
 *   quote (`\\` and `\<quote>` escape it) and ends there even if no blank follows; an unquoted
 *   word runs to the next blank and only `\\` is an escape in it. A missing closing quote takes the
 *   rest of the line.
 * - `<Name args>` opens a section; the arguments end at the last `>` of the line (text after it is
 *   ignored by httpd). `</Name>` closes the innermost section, compared case-insensitively.
 *   Error texts are httpd's: `Expected </Directory> but saw </Files>`, `<Directory> was not closed.`,
 *   `</Files> without matching <Files> section`, `<Files> directive missing closing '>'`.
 * - `${VAR}` is left as written (see vars.ts for expansion).
 *
 * Tree shape: a section is a Directive with `section: true`, `name` without the `<` (e.g.
 * `Directory`), `key` lower-case, `nameSpan` over the name only, `span` from the name to the `>`
 * of the closing tag and `blockSpan` from the `<` of the opening tag to that `>`.
 */
import { MAX_NESTING } from '../walk.js';
import type { Arg, Diagnostic, Directive, Node, ParsedFile } from '../ast.js';
import { CompactSpan, spanAt, type Position, type SourceFile, type Span } from '../source.js';
import { checkAuthz } from './authz-check.js';
import { apacheDirective, ifModuleHolds, unknownApacheMessage } from './directives.js';
import { ApacheArg, ApacheComment, ApacheDirective, ApacheRawArg, ApacheSection } from './nodes.js';

export type ApacheContext = 'server' | 'directory' | 'htaccess';

export interface ApacheParseOptions {
  context?: ApacheContext;
  /** For .htaccess: the directory it applies to (as the server sees it). */
  htaccessDir?: string;
  /** Report directives the installed httpd does not know (default true), as errors: httpd refuses
   * the file (`Invalid command`). Not inside a section whose body httpd may skip unread. */
  unknownDirectives?: boolean;
  /** Names of extra directives (third-party modules, `settings.apacheDirectives`). */
  extraDirectives?: readonly string[];
  /** The modules taken as loaded for `<IfModule>` (settings.apacheModules); default: every Debian module. */
  modules?: readonly string[];
}

/** httpd reads .htaccess lines into a HUGE_STRING_LEN (8192) buffer, NUL and line feed included. */
export const HTACCESS_MAX_LINE_BYTES = 8190;

/** Sections whose handlers refuse an empty argument list (`<X> directive requires additional arguments`). */
const NEEDS_ARGS = new Set([
  'directory',
  'directorymatch',
  'files',
  'filesmatch',
  'location',
  'locationmatch',
  'virtualhost',
  'proxy',
  'proxymatch',
  'limit',
  'limitexcept',
  'ifmodule',
  'ifdefine',
  'ifversion',
  'iffile',
  'ifdirective',
  'ifsection',
  'if',
  'elseif',
  'macro',
  'authnprovideralias',
  'authzprovideralias',
  'mdomain',
  'mdomainset',
]);

/** Sections whose body httpd may skip unread (ap_soak_end_container): unknown names inside are not
 * errors for it, because a module may be missing on purpose. `<IfModule>` is evaluated (see
 * ifModuleHolds); the others' conditions depend on the command line or the machine. */
const CONDITIONAL = new Set(['ifmodule', 'ifdefine', 'ifversion', 'iffile', 'ifdirective', 'ifsection', 'macro']);

/** EXEC_ON_READ conditional sections read with ap_build_cont_config / ap_soak_end_container. */
const READ_TO_EOF = new Set(['ifmodule', 'ifdefine', 'ifversion', 'iffile', 'ifdirective', 'ifsection']);

const keyCache = new Map<string, string>();

/** name.toLowerCase(), without allocating a new string for names seen before. */
function lowerKey(name: string): string {
  let k = keyCache.get(name);
  if (k === undefined) {
    k = name.toLowerCase();
    if (keyCache.size < 4096) keyCache.set(name, k);
  }
  return k;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * Maps indices of the logical line (`s`) back to file offsets. A line without continuation is one
 * segment and `s` is the file text itself; a continued line is the joined text of its segments.
 */
class LineMap {
  /** Start index in `s` of each segment. */
  jStart: number[] = [];
  /** File offset of each segment start. */
  oStart: number[] = [];
  /** 1-based line of each segment. */
  line: number[] = [];
  /** File offset where that line starts. */
  lineStart: number[] = [];
  n = 0;
  /** true when `s` is the file text itself (no continuation): indices are offsets */
  identity = false;

  reset(): void {
    this.n = 0;
    this.identity = false;
  }

  add(j: number, o: number, line: number, lineStart: number): void {
    const k = this.n++;
    this.jStart[k] = j;
    this.oStart[k] = o;
    this.line[k] = line;
    this.lineStart[k] = lineStart;
  }

  private seg(j: number): number {
    let k = this.n - 1;
    while (k > 0 && this.jStart[k] > j) k--;
    return k;
  }

  /** File offset of the character at index j of `s`. */
  off(j: number): number {
    if (this.identity) return j;
    const k = this.seg(j);
    return this.oStart[k] + (j - this.jStart[k]);
  }

  /** File offset just after the character at index j-1 of `s` (an exclusive end). */
  endOff(j: number): number {
    if (this.identity) return j;
    return j <= 0 ? this.off(0) : this.off(j - 1) + 1;
  }

  /** Position of the character at index j of `s`. */
  pos(j: number): Position {
    if (this.identity) return { offset: j, line: this.line[0], column: j - this.lineStart[0] + 1 };
    const k = this.seg(j);
    const o = this.oStart[k] + (j - this.jStart[k]);
    return { offset: o, line: this.line[k], column: o - this.lineStart[k] + 1 };
  }

  /** Position just after the character at index j-1 of `s` (an exclusive end). */
  end(j: number): Position {
    // one segment: `s` is the file text itself, so index = offset and an exclusive end is plain
    if (this.identity) return { offset: j, line: this.line[0], column: j - this.lineStart[0] + 1 };
    if (j <= 0) return this.pos(0);
    const p = this.pos(j - 1);
    p.offset++;
    p.column++;
    return p;
  }

  span(a: number, b: number): CompactSpan {
    if (this.identity) {
      const l = this.line[0];
      const c = 1 - this.lineStart[0];
      return new CompactSpan(a, l, a + c, b, l, b + c);
    }
    return CompactSpan.from(this.pos(a), b > a ? this.end(b) : this.pos(a));
  }
}

// readWord's result, in module variables rather than an object (this is the hot path)
let wStart = 0;
let wEnd = 0;
let wValue = '';
let wQuote: '"' | "'" | null = null;
/** true when a quoted word has no closing quote */
let wOpen = false;
/** true when the value equals the source slice (unquoted, no escape) */
let wPlain = true;

/** ap_getword_conf over s[i, b). Caller has skipped blanks; i < b. */
function readWord(s: string, i: number, b: number): void {
  const c = s.charCodeAt(i);
  wStart = i;
  if (c === 34 || c === 39) {
    let j = i + 1;
    let esc = false;
    while (j < b) {
      const d = s.charCodeAt(j);
      if (d === c) break;
      if (d === 92 && j + 1 < b) {
        const e = s.charCodeAt(j + 1);
        if (e === c || e === 92) {
          esc = true;
          j += 2;
          continue;
        }
      }
      j++;
    }
    wOpen = j >= b;
    wValue = s.slice(i + 1, j);
    if (esc) wValue = unescape(wValue, c);
    wQuote = c === 34 ? '"' : "'";
    wEnd = wOpen ? b : j + 1;
    wPlain = false;
    return;
  }
  let j = i;
  let bs = false;
  while (j < b) {
    const d = s.charCodeAt(j);
    if (d === 32 || (d >= 9 && d <= 13)) break;
    if (d === 92) bs = true;
    j++;
  }
  wValue = s.slice(i, j);
  wPlain = !bs;
  if (bs) wValue = unescape(wValue, 0);
  wQuote = null;
  wOpen = false;
  wEnd = j;
}

/** substring_conf: `\\` → `\`, and inside quotes `\<quote>` → quote; other backslashes stay. */
function unescape(v: string, quote: number): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 92 && i + 1 < v.length) {
      const d = v.charCodeAt(i + 1);
      if (d === 92 || (quote !== 0 && d === quote)) {
        out += v[i + 1];
        i++;
        continue;
      }
    }
    out += v[i];
  }
  return out;
}

interface Frame {
  dir: ApacheDirective;
  /** the opening line's start and end offsets (for "was not closed") */
  lineStart: number;
  lineEnd: number;
  conditional: boolean;
  /** httpd may skip this section's body unread: unknown names inside are not reported */
  skips: boolean;
}

export function parseApache(source: SourceFile, opts: ApacheParseOptions = {}): ParsedFile {
  const context: ApacheContext = opts.context ?? 'server';
  const text = source.text;
  const n = text.length;
  const file = source.path;
  const errors: Diagnostic[] = [];
  const top: Node[] = [];
  const stack: Frame[] = [];
  let skipDepth = 0;
  const checkUnknown = opts.unknownDirectives !== false;
  const extra = opts.extraDirectives ?? [];
  const extraKeys = new Set(extra.map((x) => x.toLowerCase()));
  const htaccess = context === 'htaccess';
  const isUnknown = (key: string) => !apacheDirective(key) && !extraKeys.has(key);
  const map = new LineMap();
  const diag = (code: string, message: string, span: Span, severity: 'error' | 'warning' = 'error') => {
    errors.push({ code, message, file, span, severity });
  };
  let tooDeep = false;
  const append = (node: Node) => {
    if (stack.length >= MAX_NESTING) {
      // too deep to analyse: the node is dropped (its section tags still count), so every later
      // stage sees at most MAX_NESTING levels
      if (!tooDeep) {
        tooDeep = true;
        const outer = stack[stack.length - 1];
        diag(
          'too-deep',
          `nesting deeper than ${MAX_NESTING} levels is not analysed: the contents of this <${sectionDisplay(outer.dir)}> section are skipped`,
          spanAt(source, outer.lineStart, outer.lineEnd),
        );
      }
      return;
    }
    if (stack.length === 0) top.push(node);
    else (stack[stack.length - 1].dir.block as Node[]).push(node);
  };

  let pos = 0;
  let line = 1;
  while (pos < n) {
    // ---- assemble one logical line --------------------------------------------------------
    map.reset();
    let s = text;
    let a = pos;
    let b: number;
    let eol = text.indexOf('\n', pos);
    if (eol === -1) eol = n;
    let e = eol;
    if (e > pos && text.charCodeAt(e - 1) === 13) e--;
    if (eol < n && e > pos && text.charCodeAt(e - 1) === 92) {
      // continuation: join segments into a new string
      const parts: string[] = [];
      let jl = 0;
      let segStart = pos;
      let segLine = line;
      for (;;) {
        const segEnd = e - 1; // drop the backslash
        map.add(jl, segStart, segLine, segStart);
        parts.push(text.slice(segStart, segEnd));
        jl += segEnd - segStart;
        // next physical line
        segStart = eol + 1;
        segLine++;
        if (segStart >= n) {
          eol = n;
          break;
        }
        eol = text.indexOf('\n', segStart);
        if (eol === -1) eol = n;
        e = eol;
        if (e > segStart && text.charCodeAt(e - 1) === 13) e--;
        if (eol < n && e > segStart && text.charCodeAt(e - 1) === 92) continue;
        map.add(jl, segStart, segLine, segStart);
        parts.push(text.slice(segStart, eol));
        jl += eol - segStart;
        break;
      }
      s = parts.join('');
      a = 0;
      b = s.length;
      line = segLine;
    } else {
      map.add(pos, pos, line, pos);
      map.identity = true;
      b = eol;
    }
    const physicalEnd = eol;
    const lineNo = line;
    const rawStart = a;
    pos = physicalEnd + 1;
    line++;

    // ---- trim -------------------------------------------------------------------------------
    while (a < b && isSpace(s.charCodeAt(a))) a++;
    while (b > a && isSpace(s.charCodeAt(b - 1))) b--;
    if (context === 'htaccess' && b - rawStart > HTACCESS_MAX_LINE_BYTES / 3) {
      const bytes = Buffer.byteLength(s.slice(rawStart, b), 'utf8');
      if (bytes > HTACCESS_MAX_LINE_BYTES) {
        diag(
          'line-too-long',
          `Error reading ${file} at line ${lineNo}: Line too long (${bytes} bytes; httpd reads .htaccess lines of at most ${HTACCESS_MAX_LINE_BYTES})`,
          map.span(a, b),
        );
      }
    }
    if (a >= b) continue;
    const c0 = s.charCodeAt(a);
    if (c0 === 35) {
      append(new ApacheComment(source, map.off(a), map.endOff(b), map.identity ? null : s.slice(a + 1, b)));
      continue;
    }

    // ---- directive name -------------------------------------------------------------------
    readWord(s, a, b);
    // copied to locals: readArgs below reuses the module variables
    const w0 = wStart;
    const w1 = wEnd;
    const wq = wQuote;
    const wo = wOpen;
    const word = wValue;
    let i = w1;
    while (i < b && isSpace(s.charCodeAt(i))) i++;
    const restStart = i;

    if (word.length >= 2 && word.charCodeAt(0) === 60 && word.charCodeAt(1) === 47) {
      // ---- closing tag ----------------------------------------------------------------------
      const gt = word.charCodeAt(word.length - 1) === 62;
      const cname = word.slice(2, gt ? -1 : undefined);
      const shown = gt ? word : word + '>';
      const tagSpan = map.span(w0, w1);
      if (stack.length === 0) {
        diag('unmatched-close', `${shown} without matching <${shown.slice(2)} section`, tagSpan);
        continue;
      }
      if (!gt) diag('section-missing-gt', `${shown} directive missing closing '>'`, tagSpan);
      if (restStart < b) {
        diag('text-after-section', `text after ${shown} is ignored by Apache`, map.span(restStart, b), 'warning');
      }
      const key = cname.toLowerCase();
      const closeEnd = map.endOff(w1);
      let k = stack.length - 1;
      if (stack[k].dir.key !== key) {
        const expected = sectionDisplay(stack[k].dir);
        diag('mismatched-close', `Expected </${expected}> but saw ${shown}`, tagSpan);
        k = stack.length - 2;
        while (k >= 0 && stack[k].dir.key !== key) k--;
        if (k < 0) continue; // closes nothing we know of: ignore it
      }
      // close frames k..top; inner ones end where this tag starts
      const tagStart = map.off(w0);
      while (stack.length > k + 1) {
        const f = stack.pop() as Frame;
        closeFrame(f, tagStart);
        if (f.skips) skipDepth--;
      }
      const f = stack.pop() as Frame;
      closeFrame(f, closeEnd);
      if (f.skips) skipDepth--;
      continue;
    }

    const nameStart = map.off(w0);
    const nameEnd = map.endOff(w1);
    if (word.length >= 1 && word.charCodeAt(0) === 60) {
      // ---- opening tag ----------------------------------------------------------------------
      const nameGt = word.length > 1 && word.charCodeAt(word.length - 1) === 62;
      const sname = word.slice(1, nameGt ? -1 : undefined);
      const key = lowerKey(sname);
      let argEnd = b;
      if (restStart < b) {
        const g = s.lastIndexOf('>', b - 1);
        if (g >= restStart) {
          argEnd = g;
          let t = g + 1;
          while (t < b && isSpace(s.charCodeAt(t))) t++;
          if (t < b) diag('text-after-section', `text after the '>' of <${sname}> is ignored by Apache`, map.span(t, b), 'warning');
        } else {
          diag('section-missing-gt', `<${sectionName(sname)}> directive missing closing '>'`, map.span(a, b));
        }
      }
      while (argEnd > restStart && isSpace(s.charCodeAt(argEnd - 1))) argEnd--;
      const args = readArgs(text, s, restStart, argEnd, map, source, diag);
      const nameOff = wq === null ? 1 : 2;
      const named = sname.length > 0 && !wo;
      const lineStart = map.off(a);
      const lineEnd = map.endOff(b);
      const dir = new ApacheSection(
        sname,
        key,
        args,
        [],
        source,
        named ? map.off(w0 + nameOff) : nameStart,
        named ? map.endOff(w0 + nameOff + sname.length) : nameEnd,
        lineEnd,
        lineStart,
      );
      if (sname.length === 0) {
        diag('bad-section', `Invalid command '${word}': a section needs a name`, spanAt(source, nameStart, nameEnd));
      } else if (args.length === 0 && NEEDS_ARGS.has(key)) {
        diag('section-missing-args', `<${sectionName(sname)}> directive requires additional arguments`, map.span(a, b));
      }
      if (checkUnknown && skipDepth === 0 && sname.length > 0 && isUnknown('<' + key)) {
        diag('unknown-directive', unknownApacheMessage('<' + sname, htaccess, extra), spanAt(source, nameStart, nameEnd));
      }
      append(dir);
      const conditional = CONDITIONAL.has(key);
      const skips = skipsBody(dir, opts.modules);
      if (skips) skipDepth++;
      stack.push({ dir, lineStart, lineEnd, conditional, skips });
      continue;
    }

    // ---- simple directive --------------------------------------------------------------------
    const args = readArgs(text, s, restStart, b, map, source, diag);
    // the directive ends where its last argument ends
    const end = args.length > 0 ? (args[args.length - 1] as ApacheArg).eo : nameEnd;
    const dir = new ApacheDirective(word, lowerKey(word), args, null, source, nameStart, nameEnd, end, -1);
    if (checkUnknown && skipDepth === 0 && isUnknown(dir.key)) {
      diag('unknown-directive', unknownApacheMessage(word, htaccess, extra), spanAt(source, nameStart, nameEnd));
    }
    if (args.length > 0 && args[0].quote === null && args[0].value === '=') {
      diag(
        'assignment-syntax',
        `'${word} = …' is not Apache httpd syntax: httpd takes '=' as the first argument of ${word} (write '${word} value')`,
        args[0].span,
        'warning',
      );
    }
    append(dir);
  }

  // ---- sections never closed ------------------------------------------------------------------
  if (stack.length > 0) {
    const eof = n;
    for (let k = stack.length - 1; k >= 0; k--) {
      const f = stack[k];
      const shown = sectionDisplay(f.dir);
      if (READ_TO_EOF.has(f.dir.key)) {
        // ap_build_cont_config stops quietly at the end of the file when the condition holds;
        // ap_soak_end_container fails when it does not.
        diag(
          'unclosed-section',
          `<${shown}> was not closed. httpd accepts this only while the condition holds; otherwise: Expected </${shown}> before end of configuration`,
          spanAt(source, f.lineStart, f.lineEnd),
          'warning',
        );
      } else {
        diag('unclosed-section', `<${shown}> was not closed.`, spanAt(source, f.lineStart, f.lineEnd));
      }
      closeFrame(f, eof);
    }
  }

  const before = errors.length;
  checkAuthz(top, context !== 'server', (d) => skipsBody(d, opts.modules), file, errors);
  if (errors.length > before) errors.sort((x, y) => x.span.start.offset - y.span.start.offset);

  if (source.bom) {
    // httpd has no BOM handling: the three bytes start the first line's command (apache2 -t fails,
    // an .htaccess answers 500)
    const word = /^[^\s]*/.exec(text)![0].slice(0, 40);
    const start = { offset: 0, line: 1, column: 1 };
    errors.unshift({
      code: 'bom',
      message: `the file starts with a UTF-8 byte order mark, which httpd reads as part of the first line (Invalid command '\\xef\\xbb\\xbf${word}'): save it without the BOM`,
      file,
      span: { start, end: start },
      severity: 'error',
    });
  }
  // at their length (an array grown by push has room for 17 nodes)
  const out: ParsedFile = { server: 'apache', source, nodes: top.slice(), errors, context };
  if (opts.htaccessDir !== undefined) out.htaccessDir = opts.htaccessDir;
  return out;
}

/** httpd may skip the body of section `d` unread: a conditional section whose condition why403
 * cannot tell (or, for `<IfModule>`, that does not hold, see ifModuleHolds). */
function skipsBody(d: Directive, modules: readonly string[] | undefined): boolean {
  if (!CONDITIONAL.has(d.key)) return false;
  return !(d.key === 'ifmodule' && d.args.length === 1 && ifModuleHolds(d.args[0].value, modules));
}

/** The section ends at offset `end` (its block too); its block is kept at its length. */
function closeFrame(f: Frame, end: number): void {
  f.dir.eo = end;
  f.dir.block = (f.dir.block as Node[]).slice();
}

/** The section name as httpd prints it: its canonical spelling when it is a known one. */
function sectionDisplay(d: Directive): string {
  return sectionName(d.name);
}

function sectionName(name: string): string {
  const info = apacheDirective('<' + name.toLowerCase());
  return info ? info.name.slice(1) : name;
}

/** readArgs' arguments before they are copied at their length (the array is reused). */
const argScratch: Arg[] = [];

function readArgs(
  text: string,
  s: string,
  i: number,
  b: number,
  map: LineMap,
  source: SourceFile,
  diag: (code: string, message: string, span: Span, severity?: 'error' | 'warning') => void,
): Arg[] {
  if (i >= b) return [];
  let k = 0;
  while (i < b) {
    readWord(s, i, b);
    const so = map.off(wStart);
    const eo = wEnd > wStart ? map.endOff(wEnd) : so;
    // raw is the exact source text (a continued argument keeps its `\` and line break)
    const raw = !map.identity ? text.slice(so, eo) : wPlain ? wValue : s.slice(wStart, wEnd);
    const arg = raw === wValue ? new ApacheArg(wValue, source, so, eo) : new ApacheRawArg(wValue, raw, source, so, eo);
    argScratch[k++] = arg;
    if (wOpen) {
      diag(
        'unterminated-quote',
        `missing closing ${wQuote} quote: Apache takes the rest of the line as this argument`,
        arg.span,
        'warning',
      );
    }
    i = wEnd;
    while (i < b && isSpace(s.charCodeAt(i))) i++;
  }
  const args = argScratch.slice(0, k);
  argScratch.fill(undefined as unknown as Arg, 0, k);
  return args;
}
