/**
 * N02: `limit_except` lists the methods that keep the location's configuration; every other method
 * takes the block's (ngx_http_core_limit_except: GET implies HEAD, nothing else is implied). When
 * the block refuses every IPv4 client, those methods get 403 from everyone. Worst when GET is not
 * listed (`limit_except POST { deny all; }` refuses every GET); otherwise it is usually a deliberate
 * read-only location, but OPTIONS (CORS preflight), PUT, DELETE … are refused too.
 */
import { defineRule } from '../src/rule.js';
import { directiveText, lineOf } from '../src/nginx/model/cache.js';
import type { Directive } from '../src/ast.js';
import type { LimitExcept } from '../src/nginx/model/tree.js';

/** Methods a browser or an API client commonly sends, named in the message when the block refuses them. */
const EXAMPLES = ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'PROPFIND', 'MKCOL', 'COPY', 'MOVE', 'LOCK'];

export default defineRule({
  id: 'nginx-limit-except-denies',
  servers: ['nginx'],
  severity: 'warning',
  description: 'A `limit_except` block that refuses every client, so every method it does not list gets 403.',
  category: 'access-control',
  fixable: false,
  proof: 'request',
  messages: {
    deniesGet:
      "`{{block}}` does not list GET, so GET and HEAD take the block's configuration and `{{deny}}` ({{line}}) answers them 403 for every client; limit_except names the methods that stay allowed",
    deniesOthers:
      "every method except {{methods}} ({{examples}} …) takes the block's configuration, and `{{deny}}` ({{line}}) answers them 403 for every client",
  },
  check(ctx) {
    const m = ctx.model;
    if (m.server !== 'nginx') return;
    // a limit_except in a snippet that many servers include is one block in many scopes: the engine
    // keeps its first report (same place, same message: the block and the deny it names), so the
    // later ones are not proved
    const reported = new Map<Directive, Set<Directive>>();
    for (const scope of m.scopes()) {
      if (scope.kind !== 'limit_except' || !scope.block) continue;
      const le = scope as LimitExcept;
      const refused = m.refusesEveryone(le);
      if (!refused || refused.directive.name !== 'deny') continue;
      const deny = refused.directive;
      if (reported.get(scope.block)?.has(deny)) continue;
      // A method the block does not list, shown by explain to get 403.
      const proof = ctx.prove(m.requestTo(le), { status: 403 });
      if (proof === false) continue;
      const node = le.block!;
      let seen = reported.get(node);
      if (!seen) reported.set(node, (seen = new Set()));
      seen.add(deny);
      const getListed = le.methods.includes('GET');
      const listed = getListed ? [...new Set(['GET', 'HEAD', ...le.methods])] : le.methods;
      const methods = listed.join(', ');
      // examples of what the block refuses: never a method the block lists
      const examples =
        EXAMPLES.filter((x) => !listed.includes(x))
          .slice(0, 4)
          .map((x) => (x === 'OPTIONS' ? 'OPTIONS preflights' : x))
          .join(', ') || 'the other WebDAV methods';
      ctx.report({
        node,
        messageId: getListed ? 'deniesOthers' : 'deniesGet',
        data: { block: `limit_except ${le.methods.join(' ')}`, deny: directiveText(deny), line: lineOf(deny, node), methods, examples },
        proof,
      });
    }
  },
});
