/**
 * `npm ci` / `npm install` in a checkout (the `prepare` lifecycle script; npm never runs it for a
 * consumer installing the published package, which ships dist/ prebuilt): compile dist/ with tsc and
 * write the CLI bundle. Without the dev dependencies (`npm ci --omit=dev`) it says so and does nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
if (!existsSync(tsc)) {
  console.error('why403 prepare: typescript is not installed (dev dependencies omitted); dist/ not built');
} else {
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  const b = spawnSync(process.execPath, [join(root, 'scripts/bundle.mjs'), '--optional'], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
