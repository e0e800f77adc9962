/**
 * Requests that reach the context of an Apache directive: the server it stands in (a `<VirtualHost>`,
 * or the main server when there is none) and URLs that reach its section — the section's own URL for
 * a `<Location>`, the URL the config serves a `<Directory>` at (the model's directory probes), the
 * server root otherwise — with a path generated from a RewriteRule / RedirectMatch pattern where it
 * has one. The caller proves the one it uses with explain; none is trusted unchecked.
 */
import type { Directive } from '../ast.js';
import { compilePcre } from '../apache/model/regex.js';
import { encodeSegment } from '../apache/model/cache.js';
import type { ServerModel } from '../apache/model/sections.js';
import type { HtaccessLink } from '../apache/model/htaccess-link.js';
import { patternMatches, regexExamples, uriExamples } from './examples.js';
import type { ApacheView } from './index.js';
import type { SampleInput } from './types.js';

/** The servers whose requests `parents` (a directive's enclosing blocks) apply to: its virtual host,
 * or, for the main server's sections, every virtual host (they inherit them; the main server answers
 * only when there is none). */
function serversFor(m: ApacheView, parents: readonly Directive[]): ServerModel[] {
  const vh = parents.find((p) => p.key.replace(/^</, '') === 'virtualhost');
  if (vh) return m.tree.vhosts.filter((v) => v.directive === vh);
  return m.tree.vhosts.length ? m.tree.vhosts : [m.tree.main];
}

/** The same line of the same file: the model's copy of a section whose `${VAR}`s it expanded, or the parsed one. */
const sameSpot = (a: Directive, b: Directive) => a === b || (a.source === b.source && a.span.start.offset === b.span.start.offset);

/** URL prefixes (ending in `/`) that reach `section` on `server` (null or a VirtualHost: the server). */
function sectionUrls(m: ApacheView, server: ServerModel, section: Directive | null, parents: readonly Directive[]): string[] {
  const key = section?.key.replace(/^</, '') ?? '';
  if (!section || key === 'virtualhost') return ['/'];
  if (key === 'location') {
    const path = section.args[0]?.value ?? '/';
    return path.startsWith('/') && !/[*?[]/.test(path) ? [path.endsWith('/') ? path : `${path}/`] : [];
  }
  if (key === 'locationmatch' || (key === 'location' && section.args[0]?.value === '~')) {
    const pattern = key === 'locationmatch' ? section.args[0]?.value : section.args[1]?.value;
    const c = pattern ? compilePcre(pattern, false) : null;
    return c?.ok ? uriExamples(c.re, 6) : [];
  }
  if (key === 'directory') {
    const urls = m
      .probes()
      .filter((p) => p.root.server === server && !!p.section && sameSpot(p.section.directive, section))
      .map((p) => p.url);
    if (urls.length) return urls;
    // <Directory /> and other directories above a served root: that root's URL
    const path = (section.args[0]?.value ?? '').replace(/\/+$/, '');
    return m
      .servedRoots()
      .filter((r) => r.server === server && (path === '' || r.dir === path || r.dir.startsWith(`${path}/`)))
      .map((r) => r.url);
  }
  // <Files>, <FilesMatch>, <If> …: the URLs of the section they stand in
  const i = parents.indexOf(section);
  return i > 0 ? sectionUrls(m, server, parents[i - 1], parents.slice(0, i)) : ['/'];
}

/** File names a <Files>/<FilesMatch> section matches (a few, each checked against its pattern). */
function fileNames(section: Directive): string[] {
  const key = section.key.replace(/^</, '');
  const args = section.args.map((a) => a.value);
  const regex = key === 'filesmatch' ? args[0] : key === 'files' && args[0] === '~' ? args[1] : undefined;
  if (regex !== undefined) {
    const c = compilePcre(regex, false);
    return c.ok ? regexExamples(c.re, 6, (s) => [s, `x${s}`, `${s}x`]).filter((n) => n !== '' && !n.includes('/')) : [];
  }
  const glob = args[0] ?? '';
  return glob
    ? [
        glob
          .replace(/\*/g, 'x')
          .replace(/\?/g, 'x')
          .replace(/\[[^\]]*\]/g, 'x'),
      ]
    : [];
}

