/**
 * Walking a ConfigSet the way the server reads it: an include directive is replaced by the nodes of
 * the files it pulled in. Each node keeps its own `source`, so positions stay those of its file.
 */
import type { ConfigSet, Directive, Node } from './ast.js';

export interface WalkContext {
  /** Enclosing block directives, outermost first (include directives are not listed). */
  parents: Directive[];
  /** The include directives whose files are being walked, outermost first. */
  via: Directive[];
}

/**
 * Visit every node depth-first in reading order. Return `false` from `visit` to skip a directive's
 * block. Include cycles are not followed twice on one path (the loader reports them).
 */
export function walk(set: ConfigSet, visit: (node: Node, ctx: WalkContext) => boolean | void): void {
  const onPath = new Set<string>([set.root.source.path]);
  const rec = (nodes: Node[], parents: Directive[], via: Directive[]) => {
    for (const node of nodes) {
      const descend = visit(node, { parents, via });
      if (node.type !== 'directive') continue;
      if (node.includes) {
        for (const p of node.includes) {
          const f = set.files.get(p);
          if (!f || onPath.has(p)) continue;
          onPath.add(p);
          rec(f.nodes, parents, [...via, node]);
          onPath.delete(p);
        }
      }
      if (node.block && descend !== false) rec(node.block, [...parents, node], via);
    }
  };
  rec(set.root.nodes, [], []);
}

/** The children of a block with includes expanded in place (one level; nested blocks untouched). */
export function expandIncludes(set: ConfigSet, nodes: Node[], seen: Set<string> = new Set()): Node[] {
  const out: Node[] = [];
  for (const n of nodes) {
    if (n.type === 'directive' && n.includes && n.includes.length > 0) {
      for (const p of n.includes) {
        const f = set.files.get(p);
        if (!f || seen.has(p)) continue;
        seen.add(p);
        out.push(...expandIncludes(set, f.nodes, seen));
        seen.delete(p);
      }
    } else {
      out.push(n);
    }
  }
  return out;
}
