/**
 * The 403-vs-404 advice for hidden and sensitive paths (`.git`, `.env`, `.ht*`, dotfiles, backups):
 * a location that guards them with `deny all` or `return 403` tells a scanner the guard is there
 * (the rest of the site answers 404), while `return 404` looks like any missing file. nginx's deny
 * runs in the access phase, before the file is looked up, so the 403 comes whether or not the file
 * exists (shown by the fixtures); the finding is only information.
 */
import { defineRule } from '../src/rule.js';
import { directiveText } from '../src/nginx/model/cache.js';
import type { Directive } from '../src/ast.js';
import type { Location } from '../src/nginx/model/tree.js';

/** Over the pattern with literal dots written `\.` (regex locations as written, prefix and exact
 * locations escaped first): a dotfile, a version-control or secrets file, a backup or editor file. */
const SENSITIVE = /(^|\/|\(|\||:)\\\.(?!well-known)|\\\.(git|svn|hg|bzr|env|ht|bak|sql|sw[op]?|orig|old|backup)\b|~\)?\$?$/i;
const escaped = (loc: Location) => (loc.modifier === '~' || loc.modifier === '~*' ? loc.name : loc.name.replace(/\./g, '\\.'));

export default defineRule({
  id: 'nginx-sensitive-path-403',
  servers: ['nginx'],
  severity: 'info',
  description: 'Hidden or sensitive paths refused with 403, which shows they are guarded, where 404 would look like any missing file.',
  category: 'access-control',
  fixable: false,
  proof: 'request',
  messages: {
    guarded:
      '`{{directive}}` answers 403 to every URI `{{location}}` matches, existing or not: a scanner learns the path is guarded, while `return 404;` would look like any missing file',
  },
  check(ctx) {
    const m = ctx.model;
    if (m.server !== 'nginx') return;
    // A location in a snippet included by every server is one block with one `deny` in each server's
    // scopes: the engine keeps only its first report (same place, same message), so the later ones
    // are not proved (issue 12: one explain per server for the same finding).
    const reported = new Set<Directive>();
    for (const scope of m.scopes()) {
      if (scope.kind !== 'location' || !scope.block) continue;
      const loc = scope as Location;
      if (loc.modifier === '@' || !SENSITIVE.test(escaped(loc))) continue;
      // The claim is "every URI this location matches gets 403": explain must show it for one of them,
      // decided by this location's own `deny` or `return 403` (satisfy any + auth gives 401, error_page
      // may answer something else: then there is nothing to say).
      const refused = m.refusesEveryone(loc);
      const node = refused && loc.body.includes(refused.directive) ? refused.directive : null;
      if (!node || reported.has(node)) continue;
      const proof = ctx.prove(m.requestTo(loc), { status: 403, decidedBy: node });
      if (proof === false) continue;
      reported.add(node);
      ctx.report({
        node,
        messageId: 'guarded',
        data: { directive: directiveText(node), location: [loc.modifier, loc.name].filter(Boolean).join(' ') },
        proof,
      });
    }
  },
});
