/**
 * One nginx model per ConfigSet, shared by every rule of a lint run (the set is immutable once
 * loaded, so a WeakMap keyed by it is safe and frees the model with the set), plus the small
 * helpers the nginx rules share: every scope of a model, and how a message names a directive.
 */
import type { ConfigSet, Directive } from '../../ast.js';
import { buildModel, type NginxModel, type Scope } from './tree.js';

const models = new WeakMap<ConfigSet, NginxModel>();

/** The model of `set`, built on first use. */
export function nginxModelFor(set: ConfigSet): NginxModel {
  let m = models.get(set);
  if (!m) {
    m = buildModel(set);
    models.set(set, m);
  }
  return m;
}

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

/** `deny all` — a directive as written, for messages. */
export function directiveText(d: Directive): string {
  return [d.name, ...d.args.map((a) => a.raw)].join(' ');
}

/** "line 12" when `d` is in the file of `from`, else "snippets/x.conf:12" (the last two path parts). */
export function lineOf(d: Directive, from?: Directive): string {
  if (!from || from.source.path === d.source.path) return `line ${d.nameSpan.start.line}`;
  return `${d.source.path.split('/').slice(-2).join('/')}:${d.nameSpan.start.line}`;
}

/** Reports each (node, message id, data) once although a snippet included in several places is met
 * in several scopes. */
export function once(): (d: Directive, key: string) => boolean {
  const seen = new Set<string>();
  return (d, key) => {
    const k = `${d.source.path}:${d.span.start.offset}:${key}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  };
}
