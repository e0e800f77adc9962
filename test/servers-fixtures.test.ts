/**
 * Every fixture under fixtures/harness/ runs against the real server, and its `# request:` lines must
 * all answer the expected status. Also proves that runFixture reports a wrong expectation.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeFixture, findFixtures, fixtureSkipReason, mismatches, runFixture } from './harness/run-fixture.js';
import { nginxSkipReason, runningServerCount, stopAllServers } from './harness/servers.js';

afterEach(stopAllServers);

const fixtures = findFixtures('fixtures/harness');

describe('fixtures/harness', () => {
  it('finds the fixtures and their layouts', () => {
    const byPath = Object.fromEntries(fixtures.map((f) => [f, describeFixture(f)]));
    expect(fixtures.length).toBeGreaterThanOrEqual(12);
    expect(byPath['fixtures/harness/nginx-deny-all']).toMatchObject({ server: 'nginx', main: 'nginx.conf', context: 'server' });
    expect(byPath['fixtures/harness/nginx-hosts-headers']).toMatchObject({ server: 'nginx', context: 'http' });
    expect(byPath['fixtures/harness/nginx-main-include']).toMatchObject({ server: 'nginx', context: 'main' });
    expect(byPath['fixtures/harness/apache-require-ip']).toMatchObject({ server: 'apache', main: 'site.apache.conf', base: 'debian' });
    expect(byPath['fixtures/harness/apache-require-denied']).toMatchObject({ server: 'apache', base: 'bare' });
    expect(byPath['fixtures/harness/apache-htaccess']).toMatchObject({ server: 'apache', main: null, base: 'htaccess' });
    expect(byPath['fixtures/harness/files/deny-all.conf']).toMatchObject({ server: 'nginx', context: 'server' });
    expect(byPath['fixtures/harness/files/require-denied.htaccess']).toMatchObject({
      server: 'apache',
      htaccessFile: 'require-denied.htaccess',
      base: 'htaccess',
    });
    expect(byPath['fixtures/harness/files/deny-all.conf'].exclude).toEqual([
      'limit-except.conf',
      'own-listen.apache.conf',
      'require-denied.htaccess',
    ]);
    expect(byPath['fixtures/harness/files/own-listen.apache.conf']).toMatchObject({ server: 'apache', base: 'debian' });
    const modes = byPath['fixtures/harness/nginx-file-mode'];
    expect(modes).toMatchObject({ needsRoot: true, modes: { 'www/secret.html': 0o600 }, mkdirs: ['www/empty'] });
    expect(byPath['fixtures/harness/nginx-made-files']).toMatchObject({
      needsRoot: false,
      files: { 'www/.git/config': '[core]\n' },
      mkdirs: ['www/empty'],
    });
    const inc = byPath['fixtures/harness/nginx-main-include'];
    expect(inc.requests.map((r) => `${r.file}:${r.line}`)).toEqual(['conf.d/site.conf:2', 'nginx.conf:2']);
    for (const f of fixtures) expect(byPath[f].errors, f).toEqual([]);
  });

  for (const f of fixtures) {
    const info = describeFixture(f);
    const reason = fixtureSkipReason(info);
    if (reason) console.warn(`[servers-fixtures] ${f} skipped: ${reason}`);
    it.skipIf(!!reason)(`${f} (${info.server}, ${info.requests.length} requests)`, async () => {
      const results = await runFixture(f);
      expect(results).toHaveLength(info.requests.length);
      expect(mismatches(results)).toBe('');
    });
  }
});

const nginxSkip = nginxSkipReason();
describe.skipIf(!!nginxSkip)('runFixture reports what really happened', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'why403-fixture-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a wrong expectation is a mismatch, with the error-log lines of that request', async () => {
    mkdirSync(join(dir, 'wrong'));
    writeFileSync(
      join(dir, 'wrong', 'nginx.conf'),
      '# request: GET /open -> 200\n# request: GET /closed -> 200\nlocation /open { return 200; }\nlocation /closed { deny all; }\n',
    );
    const results = await runFixture(join(dir, 'wrong'));
    expect(results.map((r) => [r.line, r.expected, r.actual])).toEqual([
      [1, 200, 200],
      [2, 200, 403],
    ]);
    expect(results[0].errorLogExcerpt).not.toContain('forbidden');
    expect(results[1].errorLogExcerpt).toContain('access forbidden by rule');
    expect(mismatches(results)).toMatch(/^nginx\.conf:2: GET \/closed -> 200: got 403\n {4}error log: .*access forbidden by rule/);
    expect(runningServerCount()).toBe(0);
  });

  it('a malformed request line fails before any server starts', async () => {
    mkdirSync(join(dir, 'malformed'));
    writeFileSync(join(dir, 'malformed', 'nginx.conf'), '# request: GET / from 10.0.0.1 -> 403\ndeny all;\n');
    await expect(runFixture(join(dir, 'malformed'))).rejects.toThrow(/nginx\.conf:1: malformed "# request:" line: "from 10\.0\.0\.1"/);
    expect(runningServerCount()).toBe(0);
  });
});
