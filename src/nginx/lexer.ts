/**
 * The nginx tokenizer, following ngx_conf_read_token (src/core/ngx_conf_file.c, nginx 1.22):
 *
 * - Whitespace is space, tab, CR and LF. `;`, `{` and `}` are tokens only where a word may start;
 *   inside an unquoted word only whitespace, `;` and `{` end it (so `foo}` is one word, and `${var}`
 *   stays one word because a `{` right after `$` does not end it).
 * - A quote starts a quoted word only where a word may start (`a"b"` is one plain word). After the
 *   closing quote nginx wants whitespace, `;`, `{` or `)`; anything else is `unexpected "X"`.
 * - A backslash makes the next character ordinary, in and out of quotes. The value of every word is
 *   then unescaped the same way: `\"`, `\'`, `\\` lose the backslash, `\t`, `\r`, `\n` become control
 *   characters, any other backslash stays.
 * - `#` starts a comment only where a word may start (`a#b` is a word).
 * - A token of 4096 bytes or more is `too long parameter` (nginx reads through a 4 KiB buffer);
 *   this holds for comments too.
 *
 * The lexer is a cursor: `next()` returns a kind and leaves the token's data in public fields, so no
 * object is made per token. Positions are tracked incrementally (line, start of line).
 */
import type { Diagnostic, Position, Span } from '../ast.js';
import { CompactSpan, type SourceFile } from '../source.js';

export const enum Tok {
  EOF = 0,
  Word = 1,
  Semi = 2,
  LBrace = 3,
  RBrace = 4,
  Comment = 5,
}

/** nginx's NGX_CONF_BUFFER: a token this many bytes long does not fit. */
export const NGX_CONF_BUFFER = 4096;

const SP = 32;
const TAB = 9;
const CR = 13;
const LF = 10;
const SEMI = 59;
const LBRACE = 123;
const RBRACE = 125;
const HASH = 35;
const DQ = 34;
const SQ = 39;
const BSL = 92;
const DOLLAR = 36;
const RPAREN = 41;

/** nginx's unescaping of a word (the copy loop at the end of ngx_conf_read_token). */
export function unescapeNginx(s: string): string {
  let i = s.indexOf('\\');
  if (i === -1) return s;
  let out = '';
  let from = 0;
  const n = s.length;
  while (i !== -1 && i < n - 1) {
    const c = s.charCodeAt(i + 1);
    let rep: string | null = null;
    if (c === DQ || c === SQ || c === BSL) rep = s[i + 1];
    else if (c === 116 /* t */) rep = '\t';
    else if (c === 114 /* r */) rep = '\r';
    else if (c === 110 /* n */) rep = '\n';
    if (rep !== null) {
      out += s.slice(from, i) + rep;
      from = i + 2;
      i = s.indexOf('\\', from);
    } else {
      // the backslash is copied and the next character is looked at on its own
      i = s.indexOf('\\', i + 1);
    }
  }
  return out + s.slice(from);
}

/** UTF-8 length of s[from, to) (lone surrogates from undecodable bytes count one byte each). */
export function utf8Length(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else if (c >= 0xdc80 && c <= 0xdcff) n += 1;
    else n += 3;
  }
  return n;
}

function isSpace(c: number): boolean {
  return c === SP || c === TAB || c === LF || c === CR;
}

function describeChar(c: string): string {
  return c;
}

export class NginxLexer {
  readonly text: string;
  readonly source: SourceFile;
  readonly errors: Diagnostic[];
  private pos = 0;
  private line = 1;
  private lineStart = 0;

  // Data of the last token returned by next().
  /** Offsets of the token (for a word: including its quotes; for a comment: from `#`). */
  start = 0;
  end = 0;
  startLine = 1;
  startCol = 1;
  endLine = 1;
  endCol = 1;
  /** The quote of a quoted word, or 0. */
  quote = 0;
  /** A quoted word that reached the end of the file without its closing quote. */
  unterminated = false;

  constructor(source: SourceFile, errors: Diagnostic[]) {
    this.source = source;
    this.text = source.text;
    this.errors = errors;
  }

