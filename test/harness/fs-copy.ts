/**
 * A disk fixture as the real-server harness lays it out, for tests that lint or explain it with
 * `--fs`: the fixture directory copied into a fresh directory that the worker user can reach (0755,
 * under /tmp when we are root), permissions normalised (directories 0755, files 0644/0755, symlinks
 * kept), then its `# mkdir:`, `# file:` and `# mode:` lines applied (test/harness/run-fixture.ts).
 */
import { chmodSync, cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseSetupLines } from './run-fixture.js';
import { isRoot } from './servers.js';

function traversable(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (dirname(d) === d) return true;
  }
}

function normalise(dir: string): void {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) {
      chmodSync(p, 0o755);
      normalise(p);
    } else chmodSync(p, st.mode & 0o111 ? 0o755 : 0o644);
  }
}

function configFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${e}` : e;
    const st = lstatSync(join(dir, r));
    if (st.isDirectory()) out.push(...configFiles(dir, r));
    else if (st.isFile() && (r.endsWith('.conf') || r.endsWith('.htaccess'))) out.push(r);
  }
  return out;
}

export interface FsCopy {
  /** The copy (absolute, no trailing slash). */
  root: string;
  cleanup(): void;
}

export function copyFsFixture(fixture: string): FsCopy {
  let base = tmpdir();
  if (isRoot && !traversable(base)) base = '/tmp';
  const root = mkdtempSync(join(base, 'why403-fs-'));
  chmodSync(root, 0o755);
  cpSync(fixture, root, { recursive: true, verbatimSymlinks: true });
  normalise(root);
  const modes: Record<string, number> = {};
  for (const f of configFiles(fixture)) {
    const s = parseSetupLines(readFileSync(join(fixture, f), 'utf8'), f);
    if (s.errors.length) throw new Error(s.errors.join('\n'));
    for (const d of s.mkdirs) mkdirSync(join(root, d), { recursive: true, mode: 0o755 });
    for (const [p, text] of Object.entries(s.files)) {
      mkdirSync(dirname(join(root, p)), { recursive: true, mode: 0o755 });
      writeFileSync(join(root, p), text);
    }
    Object.assign(modes, s.modes);
  }
  for (const [p, mode] of Object.entries(modes)) chmodSync(join(root, p), mode);
  return {
    root,
    cleanup: () => {
      // a 0000 directory cannot be emptied by a non-root owner until it is opened again
      for (const p of Object.keys(modes)) {
        try {
          chmodSync(join(root, p), 0o755);
        } catch {
          /* gone */
        }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
