/**
 * `node dist/bench/floor.js <main config>`: how long this process takes to reach a built model of one
 * config, before any rule, proof or output — the floor under the issue-12 ratio goals
 * (docs/performance.md, "The floor under the remaining goals"). Prints one JSON line of milliseconds:
 * `boot` (node's start to this module), `imports` (the loader and the model), `load` (read + parse +
 * includes), `model` (the model with its scopes or tree), `total`. Run it once per config, in a fresh
 * process each time (the boot is part of the number). A benchmark: it reports, never fails.
 */
import { performance } from 'node:perf_hooks';

const file = process.argv[2];
if (!file) {
  console.error('usage: node dist/bench/floor.js <main config>');
  process.exit(2);
}
const t0 = performance.now();
const { loadConfig } = await import('../src/load.js');
const { modelFor } = await import('../src/model/index.js');
const t1 = performance.now();
const set = loadConfig(file, {});
const t2 = performance.now();
const m = modelFor(set, {});
if (m.server === 'nginx') m.scopes();
else void m.tree;
const t3 = performance.now();
const ms = (x: number) => Math.round(x);
console.log(JSON.stringify({ boot: ms(t0), imports: ms(t1 - t0), load: ms(t2 - t1), model: ms(t3 - t2), total: ms(t3) }));
