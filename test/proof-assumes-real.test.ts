/**
 * A proof that holds under an assumption about the disk, on real nginx.
 * fixtures/rules/nginx-sensitive-path-403/bad-error-page refuses `/.git` with `deny all` and answers
 * 403 through `error_page 403 /errors/403.html`, an internal redirect whose static handler answers 404
 * when the page is missing. Without --fs the finding's proof says so: `assumes` ["file
 * <prefix>/www/errors/403.html is a file"]. nginx is started twice from the fixture, once as it is and
 * once without that one file: the finding's request gets 403, then 404, so the assumption is exactly
 * what decides. With --fs, explain reads the disk and the assumption goes: the claim is proved
 * outright while the page exists, and refuted (no finding) when it does not.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { explain, parseExplainRequest } from '../src/explain/index.js';
import { loadConfig } from '../src/load.js';
import { lint, type ResultMessage } from '../src/run.js';
import { describeFixture, fixtureSkipReason, startFixture } from './harness/run-fixture.js';
import { request } from './harness/requests.js';
import { stopAllServers } from './harness/servers.js';

afterAll(() => stopAllServers());

const root = resolve(import.meta.dirname, '..');
const FIXTURE = join(root, 'fixtures/rules/nginx-sensitive-path-403/bad-error-page');
const PAGE = 'www/errors/403.html';
const RULE = 'nginx-sensitive-path-403';
/** The sample client (192.0.2.10) cannot be sent from here: a loopback address `deny all` refuses too. */
const FROM = '127.0.0.7';

const info = describeFixture(FIXTURE);
const skip = fixtureSkipReason(info);
if (skip) console.log(`proof-assumes-real skipped: ${skip}`);

/** Start nginx from the fixture (without the error page when `page` is false), lint the running copy
 * with and without --fs, and send the finding's request. */
async function startAndAsk(page: boolean) {
  const running = await startFixture({ ...info, exclude: page ? info.exclude : [...info.exclude, PAGE] });
  try {
    const prefix = `${running.prefix}/`;
    const findings = async (fs: boolean) =>
      (await lint([running.configFile], { noConfig: true, prefix, fs, reportUnusedSuppressions: 'off' })).results
        .flatMap((r) => r.messages)
        .filter((m) => m.ruleId === RULE);
    const [plain, withFs] = [await findings(false), await findings(true)];
    expect(plain).toHaveLength(1);
    const m = plain[0] as ResultMessage & { request: NonNullable<ResultMessage['request']> };
    const url = new URL(m.request.url);
    // explain from the address sent gives the same possibilities as from the sample's address
    const outcomes = (ip: string) => {
      const r = parseExplainRequest({ target: m.request.url, method: m.request.method, ip });
      if (!r.ok) throw new Error(r.error);
      const e = explain(loadConfig(running.configFile, { server: 'nginx' }), running.configFile, r.request, {
        fs: false,
        pathMap: [],
        prefix,
        cwd: '',
      });
      expect(e.status).toBeNull();
      return e.possibleOutcomes.map((o) => `${o.status} ${o.cause ?? '-'} if ${o.when.join(' and ')}`);
    };
    expect(outcomes(FROM)).toEqual(outcomes(m.request.ip));
    const res = await request({
      port: running.port,
      method: m.request.method,
      path: `${url.pathname}${url.search}`,
      host: url.host,
      from: FROM,
      timeoutMs: 5000,
    });
    return {
      m,
      withFs,
      outcomes: outcomes(FROM),
      status: res.status,
      pageFile: join(running.prefix, PAGE),
      pageExists: existsSync(join(running.prefix, PAGE)),
    };
  } finally {
    await running.stop();
  }
}

describe.skipIf(!!skip)('a finding proved under a disk assumption, on real nginx', () => {
  it('the error page decides: 403 while it exists, 404 without it; --fs proves or refutes the claim', { timeout: 60_000 }, async () => {
    const present = await startAndAsk(true);
    const absent = await startAndAsk(false);
    for (const run of [present, absent]) {
      // the finding claims 403 (deny all decides) on the condition that names the real page's path
      expect(run.m.status).toBe(403);
      expect(run.m.cause).toBe('N01');
      expect(run.m.decidedBy?.directive).toBe('deny all');
      expect(run.m.assumes).toEqual([`file ${run.pageFile} is a file`]);
      // explain's possibilities: the claimed one, and 404 under the opposite condition
      expect(run.outcomes).toEqual(
        expect.arrayContaining([`403 N01 if ${run.m.assumes![0]}`, `404 - if file ${run.pageFile} does not exist`]),
      );
    }
    expect(present.pageExists).toBe(true);
    expect(present.status).toBe(403);
    expect(absent.pageExists).toBe(false);
    expect(absent.status).toBe(404);
    // --fs: the disk is read, nothing is assumed
    expect(present.withFs.map((m) => `${m.status} ${m.assumes ?? '-'}`)).toEqual(['403 -']);
    expect(absent.withFs).toEqual([]);
  });
});
