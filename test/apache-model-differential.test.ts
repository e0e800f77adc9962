/**
 * Differential test of the Apache model: every `# request:` line of fixtures/model/apache/<case>/ is
 * sent to real Apache (started by the harness from a copy of the fixture) and simulated by
 * src/apache/model over the same copy on disk. Both must give the status the fixture states.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadApache } from '../src/apache/load.js';
import { buildApacheModel, diskFs, simulate } from '../src/apache/model/index.js';
import { describeFixture, fixtureSkipReason } from './harness/run-fixture.js';
import { request } from './harness/requests.js';
import { startApache, stopAllServers } from './harness/servers.js';

const ROOT = resolve(__dirname, '../fixtures/model/apache');
const cases = existsSync(ROOT)
  ? readdirSync(ROOT)
      .filter((d) => existsSync(join(ROOT, d, 'httpd.conf')))
      .sort()
  : [];

afterAll(async () => {
  await stopAllServers();
});

describe('Apache model vs real Apache', () => {
  test('has fixtures covering at least 40 requests', () => {
    const n = cases.reduce((s, c) => s + describeFixture(join(ROOT, c)).requests.length, 0);
    expect(n).toBeGreaterThanOrEqual(40);
  });

  for (const c of cases) {
    const info = describeFixture(join(ROOT, c));
    const skip = fixtureSkipReason(info);
    if (skip) console.log(`skipping Apache model fixture ${c}: ${skip}`);
    test.skipIf(!!skip)(c, async () => {
      expect(info.errors).toEqual([]);
      const server = await startApache({
        fixture: info.root,
        main: info.main ?? undefined,
        base: info.base,
        modes: info.modes,
        mkdirs: info.mkdirs,
      });
      const problems: string[] = [];
      // `# model-cause: A07` right below a request line: the catalog row the simulator must name.
      const causeAt = new Map<string, string>();
      for (const file of new Set(info.requests.map((r) => r.file))) {
        const lines = readFileSync(join(info.root, file), 'utf8').split('\n');
        lines.forEach((l, i) => {
          const m = /^\s*#\s*model-cause:\s*(A\d\d)\s*$/.exec(l);
          if (m) causeAt.set(`${file}:${i}`, m[1]);
        });
      }
      let causes = 0;
      try {
        const defines = { HARNESS_ROOT: server.prefix };
        const set = loadApache(server.configFile, { serverRoot: server.prefix, defines });
        const model = buildApacheModel(set, { serverRoot: server.prefix, defines, user: 'www-data', group: 'www-data' });
        const fs = diskFs();
        for (const r of info.requests) {
          const mark = server.logMark();
          const res = await request({ port: server.port, method: r.method, path: r.path, from: r.from, host: r.host, headers: r.headers });
          const log = server.errorLogSince(mark).trim();
          const sim = simulate(model, {
            method: r.method,
            uri: r.path,
            host: r.host ?? 'localhost',
            port: server.port,
            clientIp: r.from,
            headers: Object.fromEntries(r.headers),
            fs,
          });
          const where = `${c}/${r.file}:${r.line} ${r.text}`;
          if (res.status !== r.expected) problems.push(`${where}: real Apache answered ${res.status}${log ? `\n    log: ${log}` : ''}`);
          if (sim.status !== r.expected) {
            problems.push(
              `${where}: simulator predicted ${sim.status} (${sim.outcome}, ${sim.cause ?? '-'}): ${sim.message}` +
                `\n    ${sim.trace.map((t) => `${t.phase}: ${t.message}`).join('\n    ')}` +
                (sim.unknowns.length ? `\n    unknown: ${sim.unknowns.join('; ')}` : '') +
                (log ? `\n    real log: ${log}` : ''),
            );
          }
          // A predicted 403 must name the catalog row and the deciding directive where there is one.
          if (sim.status === 403 && !sim.cause) problems.push(`${where}: a 403 without a catalog cause`);
          const want = causeAt.get(`${r.file}:${r.line}`);
          if (want) {
            causes++;
            if (sim.cause !== want) problems.push(`${where}: simulator named cause ${sim.cause}, the fixture says ${want}`);
            if (sim.status === 403 && want !== 'A18' && !sim.decidedBy) problems.push(`${where}: no deciding directive`);
          }
        }
      } finally {
        await server.stop();
      }
      expect(problems.join('\n')).toBe('');
      expect(causes).toBe(causeAt.size);
    });
  }
});