  /** Current line/column tracking, for the parser's end-of-file diagnostics. */
  eofPosition(): Position {
    return { offset: this.text.length, line: this.line, column: this.text.length - this.lineStart + 1 };
  }

  startPosition(): Position {
    return { offset: this.start, line: this.startLine, column: this.startCol };
  }

  endPosition(): Position {
    return { offset: this.end, line: this.endLine, column: this.endCol };
  }

  span(): Span {
    return new CompactSpan(this.start, this.startLine, this.startCol, this.end, this.endLine, this.endCol);
  }

  /** Raw text and value of the last word; the same string when they are equal (no quotes, no
   * backslash), so a plain word costs one slice. */
  word(): void {
    const raw = this.text.slice(this.start, this.end);
    this.wordRaw = raw;
    this.wordValue = this.quote === 0 ? (raw.indexOf('\\') === -1 ? raw : unescapeNginx(raw)) : this.value();
  }
  /** Set by word(). */
  wordRaw = '';
  wordValue = '';

  /** The value of the last word (quotes removed, nginx's unescaping applied). */
  value(): string {
    if (this.quote !== 0) {
      const inner = this.text.slice(this.start + 1, this.unterminated ? this.end : this.end - 1);
      return unescapeNginx(inner);
    }
    return unescapeNginx(this.text.slice(this.start, this.end));
  }

  raw(): string {
    return this.text.slice(this.start, this.end);
  }

  /** Text of the last comment, after the `#`. */
  commentText(): string {
    return this.text.slice(this.start + 1, this.end);
  }

  /** Move the cursor (used after a raw Lua block); line/lineStart must describe `to`. */
  seek(to: number, line: number, lineStart: number): void {
    this.pos = to;
    this.line = line;
    this.lineStart = lineStart;
  }

  get cursor(): number {
    return this.pos;
  }

  get cursorLine(): number {
    return this.line;
  }

  get cursorLineStart(): number {
    return this.lineStart;
  }

  private error(code: string, message: string, from: number, fromLine: number, fromLineStart: number, to: number): void {
    const start = { offset: from, line: fromLine, column: from - fromLineStart + 1 };
    // `to` is on the same line as `from` for every caller
    const end = { offset: to, line: fromLine, column: to - fromLineStart + 1 };
    this.errors.push({ code, message, file: this.source.path, span: { start, end }, severity: 'error' });
  }

  private checkLength(contentFrom: number, contentTo: number, quoted: boolean): void {
    const len = contentTo - contentFrom;
    if (len * 3 < NGX_CONF_BUFFER) return;
    if (len < NGX_CONF_BUFFER && utf8Length(this.text, contentFrom, contentTo) < NGX_CONF_BUFFER) return;
    const endOnLine = this.startLine === this.endLine ? this.end : this.lineStartOf(this.startLine, this.start);
    if (quoted) {
      const q = this.text[this.start];
      this.error(
        'too-long-parameter',
        `too long parameter, probably missing terminating "${q}" character`,
        this.start,
        this.startLine,
        this.start - this.startCol + 1,
        endOnLine,
      );
    } else {
      this.error(
        'too-long-parameter',
        `too long parameter "${this.text.slice(this.start, this.start + 10)}..." started`,
        this.start,
        this.startLine,
        this.start - this.startCol + 1,
        endOnLine,
      );
    }
  }

  /** End of the line `line` that holds offset `at`. */
  private lineStartOf(_line: number, at: number): number {
    const i = this.text.indexOf('\n', at);
    return i === -1 ? this.text.length : i;
  }

