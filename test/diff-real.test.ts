/**
 * `why403 diff` against the real servers. For each pair under fixtures/diff/<case>/{base,head}: diff
 * predicts every probe request on both configs; real nginx or Apache is started on both; every probe
 * that can be sent here (from 127.0.0.0/8) is sent to both. The requests whose real answer changes must
 * be exactly the ones diff reports as changed (where explain knows both answers), and a config diffed
 * with itself reports nothing.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { diffConfigs, type DiffSide } from '../src/diff/index.js';
import { loadConfig } from '../src/load.js';
import { describeFixture, fixtureSkipReason, startFixture } from './harness/run-fixture.js';
import { request } from './harness/requests.js';
import { stopAllServers, type RunningServer } from './harness/servers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cases = readdirSync(join(root, 'fixtures/diff'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();
afterAll(() => stopAllServers());

/** The fixture's own config, read as the harness starts it (nginx prefix, Apache ServerRoot and
 * HARNESS_ROOT at the fixture), so both sides name the same ports and hosts. */
function sideOf(dir: string, server: 'nginx' | 'apache'): DiffSide {
  if (server === 'nginx') {
    const prefix = `${dir}/`;
    return { set: loadConfig(join(dir, 'nginx.conf'), { server, prefix }), options: { prefix } };
  }
  const o = { serverRoot: dir, defines: { HARNESS_ROOT: dir } };
  return { set: loadConfig(join(dir, 'httpd.conf'), { server, ...o }), options: o };
}

let checked = 0;

describe('diff reports exactly the requests whose real answer changes', () => {
  for (const name of cases) {
    const base = describeFixture(join(root, 'fixtures/diff', name, 'base'));
    const head = describeFixture(join(root, 'fixtures/diff', name, 'head'));
    const skip = fixtureSkipReason(base) ?? fixtureSkipReason(head);
    it.skipIf(!!skip)(name, { timeout: 120_000 }, async () => {
      const a = await startFixture(base);
      const b = await startFixture(head);
      try {
        const server = base.server;
        const sa = sideOf(base.root, server);
        const sb = sideOf(head.root, server);
        const r = diffConfigs(sa, sb, { all: true });
        expect(r.changes.length, 'the pair changes some access').toBeGreaterThan(0);
        const problems: string[] = [];
        for (const p of r.all!) {
          if (!p.request.ip.startsWith('127.') || p.request.user) continue;
          const u = new URL(p.request.url);
          const send = async (s: RunningServer) =>
            (
              await request({
                port: s.ports[u.port || '80'] ?? s.port,
                method: p.request.method,
                path: `${u.pathname}${u.search}`,
                from: p.request.ip,
                host: u.hostname,
                headers: Object.entries(p.request.headers),
              })
            ).status;
          const ra = await send(a);
          const rb = await send(b);
          checked++;
          const realChanged = ra !== rb;
          const known = p.before.status !== null && p.after.status !== null;
          const what = `${p.request.method} ${p.request.url} from ${p.request.ip}: real ${ra} → ${rb}, diff ${p.before.status} → ${p.after.status}`;
          if (realChanged && !p.changed) problems.push(`missed: ${what}`);
          if (known && p.changed && !realChanged) problems.push(`reported but unchanged: ${what}`);
          if (known && (p.before.status !== ra || p.after.status !== rb)) problems.push(`wrong status: ${what}`);
        }
        // the statuses a side records (`# request:` lines, e.g. in its .htaccess files) are the real ones
        for (const [info, s] of [
          [base, a],
          [head, b],
        ] as const)
          for (const q of info.requests) {
            const got = (await request({ port: s.port, method: q.method, path: q.path, from: q.from, host: q.host, headers: q.headers }))
              .status;
            if (got !== q.expected) problems.push(`recorded ${q.file}:${q.line} ${q.text}: real ${got}`);
          }
        expect(problems).toEqual([]);
        // the same config on both sides: nothing changes
        expect(diffConfigs(sa, sideOf(base.root, server)).changes).toEqual([]);
      } finally {
        await a.stop();
        await b.stop();
      }
    });
  }

  it('checked requests on the real servers', () => {
    console.log(`diff-real: ${checked} probe requests sent to both sides`);
  });
});
