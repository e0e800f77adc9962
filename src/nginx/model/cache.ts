/**
 * Queries over the nginx model that the rules read through `ctx.model` (src/model/index.ts), and the
 * small helpers they share: every scope of a model, and how a message names a directive.
 */
import { directiveText, type Directive } from '../../ast.js';
import { accessSegments, addressText, segmentAllows, shadowedBy } from './address.js';
import { accessList, effectiveSettings } from './settings.js';
import { type Location, type NginxModel, type Scope, type Server } from './tree.js';

/** Every scope of the model once, parents before children: http, each server, its locations (nested),
 * `if` blocks and `limit_except` blocks. */
export function scopesOf(model: NginxModel): Scope[] {
  const out: Scope[] = [];
  const visit = (s: Scope): void => {
    out.push(s);
    for (const i of s.ifs) visit(i);
    if (s.limitExcept) visit(s.limitExcept);
    for (const l of s.locations) visit(l);
  };
  out.push(model.http);
  for (const s of model.servers) visit(s);
  return out;
}

export { directiveText };

/** "line 12" when `d` is in the file of `from`, else "snippets/x.conf:12" (the last two path parts). */
export function lineOf(d: Directive, from?: Directive): string {
  if (!from || from.source.path === d.source.path) return `line ${d.nameSpan.start.line}`;
  return `${d.source.path.split('/').slice(-2).join('/')}:${d.nameSpan.start.line}`;
}

/** The server a scope belongs to (null for http). */
/** The innermost location a scope is (or is inside), null for a server or http scope. */
export function locationOf(s: Scope | null): Location | null {
  for (let x = s; x; x = x.parent) if (x.kind === 'location') return x as Location;
  return null;
}

export function serverOf(s: Scope | null): Server | null {
  for (let x = s; x; x = x.parent) if (x.kind === 'server') return x as Server;
  return null;
}

const STOPPERS = new Set(['return', 'rewrite', 'if', 'break']);

/**
 * Why every request whose configuration is `scope` gets 403 before the content phase, or null: its
 * first rewrite-module directive is `return 403` (the rewrite phase runs first), or its allow/deny
 * list refuses every IPv4 client and `satisfy any` does not pair it with auth_basic/auth_request.
 */
export function refusedBy(scope: Scope): { directive: Directive; why: string } | null {
  const stop = scope.body.find((d) => STOPPERS.has(d.name));
  if (stop?.name === 'return' && stop.args[0]?.value === '403')
    return { directive: stop, why: `\`${directiveText(stop)}\` on line ${stop.nameSpan.start.line}` };
  if (stop?.name === 'return') return null;
  const st = effectiveSettings(scope);
  if (st.access.rules.length === 0 || (st.satisfy.value === 'any' && (st.authBasic.value !== null || st.authRequest.value !== null)))
    return null;
  if (!accessSegments(st.access.rules, 'ipv4').every((x) => !segmentAllows(x))) return null;
  const d = st.access.directives.find((x) => x.name === 'deny') ?? st.access.directives[0];
  return { directive: d, why: `\`${directiveText(d)}\` on line ${d.nameSpan.start.line} refuses every client` };
}

/** An `allow` or `deny` that never matches because earlier rules of the other action in the same
 * block already match every address it names (one rule, or the union of several). */
export interface DeadAccessRule {
  node: Directive;
  /** The earlier rules that cover it, in order. */
  by: Directive[];
  /** The block the rules stand in. */
  scope: Scope;
  /** A client address the dead rule names (where the earlier rules decide instead). */
  client: string;
}

/** Every dead `action` rule of the config, once each (see nginx-shadowed-allow / -deny). */
export function deadAccessRules(model: NginxModel, action: 'allow' | 'deny'): DeadAccessRule[] {
  const out: DeadAccessRule[] = [];
  const seen = new Set<Directive>();
  for (const scope of scopesOf(model)) {
    const own = (scope.byName.get('allow')?.length ?? 0) + (scope.byName.get('deny')?.length ?? 0);
    if (own < 2) continue;
    // the scope's own allow/deny list, in order: the list it puts in force (parsed once per scope)
    const rules = accessList(scope).rules;
    rules.forEach((rule, i) => {
      const by = shadowedBy(rule, rules.slice(0, i));
      if (rule.action !== action || !by || !by.some((b) => b.action !== rule.action)) return;
      if (seen.has(rule.directive!)) return;
      seen.add(rule.directive!);
      const client = rule.v4 ? addressText(BigInt(rule.v4.addr), 'ipv4') : rule.v6 ? addressText(rule.v6.addr, 'ipv6') : '192.0.2.10';
      out.push({ node: rule.directive!, by: by.map((b) => b.directive!), scope, client });
    });
  }
  return out;
}