  next(): Tok {
    const t = this.text;
    const n = t.length;
    let i = this.pos;
    // skip whitespace
    for (;;) {
      if (i >= n) {
        this.pos = i;
        this.start = this.end = i;
        this.startLine = this.endLine = this.line;
        this.startCol = this.endCol = i - this.lineStart + 1;
        this.quote = 0;
        return Tok.EOF;
      }
      const c = t.charCodeAt(i);
      if (c === LF) {
        this.line++;
        this.lineStart = i + 1;
        i++;
      } else if (c === SP || c === TAB || c === CR) i++;
      else break;
    }
    this.start = i;
    this.startLine = this.line;
    this.startCol = i - this.lineStart + 1;
    this.quote = 0;
    this.unterminated = false;
    const c = t.charCodeAt(i);
    if (c === SEMI || c === LBRACE || c === RBRACE) {
      this.pos = this.end = i + 1;
      this.endLine = this.line;
      this.endCol = this.startCol + 1;
      return c === SEMI ? Tok.Semi : c === LBRACE ? Tok.LBrace : Tok.RBrace;
    }
    if (c === HASH) {
      let j = t.indexOf('\n', i);
      if (j === -1) j = n;
      let e = j;
      if (e > i && t.charCodeAt(e - 1) === CR) e--;
      this.pos = j;
      this.end = e;
      this.endLine = this.line;
      this.endCol = e - this.lineStart + 1;
      // nginx keeps the `#` and the line feed in its buffer
      this.checkLength(i, j + 1 > n ? n : j + 1, false);
      return Tok.Comment;
    }
    if (c === DQ || c === SQ) {
      this.quote = c;
      let j = i + 1;
      for (;;) {
        if (j >= n) {
          this.unterminated = true;
          break;
        }
        const d = t.charCodeAt(j);
        if (d === c) break;
        if (d === BSL) {
          if (j + 1 < n && t.charCodeAt(j + 1) === LF) {
            this.line++;
            this.lineStart = j + 2;
          }
          j += 2;
          continue;
        }
        if (d === LF) {
          this.line++;
          this.lineStart = j + 1;
        }
        j++;
      }
      if (j > n) j = n;
      this.end = this.unterminated ? n : j + 1;
      this.pos = this.end;
      this.endLine = this.line;
      this.endCol = this.end - this.lineStart + 1;
      this.checkLength(i + 1, j, true);
      if (!this.unterminated && this.end < n) {
        const d = t.charCodeAt(this.end);
        if (!(isSpace(d) || d === SEMI || d === LBRACE || d === RPAREN)) {
          this.error('unexpected-char', `unexpected "${describeChar(t[this.end])}"`, this.end, this.line, this.lineStart, this.end + 1);
        }
      }
      return Tok.Word;
    }
    // plain word
    let j = i;
    for (;;) {
      if (j >= n) break;
      const d = t.charCodeAt(j);
      if (d === SP || d === TAB || d === LF || d === CR || d === SEMI || d === LBRACE) break;
      if (d === BSL) {
        if (j + 1 < n && t.charCodeAt(j + 1) === LF) {
          this.line++;
          this.lineStart = j + 2;
        }
        j += 2;
        continue;
      }
      if (d === DOLLAR && j + 1 < n && t.charCodeAt(j + 1) === LBRACE) {
        j += 2;
        continue;
      }
      j++;
    }
    if (j > n) j = n;
    this.pos = this.end = j;
    this.endLine = this.line;
    this.endCol = j - this.lineStart + 1;
    this.checkLength(i, j, false);
    return Tok.Word;
  }
}

/** A token as a plain object (for tests and tools; the parser uses the cursor directly). */
export interface Token {
  kind: 'word' | ';' | '{' | '}' | 'comment';
  raw: string;
  value: string;
  quote: '"' | "'" | null;
  span: Span;
}

/** All tokens of a source, with the lexer's diagnostics. */
export function tokenize(source: SourceFile): { tokens: Token[]; errors: Diagnostic[] } {
  const errors: Diagnostic[] = [];
  const lx = new NginxLexer(source, errors);
  const tokens: Token[] = [];
  for (;;) {
    const k = lx.next();
    if (k === Tok.EOF) break;
    const kind = k === Tok.Word ? 'word' : k === Tok.Semi ? ';' : k === Tok.LBrace ? '{' : k === Tok.RBrace ? '}' : 'comment';
    tokens.push({
      kind,
      raw: lx.raw(),
      value: k === Tok.Word ? lx.value() : k === Tok.Comment ? lx.commentText() : lx.raw(),
      quote: lx.quote === DQ ? '"' : lx.quote === SQ ? "'" : null,
      span: lx.span(),
    });
  }
  return { tokens, errors };
}
