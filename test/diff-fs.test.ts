/**
 * `why403 diff --fs`: both sides read the same disk, so a change whose effect depends on it (listing
 * turned on for a directory without an index file) is a decided change, not a "depends on the disk".
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, ensureBuilt } from './harness/build.js';

let dir = '';
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'why403-diff-fs-'));
  chmodSync(dir, 0o755); // the worker (nobody) must be able to search it, as on a real docroot
  mkdirSync(join(dir, 'www/files'), { recursive: true });
  const conf = (loc: string) =>
    `events {}\nhttp {\n    server {\n        listen 8080;\n        server_name shop.test;\n        root ${dir}/www;\n        location /files/ { ${loc}}\n    }\n}\n`;
  writeFileSync(join(dir, 'base.conf'), conf(''));
  writeFileSync(join(dir, 'head.conf'), conf('autoindex on; '));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Change {
  request: { url: string };
  before: { status: number | null };
  after: { status: number | null; decidedBy: string | null };
}
const diff = (...args: string[]) => {
  const r = spawnSync(process.execPath, [cliPath, 'diff', '-f', 'json', ...args, 'base.conf', 'head.conf'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, changes: (JSON.parse(r.stdout) as { changes: Change[] }).changes };
};

describe('diff --fs', () => {
  it('without the disk the directory request is undecided on both sides', () => {
    const { code, changes } = diff();
    expect(code).toBe(1);
    const c = changes.find((x) => x.request.url === 'http://shop.test:8080/files/')!;
    expect([c.before.status, c.after.status]).toEqual([null, null]);
  });
  it('with the disk: 403 (no index, no listing) becomes 200, decided by autoindex', () => {
    const { code, changes } = diff('--fs');
    expect(code).toBe(1);
    const c = changes.filter((x) => x.request.url === 'http://shop.test:8080/files/');
    expect(c.length).toBeGreaterThan(0);
    for (const x of c) {
      expect([x.before.status, x.after.status]).toEqual([403, 200]);
      expect(x.after.decidedBy).toMatch(/head\.conf:7:\d+ autoindex on/);
    }
  });
});
