/** The package version, read once from package.json (the one place it is written). */
import { existsSync, readFileSync } from 'node:fs';

let cached: string | undefined;

export function packageVersion(): string {
  if (cached !== undefined) return cached;
  // dist/src/version.js and src/version.ts are both two levels below the package root; the bundle
  // (dist/src/cli.bundle.cjs) too.
  for (const rel of ['../../package.json', '../package.json']) {
    const url = new URL(rel, import.meta.url);
    if (!existsSync(url)) continue;
    try {
      const v = (JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string }) ?? {};
      if (v.name === 'why403' && v.version) return (cached = v.version);
    } catch {
      /* try the next */
    }
  }
  return (cached = '0.0.0');
}
