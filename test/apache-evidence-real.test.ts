/**
 * Real-server evidence behind claims the docs make without a rule (fixtures/evidence/<name>/, e.g.
 * docs/corpus-findings-apache.md "A08"): each fixture's `# request:` lines run on the real server
 * through the harness and every status must match. A missing binary skips with the reason.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { describeFixture, fixtureSkipReason, mismatches, runFixture } from './harness/run-fixture.js';
import { stopAllServers } from './harness/servers.js';

afterEach(stopAllServers);
const dir = resolve(import.meta.dirname, '../fixtures/evidence');
const cases = existsSync(dir)
  ? readdirSync(dir)
      .sort()
      .map((n) => join(dir, n))
  : [];

it('has evidence fixtures, each with requests', () => {
  expect(cases.length).toBeGreaterThan(0);
  for (const c of cases) expect(describeFixture(c).requests.length, c).toBeGreaterThan(0);
});

for (const c of cases) {
  const reason = fixtureSkipReason(describeFixture(c));
  if (reason) console.warn(`[evidence] ${c} skipped: ${reason}`);
  it.skipIf(!!reason)(c.slice(dir.length + 1), async () => {
    expect(mismatches(await runFixture(c))).toBe('');
  });
}
