/**
 * Every finding's proof sent to the real server. For every rule fixture with `# request:` lines (the
 * set test/rules-real.test.ts runs) and every explain fixture (test/explain-real.test.ts's), the
 * fixture is started once in real nginx or Apache with the client address taken from
 * `X-Why403-Client` (test/harness/servers.ts `clientHeader`); the running
 * copy (the config the server was started with, the served tree) is linted as the product lints it,
 * with and without `--fs`; every message that claims a status for a request (`request` + `status`
 * in the JSON) is sent — method, Host and path from the URL, its headers, its client address in the
 * header — and the real status must be the claimed one. A claim under `assumes` (disk conditions) is
 * sent only when the served tree satisfies them; a claim that cannot be sent (https, a condition the
 * tree does not meet) is counted with the reason. Known disagreements are listed below, each with the
 * defect it shows; an unlisted disagreement fails, and so does a listed one that no longer happens.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LintOptions } from '../src/run.js';
import { checkRunning, compareClaim, summaryLine, toRequest, type Claim, type Outcome } from './harness/proof-claims.js';
import {
  describeFixture,
  fixtureSkipReason,
  isFixtureDir,
  ruleFixturesWithRequests,
  startFixture,
  type FixtureInfo,
} from './harness/run-fixture.js';
import {
  APACHE_WORKER,
  CLIENT_HEADER,
  isRoot,
  NGINX_WORKER,
  runningServerCount,
  type RunningServer,
  stopAllServers,
} from './harness/servers.js';

afterAll(stopAllServers);

const root = resolve(import.meta.dirname, '..');

/**
 * Claims the real server answers otherwise, keyed by `<fixture> <where> <claim>` (claimText). Each
 * one is a defect in a rule or the simulator, reported; the test fails when one is no longer seen.
 */
const KNOWN: Record<string, string> = {};

/** Lint options that describe the running copy as the server was started (prefix, defines, worker). */
function lintOptionsFor(info: FixtureInfo, running: RunningServer, fs: boolean): LintOptions {
  const prefix = running.prefix;
  const base: LintOptions = { cwd: prefix, noConfig: true, fs, reportUnusedSuppressions: 'off', server: info.server };
  if (info.server === 'nginx') {
    const ownUser = info.context === 'main' && info.main && /^\s*user\s/m.test(readFileSync(join(info.root, info.main), 'utf8'));
    return { ...base, prefix: `${prefix}/`, ...(isRoot && !ownUser ? { user: NGINX_WORKER.user } : {}) };
  }
  // the harness starts Apache with these defines (-C Define …); the linter takes them as `-D` would
  const defines = { HARNESS_ROOT: prefix, APACHE_RUN_USER: isRoot ? APACHE_WORKER.user : (process.env.USER ?? 'nobody') };
  return { ...base, serverRoot: prefix, defines, ...(isRoot ? { user: APACHE_WORKER.user } : {}) };
}

/** The .htaccess files of the running copy (Apache), sorted: linted with the config without --fs,
 * as a user lints a repository that holds both (with --fs the linter finds them itself). */
function htaccessFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory() && !e.isSymbolicLink()) visit(p);
      else if (e.isFile() && e.name === '.htaccess') out.push(p);
    }
  };
  visit(dir);
  return out;
}

/** Start the fixture once, lint the running copy (plain and --fs), send every distinct claim. */
async function checkFixture(f: string, info: FixtureInfo): Promise<Outcome> {
  const running = await startFixture(info, { clientHeader: CLIENT_HEADER });
  try {
    // Apache without --fs: the served tree's .htaccess files named beside the config, so their
    // findings are proven through it (and explain --htaccess reads them)
    const files = (fs: boolean) =>
      info.server === 'apache' && !fs ? [running.configFile, ...htaccessFilesUnder(running.prefix)] : [running.configFile];
    return await checkRunning(f, info.server, running, (fs) => lintOptionsFor(info, running, fs), files);
  } finally {
    await running.stop();
  }
}

/** The explain fixtures (fixtures/explain/<server>/<case>, what test/explain-real.test.ts runs): richer
 * configs whose findings are checked the same way. */
function explainFixtures(): string[] {
  const out: string[] = [];
  for (const server of ['nginx', 'apache']) {
    const dir = join(root, 'fixtures/explain', server);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory() && isFixtureDir(p)) out.push(relative(root, p));
    }
  }
  return out;
}

const fixtures = [...ruleFixturesWithRequests(root), ...explainFixtures()];

