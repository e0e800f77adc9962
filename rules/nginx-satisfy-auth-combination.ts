/**
 * N03/N05: how `satisfy` joins allow/deny with auth_basic/auth_request (ngx_http_core_access_phase).
 * - `satisfy all` (the default) with an allow list and a password: clients outside the list get 403
 *   before any password prompt; "office network OR password" needs `satisfy any`.
 * - `satisfy any` inherited into a location whose own list refuses everyone (`location ~ /\.git {
 *   deny all; }`): a valid password still opens it.
 * - `auth_request` whose target location answers `return 403` first: every request is refused (N05).
 */
import { defineRule } from '../src/rule.js';
import { directiveText, lineOf } from '../src/nginx/model/cache.js';
import { own } from '../src/nginx/model/tree.js';
import type { Directive } from '../src/ast.js';

export default defineRule({
  id: 'nginx-satisfy-auth-combination',
  servers: ['nginx'],
  severity: 'warning',
  description: 'allow/deny, auth_basic and auth_request combined so that `satisfy` refuses clients or lets them past a deny.',
  category: 'auth',
  fixable: false,
  proof: 'request',
  messages: {
    allRefuses:
      '`{{auth}}` and `{{deny}}` ({{line}}) both apply under `satisfy all`: clients the allow/deny list refuses get 403 before they are asked to authenticate; add `satisfy any;` if either should be enough',
    anyOpens:
      '`{{deny}}` is meant to refuse everyone, but `{{satisfy}}` ({{line}}) is inherited: a client that passes `{{auth}}` gets in anyway',
    authRequest403:
      '`{{directive}}` sends every request to `{{target}}`, whose `{{ret}}` ({{line}}) answers the subrequest 403, so every request here is refused',
  },
  check(ctx) {
    const m = ctx.model;
    if (m.server !== 'nginx') return;
    // auth and deny inherited by many scopes (set at server level, or in a snippet every server
    // includes) make the same report at the same place each time; the engine keeps the first, so
    // the later ones are not proved (issue 12: one explain per scope for the same finding)
    const reported = new Map<Directive, Set<Directive>>();
    for (const scope of m.scopes()) {
      if (scope.kind === 'http' || scope.kind === 'if') continue;
      const st = m.settingsAt(scope);
      const auth = st.authBasic.value !== null ? st.authBasic.directive : st.authRequest.value !== null ? st.authRequest.directive : null;
      const who = st.access.rules.length ? m.clientsOf(scope) : null;
      const deny = st.access.rules.find((r) => r.action === 'deny' && r.directive)?.directive;
      if (auth && deny && st.satisfy.value === 'all' && who?.allowed && who.refused && !reported.get(auth)?.has(deny)) {
        // A client the list refuses, shown by explain to get 403 without being asked for credentials.
        const sample = m.requestTo(scope);
        const proof = ctx.prove(sample && { ...sample, ip: who.refused }, { status: 403 });
        if (proof !== false) {
          let r = reported.get(auth);
          if (!r) reported.set(auth, (r = new Set()));
          r.add(deny);
          ctx.report({
            proof,
            node: auth,
            messageId: 'allRefuses',
            data: { auth: directiveText(auth), deny: directiveText(deny), line: lineOf(deny, auth) },
          });
        }
      }
      const sat = st.satisfy.directive;
      if (
        auth &&
        deny &&
        sat &&
        st.satisfy.value === 'any' &&
        st.access.from === scope &&
        scope.kind === 'location' &&
        st.satisfy.from !== scope &&
        who &&
        who.allowed === null
      ) {
        ctx.report({
          node: deny,
          messageId: 'anyOpens',
          data: { deny: directiveText(deny), satisfy: directiveText(sat), line: lineOf(sat, deny), auth: directiveText(auth) },
        });
      }
      const ar = own(scope, 'auth_request')[0];
      const server = m.serverOf(scope);
      const uri = ar?.args[0]?.value;
      if (!ar || !server || !uri || uri === 'off' || uri.includes('$')) continue;
      const target = m.scopeAt(server, uri);
      const stop = target?.body.find((d) => ['return', 'rewrite', 'if', 'break'].includes(d.name));
      if (target !== server && stop?.name === 'return' && stop.args[0]?.value === '403') {
        ctx.report({
          proof: ctx.prove(m.requestTo(scope), { status: 403 }),
          node: ar,
          messageId: 'authRequest403',
          data: { directive: directiveText(ar), target: uri, ret: directiveText(stop), line: lineOf(stop, ar) },
        });
      }
    }
  },
});
