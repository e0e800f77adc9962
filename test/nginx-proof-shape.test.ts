/**
 * Issue 12, nginx proofs: the simulator's work per proof, counted (not timed). A simulated request
 * runs once per sequence of answers to its choice points (an error page's file exists, is missing,
 * is a directory…), each run from the request line, and only the first run's trace is ever read.
 * - Runs after the first build no trace steps (before: every run built every message).
 * - A proof reads only the merged status, and nothing of an unknown one: with `statusOnly` the
 *   exploration stops once the status is known to be null (before: every possibility was explored).
 * - A block that a snippet puts into every server is one finding (the engine keeps the first report),
 *   so it is proved once, not once per server; findings that differ (another inherited deny) are
 *   each kept and proved.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateNginxTree } from '../bench/gen-nginx.js';
import { modelFromText, simStats, simulate } from '../src/nginx/model/index.js';
import { lint } from '../src/run.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `why403-${name}-`));
  dirs.push(d);
  return d;
};
const counts = () => ({ ...simStats });
const since = (c: typeof simStats) => ({
  simulations: simStats.simulations - c.simulations,
  runs: simStats.runs - c.runs,
  steps: simStats.steps - c.steps,
});

// deny, then an error page whose file may exist (403), be missing (404) or be a directory (403)
const CONF = `http {
  server {
    listen 80;
    server_name a.test;
    root /srv/a;
    error_page 403 /errors/403.html;
    location = /errors/403.html { internal; }
    location /admin/ { deny all; }
  }
  server {
    listen 80;
    server_name b.test;
    root /srv/b;
    location /both/ { if (-f $request_filename) { return 403; } return 403; }
  }
}`;

describe('the simulator builds only the trace that is read', () => {
  it('runs after the first build no trace steps', () => {
    const model = modelFromText(CONF);
    const c = counts();
    const r = simulate(model, { uri: '/admin/', host: 'a.test' });
    const w = since(c);
    // three answers for the error page's file: three runs, two statuses, so the status is unknown
    expect(w.runs).toBe(3);
    expect(r.status).toBeNull();
    expect(r.possibleOutcomes.map((o) => o.status).sort()).toEqual([403, 403, 404]);
    // every step built is in the result's trace (before: 3 runs' worth)
    expect(r.trace.length).toBeGreaterThan(8);
    expect(w.steps).toBe(r.trace.length);
    // the trace is the first run's, whole: the deny, the error page, the internal redirect, the file
    expect(r.trace.map((t) => t.phase)).toEqual(expect.arrayContaining(['access', 'error-page', 'redirect', 'content']));
  });

  it('statusOnly stops once the status is known to be null, and changes nothing when it is known', () => {
    const model = modelFromText(CONF);
    let c = counts();
    const r = simulate(model, { uri: '/admin/', host: 'a.test', statusOnly: true });
    // the first run says 403, the second 404: null whatever the third says
    expect(since(c).runs).toBe(2);
    expect(r.status).toBeNull();
    // a known status explores every possibility, as without statusOnly: the file exists or not, 403
    c = counts();
    const full = simulate(model, { uri: '/both/x', host: 'b.test' });
    const fullRuns = since(c).runs;
    expect(fullRuns).toBe(2);
    expect(full.status).toBe(403);
    c = counts();
    const brief = simulate(model, { uri: '/both/x', host: 'b.test', statusOnly: true });
    expect(since(c).runs).toBe(fullRuns);
    expect(brief.status).toBe(full.status);
    expect(brief.possibleOutcomes).toEqual(full.possibleOutcomes);
    expect(brief.trace).toEqual(full.trace);
    expect(brief.decisive).toBe(full.decisive);
  });
});

describe('a lint proves each finding once (issue 12)', () => {
  it('N generated servers: one simulation per finding, at most two runs each, one trace per simulation', async () => {
    for (const n of [10, 40]) {
      const dir = tmp(`nginx-proof-shape-${n}`);
      const tree = generateNginxTree(n, dir);
      const c = counts();
      const run = await lint([tree.main], { noConfig: true });
      const w = since(c);
      const messages = run.results.flatMap((r) => r.messages);
      // three findings per server, and the snippet's `location ~ /\.git { deny all; }` once
      expect(messages.length).toBe(3 * n + 1);
      // before: 4n simulations (the snippet's location proved in every server), 3 runs each
      expect(w.simulations).toBeLessThanOrEqual(messages.length);
      expect(w.runs).toBeLessThanOrEqual(2 * w.simulations);
      // before: ≈ 62 steps per simulation (three traced runs of ≈ 21 steps)
      expect(w.steps).toBeLessThanOrEqual(30 * w.simulations);
      expect(w.steps).toBeGreaterThan(0);
    }
  }, 120_000);

  it('a shared block with different inherited denies is still one finding per deny', async () => {
    const dir = tmp('nginx-proof-shape-shared');
    mkdirSync(join(dir, 'snippets'));
    writeFileSync(join(dir, 'snippets', 'ro.conf'), 'limit_except GET {\n}\n');
    const server = (i: number) => `  server {
    listen 80;
    server_name s${i}.test;
    root /srv/s${i};
    location /x/ {
      deny all;
      include snippets/ro.conf;
    }
  }
`;
    writeFileSync(join(dir, 'nginx.conf'), `events {}\nhttp {\n${server(1)}${server(2)}${server(3)}}\n`);
    const run = await lint([join(dir, 'nginx.conf')], { noConfig: true });
    const found = run.results
      .flatMap((r) => r.messages)
      .filter((m) => m.ruleId === 'nginx-limit-except-denies')
      .map((m) => m.message);
    // the same limit_except block, refused by each server's own `deny all` (lines 7, 16, 25)
    expect(found).toHaveLength(3);
    expect(new Set(found).size).toBe(3);
  });
});

describe('what a proof keeps (issue 12, memory: 30,001 traces at 10,000 servers)', () => {
  it('a step at the same place with the same message is one object in every trace that has it', async () => {
    const tree = generateNginxTree(20, tmp('nginx-proof-shape-steps'));
    const run = await lint([tree.main], { noConfig: true });
    const byKey = new Map<string, Set<object>>();
    let steps = 0;
    for (const m of run.results.flatMap((r) => r.messages))
      for (const t of m.trace ?? []) {
        steps++;
        const key = `${t.file}:${t.line}:${t.column}\n${t.message}`;
        const set = byKey.get(key) ?? new Set<object>();
        set.add(t);
        byKey.set(key, set);
      }
    expect(steps).toBeGreaterThan(20 * 3 * 15); // every finding carries its trace (16–21 steps)
    // before: a new object per step of every trace (as many objects as steps)
    for (const [key, set] of byKey) expect(set.size, key).toBe(1);
    // the three findings of a server share its selection, `set`s, `if`, and the error page's steps
    expect(byKey.size).toBeLessThan(0.6 * steps);
  }, 60_000);

  it("a simulator trace step keeps no place string of its own; `at` is the directive's file:line:col when read", () => {
    const model = modelFromText(CONF);
    const r = simulate(model, { uri: '/admin/', host: 'a.test' });
    const placed = r.trace.filter((t) => t.directive);
    expect(placed.length).toBeGreaterThan(3);
    for (const t of placed) {
      expect(Object.keys(t)).not.toContain('at');
      expect(t.at).toBe(`${t.directive!.source.path}:${t.directive!.nameSpan.start.line}:${t.directive!.nameSpan.start.column}`);
    }
  });
});
