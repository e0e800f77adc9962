/**
 * `--fix-dry-run` shows what `--fix` would write and writes nothing: a unified diff after the
 * findings in the text formats, the fixed text as `output` in JSON.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, ensureBuilt, repoRoot } from './harness/build.js';

let dir = '';
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'why403-dry-'));
  copyFileSync(join(repoRoot, 'fixtures/legacy/site.htaccess'), join(dir, '.htaccess'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });

describe('--fix-dry-run', () => {
  it('prints the diff of the legacy conversion and leaves the file as it was', () => {
    const before = readFileSync(join(dir, '.htaccess'), 'utf8');
    const r = run('--fix-dry-run', '.htaccess');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--- a/.htaccess\n+++ b/.htaccess\n');
    expect(r.stdout).toMatch(/^- {4}order allow,deny$/m);
    expect(r.stdout).toMatch(/^\+ {4}Require all denied$/m);
    expect(r.stdout).toMatch(/^\+ {4}Require not ip 127\.0\.0\.9$/m);
    expect(readFileSync(join(dir, '.htaccess'), 'utf8')).toBe(before);
  });
  it('JSON carries the fixed text and no diff', () => {
    const r = run('--fix-dry-run', '-f', 'json', '.htaccess');
    const [result] = JSON.parse(r.stdout) as Array<{ output?: string }>;
    expect(result.output).toContain('Require all denied');
    expect(result.output).not.toMatch(/^\s*order allow,deny$/im);
  });
});
