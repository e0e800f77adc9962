/**
 * The rules' fixtures on the real servers: every fixture under fixtures/rules/<id>/ (a case file or
 * a case directory) that carries `# request:` lines is started in real nginx or Apache by the harness
 * (test/harness/run-fixture.ts) and every request must get the status the fixture states. This is
 * the proof that what a rule reports is what the server does (a bad case shows the 403/500, a good
 * case shows it does not happen). Fixtures of both servers; a missing binary skips with the reason.
 */
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  describeFixture,
  fixtureSkipReason,
  fixtureTexts,
  mismatches,
  ruleFixturesWithRequests,
  runFixture,
} from './harness/run-fixture.js';
import { stopAllServers } from './harness/servers.js';
import { rules } from '../rules/index.js';

afterEach(stopAllServers);

const root = resolve(import.meta.dirname, '..');

const fixtures = ruleFixturesWithRequests(root);

describe('rule fixtures on the real servers', () => {
  it('finds fixtures with requests, all well-formed', () => {
    expect(fixtures.length).toBeGreaterThan(0);
    for (const f of fixtures) expect(describeFixture(join(root, f)).errors, f).toEqual([]);
  });

  it('every rule shows its effect on a real server: a fixture with both an expect marker and requests', () => {
    const shown = (id: string) =>
      fixtures.some(
        (f) => f.startsWith(`fixtures/rules/${id}/`) && fixtureTexts(join(root, f)).some((t) => /^\s*#\s*expect[+:-]/m.test(t)),
      );
    expect(rules.map((r) => r.id).filter((id) => !shown(id))).toEqual([]);
  });

  for (const f of fixtures) {
    const info = describeFixture(join(root, f));
    const reason = fixtureSkipReason(info);
    if (reason) console.warn(`[rules-real] ${f} skipped: ${reason}`);
    it.skipIf(!!reason)(`${f} (${info.server}, ${info.requests.length} requests)`, async () => {
      const results = await runFixture(join(root, f));
      expect(results).toHaveLength(info.requests.length);
      expect(mismatches(results)).toBe('');
    });
  }
});
