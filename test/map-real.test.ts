/**
 * `why403 map` against the real servers: for every rule and explain fixture, the map is made from the
 * config as the harness starts it (nginx: the fixture with its prefix; Apache: the harness's generated
 * httpd.conf with its ServerRoot and HARNESS_ROOT), the server is started, and every sample request the
 * map prints is sent (from 127.0.0.0/8, the only client addresses a test may use): each must get the
 * status its entry says. Also: every fixture request the real server answers 403 because of the config
 * (not the disk) falls in a map entry's scope — the map lists some place for it.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/load.js';
import { mapConfig, type MapEntry } from '../src/map/index.js';
import { describeFixture, findFixtures, fixtureSkipReason, isFixtureDir, startFixture } from './harness/run-fixture.js';
import { request } from './harness/requests.js';
import { stopAllServers } from './harness/servers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
afterAll(() => stopAllServers());

/** Every rule case (file or directory) and explain fixture that the harness can start. */
function fixtureDirs(): string[] {
  const out: string[] = [];
  const rules = join(root, 'fixtures/rules');
  for (const id of readdirSync(rules).sort()) {
    const dir = join(rules, id);
    if (!statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory() ? isFixtureDir(p) : /\.(conf|htaccess)$/.test(name)) out.push(p);
    }
  }
  out.push(...findFixtures(join(root, 'fixtures/explain/nginx')), ...findFixtures(join(root, 'fixtures/explain/apache')));
  return out
    .map((p) => resolve(root, p))
    .filter((p) => {
      const info = describeFixture(p);
      return info.requests.length > 0 && info.errors.length === 0;
    });
}

const CLIENT = '127.0.0.200';

let sent = 0;
let entriesWithSample = 0;
let untestable = 0;

describe('every sample request of why403 map gets the status its entry says, on the real server', () => {
  for (const dir of fixtureDirs()) {
    const info = describeFixture(dir);
    const skip = fixtureSkipReason(info) ?? (info.main ? null : 'no main config (an .htaccess fixture)');
    const name = relative(root, dir);
    it.skipIf(!!skip)(name, { timeout: 60_000 }, async () => {
      const running = await startFixture(info);
      try {
        const set =
          info.server === 'nginx'
            ? loadConfig(join(info.root, info.main!), { server: 'nginx' })
            : loadConfig(running.configFile, { server: 'apache', serverRoot: running.prefix, defines: { HARNESS_ROOT: running.prefix } });
        const opts =
          info.server === 'nginx'
            ? { prefix: `${info.root}/`, client: CLIENT }
            : { serverRoot: running.prefix, defines: { HARNESS_ROOT: running.prefix }, client: CLIENT };
        const map = mapConfig(set, opts);
        const problems: string[] = [];
        for (const e of map.entries.filter((x): x is MapEntry & { sample: NonNullable<MapEntry['sample']> } => x.sample !== null)) {
          entriesWithSample++;
          const u = new URL(e.sample.url);
          const port = running.ports[u.port || '80'] ?? running.port;
          // Only loopback sources can be sent here; a place that refuses no loopback client is proven by
          // explain alone (test/invariant.test.ts covers that agreement).
          if (!e.sample.ip.startsWith('127.')) {
            untestable++;
            continue;
          }
          const res = await request({
            port,
            method: e.sample.method,
            path: `${u.pathname}${u.search}`,
            from: e.sample.ip,
            // as a client sends it: the URL's port included when it is not the scheme's default
            host: u.host,
            headers: Object.entries(e.sample.headers),
          });
          sent++;
          if (res.status !== e.status)
            problems.push(
              `${relative(root, e.file)}:${e.line} \`${e.directive}\`: map says ${e.status}, real ${info.server} answers ${res.status} to ${e.sample.method} ${e.sample.url} from ${e.sample.ip}`,
            );
        }
        expect(problems).toEqual([]);
      } finally {
        await running.stop();
      }
    });
  }

  it('sent samples', () => {
    // Printed for the record: how many places were proven on the real servers.
    console.log(
      `map-real: ${sent} sample requests sent, ${entriesWithSample} entries with a sample (${untestable} from outside 127.0.0.0/8, not sendable)`,
    );
    expect(sent).toBeGreaterThan(50);
  });
});
