/**
 * The ap_expr evaluator (server/util_expr_eval.c) over three values: true, false and unknown (a value
 * the simulator was not told: the disk without --fs, DNS, the server's OS environment, the clock).
 * `&&` and `||` short-circuit as httpd does, and an unknown side decides nothing only when the other
 * side cannot decide alone. Every leaf comparison becomes a step with its offsets and its value.
 * Regexes run on src/regex-engine.ts (bounded) through the model's compilePcre.
 */
import { createHash } from 'node:crypto';
import { isUnknown } from '../../regex-engine.js';
import { parseSubnet, subnetMatches } from '../model/net.js';
import { compilePcre, fnmatch } from '../model/regex.js';
import type { Cond, Word } from './ast.js';

export type Unknown = { unknown: string };
export type Value = string | Unknown;

/** What the evaluator asks the simulator. */
export interface ExprContext {
  /** `%{NAME}` (upper-case name). */
  variable(name: string): Value;
  /** A lookup function: req, http, req_novary, resp, reqenv, env, osenv, note (lower-case name). */
  lookup(func: string, arg: string): Value;
  /** -d -e -f -s -L -h -x on a path. */
  fileTest(op: string, path: string): boolean | Unknown;
  /** The client address (for -R). */
  remoteIp: string;
}

export interface ExprStep {
  /** Offsets of the evaluated part in the expression text. */
  start: number;
  end: number;
  /** The values it compared and its result, in words. */
  detail: string;
  value: boolean | null;
}

export interface ExprResult {
  value: boolean | null;
  /** Why the value is unknown (or why a part was). */
  unknowns: string[];
  steps: ExprStep[];
  /** Variables the expression read (upper-case), e.g. to know that REMOTE_USER was needed. */
  vars: Set<string>;
}

const u = (v: Value): v is Unknown => typeof v !== 'string';
const show = (s: string) => JSON.stringify(s.length > 120 ? `${s.slice(0, 117)}…` : s);

class Evaluator {
  steps: ExprStep[] = [];
  unknowns: string[] = [];
  vars = new Set<string>();
  captures: string[] = [];

  constructor(
    readonly text: string,
    readonly ctx: ExprContext,
  ) {}

  src(x: { start: number; end: number }) {
    return this.text.slice(x.start, x.end);
  }

  unknown(v: Unknown) {
    if (!this.unknowns.includes(v.unknown)) this.unknowns.push(v.unknown);
  }

  word(w: Word): Value {
    switch (w.type) {
      case 'digits':
        return w.value;
      case 'string': {
        let out = '';
        for (const p of w.parts) {
          const v = p.type === 'text' ? p.value : this.word(p);
          if (u(v)) return v;
          out += v;
        }
        return out;
      }
      case 'var':
        this.vars.add(w.name.toUpperCase());
        return this.ctx.variable(w.name.toUpperCase());
      case 'varfunc':
        return this.func(w.func.toLowerCase(), w.arg);
      case 'backref':
        return this.captures[w.n] ?? '';
      case 'func': {
        const a = this.word(w.arg);
        return u(a) ? a : this.func(w.name, a);
      }
      case 'concat': {
        const l = this.word(w.left);
        if (u(l)) return l;
        const r = this.word(w.right);
        return u(r) ? r : l + r;
      }
    }
  }

