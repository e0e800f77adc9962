/**
 * N01 at the top: the access list that decides `/` (the server-level `location /`, or the server
 * itself when there is none) refuses every IPv4 client, so the whole site answers 403. Narrow
 * locations (`location ~ /\.ht { deny all; }`) are never reported; neither is a list that `satisfy
 * any` pairs with auth_basic/auth_request (a password still lets clients in), a `location /` whose
 * own `return` runs first (rewrite phase before access), a catch-all default server, nor a
 * default-deny block whose nested locations `allow` clients into parts of the site.
 */
import type { Directive } from '../src/ast.js';
import { defineRule } from '../src/rule.js';
import { directiveText, lineOf } from '../src/nginx/model/cache.js';
import { own, type Location, type Scope, type Server } from '../src/nginx/model/tree.js';

const rootLocation = (s: Server): Location | undefined =>
  s.locations.find((l) => (l.modifier === '' || l.modifier === '^~') && l.name === '/' && l.block !== null);

const catchAll = (s: Server) => s.listens.some((l) => l.defaultServer) && s.names.every((n) => n.name === '' || n.name === '_');

export default defineRule({
  id: 'nginx-deny-all-root',
  servers: ['nginx'],
  severity: 'error',
  description: 'A `deny` list that refuses every client for a whole server or its `location /`.',
  category: 'access-control',
  fixable: false,
  proof: 'request',
  messages: {
    denyAll:
      '`{{directive}}` ({{line}}) refuses every IPv4 client for every URI that {{where}} serves, so nginx answers 403 ("access forbidden by rule") to the whole site; no earlier `allow` lets anyone in',
  },
  check(ctx) {
    const m = ctx.model;
    if (m.server !== 'nginx') return;
    const model = m.tree;
    for (const server of model.servers) {
      if (catchAll(server)) continue;
      const root = rootLocation(server);
      const scope = root ?? server;
      const refused = m.refusesEveryone(scope);
      if (!refused || refused.directive.name === 'return') continue; // return 403: nginx-return-403-server
      const acc = m.settingsAt(scope).access;
      // a default-deny block whose nested locations open parts of the site is deliberate
      const opens = (l: Scope): boolean =>
        [...l.locations, ...(l.limitExcept ? [l.limitExcept] : [])].some(
          (c) => (own(c, 'allow').length > 0 && m.clientsOf(c).allowed !== null) || opens(c),
        );
      if (opens(scope)) continue;
      const denies = acc.rules.filter((r) => r.action === 'deny' && r.directive);
      const node: Directive = (denies.find((r) => r.all || r.v4?.len === 0) ?? denies[0]).directive!;
      const where = root && acc.from === root ? '`location /`' : 'this server';
      const proof = ctx.prove(m.requestTo(scope), { status: 403 });
      if (proof === false) continue;
      ctx.report({ node, messageId: 'denyAll', data: { directive: directiveText(node), line: lineOf(node), where }, proof });
    }
  },
});
