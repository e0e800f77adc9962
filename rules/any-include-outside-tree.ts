/**
 * Issue 14: an absolute include (nginx `include /etc/nginx/…`, Apache `Include`/`IncludeOptional`
 * with an absolute path or under a `ServerRoot` that names another place) read from the live system
 * while the main config lives elsewhere (a checkout), with no path map for it. The loader records
 * these (src/load-options.ts `noteOutside`; src/load.ts infers the path map when the tree clearly
 * mirrors the installed layout, and then nothing is left to report).
 */
import type { Directive } from '../src/ast.js';
import { loadInfo } from '../src/load-options.js';
import { defineRule } from '../src/rule.js';

export default defineRule({
  id: 'any-include-outside-tree',
  servers: ['nginx', 'apache'],
  severity: 'warning',
  description: 'An absolute include reads a file of the live system, outside the configuration tree being checked.',
  category: 'other',
  fixable: false,
  proof: {
    none: 'It says which files a directive reads, not what a request gets.',
  },
  messages: {
    outside:
      '`{{directive}}` reads {{target}} from the live system, not from {{tree}}{{nothing}}: what is checked is not what this tree deploys; `--path-map {{from}}={{to}}` (or `settings.pathMap`) keeps it inside the tree',
  },
  check(ctx) {
    const info = loadInfo(ctx.set);
    if (!info || info.outside.length === 0) return;
    const byPlace = new Map<string, Directive>();
    for (const { node } of ctx.directives('include', 'includeoptional'))
      byPlace.set(`${node.source.path}:${node.span.start.line}:${node.span.start.column}`, node);
    for (const o of info.outside) {
      const node = byPlace.get(`${o.file}:${o.line}:${o.column}`);
      if (!node) continue;
      ctx.report({
        node,
        arg: 0,
        messageId: 'outside',
        data: {
          directive: `${node.name} ${node.args.map((a) => a.raw).join(' ')}`,
          target: o.target,
          tree: o.tree,
          nothing: o.read === 0 ? ' (where nothing matches either)' : '',
          from: o.suggest.from,
          to: o.suggest.to,
        },
      });
    }
  },
});
