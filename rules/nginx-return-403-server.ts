/**
 * `return 403` directly in a `server` block runs in the server-rewrite phase, before any location
 * is chosen, so every request to that server gets 403 (403-CAUSES.md §1.3, N06). Reported only
 * when it is unconditional: the first of the server-level rewrite-module directives that can end
 * processing (`return`, `rewrite`, `if`, `break`), not inside `if` or `location`, not in `stream`.
 */
import type { Directive } from '../src/ast.js';
import { defineRule } from '../src/rule.js';

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
    const seen = new Set<Directive | null>();
    ctx.walk((node, w) => {
      if (node.type !== 'directive' || !STOPPERS.has(node.key)) return;
      const server = w.parents.length > 0 ? w.parents[w.parents.length - 1] : null;
      const atServer = server ? server.key === 'server' && server.block !== null : ctx.set.root.context === 'server';
      if (!atServer || w.parents.some((p) => p.key === 'stream' || p.key === 'mail')) return;
      if (seen.has(server)) return; // only the first stopper at server level decides
      seen.add(server);
      if (node.key !== 'return' || node.args[0]?.value !== '403') return;
      const names = server?.block
        ?.filter((n): n is Directive => n.type === 'directive' && n.key === 'server_name')
        .flatMap((n) => n.args.map((a) => a.value))
        .filter((v) => v !== '' && v !== '_');
      ctx.report({ node, messageId: 'serverReturn', data: { names: names && names.length ? ` (${names.join(' ')})` : '' } });
    });
  },
});
