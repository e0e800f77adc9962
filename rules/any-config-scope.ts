/**
 * Issue 14: say what was read besides the file asked for, and what was not. A vhost or snippet
 * checked alone is partial (its main config was not read: what it would change is listed); a
 * fragment in a standard layout was checked through the main config that includes it; a path map
 * was inferred because the tree mirrors the installed layout. All three come from the loader
 * (src/load.ts `loadConfig`, `loadInfo(set)`), reported at the first directive of the file asked for.
 */
import type { Node } from '../src/ast.js';
import { loadInfo } from '../src/load-options.js';
import { defineRule } from '../src/rule.js';

export default defineRule({
  id: 'any-config-scope',
  servers: ['nginx', 'apache'],
  severity: 'info',
  description: 'Says when a file was checked without its main config, through a main config found beside it, or with an inferred path map.',
  category: 'other',
  fixable: false,
  proof: {
    none: 'It says how the file was read (through which main config, with which inferred path map), not what a request gets.',
  },
  messages: {
    partial:
      '{{reason}}: {{unknown}} are unknown and can change what this file answers (check the main config to read it as the server does)',
    mainFound: 'checked through the main config {{main}}, which includes this file (found in the standard layout around it)',
    inferred: '`--path-map {{from}}={{to}}` inferred: {{because}}',
  },
  check(ctx) {
    const info = loadInfo(ctx.set);
    if (!info) return;
    const root = ctx.set.root;
    const asked = info.requested ? ctx.set.files.get(info.requested) : root;
    const first: Node | undefined = asked?.nodes.find((n) => n.type === 'directive');
    if (!first) return;
    // a .htaccess is tied to the main configs of the run (src/apache/model/htaccess-link.ts)
    if (info.partial && root.context !== 'htaccess')
      ctx.report({ node: first, messageId: 'partial', data: { reason: info.partial.reason, unknown: andList(info.partial.unknown) } });
    if (info.mainFound) ctx.report({ node: first, messageId: 'mainFound', data: { main: info.mainFound } });
    for (const m of info.inferredPathMap)
      ctx.report({
        node: info.requested ? first : (root.nodes.find((n) => n.type === 'directive') ?? first),
        messageId: 'inferred',
        data: { from: m.from, to: m.to, because: m.because },
      });
  },
});

/** `a, b and c`. */
function andList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
