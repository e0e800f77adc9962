/**
 * N01/N02 inheritance: a location or limit_except with any allow/deny of its own replaces the whole
 * inherited list (ngx_http_access_merge_loc_conf), it does not add to it. Reported when that is
 * very likely not what was meant: the block adds a network the parent refused while dropping
 * networks the parent let in (they now get 403), or a parent `deny` no longer applies and no rule
 * of the block decides those clients (they are let in). A block that only narrows the parent's
 * list, or opens it with an explicit `allow`, is deliberate and not reported.
 */
import { defineRule } from '../src/rule.js';
import type { AccessRule } from '../src/nginx/model/address.js';
import { directiveText, lineOf } from '../src/nginx/model/cache.js';
import { scopeLabel } from '../src/nginx/model/tree.js';

export default defineRule({
  id: 'nginx-access-list-replaced',
  servers: ['nginx'],
  severity: 'warning',
  description: 'A nested block whose own `allow`/`deny` replaces the inherited list instead of adding to it.',
  category: 'access-control',
  fixable: false,
  proof: 'request',
  messages: {
    dropsAllow:
      'the allow/deny rules of `{{block}}` replace those of `{{parent}}` instead of adding to them: `{{rule}}` ({{line}}) no longer applies here, so its clients (e.g. {{example}}) get 403',
    dropsDeny:
      'the allow/deny rules of `{{block}}` replace those of `{{parent}}` instead of adding to them: `{{rule}}` ({{line}}) no longer applies here, so clients it refused (e.g. {{example}}) are let in',
  },
  check(ctx) {
    const m = ctx.model;
    if (m.server !== 'nginx') return;
    for (const scope of m.scopes()) {
      if ((scope.kind !== 'location' && scope.kind !== 'limit_except') || !scope.block || !scope.parent) continue;
      const mine = m.settingsAt(scope).access;
      const inherited = m.settingsAt(scope.parent).access;
      if (mine.from !== scope || inherited.rules.length === 0 || !inherited.from) continue;
      const node = mine.directives[0];
      const data = { block: scopeLabel(scope), parent: scopeLabel(inherited.from) };
      const seen = new Set<AccessRule>(); // one finding per lost rule, from the first family that shows it
      for (const family of ['ipv4', 'ipv6'] as const) {
        const diff = m.accessChanges(scope.parent, scope, family);
        const adds = diff.some((p) => p.before?.action === 'deny' && p.after?.action === 'allow');
        for (const p of diff) {
          const lost = p.before;
          if (!lost?.directive || seen.has(lost)) continue;
          const dropsAllow = lost.action === 'allow' && p.after?.action === 'deny' && adds;
          const dropsDeny = lost.action === 'deny' && p.after === null;
          if (!dropsAllow && !dropsDeny) continue;
          // a client of the lost allow, shown by explain to get 403 from the block's own list
          let proof = null;
          if (dropsAllow) {
            const sample = m.requestTo(scope);
            proof = ctx.prove(sample && { ...sample, ip: p.example }, {
              status: 403,
              ...(p.after?.directive ? { decidedBy: p.after.directive } : {}),
            });
            if (proof === false) continue;
          }
          seen.add(lost);
          const messageId = dropsAllow ? 'dropsAllow' : 'dropsDeny';
          ctx.report({
            proof,
            node,
            messageId,
            data: {
              ...data,
              rule: directiveText(lost.directive),
              line: lineOf(lost.directive, node),
              example: p.example,
            },
            related: [{ node: lost.directive, message: `no longer applies in \`${data.block}\`` }],
          });
        }
      }
    }
  },
});
