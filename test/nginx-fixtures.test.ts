/**
 * Parse fixtures: each fixtures/parse/nginx/*.conf is parsed (context inferred) and its tree and
 * diagnostics are compared with the reviewed dump beside it (<name>.ast.txt). Run with `-u` only
 * after reading the new dump.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Node } from '../src/ast.js';
import { parseNginx } from '../src/nginx/parser.js';
import { SourceFile } from '../src/source.js';

const DIR = resolve(__dirname, '../fixtures/parse/nginx');

function dump(nodes: Node[]): string {
  const out: string[] = [];
  const stack: { n: Node; depth: number }[] = nodes.map((n) => ({ n, depth: 0 })).reverse();
  while (stack.length) {
    const { n, depth } = stack.pop()!;
    const at = `${n.span.start.line}:${n.span.start.column}-${n.span.end.line}:${n.span.end.column}`;
    const pad = '  '.repeat(depth);
    if (n.type === 'comment') {
      out.push(`${pad}# ${JSON.stringify(n.text)}${n.trailing ? ' trailing' : ''} @${at}`);
      continue;
    }
    const args = n.args
      .map((a) => `${JSON.stringify(a.value)}${a.raw !== a.value ? ` (raw ${a.raw})` : ''}@${a.span.start.line}:${a.span.start.column}`)
      .join(' ');
    const raw = n.rawBody !== undefined ? ` rawBody=${JSON.stringify(n.rawBody)}` : '';
    out.push(`${pad}${n.name} ${args}${n.block ? ' {}' : ''}${raw} @${at}`);
    if (n.block) for (let i = n.block.length - 1; i >= 0; i--) stack.push({ n: n.block[i], depth: depth + 1 });
  }
  return out.join('\n');
}

describe('nginx parse fixtures', () => {
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith('.conf'))
    .sort();
  it('has fixtures', () => expect(files.length).toBeGreaterThan(0));
  it.each(files)('%s', async (f) => {
    const src = SourceFile.fromBytes(join(DIR, f), readFileSync(join(DIR, f)));
    const p = parseNginx(src);
    const errs = p.errors.map((e) => `${e.severity} ${e.span.start.line}:${e.span.start.column} ${e.code}: ${e.message}`);
    await expect(`context: ${p.context}\n${dump(p.nodes)}\n--- diagnostics\n${errs.join('\n')}\n`).toMatchFileSnapshot(
      join(DIR, f.replace(/\.conf$/, '.ast.txt')),
    );
  });
});
