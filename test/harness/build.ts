/**
 * Tests that run the built CLI (`dist/src/cli.js`) call `ensureBuilt()` first: it runs tsc when dist/
 * is missing or older than a source file. `npm test` builds before vitest, so in CI this is a no-op.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '..', '..');
export const cliPath = join(repoRoot, 'dist/src/cli.js');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

export function ensureBuilt(): void {
  if (existsSync(cliPath) && statSync(cliPath).mtimeMs >= Math.max(newest(join(repoRoot, 'src')), newest(join(repoRoot, 'rules')))) return;
  try {
    execFileSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', repoRoot], {
      stdio: 'pipe',
      timeout: 180_000,
    });
  } catch {
    // Type errors elsewhere in the tree still emit JavaScript; the tests judge the result.
  }
}
