/**
 * Property test: deterministic random mutations of corpus files (bytes deleted or duplicated, files
 * cut short, stray braces, quotes, backslashes, comment signs) never make the parser throw, always
 * finish, and every diagnostic and every node has a position inside the file that agrees with
 * SourceFile's own line/column mapping.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Node, Span } from '../src/ast.js';
import { parseNginx } from '../src/nginx/parser.js';
import { toCrossplanePayload } from '../src/nginx/crossplane.js';
import { SourceFile } from '../src/source.js';
import { mulberry32 as prng } from '../bench/prng.js';
import { CORPUS, corpusOrSkip, corpusRows } from './harness/corpus.js';

const present = corpusOrSkip('nginx property test');

const STRAY = ['{', '}', '"', "'", ';', '\\', '#', '${', '\n', '\r\n', '}}}}', '{{{{', '"\n', 'content_by_lua_block {', '--[[', '\xff'];

function mutate(b: Buffer, rnd: () => number): Buffer {
  const n = b.length;
  const at = Math.floor(rnd() * (n + 1));
  const len = 1 + Math.floor(rnd() * 40);
  switch (Math.floor(rnd() * 5)) {
    case 0: // delete bytes
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(n, at + len))]);
    case 1: // duplicate bytes
      return Buffer.concat([
        b.subarray(0, at + len > n ? n : at + len),
        b.subarray(at, Math.min(n, at + len)),
        b.subarray(Math.min(n, at + len)),
      ]);
    case 2: // cut short
      return b.subarray(0, at);
    default: {
      // stray token(s)
      const s = STRAY[Math.floor(rnd() * STRAY.length)];
      const ins = s === '\xff' ? Buffer.from([0xff, 0xc3]) : Buffer.from(s);
      return Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
    }
  }
}

function checkSpan(src: SourceFile, s: Span, what: string): void {
  for (const p of [s.start, s.end]) {
    if (p.offset < 0 || p.offset > src.text.length) throw new Error(`${what}: offset ${p.offset} outside 0..${src.text.length}`);
    const q = src.positionAt(p.offset);
    if (q.line !== p.line || q.column !== p.column)
      throw new Error(`${what}: ${p.line}:${p.column} but offset ${p.offset} is ${q.line}:${q.column}`);
  }
  if (s.end.offset < s.start.offset) throw new Error(`${what}: span ends before it starts`);
}

function checkNodes(src: SourceFile, nodes: Node[]): void {
  const stack = [nodes];
  while (stack.length) {
    for (const n of stack.pop()!) {
      checkSpan(src, n.span, n.type);
      if (n.type === 'directive') {
        checkSpan(src, n.nameSpan, 'name');
        for (const a of n.args) checkSpan(src, a.span, 'arg');
        if (n.blockSpan) checkSpan(src, n.blockSpan, 'block');
        if (n.block) stack.push(n.block);
      }
    }
  }
}

describe.skipIf(!present)('nginx parser under random mutation', () => {
  it('never throws, always finishes, positions inside the file', () => {
    const files = corpusRows('nginx')
      .map((c) => join(CORPUS, c.path))
      .filter((p) => existsSync(p))
      .sort();
    const bytes = files.map((f) => readFileSync(f)).filter((b) => b.length < 200_000);
    const rnd = prng(403);
    const N = 10000;
    let withErrors = 0;
    for (let i = 0; i < N; i++) {
      let b: Buffer = bytes[Math.floor(rnd() * bytes.length)];
      const rounds = 1 + Math.floor(rnd() * 4);
      for (let r = 0; r < rounds; r++) b = mutate(b, rnd);
      const src = SourceFile.fromBytes(`/mut/${i}.conf`, b);
      let ok = false;
      try {
        const f = parseNginx(src);
        for (const e of f.errors) checkSpan(src, e.span, `error ${e.code}`);
        checkNodes(src, f.nodes);
        toCrossplanePayload({ server: 'nginx', root: f, files: new Map([[src.path, f]]), errors: [] });
        if (f.errors.length > 0) withErrors++;
        ok = true;
      } finally {
        if (!ok) console.log(`mutation ${i} failed; input: ${JSON.stringify(src.text.slice(0, 2000))}`);
      }
    }
    // the mutations do break things: most inputs get at least one diagnostic
    expect(withErrors).toBeGreaterThan(N / 3);
  });
});
