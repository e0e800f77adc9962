/**
 * The ap_expr scanner (server/util_expr_scan.l): strings with interpolated `%{VAR}` and `$N`,
 * variables, back-references, digits, identifiers (function names, `true`, `false`, `in` and the
 * word forms of the integer operators), operators, and — only where the parser asks for one after
 * `=~`/`!~` — a regex literal. Offsets are into the expression text.
 */
import type { ExprError, RegexLit, StringPart, Word } from './ast.js';

export type Token =
  | { t: 'word'; word: Extract<Word, { type: 'digits' | 'string' | 'var' | 'varfunc' | 'backref' }>; start: number; end: number }
  | { t: 'id'; value: string; start: number; end: number }
  | { t: 'op'; value: string; start: number; end: number }
  | { t: 'eof'; start: number; end: number };

const OPS = ['&&', '||', '==', '!=', '=~', '!~', '<=', '>=', '=', '<', '>', '!', '(', ')', '{', '}', ',', '.'];

export class Lexer {
  pos = 0;
  private peeked: Token | null = null;

  constructor(readonly text: string) {}

  private fail(message: string, offset: number): never {
    throw { message, offset } satisfies ExprError;
  }

  peek(): Token {
    if (!this.peeked) this.peeked = this.scan();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = null;
    return t;
  }

  private skipSpace() {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  /** `%{NAME}` or `%{func:arg}` at this.pos (which points at `%`). */
  private variable(): Extract<Word, { type: 'var' | 'varfunc' }> {
    const start = this.pos;
    const close = this.text.indexOf('}', start + 2);
    if (close < 0) this.fail('Unterminated string or variable', start);
    const body = this.text.slice(start + 2, close);
    this.pos = close + 1;
    const colon = body.indexOf(':');
    const name = colon >= 0 ? body.slice(0, colon) : body;
    if (!/^[a-zA-Z][a-zA-Z0-9_]*$/.test(name)) this.fail(`syntax error: bad variable name "%{${body}}"`, start);
    if (colon >= 0) return { type: 'varfunc', func: name, arg: body.slice(colon + 1), start, end: this.pos };
    return { type: 'var', name, start, end: this.pos };
  }

  private string(quote: string): Extract<Word, { type: 'string' }> {
    const start = this.pos;
    this.pos++;
    const parts: StringPart[] = [];
    let lit = '';
    const flush = () => {
      if (lit) parts.push({ type: 'text', value: lit });
      lit = '';
    };
    for (;;) {
      if (this.pos >= this.text.length) this.fail('Unterminated string or variable', start);
      const c = this.text[this.pos];
      if (c === quote) {
        this.pos++;
        break;
      }
      if (c === '\\' && this.pos + 1 < this.text.length) {
        lit += this.text[this.pos + 1];
        this.pos += 2;
      } else if (c === '%' && this.text[this.pos + 1] === '{') {
        flush();
        parts.push(this.variable());
      } else if (c === '$' && /[0-9]/.test(this.text[this.pos + 1] ?? '')) {
        flush();
        parts.push({ type: 'backref', n: Number(this.text[this.pos + 1]), start: this.pos, end: this.pos + 2 });
        this.pos += 2;
      } else {
        lit += c;
        this.pos++;
      }
    }
    flush();
    return { type: 'string', parts, start, end: this.pos };
  }

  private scan(): Token {
    this.skipSpace();
    const start = this.pos;
    const s = this.text;
    if (start >= s.length) return { t: 'eof', start, end: start };
    const c = s[start];
    if (c === '"' || c === "'") {
      const w = this.string(c);
      return { t: 'word', word: w, start, end: this.pos };
    }
    if (c === '%' && s[start + 1] === '{') {
      const w = this.variable();
      return { t: 'word', word: w, start, end: this.pos };
    }
    if (c === '$' && /[0-9]/.test(s[start + 1] ?? '')) {
      this.pos += 2;
      return { t: 'word', word: { type: 'backref', n: Number(s[start + 1]), start, end: this.pos }, start, end: this.pos };
    }
    let m = /^[0-9]+/.exec(s.slice(start));
    if (m) {
      this.pos += m[0].length;
      return { t: 'word', word: { type: 'digits', value: m[0], start, end: this.pos }, start, end: this.pos };
    }
    m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(start));
    if (m) {
      this.pos += m[0].length;
      return { t: 'id', value: m[0], start, end: this.pos };
    }
    m = /^-[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(start));
    if (m) {
      this.pos += m[0].length;
      return { t: 'op', value: m[0], start, end: this.pos };
    }
    for (const op of OPS) {
      if (s.startsWith(op, start)) {
        this.pos += op.length;
        return { t: 'op', value: op, start, end: this.pos };
      }
    }
    this.fail(`syntax error, unexpected character "${c}"`, start);
  }

  /** A regex literal after `=~`/`!~`: `/re/flags` or `m<delim>re<delim>flags`. */
  regex(): RegexLit {
    if (this.peeked) {
      this.pos = this.peeked.start;
      this.peeked = null;
    }
    this.skipSpace();
    const start = this.pos;
    const s = this.text;
    let delim: string;
    if (s[start] === '/') {
      delim = '/';
      this.pos++;
    } else if (s[start] === 'm' && start + 1 < s.length && !/[a-zA-Z0-9_\s]/.test(s[start + 1])) {
      delim = s[start + 1];
      this.pos += 2;
    } else this.fail('syntax error: a regular expression (/…/ or m#…#) must follow =~ or !~', start);
    let src = '';
    for (;;) {
      if (this.pos >= s.length) this.fail('syntax error: unterminated regular expression', start);
      const c = s[this.pos];
      if (c === '\\' && s[this.pos + 1] === delim) {
        src += delim;
        this.pos += 2;
        continue;
      }
      if (c === delim) {
        this.pos++;
        break;
      }
      src += c;
      this.pos++;
    }
    const f = /^i?/.exec(s.slice(this.pos))![0];
    this.pos += f.length;
    return { source: src, flags: f, start, end: this.pos };
  }
}
