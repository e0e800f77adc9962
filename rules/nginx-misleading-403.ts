/**
 * 403 for something that is not a refusal: `try_files … =403` (N08, a missing file), `error_page
 * … =403` or an error page that is itself refused (N09, another error becomes 403), and
 * `limit_req_status 403` / `limit_conn_status 403` (N20, load). Clients, monitoring and whoever
 * debugs it read 403 as "forbidden" and look for permissions that are fine.
 */
import { defineRule } from '../src/rule.js';
import { directiveText } from '../src/nginx/model/cache.js';
import { own } from '../src/nginx/model/tree.js';

export default defineRule({
  id: 'nginx-misleading-403',
  servers: ['nginx'],
  severity: 'warning',
  description: 'A 403 for something that is not a refusal: a missing file, another error, or a rate limit.',
  category: 'other',
  fixable: false,
  proof: {
    none: 'Its 403s need a file to be missing (try_files) or a limit to be exceeded; explain traces the possibility where files exist, so no proof is made yet.',
  },
  messages: {
    tryFiles:
      '`{{directive}}`: when none of the candidates exists nginx answers 403 instead of 404, so a missing file looks like a permission problem',
    errorPage: '`{{directive}}` sends {{codes}} errors as 403 Forbidden, so they look like permission problems',
    errorTarget:
      '`{{directive}}` sends {{codes}} errors to {{target}}, which is itself refused ({{why}}), so clients get 403 instead of {{codes}}',
    limitStatus:
      '`{{directive}}`: requests over the `{{limit}}` limit get 403 instead of 503, so load shedding looks like a permission refusal (use 429 or 503)',
  },
  check(ctx) {
    const m = ctx.model;
    if (m.server !== 'nginx') return;
    for (const scope of m.scopes()) {
      const tf = own(scope, 'try_files')[0];
      if (tf && tf.args.at(-1)?.value === '=403') {
        ctx.report({ node: tf, arg: tf.args.length - 1, messageId: 'tryFiles', data: { directive: directiveText(tf) } });
      }
      for (const d of own(scope, 'error_page')) {
        const codes = d.args.map((a) => a.value).filter((v) => /^[0-9]{3}$/.test(v) && v !== '403');
        if (codes.length === 0) continue;
        const data = { directive: directiveText(d), codes: codes.join(', ') };
        const eq = d.args.findIndex((a) => a.value === '=403');
        if (eq !== -1) {
          ctx.report({ node: d, arg: eq, messageId: 'errorPage', data });
          continue;
        }
        const target = d.args.at(-1)!.value;
        const server = m.serverOf(scope);
        if (!target.startsWith('/') || target.includes('$') || !server || d.args.some((a) => a.value.startsWith('='))) continue;
        const into = m.scopeAt(server, target);
        const why = m.refusesEveryone(into)?.why;
        if (why) ctx.report({ node: d, arg: d.args.length - 1, messageId: 'errorTarget', data: { ...data, target, why } });
      }
      const st = m.settingsAt(scope);
      // (two checks written out: a table literal here was made again for each of the scopes)
      const req = st.limitReqStatus.directive;
      if (st.limitReq.length && st.limitReqStatus.value === 403 && req)
        ctx.report({ node: req, arg: 0, messageId: 'limitStatus', data: { directive: directiveText(req), limit: 'limit_req' } });
      const conn = st.limitConnStatus.directive;
      if (st.limitConn.length && st.limitConnStatus.value === 403 && conn)
        ctx.report({ node: conn, arg: 0, messageId: 'limitStatus', data: { directive: directiveText(conn), limit: 'limit_conn' } });
    }
  },
});
