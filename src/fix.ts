/**
 * Applying fixes and writing files. Fixes are ranges of `SourceFile.text`; they are applied left to
 * right and a fix that overlaps an earlier one is skipped (its finding stays reported and a later
 * pass may apply it). Files are written atomically: a temporary file in the same directory, the
 * original mode copied, then rename over the original. `SourceFile.encode` restores the BOM and
 * any invalid UTF-8 bytes, so bytes outside the fixed ranges are unchanged.
 */
import { chmodSync, closeSync, fsyncSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Fix } from './rule.js';
import type { SourceFile } from './source.js';

/** Maximum lint → fix passes, as ESLint does. */
export const MAX_FIX_PASSES = 10;

export interface FixResult {
  output: string;
  applied: number;
  skipped: number;
}

export function applyFixes(text: string, fixes: readonly Fix[]): FixResult {
  const sorted = [...fixes].sort((a, b) => a.range[0] - b.range[0] || a.range[1] - b.range[1]);
  let out = '';
  let at = 0;
  let applied = 0;
  let skipped = 0;
  for (const f of sorted) {
    const [s, e] = f.range;
    if (s < at || s > e || e > text.length) {
      skipped++;
      continue;
    }
    out += text.slice(at, s) + f.text;
    at = e;
    applied++;
  }
  out += text.slice(at);
  return { output: out, applied, skipped };
}

/** Write `text` (encoded as `source` was) to `source.path` atomically, keeping the file's mode. */
export function writeFixed(source: SourceFile, text: string): void {
  // Write through a symlink to its target (renaming over the link would replace it by a file).
  const path = realpathSync(source.path);
  const bytes = source.encode(text);
  const st = statSync(path);
  const tmp = join(dirname(path), `.${basename(path)}.why403-${process.pid}-${Date.now()}.tmp`);
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx', st.mode & 0o7777);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    chmodSync(tmp, st.mode & 0o7777);
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== -1) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
}
