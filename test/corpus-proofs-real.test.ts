/**
 * Findings' proofs on real-world configs, sent to the real servers: the first corpus files per server
 * (INDEX.tsv order) that the real servers accepted and the harness can start on 127.0.0.1, laid out
 * as bench/agreement.ts lays them out (Debian-like nginx.conf / apache2.conf around the file), started
 * once each with the client address taken from X-Why403-Client; the running copy is linted with and
 * without --fs, and every claim (`request` + `status`) is sent (test/harness/proof-claims.ts). A
 * disagreement not in KNOWN fails. Reads ../shared/corpus in place; skips with a printed reason when it
 * (or a server binary) is absent.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CORPUS, selectRows, startCase, type Row } from '../bench/agreement.js';
import type { LintOptions } from '../src/run.js';
import { corpusOrSkip } from './harness/corpus.js';
import { checkRunning, summaryLine, type Outcome } from './harness/proof-claims.js';
import {
  APACHE_WORKER,
  CLIENT_HEADER,
  isRoot,
  NGINX_WORKER,
  runningServerCount,
  serverSkipReason,
  stopAllServers,
} from './harness/servers.js';

/** Files per server: nginx starts in about 0.3 s, Apache (every Debian module) in about 2 s.
 * WHY403_CORPUS_PROOFS_LIMIT=N runs the first N of each (a whole-corpus run: a large N). */
const ENV_LIMIT = Number(process.env.WHY403_CORPUS_PROOFS_LIMIT) || 0;
const LIMIT = { nginx: ENV_LIMIT || 40, apache: ENV_LIMIT || 10 } as const;

const CERTBOT = 'apache/certbot-certbot/certbot/src/certbot/_internal/tests/plugins/apache/apache-conf-files/passing';
/** Files run besides the first ones. The two certbot files showed a disagreement, fixed: every Listen
 * port has a name-based <VirtualHost *:80> (moved to *:<harness port>) whose RewriteRule redirects
 * everything (302), so no request reaches the main server; its samples named http://localhost/ (port
 * 80 whatever Listen says) and the model answered them from the main server (apache-fs-no-index: 403,
 * no index under Debian's /icons/ Alias). Now a main-server root is proven on a virtual host that
 * inherits it (here it redirects: no finding) or not at all (src/apache/model/cache.ts portOf,
 * servingServer; fixtures/rules/apache-fs-no-index/main-unreachable). Kept as regressions. */
const ALWAYS: Record<'nginx' | 'apache', string[]> = {
  nginx: [],
  apache: [`${CERTBOT}/semacode-1598.conf`, `${CERTBOT}/anarcat-1531.conf`],
};

/** Claims the real server answers otherwise, keyed by the start of the disagreement line, with the
 * defect each shows. */
const KNOWN: Record<string, string> = {};

const present = corpusOrSkip('corpus proofs-vs-real tests');
afterAll(stopAllServers);

/** Start one corpus file as bench/agreement.ts does (with the client header), check its claims. */
async function checkRow(r: Row): Promise<Outcome | string> {
  const c = await startCase(DEFAULT_CORPUS, r, { clientHeader: CLIENT_HEADER });
  if ('skip' in c) return c.skip;
  const { server: running, main } = c;
  try {
    const ownUser = r.server === 'nginx' && /^\s*user\s/m.test(readFileSync(join(running.prefix, main), 'latin1'));
    const optionsFor = (fs: boolean): LintOptions => {
      const base: LintOptions = { cwd: running.prefix, noConfig: true, fs, reportUnusedSuppressions: 'off', server: r.server };
      if (r.server === 'nginx')
        return { ...base, prefix: `${running.prefix}/`, ...(isRoot && !ownUser ? { user: NGINX_WORKER.user } : {}) };
      // the harness's -C defines, which the linter takes as `-D` would
      const defines = { HARNESS_ROOT: running.prefix, APACHE_RUN_USER: isRoot ? APACHE_WORKER.user : (process.env.USER ?? 'nobody') };
      return { ...base, serverRoot: running.prefix, defines, ...(isRoot ? { user: APACHE_WORKER.user } : {}) };
    };
    return await checkRunning(r.path, r.server, running, optionsFor);
  } finally {
    await running.stop();
    rmSync(c.dir, { recursive: true, force: true });
  }
}

for (const server of ['nginx', 'apache'] as const) {
  const skip = serverSkipReason(server);
  if (skip) console.log(`corpus proofs-vs-real ${server} skipped: ${skip}`);
  describe.skipIf(!present || !!skip)(`findings' proofs vs real ${server} on the corpus`, () => {
    it(
      `every claim of the first ${LIMIT[server]} files (and ${ALWAYS[server].length} more) is what the real server answers, but the known cases`,
      { timeout: ENV_LIMIT ? 3_600_000 : 150_000 },
      async () => {
        const first = selectRows(DEFAULT_CORPUS, { servers: [server], limit: LIMIT[server] });
        if (!ENV_LIMIT) expect(first.length).toBe(LIMIT[server]);
        const extra = ALWAYS[server].length ? selectRows(DEFAULT_CORPUS, { servers: [server], only: ALWAYS[server] }) : [];
        expect(extra.map((r) => r.path).sort()).toEqual([...ALWAYS[server]].sort());
        const rows = [...first, ...extra.filter((r) => !first.some((x) => x.path === r.path))];
        const outcomes: Outcome[] = [];
        const notRun: string[] = [];
        for (const r of rows) {
          const o = await checkRow(r);
          if (typeof o === 'string') notRun.push(`${r.path}: ${o}`);
          else outcomes.push(o);
        }
        expect(runningServerCount()).toBe(0);
        console.log(`[corpus-proofs-real] ${summaryLine(server, outcomes, 'files')}` + notRun.map((x) => `\n  not run: ${x}`).join(''));
        expect(outcomes.length).toBeGreaterThan(rows.length / 2);
        expect(outcomes.flatMap((o) => o.startup)).toEqual([]);
        const found = outcomes.flatMap((o) => o.disagreements);
        expect(found.filter((d) => !Object.keys(KNOWN).some((k) => d.startsWith(k)))).toEqual([]);
        // each known disagreement of a file that ran still happens (else it is fixed: remove it)
        const ran = new Set(outcomes.map((o) => o.label));
        const stale = Object.keys(KNOWN).filter((k) => ran.has(k.split(' ')[0]) && !found.some((d) => d.startsWith(k)));
        expect(stale).toEqual([]);
      },
    );
  });
}
