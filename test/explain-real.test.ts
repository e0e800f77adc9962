/**
 * `why403 explain` against the real servers. For every `# request:` line of fixtures/explain/<server>/<case>/:
 *
 * (a) the real server (started by the harness from a copy of the fixture, file modes applied) must answer
 *     the stated status;
 * (b) the built CLI, `node dist/src/cli.js explain … --fs --format json`, run on the same config and the
 *     same copy on disk, must predict that status as its top-level `status`;
 * (c) a `# decided: FILE:LINE[:COL]` line below the request (FILE relative to the fixture root, or to the
 *     harness prefix for the generated Apache base `_harness/httpd.conf`) must be the directive the
 *     explanation names as deciding, and its trace step must be marked `decisive`. `# decided: -` says no
 *     directive decides (e.g. a directory with no index file under nginx's defaults). Every 403 carries one.
 *     `# cause: N01` checks the catalog row.
 *
 * nginx: explain reads the fixture's own nginx.conf with `--prefix <fixture>` and
 * `--path-map <fixture>=<harness copy>`, so the trace names fixture files and the disk checks see the copy.
 * Apache: explain reads the harness's generated httpd.conf (the Debian-like base plus the fixture) with
 * `--server-root` and `--define HARNESS_ROOT=` as the harness starts Apache.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './harness/requests.js';
import { describeFixture, fixtureSkipReason, startFixture, type FixtureInfo, type FixtureRequest } from './harness/run-fixture.js';
import { stopAllServers } from './harness/servers.js';
import { ensureBuilt } from './harness/build.js';

const run = promisify(execFile);
const root = resolve(__dirname, '..');
const bin = join(root, 'dist/src/cli.js');

beforeAll(() => ensureBuilt(), 200_000);
afterAll(stopAllServers);

interface Marks {
  decided?: { file: string; line: number; column?: number } | null;
  cause?: string;
}

/** `# decided:` / `# cause:` lines belong to the nearest `# request:` line above them in the same file. */
function readMarks(info: FixtureInfo): Map<string, Marks> {
  const out = new Map<string, Marks>();
  for (const file of new Set(info.requests.map((r) => r.file))) {
    const lines = readFileSync(join(info.root, file), 'utf8').split('\n');
    let current: string | null = null;
    lines.forEach((l, i) => {
      if (/^\s*#\s*request\s*:/.test(l)) {
        current = `${file}:${i + 1}`;
        out.set(current, {});
        return;
      }
      const d = /^\s*#\s*decided\s*:\s*(\S+)\s*$/.exec(l);
      if (d && current) {
        const m = /^(.+?):(\d+)(?::(\d+))?$/.exec(d[1]);
        out.get(current)!.decided =
          d[1] === '-' ? null : m ? { file: m[1], line: Number(m[2]), column: m[3] ? Number(m[3]) : undefined } : { file: '?', line: -1 };
        return;
      }
      const c = /^\s*#\s*cause\s*:\s*([NA]\d\d)\s*$/.exec(l);
      if (c && current) out.get(current)!.cause = c[1];
    });
  }
  return out;
}

function cases(server: 'nginx' | 'apache'): string[] {
  const dir = join(root, 'fixtures/explain', server);
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((d) => statSync(join(dir, d)).isDirectory())
        .sort()
        .map((d) => join(dir, d))
    : [];
}

