/**
 * Issue 12, nginx side: the work of a lint of N generated servers, counted (not timed). Every proof
 * runs `explain` on a sample request, so what the simulator recomputed per request (translating and
 * compiling the config's regexes, parsing allow/deny lists) used to grow with the number of proofs.
 * Now each distinct regex is translated and compiled once, no RE2 program is built while every
 * subject is short enough for the pattern's own RegExp, and each scope's allow/deny list is parsed
 * once, however many scopes inherit it and however many requests are simulated through it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateNginxTree } from '../bench/gen-nginx.js';
import { loadConfig } from '../src/load.js';
import { accessRuleStats } from '../src/nginx/model/address.js';
import { scopesOf } from '../src/nginx/model/cache.js';
import { buildModel } from '../src/nginx/model/tree.js';
import { compileConfigRegex, regexStats } from '../src/regex-engine.js';
import { lint } from '../src/run.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function work(n: number) {
  const dir = mkdtempSync(join(tmpdir(), `why403-nginx-shape-${n}-`));
  dirs.push(dir);
  const tree = generateNginxTree(n, dir);
  // what the tree holds: allow/deny directives in each scope (a snippet included in every server
  // counts once per server), and its distinct regexes (one `if ($host !~* …)` per server, a few
  // locations and map entries shared by all)
  const c0 = regexStats.compiled;
  const p0 = regexStats.re2Programs;
  const a0 = accessRuleStats.parsed;
  const model = buildModel(loadConfig(tree.main));
  let accessDirectives = 0;
  for (const s of scopesOf(model)) accessDirectives += (s.byName.get('allow')?.length ?? 0) + (s.byName.get('deny')?.length ?? 0);
  const run = await lint([tree.main], { noConfig: true });
  const messages = run.results.flatMap((r) => r.messages);
  return {
    accessDirectives,
    messages: messages.length,
    compiled: regexStats.compiled - c0,
    re2Programs: regexStats.re2Programs - p0,
    // (building the model parses none: the lists are read with the settings)
    parsed: accessRuleStats.parsed - a0,
  };
}

describe('nginx lint work per server is constant (issue 12)', () => {
  it('regexes compiled once each, allow/deny parsed once per scope, for N and 4N servers', async () => {
    const small = await work(25);
    const big = await work(100);
    for (const [n, w] of [
      [25, small],
      [100, big],
    ] as const) {
      // the lint proved findings on every server (3 per server in the generated tree)
      expect(w.messages).toBeGreaterThanOrEqual(3 * n);
      // one host regex per server plus a handful shared by all: never one per proof or per request
      expect(w.compiled).toBeLessThanOrEqual(n + 12);
      // every subject the lint matches is short: the patterns' own RegExp runs them, no RE2 program
      expect(w.re2Programs).toBe(0);
      // before: each scope parsed the list it inherits again, and each simulated request once more
      expect(w.accessDirectives).toBeGreaterThanOrEqual(5 * n);
      expect(w.parsed).toBeLessThanOrEqual(w.accessDirectives);
    }
    // the counters count: the small tree's regexes were new, and the big tree's 100 host regexes were
    // compiled by one run or the other (its first 25 servers have the small tree's names)
    expect(small.compiled).toBeGreaterThanOrEqual(25);
    expect(small.compiled + big.compiled).toBeGreaterThanOrEqual(100);
    expect(big.parsed / small.parsed).toBeLessThanOrEqual(4.4);
  }, 180_000);
});

describe('the RE2 program is built only for a subject that needs it', () => {
  it('a short subject runs on the RegExp; a long one on RE2, with the same answer', () => {
    // unanchored, one unbounded quantifier: n² × program steps; short subjects fit the fast budget
    const c = compileConfigRegex('/x(\\d+)y', '');
    if (!c.ok) throw new Error(c.reason);
    const p0 = regexStats.re2Programs;
    expect(c.regex.exec('/a/x12y')).toMatchObject({ captures: ['/x12y', '12'], index: 2 });
    expect(regexStats.re2Programs).toBe(p0);
    const long = '/a'.repeat(50_000) + '/x7y';
    expect(c.regex.exec(long)).toMatchObject({ captures: ['/x7y', '7'], index: long.length - 4 });
    expect(regexStats.re2Programs).toBe(p0 + 1);
    expect(c.regex.engine).toBe('re2');
    // the program is kept: a second long subject builds none
    expect(c.regex.matches(long + 'z')).toBe(true);
    expect(regexStats.re2Programs).toBe(p0 + 1);
  });
});
