/**
 * A module loaded on its first use instead of at startup. esbuild hoists every static import of a
 * package or node builtin to the top of the CLI bundle (scripts/bundle.mjs), so a module that only
 * `test --real`, `diff --base` or `--auth` needs (node:http, node:child_process, bcryptjs) would be
 * loaded by every lint run; pre-commit pays for each run's start-up.
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

export function lazy<T>(id: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= load(id) as T);
}
