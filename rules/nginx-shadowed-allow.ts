/**
 * N01, list order: an `allow` or `deny` that no client can ever reach, because earlier rules of the
 * same block with the opposite action already match every address it names (one rule, or the union
 * of several; address.ts `shadowedBy`). A dead `allow` refuses clients the author meant to let in
 * (403); a dead `deny` lets in clients meant to be refused. Redundant rules of the same action
 * change nothing and are not reported.
 */
import { defineRule } from '../src/rule.js';
import { accessRulesOf, shadowedBy } from '../src/nginx/model/address.js';
import { directiveText, lineOf, nginxModelFor, once, scopesOf } from '../src/nginx/model/cache.js';

export default defineRule({
  id: 'nginx-shadowed-access-rule',
  servers: ['nginx'],
  severity: 'error',
  description: 'An `allow` or `deny` that never matches because earlier rules of the other kind cover every address it names.',
  category: 'access-control',
  fixable: false,
  messages: {
    deadAllow:
      '{{by}} comes first, so `{{directive}}` never matches: nginx answers 403 to the clients it was meant to let in (the first matching rule wins)',
    deadDeny:
      '{{by}} comes first, so `{{directive}}` never matches: the clients it was meant to refuse are let in (the first matching rule wins)',
  },
  check(ctx) {
    const first = once();
    for (const scope of scopesOf(nginxModelFor(ctx.set))) {
      const own = scope.body.filter((d) => !d.block && (d.name === 'allow' || d.name === 'deny'));
      if (own.length < 2) continue;
      const rules = accessRulesOf(own);
      rules.forEach((rule, i) => {
        const by = shadowedBy(rule, rules.slice(0, i));
        if (!by || !by.some((b) => b.action !== rule.action)) return;
        const node = rule.directive!;
        if (!first(node, 'dead')) return;
        const cover = by.map((b) => `\`${directiveText(b.directive!)}\` on ${lineOf(b.directive!, node)}`).join(' and ');
        ctx.report({
          node,
          arg: 0,
          messageId: rule.action === 'allow' ? 'deadAllow' : 'deadDeny',
          data: { by: cover, directive: directiveText(node) },
          related: by.map((b) => ({ node: b.directive!, message: `matches first: \`${directiveText(b.directive!)}\`` })),
        });
      });
    }
  },
});
