/**
 * Fixtures must survive a clean checkout: git keeps no empty directory and no path with a `.git`
 * component, so a fixture that needs one must create it with `# mkdir:` / `# file:` lines (see
 * docs/testing-real-servers.md). Without this test such a fixture passes here and fails in CI.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..', 'fixtures');

function walk(dir: string, out: { dirs: string[]; files: string[] }): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      out.dirs.push(p);
      walk(p, out);
    } else if (e.isFile()) out.files.push(p);
  }
}

describe('fixtures survive a clean checkout', () => {
  const tree = { dirs: [] as string[], files: [] as string[] };
  walk(root, tree);

  it('no fixture path has a .git component (git cannot commit it; use "# file:")', () => {
    const bad = [...tree.dirs, ...tree.files].filter((p) => p.split('/').includes('.git'));
    expect(bad.map((p) => p.slice(root.length + 1))).toEqual([]);
  });

  it('every empty directory is made by a "# mkdir:" line of its fixture', () => {
    const made = new Set<string>();
    for (const f of tree.files) {
      if (statSync(f).size > 1_000_000) continue;
      for (const m of readFileSync(f, 'utf8').matchAll(/^\s*#\s*mkdir\s*:\s*(\S+)\s*$/gm)) {
        // The harness resolves the path against the fixture root: the config's directory or an ancestor.
        for (let d = dirname(f); d.startsWith(root); d = dirname(d)) made.add(join(d, m[1]));
      }
    }
    const empty = tree.dirs.filter((d) => readdirSync(d).length === 0);
    expect(empty.filter((d) => !made.has(d)).map((d) => d.slice(root.length + 1))).toEqual([]);
  });
});
