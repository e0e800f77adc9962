/**
 * The mirror of nginx-shadowed-allow: a `deny` that no client can ever reach, because earlier
 * `allow` rules of the same block already match every address it names, so the clients it names are
 * let in. Not a 403, a hole: warning.
 */
import { defineRule } from '../src/rule.js';
import { directiveText, lineOf } from '../src/nginx/model/cache.js';

export default defineRule({
  id: 'nginx-shadowed-deny',
  servers: ['nginx'],
  severity: 'warning',
  description: 'A `deny` that never matches because earlier `allow` rules cover every address it names.',
  category: 'access-control',
  fixable: false,
  proof: {
    none: 'It claims the clients the line names are let in; what they then get (200, 404, …) depends on the disk and the rest of the block, so it names no status.',
  },
  messages: {
    deadDeny:
      '{{by}} comes first, so `{{directive}}` never matches: the clients it was meant to refuse are let in (the first matching rule wins)',
  },
  check(ctx) {
    for (const { node, by } of ctx.model.server !== 'nginx' ? [] : ctx.model.deadAccessRules('deny')) {
      ctx.report({
        node,
        arg: 0,
        messageId: 'deadDeny',
        data: { by: by.map((b) => `\`${directiveText(b)}\` on ${lineOf(b, node)}`).join(' and '), directive: directiveText(node) },
        related: by.map((b) => ({ node: b, message: `matches first: \`${directiveText(b)}\`` })),
      });
    }
  },
});
