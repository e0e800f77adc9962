/**
 * The ap_expr parser (server/util_expr_parse.y plus the checks ap_expr_parse does at config time:
 * unknown variables and functions, a regex that does not compile, a constant -ipmatch/-R subnet that
 * does not parse). A failure is what httpd reports when it refuses the config (`apache2 -t`).
 */
import { parseSubnet } from '../model/net.js';
import { compilePcre } from '../model/regex.js';
import type { BinaryOp, Cond, ExprError, UnaryOp, Word } from './ast.js';
import { Lexer, type Token } from './lexer.js';

/** Request variables ap_expr knows (util_expr_eval.c request_var_names, conn_var_names, misc_var_names). */
export const EXPR_VARS = new Set([
  'HTTP_ACCEPT',
  'HTTP_COOKIE',
  'HTTP_FORWARDED',
  'HTTP_HOST',
  'HTTP_PROXY_CONNECTION',
  'HTTP_REFERER',
  'HTTP_USER_AGENT',
  'REQUEST_METHOD',
  'REQUEST_SCHEME',
  'REQUEST_URI',
  'REQUEST_FILENAME',
  'REMOTE_HOST',
  'REMOTE_IDENT',
  'REMOTE_USER',
  'SERVER_ADMIN',
  'SERVER_NAME',
  'SERVER_PORT',
  'SERVER_PROTOCOL',
  'SCRIPT_FILENAME',
  'PATH_INFO',
  'QUERY_STRING',
  'IS_SUBREQ',
  'DOCUMENT_ROOT',
  'AUTH_TYPE',
  'THE_REQUEST',
  'CONTENT_TYPE',
  'HANDLER',
  'REQUEST_LOG_ID',
  'SCRIPT_USER',
  'SCRIPT_GROUP',
  'DOCUMENT_URI',
  'LAST_MODIFIED',
  'CONTEXT_PREFIX',
  'CONTEXT_DOCUMENT_ROOT',
  'REQUEST_STATUS',
  'REMOTE_ADDR',
  'REMOTE_PORT',
  'HTTPS',
  'IPV6',
  'CONN_LOG_ID',
  'CONN_REMOTE_ADDR',
  'TIME_YEAR',
  'TIME_MON',
  'TIME_DAY',
  'TIME_HOUR',
  'TIME_MIN',
  'TIME_SEC',
  'TIME_WDAY',
  'TIME',
  'SERVER_SOFTWARE',
  'API_VERSION',
  'HTTP2',
]);

/** String functions (util_expr_eval.c string_func_names), lower-case. */
export const EXPR_FUNCS = new Set([
  'req',
  'http',
  'req_novary',
  'resp',
  'reqenv',
  'osenv',
  'note',
  'env',
  'tolower',
  'toupper',
  'escape',
  'unescape',
  'base64',
  'unbase64',
  'md5',
  'sha1',
  'file',
  'filesize',
  'ldap',
]);

const UNARY = new Set<string>(['-d', '-e', '-f', '-s', '-L', '-h', '-x', '-A', '-U', '-F', '-n', '-z', '-T', '-R']);
const BINARY = new Set<string>([
  '==',
  '=',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  '-eq',
  '-ne',
  '-lt',
  '-le',
  '-gt',
  '-ge',
  '-ipmatch',
  '-strmatch',
  '-strcmatch',
  '-fnmatch',
]);
const WORD_INT_OPS: Record<string, BinaryOp> = { eq: '-eq', ne: '-ne', lt: '-lt', le: '-le', gt: '-gt', ge: '-ge' };

export type ParseResult = { ok: true; cond: Cond } | { ok: false; error: ExprError };

function tokText(t: Token): string {
  if (t.t === 'eof') return '$end';
  if (t.t === 'id') return `"${t.value}"`;
  if (t.t === 'op') return `"${t.value}"`;
  return 'a string';
}

class Parser {
  lx: Lexer;
  constructor(readonly text: string) {
    this.lx = new Lexer(text);
  }

  fail(message: string, offset: number): never {
    throw { message, offset } satisfies ExprError;
  }

  unexpected(t: Token, expecting?: string): never {
    this.fail(`syntax error, unexpected ${tokText(t)}${expecting ? `, expecting ${expecting}` : ''}`, t.start);
  }

  isOp(t: Token, v: string) {
    return t.t === 'op' && t.value === v;
  }

  parse(): Cond {
    const c = this.or();
    const t = this.lx.peek();
    if (t.t !== 'eof') this.unexpected(t, '$end');
    return c;
  }

  or(): Cond {
    let left = this.and();
    while (this.isOp(this.lx.peek(), '||')) {
      this.lx.next();
      const right = this.and();
      left = { type: 'or', left, right, start: left.start, end: right.end };
    }
    return left;
  }

  and(): Cond {
    let left = this.not();
    while (this.isOp(this.lx.peek(), '&&')) {
      this.lx.next();
      const right = this.not();
      left = { type: 'and', left, right, start: left.start, end: right.end };
    }
    return left;
  }

  not(): Cond {
    const t = this.lx.peek();
    if (this.isOp(t, '!')) {
      this.lx.next();
      const arg = this.not();
      return { type: 'not', arg, start: t.start, end: arg.end };
    }
    return this.primary();
  }

