/**
 * `npm run bench`: runs every benchmark module in this folder (each exports `run(): Promise<void>`
 * and prints its own numbers). Benchmarks report; they never fail on a number.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const mods = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
for (const f of mods) {
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { run?: () => Promise<void> };
  if (typeof mod.run !== 'function') continue;
  console.log(`\n== ${f.replace(/\.bench\.js$/, '')}`);
  await mod.run();
}
