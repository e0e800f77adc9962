/**
 * The rewrite module (SERVER_REWRITE and REWRITE phases): `if`, `return`, `break`, `set`, `rewrite`,
 * run in config order; an `if` that holds makes its block's configuration the request's from there on.
 */
import type { Directive } from '../../../ast.js';
import type { CauseId } from '../../../causes.js';
import { isUnknown, matchRegex, toBinary, translatePcre } from '../regex.js';
import type { IfScope, Scope } from '../tree.js';
import { ifCondition, condText, setVariable } from '../vars.js';
import type { ReqState, Sim } from './context.js';
import { done, error } from './errors.js';
import { at, type Outcome } from './types.js';

export interface RewriteStop {
  kind: 'return';
  code: number;
  text: string | null;
  directive: Directive;
}

/** A directive of the rewrite module in a scope's body, with the scope of an `if` block. */
interface RewriteCode {
  d: Directive;
  ifs: IfScope | null;
}
const REWRITE_DIRECTIVES = new Set(['return', 'break', 'set', 'rewrite']);
const rewriteCodes = new WeakMap<Scope, RewriteCode[]>();

/** The directives of `scope`'s body the rewrite phases run, in config order (the `if` blocks with
 * their scope), listed once per scope (the model does not change): every (internal) request through
 * a scope ran over all of its body, and looked its `if` scopes up, each time. */
function codeOf(scope: Scope): RewriteCode[] {
  let list = rewriteCodes.get(scope);
  if (list) return list;
  list = [];
  for (const d of scope.body) {
    if (d.name === 'if' && d.block) {
      const ifs = scope.ifs.find((x) => x.block === d);
      if (ifs) list.push({ d, ifs });
    } else if (!d.block && REWRITE_DIRECTIVES.has(d.name)) list.push({ d, ifs: null });
  }
  rewriteCodes.set(scope, list);
  return list;
}

export function rewrite(sim: Sim, scope: Scope, st: ReqState, phase: string): { conf: Scope; stop?: RewriteStop; last?: boolean } {
  let conf: Scope = scope;
  let changed = false;
  const exec = (owner: Scope): RewriteStop | 'break' | 'last' | null => {
    for (const { d, ifs } of codeOf(owner)) {
      if (ifs) {
        const v = ifCondition(sim, d, st, phase);
        if (v === false) {
          if (sim.tracing) sim.step(phase, `if (${condText(d)}) is false`, d);
          continue;
        }
        if (sim.tracing) sim.step(phase, `if (${condText(d)}) is true: its block's configuration applies from here on`, d);
        conf = ifs;
        const res = exec(ifs);
        if (res) return res;
        continue;
      }
      switch (d.name) {
        case 'return': {
          const a = d.args.map((x) => x.value);
          let code: number;
          let text: string | null = null;
          if (/^[0-9]+$/.test(a[0] ?? '')) {
            code = Number(a[0]);
            text = a[1] ?? null;
            if (code > 999) {
              // nginx -t: "invalid return code" (ngx_http_rewrite_return); the server does not start
              sim.r.unknown.push(`return ${a[0]}: nginx rejects a return code above 999, so this configuration does not load`);
              if (sim.tracing) sim.step(phase, `return ${a[0]}: not a valid return code`, d);
              sim.stop(null, 'unknown');
            }
          } else {
            code = 302;
            text = a[0] ?? '';
          }
          const t = text === null ? null : sim.expand(text, st, phase);
          if (sim.tracing) sim.step(phase, `return ${code}${text !== null ? ` "${text}"` : ''}`, d);
          return { kind: 'return', code, text: t === undefined ? '?' : t, directive: d };
        }
        case 'break':
          if (sim.tracing) sim.step(phase, 'break: no further rewrite directives run', d);
          return 'break';
        case 'set':
          setVariable(sim, d, st, phase);
          continue;
        case 'rewrite': {
          const res = rewriteDirective(sim, d, st, phase);
          if (res === null) continue;
          changed = true;
          if (typeof res === 'object') return res;
          if (res === 'last' || res === 'break') return res;
          continue;
        }
        default:
          continue;
      }
    }
    return null;
  };
  const res = exec(scope);
  if (res && typeof res === 'object') return { conf, stop: res };
  if (res === 'last') return { conf, last: phase === 'rewrite' };
  if (res === 'break') return { conf };
  return { conf, last: changed && phase === 'rewrite' };
}

/** One `rewrite regex replacement [flag]`: null when it does not match. */
function rewriteDirective(sim: Sim, d: Directive, st: ReqState, phase: string): RewriteStop | 'last' | 'break' | 'changed' | null {
  const [pattern, replacement, flag] = d.args.map((a) => a.value);
  if (pattern === undefined || replacement === undefined) return null;
  const v = translatePcre(pattern, false, d);
  let caps: (string | undefined)[] = [];
  let named: Record<string, string | undefined> = {};
  const m = v.ok ? matchRegex(v, st.uri) : null;
  const why = !v.ok ? v.reason : m && isUnknown(m) ? m.unknown : null;
  if (why !== null) {
    const i = sim.r.choose(`rewrite:${at(d)}:${st.uri}`, [
      `rewrite regex "${pattern}" matches (it cannot be evaluated: ${why})`,
      `rewrite regex "${pattern}" does not match`,
    ]);
    if (i === 1) return null;
  } else {
    if (!m || isUnknown(m)) {
      if (sim.tracing) sim.step(phase, `rewrite ${pattern} does not match`, d);
      return null;
    }
    caps = m.captures;
    named = m.named;
  }
  st.captures = caps;
  st.named = named;
  for (const [k, val] of Object.entries(named)) if (val !== undefined) st.vars.set(k, val);
  const out = sim.expand(replacement, st, phase) ?? '?';
  const isUrl = /^(https?:\/\/|\$scheme)/.test(replacement);
  if (isUrl || flag === 'redirect' || flag === 'permanent') {
    const code = flag === 'permanent' ? 301 : 302;
    if (sim.tracing) sim.step(phase, `rewrite redirects (${code}) to "${out}"`, d);
    return { kind: 'return', code, text: out, directive: d };
  }
  let uri = out;
  let args = st.args;
  const q = uri.indexOf('?');
  if (q !== -1) {
    args = uri.slice(q + 1) + (uri.endsWith('?') ? '' : st.args ? '&' + st.args : '');
    if (uri.endsWith('?')) args = uri.slice(q + 1, -1) || null;
    uri = uri.slice(0, q);
  }
  st.uri = toBinary(uri);
  st.args = args;
  st.internal = true;
  if (sim.tracing) sim.step(phase, `rewrite changes $uri to "${uri}"${flag ? ` (${flag})` : ''}`, d);
  if (flag === 'last') return 'last';
  if (flag === 'break') return 'break';
  return 'changed';
}

/** A `return` (or a redirecting `rewrite`) ends the request. */
export function finalizeRewriteStop(sim: Sim, s: RewriteStop, st: ReqState, conf: Scope, depth: number): Outcome {
  const { code, text } = s;
  const cause: CauseId | null = code === 403 ? 'N06' : null;
  if (code === 444) sim.stop(null, 'close');
  if ([301, 302, 303, 307, 308].includes(code)) return done(sim, code, 'redirect', st);
  if (code >= 400 && text === null) return error(sim, code, st, conf, depth, 'return', cause);
  return done(sim, code, 'return', st, cause);
}
