/**
 * Property test: thousands of seeded random mutations of the corpus Apache files never make the
 * parser throw or hang, and every position it reports (diagnostics, directives, arguments,
 * comments) lies inside the file and agrees with SourceFile.positionAt.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Node, Span } from '../src/ast.js';
import { parseApache } from '../src/apache/parser.js';
import { toApachePayload } from '../src/apache/payload.js';
import { SourceFile } from '../src/source.js';
import { mulberry32 } from '../bench/prng.js';
import { CORPUS, corpusOrSkip, corpusRows } from './harness/corpus.js';

const have = corpusOrSkip('Apache mutation test');

const MUTATIONS = 20_000;
const SEED = 0x403;

const STRAY = [
  '<',
  '>',
  '"',
  "'",
  '\\',
  '\\\n',
  '\n',
  '</Directory>',
  '<Files x>',
  '</',
  '#',
  '${',
  '\r',
  '\t',
  '\u00e9',
  '\ud83d\ude00',
  '\udc80',
];

function mutate(text: string, rnd: () => number): string {
  let t = text;
  const ops = 1 + Math.floor(rnd() * 5);
  for (let k = 0; k < ops; k++) {
    const n = t.length;
    const at = Math.floor(rnd() * (n + 1));
    const len = Math.floor(rnd() * Math.min(64, n - at + 1));
    switch (Math.floor(rnd() * 5)) {
      case 0: // delete a range
        t = t.slice(0, at) + t.slice(at + len);
        break;
      case 1: // duplicate a range
        t = t.slice(0, at + len) + t.slice(at, at + len) + t.slice(at + len);
        break;
      case 2: // cut short
        t = t.slice(0, at);
        break;
      default: {
        const s = STRAY[Math.floor(rnd() * STRAY.length)];
        t = t.slice(0, at) + s + t.slice(at);
      }
    }
  }
  return t;
}

function checkSpan(src: SourceFile, s: Span, what: string): void {
  const n = src.text.length;
  for (const p of [s.start, s.end]) {
    if (p.offset < 0 || p.offset > n) throw new Error(`${what}: offset ${p.offset} outside 0..${n}`);
    const q = src.positionAt(p.offset);
    if (q.line !== p.line || q.column !== p.column) {
      throw new Error(`${what}: ${p.line}:${p.column} but offset ${p.offset} is ${q.line}:${q.column}`);
    }
  }
  if (s.end.offset < s.start.offset) throw new Error(`${what}: end before start`);
}

describe.skipIf(!have)('Apache parser under random mutation', () => {
  it(`${MUTATIONS} seeded mutations never throw and keep every position inside the file`, () => {
    const files = corpusRows('apache')
      .map((c) => ({ path: c.path, htaccess: c.kind === 'htaccess', text: readFileSync(join(CORPUS, c.path), 'latin1') }))
      .filter((f) => f.text.length < 200_000);
    expect(files.length).toBeGreaterThan(500);
    const rnd = mulberry32(SEED);
    let errorsSeen = 0;
    for (let i = 0; i < MUTATIONS; i++) {
      const f = files[Math.floor(rnd() * files.length)];
      const text = mutate(f.text, rnd);
      const src = new SourceFile('/m/' + f.path, text);
      const label = `mutation #${i} of ${f.path}`;
      const pf = parseApache(src, { context: f.htaccess ? 'htaccess' : 'server' });
      errorsSeen += pf.errors.length;
      for (const e of pf.errors) {
        checkSpan(src, e.span, `${label} diagnostic ${e.code}`);
        expect(e.file).toBe(src.path);
      }
      const stack: Node[] = [...pf.nodes];
      while (stack.length > 0) {
        const node = stack.pop() as Node;
        checkSpan(src, node.span, `${label} ${node.type}`);
        if (node.type === 'directive') {
          checkSpan(src, node.nameSpan, `${label} name of ${node.name}`);
          for (const a of node.args) {
            checkSpan(src, a.span, `${label} arg of ${node.name}`);
            if (a.raw !== text.slice(a.span.start.offset, a.span.end.offset)) throw new Error(`${label}: raw differs from the source text`);
          }
          if (node.blockSpan) checkSpan(src, node.blockSpan, `${label} block of ${node.name}`);
          if (node.block) stack.push(...node.block);
        }
      }
      toApachePayload({ server: 'apache', root: pf, files: new Map([[src.path, pf]]), errors: [] });
    }
    expect(errorsSeen).toBeGreaterThan(100); // the mutations did break things
  });
});
