/**
 * Findings in an Apache main config linted together with .htaccess files it reads are proven with those
 * files in place (src/run.ts links every .htaccess set before the mains are linted; src/model/proof.ts):
 * a claim a .htaccess refutes is not made, one proven with a .htaccess on the request's path carries
 * `htaccess` and `why403 explain <config> <url> --htaccess` gives the same answer.
 * Fixtures: fixtures/rules/apache-docroot-denied/htaccess-refuted and htaccess-confirmed (real Apache
 * agrees: test/rules-real.test.ts, test/proofs-real.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lint, type ResultMessage } from '../src/run.js';
import { cliPath, ensureBuilt, repoRoot } from './harness/build.js';

const fixture = (c: string) => join(repoRoot, 'fixtures/rules/apache-docroot-denied', c);

async function findings(targets: string[], dir: string, fs = false): Promise<Array<ResultMessage & { file: string }>> {
  const run = await lint(targets, {
    cwd: dir,
    noConfig: true,
    pathMap: [{ from: '/srv/why403', to: dir }],
    reportUnusedSuppressions: 'off',
    fs,
  });
  expect(run.crashes).toEqual([]);
  return run.results.flatMap((r) => r.messages.map((m) => ({ ...m, file: r.filePath })));
}

const denied = (ms: Array<ResultMessage & { file: string }>) => ms.filter((m) => m.ruleId === 'apache-docroot-denied');

describe('main-config proofs with the run’s .htaccess files', () => {
  it('a 403 the linked htdocs/.htaccess refutes (it grants) is not claimed; without the .htaccess it is', async () => {
    const dir = fixture('htaccess-refuted');
    expect(denied(await findings([dir], dir))).toEqual([]);
    // the config linted alone: nothing linked, the claim rests on the config (explain says 403 with the
    // .htaccess unknown)
    const alone = denied(await findings([join(dir, 'httpd.conf')], dir));
    expect(alone.map((m) => [m.line, m.status, m.htaccess])).toEqual([[10, 403, undefined]]);
  });

  it('with --fs the disk is read: the same claim is not made either', async () => {
    const dir = fixture('htaccess-refuted');
    expect(denied(await findings([dir], dir, true))).toEqual([]);
  });

  it('a 403 proven with a .htaccess on the request’s path carries htaccess; one off the path (open/) does not change it', async () => {
    const dir = fixture('htaccess-confirmed');
    const ms = denied(await findings([dir], dir));
    expect(ms.map((m) => [m.line, m.status, m.htaccess, m.request?.url, m.config])).toEqual([
      [12, 403, true, 'http://localhost/', join(dir, 'httpd.conf')],
    ]);
  });

  it('through the CLI: explain --htaccess gives each proof’s answer (not 403 where the claim was dropped)', () => {
    ensureBuilt();
    const explain = (c: string, url: string, how = '--htaccess') => {
      const dir = fixture(c);
      const out = execFileSync(
        process.execPath,
        [
          cliPath,
          'explain',
          join(dir, 'httpd.conf'),
          url,
          '--ip',
          '192.0.2.10',
          '--path-map',
          `/srv/why403=${dir}`,
          '--no-config-lookup',
          '--format',
          'json',
          how,
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
      return (JSON.parse(out) as { status: number | null }).status;
    };
    // the dropped claim: with the .htaccess read, not 403 (200 when the file is there, which explain
    // without --fs does not know: no status); with the disk read, 200
    expect(explain('htaccess-refuted', 'http://localhost/')).toBeNull();
    expect(explain('htaccess-refuted', 'http://localhost/index.html', '--fs')).toBe(200);
    expect(explain('htaccess-confirmed', 'http://localhost/')).toBe(403);
    expect(explain('htaccess-confirmed', 'http://localhost/open/x.html', '--fs')).toBe(200);
  });
});
