/**
 * Issue 12, Apache memory (sixth pass): what the Apache tree keeps per line of configuration,
 * measured (not timed) in a child process started with --expose-gc: the heap in use after a forced
 * collection before and after loading generated vhost trees of 50 and 200 vhosts (apache2.conf and
 * its sites; the .htaccess files are other sets). The difference is the cost per line without the
 * fixed costs. And the shape that makes it: the parser's nodes keep offsets, not span objects.
 *
 * Bounds: the tree was ≈ 640 bytes per line while every directive had two or three span objects
 * and every argument one (arrays grown by push: room for 17), ≈ 295 after (src/apache/nodes.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateApacheVhostTree } from '../bench/gen-apache-vhosts.js';
import { parseApache } from '../src/apache/parser.js';
import { isNormalAbsolute } from '../src/files.js';
import { insideTree } from '../src/outside.js';
import { relativePath } from '../src/run.js';
import type { Directive } from '../src/ast.js';
import { SourceFile } from '../src/source.js';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function retained(main: string, tiny: string): number {
  const script = `
    import v8 from 'node:v8';
    const { loadConfig } = await import(${JSON.stringify(join(dist, 'src/load.js'))});
    const used = () => { gc(); gc(); return v8.getHeapStatistics().used_heap_size; };
    const measure = (main) => {
      const h0 = used();
      const set = loadConfig(main);
      const h1 = used();
      return { tree: h1 - h0, keep: set };
    };
    measure(${JSON.stringify(tiny)});
    const r = measure(${JSON.stringify(main)});
    process.stdout.write(JSON.stringify({ tree: r.tree }));
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { tree: number }).tree;
}

describe('memory per line of Apache configuration (issue 12, sixth pass)', () => {
  it.skipIf(!existsSync(join(dist, 'src/load.js')))('the tree grows linearly, within a bound per line', () => {
    const trees = [50, 200].map((n) => {
      const dir = mkdtempSync(join(tmpdir(), `why403-amem-${n}-`));
      dirs.push(dir);
      return { dir, tree: generateApacheVhostTree(dir, n) };
    });
    const tinyDir = mkdtempSync(join(tmpdir(), 'why403-amem-tiny-'));
    dirs.push(tinyDir);
    const tiny = join(tinyDir, 'apache2.conf');
    writeFileSync(tiny, '<Directory />\n  Require all denied\n</Directory>\n');
    // the main config's lines only: count them from the files the set reads
    const lines = (dir: string) => {
      const r = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { loadConfig } = await import(${JSON.stringify(join(dist, 'src/load.js'))});
           let n = 0; for (const f of loadConfig(${JSON.stringify(join(dir, 'apache2.conf'))}).files.values()) n += f.source.lineCount;
           process.stdout.write(String(n));`,
        ],
        { encoding: 'utf8', timeout: 120_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      return Number(r.stdout);
    };
    const [small, big] = trees.map((t) => retained(join(t.dir, 'apache2.conf'), tiny));
    const added = lines(trees[1].dir) - lines(trees[0].dir);
    const perLine = (big - small) / added;
    expect(big / small).toBeLessThan(4.4);
    expect(perLine).toBeGreaterThan(100); // the measure sees the tree at all
    expect(perLine).toBeLessThan(400);
  });
});

describe('the Apache parser keeps offsets, not span objects', () => {
  const text = [
    '# a comment',
    'Require ip 10.0.0.1 "192.168.0.0/16"',
    '<Directory "/var/www/">',
    '  Options \\',
    '    -Indexes',
    '</Directory>',
    '',
  ].join('\n');
  const f = parseApache(new SourceFile('/t/apache2.conf', text));
  const [comment, require, dir] = f.nodes;
  const opts = (dir as Directive).block![0] as Directive;

  it('no node or argument holds a span, a position or a raw text equal to its value', () => {
    const objects = (x: object) =>
      Object.values(x).filter((v) => v !== null && typeof v === 'object' && !(v instanceof SourceFile) && !Array.isArray(v));
    for (const n of [comment, require, dir, opts]) expect(objects(n)).toEqual([]);
    for (const a of [...(require as Directive).args, ...(dir as Directive).args, ...opts.args]) expect(objects(a)).toEqual([]);
    // an argument written as its value keeps one string
    expect(Object.values((require as Directive).args[0]).filter((v) => typeof v === 'string')).toEqual(['ip']);
  });

  it('the spans read are the text positions, continued lines included', () => {
    const r = require as Directive;
    expect(r.span).toMatchObject({ start: { offset: 12, line: 2, column: 1 }, end: { line: 2, column: 37 } });
    expect(r.args[2]).toMatchObject({ value: '192.168.0.0/16', raw: '"192.168.0.0/16"', quote: '"' });
    expect(r.args[2].span).toMatchObject({ start: { line: 2, column: 21 }, end: { line: 2, column: 37 } });
    const d = dir as Directive;
    expect(d.nameSpan).toMatchObject({ start: { line: 3, column: 2 }, end: { line: 3, column: 11 } });
    expect(d.blockSpan).toMatchObject({ start: { line: 3, column: 1 }, end: { line: 6, column: 13 } });
    expect(d.span).toMatchObject({ start: { line: 3, column: 2 }, end: { line: 6, column: 13 } });
    expect(opts.args[0].value).toBe('-Indexes');
    expect(opts.args[0].span).toMatchObject({ start: { line: 5, column: 5 }, end: { line: 5, column: 13 } });
    expect(opts.span).toMatchObject({ start: { line: 4, column: 3 }, end: { line: 5, column: 13 } });
    expect(comment).toMatchObject({ type: 'comment', text: ' a comment', trailing: false });
    expect(comment.span).toMatchObject({ start: { line: 1, column: 1 }, end: { line: 1, column: 12 } });
  });
});

describe('paths compared without path.resolve agree with path.relative (sixth pass)', () => {
  const names = [
    '/',
    '/a',
    '/a/b',
    '/a/b/',
    '/a/..b',
    '/a/..b/c',
    '/a/b/../c',
    '/a//b',
    '/a/./b',
    '/ab',
    '/a/b/c.conf',
    '/x/a/b',
    '/a/b/..',
    '/a/.',
  ];
  it('isNormalAbsolute is exactly "resolve() gives it back"', () => {
    for (const p of [...names, 'a/b', '', './a']) expect(isNormalAbsolute(p), p).toBe(p === resolve(p));
  });
  it('relativePath and insideTree answer as with relative() for every pair', () => {
    const reference = (cwd: string, file: string) => {
      const r = relative(cwd, file);
      return r === '' ? '.' : r.startsWith('..') ? file : r;
    };
    for (const cwd of names)
      for (const file of names) {
        expect(relativePath(cwd, file), `${cwd} ${file}`).toBe(reference(cwd, file));
        const rel = relative(cwd, file);
        const inside = rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
        expect(insideTree([cwd])(file), `${cwd} ${file}`).toBe(inside);
      }
  });
});
