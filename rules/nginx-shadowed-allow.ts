/**
 * N01, list order: an `allow` that no client can ever reach, because earlier `deny` rules of the
 * same block already match every address it names (one rule, or the union of several; address.ts
 * `shadowedBy`), so the clients it names get 403. (A dead `deny` is nginx-shadowed-deny; redundant
 * rules of the same action change nothing and are not reported.)
 */
import { defineRule } from '../src/rule.js';
import { directiveText, lineOf } from '../src/nginx/model/cache.js';

export default defineRule({
  id: 'nginx-shadowed-allow',
  servers: ['nginx'],
  severity: 'error',
  description: 'An `allow` that never matches because earlier `deny` rules cover every address it names.',
  category: 'access-control',
  fixable: false,
  proof: 'request',
  messages: {
    deadAllow:
      '{{by}} comes first, so `{{directive}}` never matches: nginx answers 403 to the clients it was meant to let in (the first matching rule wins)',
  },
  check(ctx) {
    const m = ctx.model;
    if (m.server !== 'nginx') return;
    for (const { node, by, scope, client } of m.deadAccessRules('allow')) {
      // A client the dead allow names, shown by explain to get 403 from an earlier deny.
      const sample = m.requestTo(scope);
      const proof = ctx.prove(sample && { ...sample, ip: client }, { status: 403 });
      if (proof === false) continue;
      ctx.report({
        node,
        arg: 0,
        messageId: 'deadAllow',
        data: { by: by.map((b) => `\`${directiveText(b)}\` on ${lineOf(b, node)}`).join(' and '), directive: directiveText(node) },
        related: by.map((b) => ({ node: b, message: `matches first: \`${directiveText(b)}\`` })),
        proof,
      });
    }
  },
});
