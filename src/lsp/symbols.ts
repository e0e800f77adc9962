/**
 * Document symbols for outline views: nginx blocks (http, server with its names, location, upstream,
 * if, limit_except, map…), Apache sections (<VirtualHost>, <Directory>, <Location>, <Files>, <If…>…),
 * nested as in the file. Built from the parsed file alone.
 */
import type { DocumentSymbol } from 'vscode-languageserver';
import type { Directive, Node, ParsedFile } from '../ast.js';
import type { Span } from '../source.js';

/** LSP SymbolKind numbers. */
const KIND = { module: 2, namespace: 3, class: 5, method: 6, field: 8, struct: 23, object: 19 } as const;
/** How deep the outline goes (nesting in a hostile file is unbounded). */
const MAX_DEPTH = 64;

function range(s: Span) {
  return {
    start: { line: s.start.line - 1, character: s.start.column - 1 },
    end: { line: s.end.line - 1, character: s.end.column - 1 },
  };
}

function kindOf(d: Directive, server: ParsedFile['server']): number {
  const k = d.key.replace(/^</, '').toLowerCase();
  if (server === 'nginx') {
    if (k === 'http' || k === 'stream' || k === 'events' || k === 'mail') return KIND.module;
    if (k === 'server') return KIND.class;
    if (k === 'location') return KIND.method;
    if (k === 'upstream') return KIND.struct;
    return KIND.namespace;
  }
  if (k === 'virtualhost') return KIND.class;
  if (k === 'directory' || k === 'directorymatch' || k === 'location' || k === 'locationmatch') return KIND.method;
  if (k === 'files' || k === 'filesmatch') return KIND.field;
  return KIND.namespace;
}

function nameOf(d: Directive, server: ParsedFile['server']): string {
  const args = d.args.map((a) => a.raw).join(' ');
  if (server === 'apache') return `<${d.name}${args ? ' ' + args : ''}>`;
  if (d.name === 'server' && d.block) {
    const names = d.block.filter((n): n is Directive => n.type === 'directive' && n.name === 'server_name');
    const list = names.flatMap((n) => n.args.map((a) => a.raw));
    return list.length ? `server ${list.join(' ')}` : 'server';
  }
  return `${d.name}${args ? ' ' + args : ''}`;
}

export function documentSymbols(file: ParsedFile): DocumentSymbol[] {
  const top: DocumentSymbol[] = [];
  // an explicit stack: no recursion on deeply nested input
  const stack: Array<{ nodes: Node[]; out: DocumentSymbol[]; depth: number }> = [{ nodes: file.nodes, out: top, depth: 0 }];
  while (stack.length) {
    const f = stack.pop()!;
    for (const n of f.nodes) {
      if (n.type !== 'directive' || !n.block) continue;
      const sym: DocumentSymbol = {
        name: nameOf(n, file.server) || n.name || '(block)',
        kind: kindOf(n, file.server) as DocumentSymbol['kind'],
        range: range(n.span),
        selectionRange: range(n.nameSpan),
        children: [],
      };
      f.out.push(sym);
      if (f.depth < MAX_DEPTH) stack.push({ nodes: n.block, out: sym.children!, depth: f.depth + 1 });
    }
  }
  return top;
}
