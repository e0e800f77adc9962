#!/usr/bin/env node
// explain vs the real servers over the shared corpus: see bench/agreement.ts. Build first (npx tsc -p tsconfig.json).
//   node scripts/agreement.mjs [--server nginx|apache] [--limit N] [--corpus DIR] [--only PATH] [--json] [--verbose]
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const entry = join(root, 'dist/bench/agreement.js');
if (!existsSync(entry)) {
  console.error(`${entry} not found: run npx tsc -p tsconfig.json first`);
  process.exit(2);
}
const r = spawnSync(process.execPath, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