  primary(): Cond {
    const t = this.lx.peek();
    if (t.t === 'id' && (t.value === 'true' || t.value === 'false')) {
      this.lx.next();
      return { type: 'bool', value: t.value === 'true', start: t.start, end: t.end };
    }
    if (this.isOp(t, '(')) {
      this.lx.next();
      const c = this.or();
      const close = this.lx.next();
      if (!this.isOp(close, ')')) this.unexpected(close, '")"');
      return { ...c, start: t.start, end: close.end };
    }
    if (t.t === 'op' && t.value.startsWith('-') && !BINARY.has(t.value)) {
      this.lx.next();
      if (!UNARY.has(t.value)) this.fail(`Unary operator '${t.value}' does not exist`, t.start);
      const arg = this.word();
      if (t.value === '-R') this.checkSubnet(arg);
      return { type: 'unary', op: t.value as UnaryOp, arg, start: t.start, end: arg.end };
    }
    if (t.t === 'eof') this.unexpected(t);
    const left = this.word();
    const op = this.lx.next();
    if (op.t === 'op' && (op.value === '=~' || op.value === '!~')) {
      const regex = this.lx.regex();
      const re = compilePcre(regex.source, regex.flags.includes('i'));
      if (!re.ok && !/PCRE meaning is not checked/.test(re.reason)) {
        try {
          new RegExp(regex.source); // compiled only, never run: does the pattern parse at all?
        } catch {
          this.fail('Failed to compile regular expression', regex.start);
        }
      }
      return { type: 'match', negate: op.value === '!~', left, regex, start: left.start, end: regex.end };
    }
    if (op.t === 'id' && op.value === 'in') {
      const open = this.lx.next();
      if (!this.isOp(open, '{')) this.unexpected(open, '"{"');
      const list: Word[] = [this.word()];
      for (;;) {
        const n = this.lx.next();
        if (this.isOp(n, '}')) return { type: 'in', left, list, start: left.start, end: n.end };
        if (!this.isOp(n, ',')) this.unexpected(n, '"," or "}"');
        list.push(this.word());
      }
    }
    let bop: BinaryOp | null = null;
    if (op.t === 'op' && BINARY.has(op.value)) bop = op.value as BinaryOp;
    else if (op.t === 'id' && op.value in WORD_INT_OPS) bop = WORD_INT_OPS[op.value];
    else if (op.t === 'op' && op.value.startsWith('-')) this.fail(`Binary operator '${op.value}' does not exist`, op.start);
    if (!bop) this.unexpected(op);
    const right = this.word();
    if (bop === '-ipmatch') this.checkSubnet(right);
    return { type: 'binary', op: bop, left, right, start: left.start, end: right.end };
  }

  /** A constant subnet is parsed at config time (ap_expr's op_ipmatch parse hook). */
  checkSubnet(w: Word) {
    if (w.type === 'string' && w.parts.every((p) => p.type === 'text')) {
      const v = w.parts.map((p) => (p as { value: string }).value).join('');
      if (!parseSubnet(v)) this.fail('parsing of subnet/netmask failed', w.start);
    }
  }

  word(): Word {
    let left = this.atom();
    while (this.isOp(this.lx.peek(), '.')) {
      this.lx.next();
      const right = this.atom();
      left = { type: 'concat', left, right, start: left.start, end: right.end };
    }
    return left;
  }

  atom(): Word {
    const t = this.lx.next();
    if (t.t === 'word') {
      this.checkWord(t.word);
      return t.word;
    }
    if (t.t === 'id') {
      const open = this.lx.next();
      if (!this.isOp(open, '(')) this.unexpected(open, '"("');
      if (!EXPR_FUNCS.has(t.value.toLowerCase())) this.fail(`Function '${t.value}' does not exist`, t.start);
      const arg = this.word();
      const close = this.lx.next();
      if (!this.isOp(close, ')')) this.unexpected(close, '")"');
      return { type: 'func', name: t.value.toLowerCase(), arg, start: t.start, end: close.end };
    }
    this.unexpected(t);
  }

  checkWord(w: Word) {
    if (w.type === 'var') this.checkVar(w.name, w.start);
    else if (w.type === 'varfunc') {
      if (!EXPR_FUNCS.has(w.func.toLowerCase())) this.fail(`Function '${w.func}' does not exist`, w.start);
    } else if (w.type === 'string') for (const p of w.parts) if (p.type !== 'text') this.checkWord(p);
  }

  checkVar(name: string, at: number) {
    const n = name.toUpperCase();
    if (EXPR_VARS.has(n) || n.startsWith('SSL_')) return;
    this.fail(`Variable '${name}' does not exist`, at);
  }
}

/** Parse an ap_expr condition. Never throws. */
export function parseExpr(text: string): ParseResult {
  const p = new Parser(text);
  try {
    return { ok: true, cond: p.parse() };
  } catch (e) {
    if (e && typeof e === 'object' && 'offset' in e) return { ok: false, error: e as ExprError };
    return { ok: false, error: { message: `cannot parse: ${(e as Error).message}`, offset: 0 } };
  }
}
