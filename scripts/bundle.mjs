/**
 * Bundles the built CLI (dist/src/cli.js and everything it imports from dist/, npm packages left
 * external) into one file, dist/src/cli.bundle.js: one module to load instead of ~50 cuts ~35 ms of
 * startup (docs/engine.md, "Libraries and startup"). dist/src/cli.js runs the bundle when it is at
 * least as new as itself (a later `tsc` makes it stale, and the unbundled files run). It sits in
 * dist/src so that every `import.meta.url`-relative path (package.json, rules/*.md, schemas/) is the
 * same as for the unbundled files.
 *
 * `node scripts/bundle.mjs` (npm run build) fails when esbuild fails; with --optional (prepare)
 * it only warns: the CLI then runs unbundled.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const optional = process.argv.includes('--optional');
// --outfile=PATH: somewhere else (tests); it must stay in dist/src for the relative paths to hold.
const outfile = process.argv.find((a) => a.startsWith('--outfile='))?.slice('--outfile='.length) ?? join(root, 'dist/src/cli.bundle.js');
try {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(root, 'dist/src/cli.js')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
} catch (e) {
  console.error(
    `why403: no CLI bundle (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); the CLI runs from the unbundled dist/src files`,
  );
  if (!optional) process.exitCode = 1;
}
