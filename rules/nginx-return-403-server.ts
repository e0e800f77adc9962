/**
 * `return 403` directly in a `server` block runs in the server-rewrite phase, before any location
 * is chosen, so every request to that server gets 403 (docs/403-causes.md, N06). Reported only
 * when it is unconditional: the first of the server's own rewrite-module directives that can end
 * processing (`return`, `rewrite`, `if`, `break`), read from the model (http servers only, so
 * `stream` servers are never reported). The same `return 403` as the first such directive of a
 * `location /` that is the server's only location answers every request too.
 */
import { defineRule } from '../src/rule.js';

const STOPPERS = new Set(['return', 'rewrite', 'if', 'break']);

export default defineRule({
  id: 'nginx-return-403-server',
  servers: ['nginx'],
  severity: 'error',
  description: 'An unconditional `return 403` at server level refuses every request to that server.',
  category: 'rewrite',
  fixable: false,
  proof: 'request',
  messages: {
    serverReturn: '`return 403` {{where}}, so every request to this server{{names}} is answered 403',
  },
  check(ctx) {
    const m = ctx.model;
    if (m.server !== 'nginx') return;
    for (const server of m.tree.servers) {
      const only =
        server.locations.length === 1 &&
        server.locations[0].block &&
        ['', '^~'].includes(server.locations[0].modifier) &&
        server.locations[0].name === '/'
          ? server.locations[0]
          : null;
      let node = server.body.find((d) => STOPPERS.has(d.name));
      if (!node && only) node = only.body.find((d) => STOPPERS.has(d.name));
      if (!node || node.name !== 'return' || node.args[0]?.value !== '403') continue;
      // The claim, shown by explain: a request to this server gets 403 from this `return`.
      const proof = ctx.prove(m.requestTo(server.body.includes(node) ? server : only!), { status: 403, decidedBy: node });
      if (proof === false) continue;
      const names = (server.byName.get('server_name') ?? [])
        .flatMap((d) => d.args.map((a) => a.value))
        .filter((v) => v !== '' && v !== '_');
      ctx.report({
        node,
        messageId: 'serverReturn',
        data: {
          names: names.length ? ` (${names.join(' ')})` : '',
          where: server.body.includes(node)
            ? 'at server level runs before location matching'
            : 'is the first directive of `location /`, the only location',
        },
        proof,
      });
    }
  },
});
