/**
 * N01, list order: an `allow` that no client can ever reach, because earlier `deny` rules of the
 * same block already match every address it names (one rule, or the union of several; address.ts
 * `shadowedBy`), so the clients it names get 403. (A dead `deny` is nginx-shadowed-deny; redundant
 * rules of the same action change nothing and are not reported.)
 */
import { defineRule } from '../src/rule.js';
import { accessRulesOf, shadowedBy } from '../src/nginx/model/address.js';
import { directiveText, lineOf, nginxModelFor, once, scopesOf } from '../src/nginx/model/cache.js';

const ACTION = 'allow';
const MESSAGE = 'deadAllow';

export default defineRule({
  id: 'nginx-shadowed-allow',
  servers: ['nginx'],
  severity: 'error',
  description: 'An `allow` that never matches because earlier `deny` rules cover every address it names.',
  category: 'access-control',
  fixable: false,
  messages: {
    deadAllow:
      '{{by}} comes first, so `{{directive}}` never matches: nginx answers 403 to the clients it was meant to let in (the first matching rule wins)',
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