/** URL prefixes that reach the context of `d` on `server`; with file names when a <Files> section holds it. */
function baseUrls(m: ApacheView, server: ServerModel, parents: readonly Directive[]): string[] {
  const sections = parents.filter((p) => /^(directory|location|locationmatch|files|filesmatch|virtualhost)$/.test(p.key.replace(/^</, '')));
  const inner = sections[sections.length - 1] ?? null;
  if (inner && /^files(match)?$/.test(inner.key.replace(/^</, ''))) {
    const names = fileNames(inner);
    return sectionUrls(m, server, inner, parents).flatMap((u) => names.map((n) => `${u}${encodeSegment(n)}`));
  }
  return sectionUrls(m, server, inner, parents);
}

/** Candidate requests for `d` (standing inside `parents`), most likely first; at most `limit`.
 * A directive of a .htaccess set linked to main configs of the run: requests to the URLs those
 * configs serve the file's directory at, on their servers (`linkedRequest`), and no other. */
export function requestsForDirective(m: ApacheView, d: Directive, parents: readonly Directive[], limit = 12): SampleInput[] {
  const out: SampleInput[] = [];
  if (m.set.root.context === 'htaccess') {
    const links = m.htaccess().links;
    if (links.length) {
      for (const link of links) {
        // a link whose config does not read the file (AllowOverride None) or serves no URL there
        if (!link.url || !readsFile(link)) continue;
        for (const s of requestsOn(m, link.server, d, parents, limit - out.length, link)) out.push(s);
        if (out.length >= limit) break;
      }
      return out;
    }
  }
  for (const server of serversFor(m, parents)) {
    for (const s of requestsOn(m, server, d, parents, limit - out.length)) out.push(s);
    if (out.length >= limit) break;
  }
  return out;
}

/** Whether the linked config lets Apache read the .htaccess at all (some AllowOverride class or list). */
const readsFile = (link: HtaccessLink) => link.state.classes.size > 0 || link.state.list.size > 0;

/** The request to `uri` on the server of `link`, the main config that serves a .htaccess set's
 * directory (its Host and port), to be explained on that config with the file in place (`via`). */
export function linkedRequest(m: ApacheView, link: HtaccessLink, uri: string): SampleInput {
  const main = m.linkedModel(link);
  return { ...(main.server === 'apache' ? main.requestTo(link.server, uri) : { host: 'localhost', path: uri }), via: link };
}

function requestsOn(
  m: ApacheView,
  server: ServerModel,
  d: Directive,
  parents: readonly Directive[],
  limit: number,
  link?: HtaccessLink,
): SampleInput[] {
  // in a .htaccess the sections' URLs start at its directory: the link's URL for it
  const rebase = (u: string) => (link?.url && u.startsWith('/') ? `${link.url}${u.slice(1)}` : u);
  const at = (uri: string) => (link ? linkedRequest(m, link, uri) : m.requestTo(server, uri));
  // (RedirectMatch in a .htaccess still matches the whole URL path: below the directory first, then
  // from the root, as the alone file's samples are)
  const plain = baseUrls(m, server, parents);
  const bases = d.key === 'redirectmatch' && link ? [...new Set([...plain.map(rebase), ...plain])] : link ? plain.map(rebase) : plain;
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
      if (key === 'rewriterule' && perDir) tails = tails.filter((t) => patternMatches(c.re, t));
    }
  } else if (key === 'redirect') {
    const prefix = d.args[1]?.value;
    if (prefix?.startsWith('/')) return [at(prefix)];
  }
  const out: SampleInput[] = [];
  for (const b of bases) for (const t of tails) if (out.length < limit) out.push(at(`${b}${t}`.replace(/\/\/+/g, '/')));
  return out;
}
