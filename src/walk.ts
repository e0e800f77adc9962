/**
 * Walking a ConfigSet the way the server reads it: an include directive is replaced by the nodes of
 * the files it pulled in. Each node keeps its own `source`, so positions stay those of its file.
 */
import type { ConfigSet, Directive, Node } from './ast.js';

/**
 * Deepest block nesting the parsers keep (nginx blocks, Apache sections): deeper contents are
 * reported (`too-deep`) and dropped, so nothing downstream recurses deeper than this per file.
 * Real configs stay below 15.
 */
export const MAX_NESTING = 200;

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
  // an explicit stack: nesting through includes (each file up to MAX_NESTING levels) cannot
  // overflow the JS stack
  type Frame =
    | { nodes: Node[]; i: number; parents: Directive[]; via: Directive[]; file: string | null }
    | { inc: string[]; i: number; dir: Directive; parents: Directive[]; via: Directive[]; block: Frame | null };
  const onPath = new Set<string>([set.root.source.path]);
  const stack: Frame[] = [{ nodes: set.root.nodes, i: 0, parents: [], via: [], file: null }];
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if ('inc' in f) {
      if (f.i >= f.inc.length) {
        stack.pop();
        if (f.block) stack.push(f.block);
        continue;
      }
      const p = f.inc[f.i++];
      const pf = set.files.get(p);
      if (!pf || onPath.has(p)) continue;
      onPath.add(p);
      stack.push({ nodes: pf.nodes, i: 0, parents: f.parents, via: [...f.via, f.dir], file: p });
      continue;
    }
    if (f.i >= f.nodes.length) {
      stack.pop();
      if (f.file !== null) onPath.delete(f.file);
      continue;
    }
    const node = f.nodes[f.i++];
    const descend = visit(node, { parents: f.parents, via: f.via });
    if (node.type !== 'directive') continue;
    // an Apache <Macro> body is stored unread by httpd: what it means is in each Use's expansion
    const block: Frame | null =
      node.block && descend !== false && !(node.section && node.key === 'macro')
        ? { nodes: node.block, i: 0, parents: [...f.parents, node], via: f.via, file: null }
        : null;
    if (node.includes && node.includes.length > 0) {
      stack.push({ inc: node.includes, i: 0, dir: node, parents: f.parents, via: f.via, block });
    } else if (node.expansion && node.expansion.length > 0) {
      // mod_macro `Use`: its expansion is read in its place, like an included file
      stack.push({ nodes: node.expansion, i: 0, parents: f.parents, via: [...f.via, node], file: null });
    } else if (block) {
      stack.push(block);
    }
  }
}

/**
 * Visit every directive in reading order, as `walk` does (includes and mod_macro expansions in place,
 * include cycles not followed twice on one path, `<Macro>` bodies unread) but without a context object
 * per node, for walks over every node of a big set. `state` is what the top level is walked with;
 * `inner` gives the state of a directive's block (default: the same), e.g. "inside <IfModule>".
 */
export function walkDirectives<S>(
  set: ConfigSet,
  state: S,
  visit: (d: Directive, state: S) => void,
  inner?: (d: Directive, state: S) => S,
): void {
  type W = { nodes: Node[]; i: number; file: string | null; state: S } | { inc: string[]; i: number; state: S };
  const onPath = new Set<string>([set.root.source.path]);
  const stack: W[] = [{ nodes: set.root.nodes, i: 0, file: null, state }];
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if ('inc' in f) {
      if (f.i >= f.inc.length) {
        stack.pop();
        continue;
      }
      const p = f.inc[f.i++];
      const pf = set.files.get(p);
      if (!pf || onPath.has(p)) continue;
      onPath.add(p);
      stack.push({ nodes: pf.nodes, i: 0, file: p, state: f.state });
      continue;
    }
    if (f.i >= f.nodes.length) {
      stack.pop();
      if (f.file !== null) onPath.delete(f.file);
      continue;
    }
    const n = f.nodes[f.i++];
    if (n.type !== 'directive') continue;
    visit(n, f.state);
    if (n.section && n.key === 'macro') continue; // stored unread (mod_macro); its Use lines carry the expansion
    if (n.block && n.block.length > 0) stack.push({ nodes: n.block, i: 0, file: null, state: inner ? inner(n, f.state) : f.state });
    else if (n.includes && n.includes.length > 0) stack.push({ inc: n.includes, i: 0, state: f.state });
    else if (n.expansion && n.expansion.length > 0) stack.push({ nodes: n.expansion, i: 0, file: null, state: f.state });
  }
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
    } else if (n.type === 'directive' && n.expansion && n.expansion.length > 0) {
      out.push(...expandIncludes(set, n.expansion, seen));
    } else {
      out.push(n);
    }
  }
  return out;
}

/** How deep blocks nest in a list of nodes (0: no directive has a non-empty block), without recursion. */
export function nestingDepth(nodes: Node[]): number {
  let max = 0;
  const stack: Array<{ nodes: Node[]; depth: number }> = [{ nodes, depth: 0 }];
  while (stack.length > 0) {
    const f = stack.pop()!;
    for (const n of f.nodes) {
      if (f.depth > max) max = f.depth;
      if (n.type === 'directive' && n.block && n.block.length > 0) stack.push({ nodes: n.block, depth: f.depth + 1 });
    }
  }
  return max;
}
