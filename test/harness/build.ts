/** Build dist/ with tsc when it is missing or older than a source file (tests that run the binary). */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

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
  const cli = join(root, 'dist/src/cli.js');
  if (existsSync(cli) && statSync(cli).mtimeMs >= Math.max(newest(join(root, 'src')), newest(join(root, 'rules')))) return;
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'pipe', timeout: 120_000 });
  } catch {
    // Type errors elsewhere in the tree still emit JavaScript; the tests below judge the result.
  }
}
