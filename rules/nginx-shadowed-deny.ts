/**
 * The mirror of nginx-shadowed-allow: a `deny` that no client can ever reach, because earlier
 * `allow` rules of the same block already match every address it names, so the clients it names are
 * let in. Not a 403, a hole: warning.
 */
import { defineRule } from '../src/rule.js';
import { accessRulesOf, shadowedBy } from '../src/nginx/model/address.js';
import { directiveText, lineOf, nginxModelFor, once, scopesOf } from '../src/nginx/model/cache.js';

const ACTION = 'deny';
const MESSAGE = 'deadDeny';

export default defineRule({
  id: 'nginx-shadowed-deny',
  servers: ['nginx'],
  severity: 'warning',
  description: 'A `deny` that never matches because earlier `allow` rules cover every address it names.',
  category: 'access-control',
  fixable: false,
  messages: {
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
        if (rule.action !== ACTION || !by || !by.some((b) => b.action !== rule.action)) return;
        const node = rule.directive!;
        if (!first(node, 'dead')) return;
        const cover = by.map((b) => `\`${directiveText(b.directive!)}\` on ${lineOf(b.directive!, node)}`).join(' and ');
        ctx.report({
          node,
          arg: 0,
          messageId: MESSAGE,
          data: { by: cover, directive: directiveText(node) },
          related: by.map((b) => ({ node: b.directive!, message: `matches first: \`${directiveText(b.directive!)}\`` })),
        });
      });
    }
  },
});