function cliArgs(info: FixtureInfo, r: FixtureRequest, prefix: string, configFile: string): string[] {
  const args = ['explain'];
  if (info.server === 'nginx') {
    args.push(join(info.root, info.main!), r.path, '--prefix', info.root + '/', '--path-map', `${info.root}=${prefix}`);
  } else {
    args.push(configFile, r.path, '--server-root', prefix, '--define', `HARNESS_ROOT=${prefix}`);
  }
  args.push('--fs', '--format', 'json', '--method', r.method, '--ip', r.from);
  // an absolute-form request line (the harness sends it as written): a forward proxy's client; the
  // port only picks the server, and these fixtures have the main one only
  if (/^https?:\/\//i.test(r.path)) args.push('--proxy', '80');
  if (!r.headers.some(([k]) => k.toLowerCase() === 'host')) args.push('--header', `Host: ${r.host ?? 'localhost'}`);
  for (const [k, v] of r.headers) {
    args.push('--header', `${k}: ${v}`);
    const basic = /^basic\s+(\S+)$/i.exec(v);
    if (k.toLowerCase() === 'authorization' && basic) args.push('--user', Buffer.from(basic[1], 'base64').toString('utf8').split(':')[0]);
  }
  return args;
}

interface Explained {
  status: number | null;
  cause: { id: string } | null;
  verdict: string;
  decidedBy: { file: string; line: number; column: number } | null;
  trace: { decisive: boolean; at: { file: string; line: number; column: number } | null; message: string; phase: string }[];
  possibleOutcomes: unknown[];
  unknowns: string[];
}

for (const server of ['nginx', 'apache'] as const) {
  describe(`explain vs real ${server}`, () => {
    const all = cases(server).map((c) => describeFixture(c));

    it('has at least 60 requests, about half of them 403', () => {
      const reqs = all.flatMap((i) => i.requests);
      expect(reqs.length).toBeGreaterThanOrEqual(60);
      const share = reqs.filter((r) => r.expected === 403).length / reqs.length;
      expect(share).toBeGreaterThan(0.35);
      expect(share).toBeLessThan(0.65);
    });

    for (const info of all) {
      const name = relative(root, info.root);
      const skip = fixtureSkipReason(info);
      if (skip) console.warn(`skipped ${name}: ${skip}`);
      it.skipIf(!!skip)(
        `${name}: real ${server} and explain agree with every request`,
        async () => {
          expect(info.errors).toEqual([]);
          const marks = readMarks(info);
          const running = await startFixture(info);
          const problems: string[] = [];
          try {
            // (a) the real server, one request at a time (error log excerpts stay attributable).
            const real: (number | null)[] = [];
            for (const r of info.requests) {
              const mark = running.logMark();
              const res = await request({
                port: running.port,
                method: r.method,
                path: r.path,
                from: r.from,
                host: r.host,
                headers: r.headers,
              });
              real.push(res.status);
              if (res.status !== r.expected)
                problems.push(
                  `${name}/${r.file}:${r.line} ${r.text}: real ${server} answered ${res.status}\n    ${running.errorLogSince(mark).trim()}`,
                );
            }
            // (b) the CLI, a few at a time.
            const outs: (Explained | string)[] = new Array(info.requests.length);
            let next = 0;
            const worker = async () => {
              while (next < info.requests.length) {
                const i = next++;
                const args = cliArgs(info, info.requests[i], running.prefix, running.configFile);
                try {
                  const { stdout } = await run(process.execPath, [bin, ...args], { cwd: root, timeout: 30_000, maxBuffer: 16 << 20 });
                  outs[i] = JSON.parse(stdout) as Explained;
                } catch (e) {
                  const err = e as { code?: number; stderr?: string; message: string };
                  outs[i] = `explain failed (exit ${err.code}): ${err.stderr || err.message}\n    args: ${args.join(' ')}`;
                }
              }
            };
            await Promise.all([worker(), worker(), worker(), worker()]);
            info.requests.forEach((r, i) => {
              const where = `${name}/${r.file}:${r.line} ${r.text}`;
              const o = outs[i];
              if (typeof o === 'string') {
                problems.push(`${where}: ${o}`);
                return;
              }
              if (o.status !== real[i]) {
                problems.push(
                  `${where}: explain predicted ${o.status} (${o.verdict}), real ${server} ${real[i]}\n    ` +
                    o.trace.map((t) => `${t.at ? `${t.at.file}:${t.at.line} ` : ''}${t.phase}: ${t.message}`).join('\n    ') +
                    (o.unknowns.length ? `\n    unknown: ${o.unknowns.join('; ')}` : ''),
                );
              }
              if (o.status === 403 && !o.cause) problems.push(`${where}: a 403 without a catalog cause`);
              const m = marks.get(`${r.file}:${r.line}`) ?? {};
              if (r.expected === 403 && m.decided === undefined) problems.push(`${where}: a 403 request without a # decided: line`);
              if (m.decided !== undefined) {
                const want = m.decided;
                const got = o.decidedBy;
                const step = o.trace.find((t) => t.decisive);
                if (want === null) {
                  if (got)
                    problems.push(`${where}: explain names ${got.file}:${got.line} as deciding, the fixture says no directive decides`);
                } else {
                  const wantFile = server === 'nginx' ? join(info.root, want.file) : join(running.prefix, want.file);
                  const gotFile = got ? resolve(root, got.file) : null;
                  const same =
                    got && gotFile === wantFile && got.line === want.line && (want.column === undefined || got.column === want.column);
                  if (!same)
                    problems.push(
                      `${where}: explain names ${got ? `${got.file}:${got.line}:${got.column}` : 'nothing'} as deciding, the fixture says ${want.file}:${want.line}${want.column ? `:${want.column}` : ''}`,
                    );
                  if (!step || !step.at || step.at.line !== want.line)
                    problems.push(`${where}: the trace step marked decisive is ${step ? `${step.at?.file}:${step.at?.line}` : 'missing'}`);
                }
              }
              if (m.cause && o.cause?.id !== m.cause)
                problems.push(`${where}: explain names cause ${o.cause?.id ?? 'none'}, the fixture says ${m.cause}`);
            });
          } finally {
            await running.stop();
          }
          expect(problems.join('\n')).toBe('');
        },
        300_000,
      );
    }
  });
}
