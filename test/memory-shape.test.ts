/**
 * Issue 12, memory: what the nginx tree and model keep per line of configuration, measured (not timed)
 * in a child process started with --expose-gc: the heap in use after a forced collection, before and
 * after loading a generated tree of N and 4N servers, and after building its model and every scope's
 * settings. The difference between the two sizes is the cost per line without the fixed costs
 * (modules, tables). At 10,000 servers (860k lines) every byte per line is 0.8 MB of heap.
 *
 * Bounds (100 → 400 servers): the tree was ≈ 455 bytes per line before its nodes kept their positions
 * inline (three span objects per directive, one per argument), ≈ 270 after; ≈ 205 once lines, name
 * ends, block offsets, argument ends and most raw texts were read from the text instead of kept (see
 * test/nginx-tree-shape.test.ts). The model ≈ 240 before ByName and the trimmed lists, ≈ 180 after,
 * ≈ 140 once bodies were shared with their blocks and the rare settings with the parent.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateNginxTree } from '../bench/gen-nginx.js';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Heap kept by the tree and by the model of a tree, in bytes, measured in a child process of its own
 * (a run keeps the last set it loaded until the next load: one tree per process keeps that out). A
 * tiny config is loaded first, so the module tables built on first use are not counted. */
function retained(main: string, tiny: string): { tree: number; model: number } {
  const script = `
    import v8 from 'node:v8';
    const { loadConfig } = await import(${JSON.stringify(join(dist, 'src/load.js'))});
    const { buildModel } = await import(${JSON.stringify(join(dist, 'src/nginx/model/tree.js'))});
    const { scopesOf } = await import(${JSON.stringify(join(dist, 'src/nginx/model/cache.js'))});
    const { effectiveSettings } = await import(${JSON.stringify(join(dist, 'src/nginx/model/settings.js'))});
    const used = () => { gc(); gc(); return v8.getHeapStatistics().used_heap_size; };
    const measure = (main) => {
      const h0 = used();
      const set = loadConfig(main);
      const h1 = used();
      const model = buildModel(set);
      for (const s of scopesOf(model)) effectiveSettings(s);
      const h2 = used();
      return { tree: h1 - h0, model: h2 - h1, keep: [set, model] };
    };
    measure(${JSON.stringify(tiny)});
    const r = measure(${JSON.stringify(main)});
    process.stdout.write(JSON.stringify({ tree: r.tree, model: r.model }));
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { tree: number; model: number };
}

describe('memory per line of nginx configuration (issue 12)', () => {
  it.skipIf(!existsSync(join(dist, 'src/load.js')))('the tree and model grow linearly, within a bound per line', () => {
    const trees = [100, 400].map((n) => {
      const dir = mkdtempSync(join(tmpdir(), `why403-mem-${n}-`));
      dirs.push(dir);
      return generateNginxTree(n, dir);
    });
    const tiny = join(mkdtempSync(join(tmpdir(), 'why403-mem-tiny-')), 'nginx.conf');
    dirs.push(dirname(tiny));
    writeFileSync(tiny, 'events {}\nhttp {\n  server {\n    listen 80;\n    location / { deny all; }\n  }\n}\n');
    const [small, big] = trees.map((t) => retained(t.main, tiny));
    const lines = trees[1].lines - trees[0].lines;
    const treePerLine = (big.tree - small.tree) / lines;
    const modelPerLine = (big.model - small.model) / lines;
    // linear: 4× the servers keep at most 4.4× the heap
    expect(big.tree / small.tree).toBeLessThan(4.4);
    expect(treePerLine).toBeGreaterThan(50); // the measure sees the tree at all
    expect(treePerLine).toBeLessThan(250);
    expect(modelPerLine).toBeLessThan(165);
  });
});
