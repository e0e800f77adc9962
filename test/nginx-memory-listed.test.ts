/**
 * Issue 12, memory at 10,000 nginx servers (docs/performance.md, eighth session), counted, not timed:
 * - A finding the run will never list (past MAX_LISTED_FINDINGS in the output's order) keeps no proof,
 *   related locations or suggestions once the bound knows it (src/listed-bound.ts): 20,001 of 30,001
 *   findings at 10,000 servers held their proofs until the output was written.
 * - The regex of an `if`, `rewrite` or `map` entry is translated and compiled once per directive: the
 *   shared cache holds 5,000 patterns and was emptied when full, so with more servers than that every
 *   simulated request compiled its server's `if ($host !~* …)` again.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateNginxTree } from '../bench/gen-nginx.js';
import { lintSet, type LintMessage, type LintSetOptions } from '../src/linter.js';
import { ListedBound } from '../src/listed-bound.js';
import { loadConfig } from '../src/load.js';
import { translatePcre } from '../src/nginx/model/regex.js';
import { allRules } from '../src/run.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('findings past the listing cap (issue 12, memory)', () => {
  it('keep no proof once the bound knows they will not be listed; the listed ones keep theirs, unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'why403-listed-'));
    dirs.push(dir);
    const tree = generateNginxTree(20, dir);
    const rules = await allRules();
    const opts: LintSetOptions = { rules, ruleSetting: (_f, r) => ({ severity: r.severity }), settings: {} };
    const all = (r: ReturnType<typeof lintSet>) =>
      [...r.files.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .flatMap(([, e]) => e.messages.map((m) => ({ file: e.path, m })));
    const before = all(lintSet(loadConfig(tree.main), opts));
    const proved = before.filter((x) => x.m.proof).length;
    expect(proved).toBeGreaterThan(50); // three per server, each with a proof

    const limit = 25;
    const bound = new ListedBound({ limit, relativePath: (f) => f, suppressions: true, quiet: false });
    const set = loadConfig(tree.main);
    const after = all(
      lintSet(set, {
        ...opts,
        listed: bound.forSet(
          set,
          () => false,
          () => true,
        ),
      }),
    );
    // every finding is still there, in the same order, with what the counts read
    const shape = (m: LintMessage) => [m.ruleId, m.severity, m.line, m.column, m.message, !!m.fix, !!m.fatal];
    expect(after.map((x) => [x.file, ...shape(x.m)])).toEqual(before.map((x) => [x.file, ...shape(x.m)]));
    // the first `limit` (the ones a run with this cap lists) keep their proofs, equal to the unbounded run's
    for (let i = 0; i < limit; i++) {
      expect(after[i].m.proof, `finding ${i}`).toEqual(before[i].m.proof);
      expect(after[i].m.related).toEqual(before[i].m.related);
    }
    // before: every one of the others kept its proof (and its trace) until the output was written
    const kept = after.slice(limit).filter((x) => x.m.proof || x.m.related || x.m.suggestions);
    expect(kept.map((x) => `${x.file}:${x.m.line}:${x.m.ruleId}`)).toEqual([]);
  }, 60_000);

  it('a file with a suppression comment keeps every proof (a suppressed finding is output with its proof)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'why403-listed-'));
    dirs.push(dir);
    const tree = generateNginxTree(20, dir);
    const site = join(dir, 'sites', '0000.conf');
    appendFileSync(site, '# why403-disable-next-line nginx-limit-except-denies -- kept\n');
    const rules = await allRules();
    const bound = new ListedBound({ limit: 5, relativePath: (f) => f, suppressions: true, quiet: false });
    const set = loadConfig(tree.main);
    const r = lintSet(set, {
      rules,
      ruleSetting: (_f, rule) => ({ severity: rule.severity }),
      settings: {},
      listed: bound.forSet(
        set,
        () => false,
        () => true,
      ),
    });
    const messages = r.files.get(site)!.messages;
    expect(messages.length).toBeGreaterThan(50);
    expect(messages.filter((m) => !m.proof)).toEqual([]);
  }, 60_000);
});

describe('a directive compiles its regex once (issue 12, memory)', () => {
  it("an `if`'s regex verdict is kept with the directive when the shared cache is emptied", () => {
    const owner = {};
    const first = translatePcre('^(www\\.)?site0\\.example\\.test$', true, owner);
    expect(first.ok).toBe(true);
    // more distinct patterns than the shared cache holds (5,000): it is emptied on the way
    for (let i = 1; i <= 5_001; i++) translatePcre(`^(www\\.)?site${i}\\.example\\.test$`, true);
    // before: a new translation and compilation (another object)
    expect(translatePcre('^(www\\.)?site0\\.example\\.test$', true, owner)).toBe(first);
    // another pattern or another case mode for the same owner is not taken for it
    expect(translatePcre('^(www\\.)?site0\\.example\\.test$', false, owner)).not.toBe(first);
    const other = translatePcre('^/x$', true, owner);
    expect(other).not.toBe(first);
    expect(other.ok && other.pattern).toBe('^/x$');
  });
});

describe('the JSON output is written in pieces (issue 12, memory)', () => {
  it('the same text as json(), in pieces of at most 64 K characters but a single big value', async () => {
    const { json, jsonChunks } = await import('../src/formatters/json.js');
    const msg = (i: number) => ({
      ruleId: 'nginx-limit-except-denies',
      severity: 'warning' as const,
      message: `every method except GET … line ${i} → 403`,
      line: i,
      column: 9,
      endLine: i,
      endColumn: 30,
      docsUrl: 'https://example.test/rule',
      trace: Array.from({ length: 19 }, (_, k) => ({ file: '/x/sites/0000.conf', line: k + 1, column: 5, message: `step ${k} → "x"` })),
    });
    const source = 'server { listen 80; }\n'.repeat(15_000); // 330,000 characters
    const result = (name: string, n: number) => ({
      filePath: `/x/${name}`,
      relativePath: name,
      messages: Array.from({ length: n }, (_, i) => msg(i + 1)),
      suppressedMessages: [],
      errorCount: 0,
      fatalErrorCount: 0,
      warningCount: n,
      infoCount: 0,
      fixableErrorCount: 0,
      fixableWarningCount: 0,
      ...(n > 0 ? { source } : {}),
    });
    const results = [result('a.conf', 300), result('b.conf', 0), result('c.conf', 2)];
    const ctx = { cwd: '/x', color: false, rules: [], version: '0' };
    const pieces = [...jsonChunks(results)];
    expect(pieces.join('')).toBe(json(results, ctx));
    // before: one piece per file, ≈ 1 MB for a.conf (its messages and its source in one string)
    const big = pieces.filter((p) => p.length > 64 * 1024).map((p) => p.length);
    expect(big).toEqual([',"source":'.length + JSON.stringify(source).length, ',"source":'.length + JSON.stringify(source).length]);
    expect([...jsonChunks([])]).toEqual(['[]\n']);
  });
});
