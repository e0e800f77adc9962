/**
 * httpd's ap_expr (https://httpd.apache.org/docs/2.4/expr.html) for the conditions written in a config:
 * `<If>`/`<ElseIf>` arguments and `Require expr` lines. `exprOf` parses a directive's expression once
 * and maps offsets in the expression back to line and column in the config file.
 */
import type { Directive } from '../../ast.js';
import type { Cond, ExprError } from './ast.js';
import { parseExpr } from './parser.js';

export { parseExpr, EXPR_FUNCS, EXPR_VARS } from './parser.js';
export { evaluateExpr, type ExprContext, type ExprResult, type ExprStep, type Value, type Unknown } from './evaluate.js';
export type { Cond, ExprError, Word } from './ast.js';

export interface DirectiveExpr {
  /** The expression text httpd parses. */
  text: string;
  cond: Cond | null;
  /** Why httpd refuses the config (null when it parses). */
  error: ExprError | null;
  /** Line and column in the directive's file of an offset in `text`. */
  at(offset: number): { line: number; column: number };
}

const cache = new WeakMap<object, DirectiveExpr>();

function build(d: Directive, text: string, base: number | null): Omit<DirectiveExpr, 'cond' | 'error'> {
  const src = d.source;
  const fallback = d.args[0]?.span.start ?? d.span.start;
  return {
    text,
    at(offset: number) {
      if (base === null || !src || typeof src.positionAt !== 'function') return { line: fallback.line, column: fallback.column };
      const p = src.positionAt(base + Math.max(0, Math.min(offset, text.length)));
      return { line: p.line, column: p.column };
    },
  };
}

/** The expression of an `<If>`/`<ElseIf>` section (core.c ifsection: the first argument, quotes removed). */
export function sectionExpr(d: Directive): DirectiveExpr {
  const a = d.args[0];
  const key = a ?? d;
  const hit = cache.get(key);
  if (hit) return hit;
  let out: DirectiveExpr;
  if (!a) {
    out = {
      ...build(d, '', null),
      cond: null,
      error: { message: `<${d.name.replace(/^</, '')}> directive requires additional arguments`, offset: 0 },
    };
  } else {
    const exact = a.quote ? a.raw === a.quote + a.value + a.quote : a.raw === a.value;
    const base = exact ? a.span.start.offset + (a.quote ? 1 : 0) : null;
    const r = parseExpr(a.value);
    let error = r.ok ? null : r.error;
    if (!error && d.args.length > 1)
      error = { message: `Multiple <${d.name.replace(/^</, '')}> arguments not supported.`, offset: a.value.length };
    out = { ...build(d, a.value, base), cond: r.ok ? r.cond : null, error };
  }
  cache.set(key, out);
  return out;
}

/** The expression of `Require expr …` (mod_authz_core: the rest of the line, one pair of surrounding
 * double quotes removed). */
export function requireExpr(d: Directive): DirectiveExpr {
  const first = d.args[1];
  const key = first ?? d;
  const hit = cache.get(key);
  if (hit) return hit;
  let out: DirectiveExpr;
  if (!first) {
    out = {
      ...build(d, '', null),
      cond: null,
      error: { message: 'Cannot parse expression in require line: syntax error, unexpected $end', offset: 0 },
    };
  } else {
    const last = d.args[d.args.length - 1];
    let text: string;
    let base: number | null = first.span.start.offset;
    const raw = d.source?.text?.slice(first.span.start.offset, last.span.end.offset);
    if (raw === undefined || raw.includes('${') || /\\\r?\n/.test(raw)) {
      text = d.args
        .slice(1)
        .map((x) => x.value)
        .join(' ');
      base = null;
    } else text = raw;
    if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
      text = text.slice(1, -1);
      if (base !== null) base += 1;
    }
    const r = parseExpr(text);
    out = {
      ...build(d, text, base),
      cond: r.ok ? r.cond : null,
      error: r.ok ? null : { message: `Cannot parse expression in require line: ${r.error.message}`, offset: r.error.offset },
    };
  }
  cache.set(key, out);
  return out;
}
