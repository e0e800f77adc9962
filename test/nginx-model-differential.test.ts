/**
 * Differential test: every `# request:` line of fixtures/model/nginx/<case>/ is sent to the real nginx
 * (via the harness) and simulated by the model against the same files on disk. Both must give the
 * status the fixture states.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNginx } from '../src/nginx/load.js';
import { buildModel, DiskFs, resolveWorker, simulate } from '../src/nginx/model/index.js';
import { request } from './harness/requests.js';
import { describeFixture, fixtureSkipReason } from './harness/run-fixture.js';
import { NGINX_WORKER, startNginx, stopAllServers } from './harness/servers.js';

const DIR = resolve('fixtures/model/nginx');
const cases = existsSync(DIR)
  ? readdirSync(DIR)
      .filter((d) => existsSync(join(DIR, d, 'nginx.conf')))
      .sort()
  : [];

afterAll(stopAllServers);

describe('nginx model vs real nginx', () => {
  it('has fixtures with at least 40 requests', () => {
    const n = cases.reduce((k, c) => k + describeFixture(join(DIR, c)).requests.length, 0);
    expect(n).toBeGreaterThanOrEqual(40);
  });
  for (const c of cases) {
    const info = describeFixture(join(DIR, c));
    const reason = fixtureSkipReason(info);
    if (reason) console.warn(`skipped ${c}: ${reason}`);
    it.skipIf(!!reason)(
      `${c}: real nginx and the simulator agree with the fixture`,
      async () => {
        expect(info.errors).toEqual([]);
        const server = await startNginx({
          fixture: info.root,
          main: info.main!,
          modes: info.modes,
          mkdirs: info.mkdirs,
          context: info.context,
        });
        const problems: string[] = [];
        try {
          const model = buildModel(loadNginx(join(info.root, info.main!)));
          const fs = new DiskFs();
          const worker = resolveWorker(NGINX_WORKER.user, NGINX_WORKER.group);
          for (const r of info.requests) {
            const mark = server.logMark();
            const res = await request({
              port: server.port,
              method: r.method,
              path: r.path,
              from: r.from,
              host: r.host,
              headers: r.headers,
            });
            const sim = simulate(model, {
              method: r.method,
              uri: r.path,
              host: r.host ?? 'localhost',
              clientIp: r.from,
              headers: Object.fromEntries(r.headers),
              fs,
              worker,
              prefix: server.prefix,
            });
            const where = `${c}/nginx.conf:${r.line}: ${r.text}`;
            if (res.status !== r.expected)
              problems.push(`${where}: real nginx answered ${res.status}\n    ${server.errorLogSince(mark).trim()}`);
            if (sim.status !== r.expected) {
              problems.push(
                `${where}: simulator says ${sim.status} (${sim.outcome}${sim.possibleOutcomes.length ? `; possible ${sim.possibleOutcomes.map((o) => o.status).join('/')}` : ''})\n    ` +
                  sim.trace.map((t) => `${t.phase}: ${t.message}`).join('\n    '),
              );
            }
            if (sim.status === 403 && !sim.cause) problems.push(`${where}: a simulated 403 without a catalog cause`);
          }
        } finally {
          await server.stop();
        }
        expect(problems.join('\n')).toBe('');
      },
      60_000,
    );
  }
});
