/**
 * `return 403` directly in a `server` block runs in the server-rewrite phase, before any location
 * is chosen, so every request to that server gets 403 (403-CAUSES.md §1.3, N06). Reported only
 * when it is unconditional: the first of the server's own rewrite-module directives that can end
 * processing (`return`, `rewrite`, `if`, `break`), read from the model (http servers only, so
 * `stream` servers are never reported).
 */
import { defineRule } from '../src/rule.js';
import { nginxModelFor, once } from '../src/nginx/model/cache.js';

const STOPPERS = new Set(['return', 'rewrite', 'if', 'break']);

export default defineRule({
  id: 'nginx-return-403-server',
  servers: ['nginx'],
  severity: 'error',
  description: 'An unconditional `return 403` at server level refuses every request to that server.',
  category: 'rewrite',
  fixable: false,
  messages: {
    serverReturn:
      '`return 403` at server level runs before location matching, so every request to this server{{names}} is answered 403',
  },
  check(ctx) {
    const first = once();
    for (const server of nginxModelFor(ctx.set).servers) {
      const node = server.body.find((d) => STOPPERS.has(d.name));
      if (!node || node.name !== 'return' || node.args[0]?.value !== '403' || !first(node, 'r')) continue;
      const names = (server.byName.get('server_name') ?? []).flatMap((d) => d.args.map((a) => a.value)).filter((v) => v !== '' && v !== '_');
      ctx.report({ node, messageId: 'serverReturn', data: { names: names.length ? ` (${names.join(' ')})` : '' } });
    }
  },
});
