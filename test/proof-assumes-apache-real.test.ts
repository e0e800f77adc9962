/**
 * A proof that holds under an assumption about the disk, on real Apache (the nginx side is
 * test/proof-assumes-real.test.ts). fixtures/rules/apache-location-overrides-files-deny/bad grants
 * `<Location />` over the `.ht*` `<FilesMatch>` denial, so `/.htpasswd` is served: without --fs the
 * finding's proof claims 200 with `assumes` ["<prefix>/htdocs/.htpasswd exists and is readable"] (the
 * default handler's first possibility, which the trace shows). Apache is started three times from the
 * fixture: as it is (200), without that one file (404) and with the file unreadable (403, A17). The
 * claim's condition is exactly what decides, and test/harness/proof-claims.ts sends the claim only when
 * the served tree satisfies it. With --fs the disk is read: proved outright while the file is there
 * and readable, refuted (no finding) otherwise.
 */
import { chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { explain, parseExplainRequest } from '../src/explain/index.js';
import { loadConfig } from '../src/load.js';
import { lint, type LintOptions, type ResultMessage } from '../src/run.js';
import { toRequest, type Claim } from './harness/proof-claims.js';
import { describeFixture, fixtureSkipReason, startFixture } from './harness/run-fixture.js';
import { request } from './harness/requests.js';
import { APACHE_WORKER, CLIENT_HEADER, isRoot, stopAllServers } from './harness/servers.js';

afterAll(() => stopAllServers());

const root = resolve(import.meta.dirname, '..');
const FIXTURE = join(root, 'fixtures/rules/apache-location-overrides-files-deny/bad');
const FILE = 'htdocs/.htpasswd';
const RULE = 'apache-location-overrides-files-deny';

const info = describeFixture(FIXTURE);
const skip = fixtureSkipReason(info);
if (skip) console.log(`proof-assumes-apache-real skipped: ${skip}`);

type State = 'present' | 'absent' | 'unreadable';

/** Start Apache from the fixture in `state`, lint the running copy with and without --fs, explain the
 * finding's request and send it. */
async function startAndAsk(state: State) {
  const running = await startFixture(
    { ...info, exclude: state === 'absent' ? [...info.exclude, FILE] : info.exclude },
    { clientHeader: CLIENT_HEADER },
  );
  try {
    const file = join(running.prefix, FILE);
    if (state === 'unreadable') chmodSync(file, 0o200);
    const prefix = running.prefix;
    const opts = (fs: boolean): LintOptions => ({
      cwd: prefix,
      noConfig: true,
      fs,
      reportUnusedSuppressions: 'off',
      server: 'apache',
      serverRoot: prefix,
      defines: { HARNESS_ROOT: prefix, APACHE_RUN_USER: isRoot ? APACHE_WORKER.user : (process.env.USER ?? 'nobody') },
      ...(isRoot ? { user: APACHE_WORKER.user } : {}),
    });
    const findings = async (fs: boolean) =>
      (await lint([running.configFile], opts(fs))).results.flatMap((r) => r.messages).filter((m) => m.ruleId === RULE);
    const [plain, withFs] = [await findings(false), await findings(true)];
    expect(plain).toHaveLength(1);
    const m = plain[0] as ResultMessage & { request: NonNullable<ResultMessage['request']> };
    const r = parseExplainRequest({ target: m.request.url, method: m.request.method, ip: m.request.ip });
    if (!r.ok) throw new Error(r.error);
    const e = explain(loadConfig(running.configFile, { server: 'apache', defines: opts(false).defines }), running.configFile, r.request, {
      fs: false,
      pathMap: [],
      serverRoot: prefix,
      defines: opts(false).defines,
      cwd: '',
    });
    const claim: Claim = { where: RULE, ruleId: RULE, request: m.request, status: m.status!, ...(m.assumes ? { assumes: m.assumes } : {}) };
    const url = new URL(m.request.url);
    const res = await request({
      port: running.port,
      method: m.request.method,
      path: `${url.pathname}${url.search}`,
      host: url.host,
      headers: [[CLIENT_HEADER, m.request.ip]],
      from: '127.0.0.1',
      timeoutMs: 5000,
    });
    return { m, e, withFs, file, status: res.status, sendable: 'send' in toRequest(claim, running) };
  } finally {
    await running.stop();
  }
}

describe.skipIf(!!skip)('an Apache finding proved under a disk assumption, on real Apache', () => {
  it(
    'the file decides: 200 while it is there and readable, 404 without it, 403 unreadable; --fs proves or refutes',
    { timeout: 90_000 },
    async () => {
      const runs = {
        present: await startAndAsk('present'),
        absent: await startAndAsk('absent'),
        unreadable: await startAndAsk('unreadable'),
      };
      for (const run of Object.values(runs)) {
        // the claim: 200 for the neutral client, on the condition that names the served file's path
        expect(run.m.request.ip).toBe('192.0.2.10');
        expect(run.m.status).toBe(200);
        expect(run.m.assumes).toEqual([`${run.file} exists and is readable`]);
        // explain: status unknown, the disk-only possibilities, the traced one first and exactly the claim
        expect(run.e.status).toBeNull();
        expect(run.e.traceAssumes).toEqual(run.m.assumes);
        expect(
          run.e.possibleOutcomes.map((o) => `${o.status} ${o.cause ?? '-'} ${o.disk ? 'disk' : '-'} if ${o.when.join(' and ')}`),
        ).toEqual([
          `200 - disk if ${run.file} exists and is readable`,
          `404 - disk if ${run.file} does not exist`,
          `403 A17 disk if ${run.file} is not readable by ${isRoot ? APACHE_WORKER.user : (process.env.USER ?? 'nobody')}`,
        ]);
      }
      expect([runs.present.status, runs.absent.status, runs.unreadable.status]).toEqual([200, 404, 403]);
      // the proofs-real harness sends the claim only where the served tree satisfies its condition
      expect([runs.present.sendable, runs.absent.sendable, runs.unreadable.sendable]).toEqual([true, false, false]);
      // --fs: nothing assumed; proved where the file is served, refuted (not reported) elsewhere
      expect(runs.present.withFs.map((m) => `${m.status} ${m.assumes ?? '-'}`)).toEqual(['200 -']);
      expect(runs.absent.withFs).toEqual([]);
      expect(runs.unreadable.withFs).toEqual([]);
    },
  );
});