describe('every finding’s request on the real server', () => {
  const outcomes: Outcome[] = [];

  it('the comparison fails on a forged status and on no answer', () => {
    const c: Claim = {
      where: 'nginx.conf:3 nginx-deny-all-root',
      ruleId: 'nginx-deny-all-root',
      request: { method: 'GET', url: 'http://localhost/', ip: '192.0.2.10', headers: {} },
      status: 403,
    };
    expect(compareClaim(c, 403)).toBe('');
    expect(compareClaim({ ...c, status: 200 }, 403)).toBe(
      'nginx.conf:3 nginx-deny-all-root: GET http://localhost/ from 192.0.2.10 -> 200, real 403',
    );
    expect(compareClaim(c, null, 'timeout')).toMatch(/real no answer \(timeout\)$/);
  });

  it('a claim becomes the request it names, or says why it cannot be sent', () => {
    const server = { ports: { '80': 40080, '8080': 40081 } } as unknown as RunningServer;
    const c: Claim = {
      where: 'x',
      ruleId: 'r',
      request: { method: 'POST', url: 'http://shop.test:40081/a/..%2fb?q=1', ip: '2001:db8::7', headers: { 'X-Token': 'a' } },
      status: 403,
    };
    expect(toRequest(c, server)).toEqual({
      send: {
        port: 40081,
        method: 'POST',
        path: '/a/..%2fb?q=1',
        host: 'shop.test:40081',
        headers: [
          ['X-Token', 'a'],
          [CLIENT_HEADER, '2001:db8::7'],
        ],
        from: '127.0.0.1',
        timeoutMs: 5000,
      },
    });
    const at = (url: string, more: Partial<Claim> = {}, ip = c.request.ip) =>
      toRequest({ ...c, ...more, request: { ...c.request, url, ip } }, server);
    expect(at('http://localhost:40080/', {}, '127.0.0.7')).toMatchObject({
      send: { port: 40080, host: 'localhost:40080', from: '127.0.0.7' },
    });
    expect(at('http://localhost/')).toMatchObject({ send: { port: 40080, host: 'localhost' } });
    expect(at('http://localhost:40080')).toMatchObject({ send: { port: 40080, path: '/' } });
    expect(at('https://localhost/')).toEqual({ notSendable: 'https: the harness speaks plain HTTP only' });
    expect(at('http://localhost:9/')).toMatchObject({ notSendable: expect.stringMatching(/^port 9 /) });
    expect(at('http://localhost:40080/', { assumes: [`file ${root}/package.json is a file`] })).toHaveProperty('send');
    expect(at('http://localhost:40080/', { assumes: [`file ${root}/package.json does not exist`] })).toHaveProperty('notSendable');
    expect(at('http://localhost:40080/', { assumes: [`directory ${root}/fixtures is a directory`] })).toHaveProperty('send');
    expect(at('http://localhost:40080/', { assumes: ['$backend answers 200'] })).toHaveProperty('notSendable');
    // Apache's "the file exists and is readable": a file others may read (the worker), not a directory
    expect(at('http://localhost:40080/', { assumes: [`${root}/package.json exists and is readable`] })).toHaveProperty('send');
    expect(at('http://localhost:40080/', { assumes: [`${root}/fixtures exists and is readable`] })).toHaveProperty('notSendable');
    expect(at('http://localhost:40080/', { assumes: [`${root}/no-such-file exists and is readable`] })).toHaveProperty('notSendable');
  });

  for (const f of fixtures) {
    const info = describeFixture(join(root, f));
    const reason = fixtureSkipReason(info);
    if (reason) console.warn(`[proofs-real] ${f} skipped: ${reason}`);
    it.skipIf(!!reason)(`${f} (${info.server})`, { timeout: 60_000 }, async () => {
      const o = await checkFixture(f, info);
      outcomes.push(o);
      // the server started, so no finding may say it cannot (this also shows the linter got the
      // harness's defines: without them ${HARNESS_ROOT} is /srv/why403 and the DocumentRoot is missing)
      expect(o.startup).toEqual([]);
      const unknown = o.disagreements.filter((d) => !Object.keys(KNOWN).some((k) => d.startsWith(k)));
      expect(unknown).toEqual([]);
    });
  }

  it('summary: claims sent, confirmed, not sendable; every known disagreement still happens', () => {
    const ran = outcomes.length;
    expect(runningServerCount()).toBe(0);
    for (const server of ['nginx', 'apache'] as const) {
      console.log(
        `[proofs-real] ${summaryLine(
          server,
          outcomes.filter((o) => o.server === server),
          'fixtures',
        )}`,
      );
    }
    if (ran < fixtures.length) return; // a skipped fixture cannot show its known disagreement
    const seen = outcomes.flatMap((o) => o.disagreements);
    expect(Object.keys(KNOWN).filter((k) => !seen.some((d) => d.startsWith(k)))).toEqual([]);
    expect(outcomes.reduce((n, o) => n + o.confirmed, 0)).toBeGreaterThan(20);
    // .htaccess findings, proven on the main config with the file in place (without --fs, and with it)
    expect(outcomes.reduce((n, o) => n + o.htaccessConfirmed, 0)).toBeGreaterThanOrEqual(3);
  });
});