  func(name: string, arg: string): Value {
    switch (name) {
      case 'tolower':
        return arg.toLowerCase();
      case 'toupper':
        return arg.toUpperCase();
      case 'escape':
        return arg.replace(/[^A-Za-z0-9\-_.~/:@!$&'()*+,;=]/g, (c) => encodeURIComponent(c));
      case 'unescape':
        try {
          return decodeURIComponent(arg);
        } catch {
          return { unknown: `unescape(${show(arg)}): bad %-encoding` };
        }
      case 'base64':
        return Buffer.from(arg, 'utf8').toString('base64');
      case 'unbase64':
        return Buffer.from(arg, 'base64').toString('utf8');
      case 'md5':
        return createHash('md5').update(arg).digest('hex');
      case 'sha1':
        return createHash('sha1').update(arg).digest('hex');
      case 'file':
      case 'filesize':
      case 'ldap':
        return { unknown: `${name}(${show(arg)}) is not evaluated` };
      default:
        return this.ctx.lookup(name, arg);
    }
  }

  step(c: { start: number; end: number }, detail: string, value: boolean | null): boolean | null {
    this.steps.push({ start: c.start, end: c.end, detail, value });
    return value;
  }

  /** Show a word's value in a step when it is not a literal. */
  said(w: Word, v: string): string {
    return w.type === 'digits' || (w.type === 'string' && w.parts.every((p) => p.type === 'text')) ? '' : `${this.src(w)} = ${show(v)}; `;
  }

  cond(c: Cond): boolean | null {
    switch (c.type) {
      case 'bool':
        return c.value;
      case 'not': {
        const v = this.cond(c.arg);
        return v === null ? null : !v;
      }
      case 'and': {
        const l = this.cond(c.left);
        if (l === false) return false;
        const r = this.cond(c.right);
        if (r === false) return false;
        return l === null || r === null ? null : true;
      }
      case 'or': {
        const l = this.cond(c.left);
        if (l === true) return true;
        const r = this.cond(c.right);
        if (r === true) return true;
        return l === null || r === null ? null : false;
      }
      case 'unary':
        return this.unary(c);
      case 'binary':
        return this.binary(c);
      case 'match': {
        const l = this.word(c.left);
        if (u(l)) return this.fail(c, l);
        const re = compilePcre(c.regex.source, c.regex.flags.includes('i'));
        if (!re.ok) return this.fail(c, { unknown: re.reason });
        const m = re.re.exec(l);
        if (m && isUnknown(m)) return this.fail(c, { unknown: `regex ${c.regex.source} on ${show(l)}: ${m.unknown}` });
        if (m) this.captures = m.captures.map((x) => x ?? '');
        const v = !!m !== c.negate;
        const caps =
          m && m.captures.length > 1
            ? ` (captures ${m.captures
                .slice(1)
                .map((x, i) => `$${i + 1}=${show(x ?? '')}`)
                .join(', ')})`
            : '';
        return this.step(c, `${this.said(c.left, l)}${c.negate ? '!~' : '=~'} ${this.src(c.regex)} → ${v}${caps}`, v);
      }
      case 'in': {
        const l = this.word(c.left);
        if (u(l)) return this.fail(c, l);
        let unknown: Unknown | null = null;
        for (const w of c.list) {
          const x = this.word(w);
          if (u(x)) unknown ??= x;
          else if (x === l) return this.step(c, `${this.said(c.left, l)}in the list → true`, true);
        }
        if (unknown) return this.fail(c, unknown);
        return this.step(c, `${this.said(c.left, l)}not in the list → false`, false);
      }
    }
  }

  fail(c: { start: number; end: number }, v: Unknown): null {
    this.unknown(v);
    this.step(c, `cannot be evaluated: ${v.unknown}`, null);
    return null;
  }

  unary(c: Extract<Cond, { type: 'unary' }>): boolean | null {
    const a = this.word(c.arg);
    if (u(a)) return this.fail(c, a);
    const said = this.said(c.arg, a);
    let v: boolean;
    switch (c.op) {
      case '-n':
        v = a !== '';
        break;
      case '-z':
        v = a === '';
        break;
      case '-T':
        v = !['', '0', 'off', 'false', 'no'].includes(a.toLowerCase());
        break;
      case '-R': {
        const sub = parseSubnet(a);
        if (!sub) return this.fail(c, { unknown: `-R ${show(a)}: not a subnet` });
        v = subnetMatches(sub, this.ctx.remoteIp);
        return this.step(c, `${said}client ${this.ctx.remoteIp} ${v ? 'is' : 'is not'} in ${a} → ${v}`, v);
      }
      case '-A':
      case '-U':
      case '-F':
        return this.fail(c, { unknown: `${c.op} runs a subrequest for ${show(a)}, not evaluated` });
      default: {
        const r = this.ctx.fileTest(c.op, a);
        if (typeof r !== 'boolean') return this.fail(c, r);
        v = r;
      }
    }
    return this.step(c, `${said}${c.op} → ${v}`, v);
  }

  binary(c: Extract<Cond, { type: 'binary' }>): boolean | null {
    const l = this.word(c.left);
    if (u(l)) return this.fail(c, l);
    const r = this.word(c.right);
    if (u(r)) return this.fail(c, r);
    let v: boolean;
    switch (c.op) {
      case '==':
      case '=':
        v = l === r;
        break;
      case '!=':
        v = l !== r;
        break;
      case '<':
        v = l < r;
        break;
      case '<=':
        v = l <= r;
        break;
      case '>':
        v = l > r;
        break;
      case '>=':
        v = l >= r;
        break;
      case '-ipmatch': {
        const sub = parseSubnet(r);
        if (!sub) return this.fail(c, { unknown: `-ipmatch ${show(r)}: not a subnet` });
        v = subnetMatches(sub, l);
        break;
      }
      case '-strmatch':
        v = fnmatch(r, l, false);
        break;
      case '-strcmatch':
        v = fnmatch(r.toLowerCase(), l.toLowerCase(), false);
        break;
      case '-fnmatch':
        v = fnmatch(r, l, true);
        break;
      default: {
        const a = /^\s*[+-]?\d+\s*$/.test(l) ? Number(l) : NaN;
        const b = /^\s*[+-]?\d+\s*$/.test(r) ? Number(r) : NaN;
        if (Number.isNaN(a) || Number.isNaN(b))
          return this.fail(c, { unknown: `${c.op} needs integers (${show(l)}, ${show(r)}); httpd fails the evaluation` });
        v =
          c.op === '-eq'
            ? a === b
            : c.op === '-ne'
              ? a !== b
              : c.op === '-lt'
                ? a < b
                : c.op === '-le'
                  ? a <= b
                  : c.op === '-gt'
                    ? a > b
                    : a >= b;
      }
    }
    return this.step(c, `${this.said(c.left, l)}${this.said(c.right, r)}${c.op} → ${v}`, v);
  }
}

/** Evaluate a parsed condition. `text` is the expression the offsets point into. */
export function evaluateExpr(cond: Cond, text: string, ctx: ExprContext): ExprResult {
  const e = new Evaluator(text, ctx);
  let value: boolean | null;
  try {
    value = e.cond(cond);
  } catch (x) {
    e.unknown({ unknown: `expression too deep to evaluate (${(x as Error).message})` });
    value = null;
  }
  return { value, unknowns: e.unknowns, steps: e.steps, vars: e.vars };
}
