/**
 * Requests that reach the context of an Apache directive: the server it stands in (a `<VirtualHost>`,
 * or the main server when there is none) and URLs that reach its section — the section's own URL for
 * a `<Location>`, the URL the config serves a `<Directory>` at (the model's directory probes), the
 * server root otherwise — with a path generated from a RewriteRule / RedirectMatch pattern where it
 * has one. The caller proves the one it uses with explain; none is trusted unchecked.
 */
import type { Directive } from '../ast.js';
import { compilePcre } from '../apache/model/regex.js';
import type { ServerModel } from '../apache/model/sections.js';
import { regexExamples } from './examples.js';
import type { ApacheView } from './index.js';
import type { SampleInput } from './proof.js';

/** The server whose requests `parents` (a directive's enclosing blocks) apply to. */
function serverFor(m: ApacheView, parents: readonly Directive[]): ServerModel | null {
  const vh = parents.find((p) => p.key.replace(/^</, '') === 'virtualhost');
  if (vh) return m.tree.vhosts.find((v) => v.directive === vh) ?? null;
  return m.tree.vhosts.length ? null : m.tree.main;
}

/** URL prefixes (ending in `/`) that reach the section holding `d` on `server`. */
function baseUrls(m: ApacheView, server: ServerModel, d: Directive): string[] {
  const o = m.ownerOf(d);
  if (!o || !o.section || o.kind === 'server') return ['/'];
  if ((o.kind === 'location' || o.kind === 'locationmatch') && o.path && o.kind === 'location')
    return [o.path.endsWith('/') ? o.path : `${o.path}/`];
  if (o.kind === 'directory')
    return m
      .probes()
      .filter((p) => p.root.server === server && p.section?.directive === o.section)
      .map((p) => p.url);
  return [];
}

/** Candidate requests for `d` (standing inside `parents`), most likely first; at most `limit`. */
export function requestsForDirective(m: ApacheView, d: Directive, parents: readonly Directive[], limit = 12): SampleInput[] {
  const server = serverFor(m, parents);
  if (!server) return [];
  const bases = baseUrls(m, server, d);
  const o = m.ownerOf(d);
  const perDir = !!o && o.kind !== 'server';
  let tails = [''];
  const key = d.key;
  if (key === 'rewriterule' || key === 'redirectmatch') {
    const pattern = key === 'rewriterule' ? d.args[0]?.value : d.args[1]?.value;
    const c = pattern ? compilePcre(pattern.replace(/^!/, ''), false) : null;
    if (c?.ok && !pattern!.startsWith('!')) {
      // Server-context RewriteRule and RedirectMatch see the URL path (leading /); per-directory rules
      // see the path below the directory (no leading /).
      tails = regexExamples(c.re, limit, (s) => [s, `${s}x`, `x${s}`]).map((s) => s.replace(/^\//, ''));
      if (!tails.length) return [];
      if (key === 'rewriterule' && perDir) tails = tails.filter((t) => c.re.test(t));
    }
  } else if (key === 'redirect') {
    const prefix = d.args[1]?.value;
    if (prefix?.startsWith('/')) return [m.requestTo(server, prefix)];
  }
  const out: SampleInput[] = [];
  for (const b of bases) for (const t of tails) if (out.length < limit) out.push(m.requestTo(server, `${b}${t}`.replace(/\/\/+/g, '/')));
  return out;
}
