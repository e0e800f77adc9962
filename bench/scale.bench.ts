/**
 * Scale (issue 12): why403's full lint (parse + model + every rule, through the CLI in a fresh
 * process) next to the server's own config check (`nginx -t`, `apache2 -t`) on the same generated
 * tree, in one run: wall and CPU time (user + system, from /usr/bin/time), peak RSS, the ratio of
 * why403's to the server's time, and the growth factor from the previous (4× smaller) input, with
 * the start-up cost (linting one tiny file) subtracted. Each measurement is the best of BENCH_RUNS
 * (default 2) runs. On a shared, loaded machine compare the CPU columns.
 *
 * WHY403_BENCH_SCALE_NGINX / WHY403_BENCH_SCALE_APACHE: comma-separated sizes (default 1000,4000 and
 * 100,400,1000).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APACHE_BIN, generateApacheVhostTree } from './gen-apache-vhosts.js';
import { generateNginxTree } from './gen-nginx.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(root, 'dist/src/cli.js');
const NGINX_BIN = process.env.WHY403_NGINX_BIN ?? '/usr/sbin/nginx';
const TIME = '/usr/bin/time';
const RUNS = Number(process.env.BENCH_RUNS ?? 2);

interface Sample {
  wall: number;
  cpu: number;
  rssMB: number;
  ok: boolean;
  note: string;
}

/** Run a command under /usr/bin/time; best (lowest CPU) of RUNS. */
function measure(cmd: string, args: string[], env: Record<string, string> = {}): Sample {
  let best: Sample | null = null;
  for (let i = 0; i < RUNS; i++) {
    const out = join(tmpdir(), `why403-bench-time-${process.pid}.txt`);
    const r = spawnSync(TIME, ['-o', out, '-f', '%e %U %S %M', cmd, ...args], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 30 * 60_000,
      maxBuffer: 64 << 20,
    });
    const line = existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n').pop()! : '';
    rmSync(out, { force: true });
    const [e, u, s, m] = line.split(' ').map(Number);
    const code = r.status;
    const sample: Sample = {
      wall: e,
      cpu: u + s,
      rssMB: m / 1024,
      // why403 exits 1 when it finds problems; 2 is a crash
      ok: cmd === process.execPath ? code === 0 || code === 1 : code === 0,
      note: code === 0 || code === 1 ? '' : `exit ${code}: ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' ')}`,
    };
    if (!best || sample.cpu < best.cpu) best = sample;
  }
  return best!;
}

const lint = (target: string) => measure(process.execPath, [cli, '--no-config-lookup', '--format', 'json', target]);

interface Row {
  input: string;
  lines: number;
  why: Sample;
  server: Sample | null;
}

/** Issue 12's goal for a row: the ratio to the server's check (nginx: 0.5× at 1,000 servers, 0.33× from
 * 10,000; Apache: 1.0×) and, for nginx from 10,000 servers, peak RSS ≤ 500 MiB. */
function goal(r: Row): string {
  const n = Number(/ ([\d,]+) /.exec(r.input)?.[1].replace(/,/g, '') ?? 0);
  const nginx = r.input.startsWith('nginx');
  const ratio = nginx ? (n >= 10_000 ? 0.33 : 0.5) : 1.0;
  const sv = r.server;
  if (!sv) return '';
  const got = r.why.cpu / Math.max(0.01, sv.cpu);
  const rss = nginx && n >= 10_000 ? `; RSS ≤ 500 MiB: ${r.why.rssMB <= 500 ? 'met' : 'not met'}` : '';
  return `≤ ${ratio}×: ${got <= ratio ? 'met' : 'not met'}${rss}`;
}

function table(rows: Row[], startup: Sample): void {
  const pad = (s: string, n: number) => s.padStart(n);
  console.log(
    `| input | lines | why403 wall / CPU | server check wall / CPU | ratio wall / CPU | growth (CPU, startup subtracted) | why403 peak RSS | goal (CPU ratio) |`,
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  rows.forEach((r, i) => {
    const prev = i > 0 && rows[i - 1].input.split(' ')[0] === r.input.split(' ')[0] ? rows[i - 1] : null;
    const growth = prev
      ? `${((r.why.cpu - startup.cpu) / Math.max(0.001, prev.why.cpu - startup.cpu)).toFixed(2)}× for ${(r.lines / prev.lines).toFixed(1)}× lines`
      : '';
    const sv = r.server;
    console.log(
      `| ${r.input} | ${r.lines.toLocaleString('en')} | ${r.why.wall.toFixed(2)} s / ${r.why.cpu.toFixed(2)} s${r.why.ok ? '' : ` (${r.why.note})`} | ` +
        `${sv ? `${sv.wall.toFixed(2)} s / ${sv.cpu.toFixed(2)} s${sv.ok ? '' : ` (${sv.note})`}` : 'n/a'} | ` +
        `${sv ? `${(r.why.wall / sv.wall).toFixed(2)}× / ${(r.why.cpu / Math.max(0.01, sv.cpu)).toFixed(2)}×` : ''} | ${pad(growth, 1)} | ${r.why.rssMB.toFixed(0)} MB | ${goal(r)} |`,
    );
  });
}

/** Cold start (issue 12: ≤ node's own start + 50 ms): median wall time of a one-file lint through the
 * installed command (bin/why403.cjs, what pre-commit runs) and through dist/src/cli.js, and of
 * `node -e 0`, interleaved so that machine load hits all alike. */
function coldStart(tiny: string): void {
  const runs = Number(process.env.BENCH_COLD_RUNS ?? 9);
  const bin = join(root, 'bin/why403.cjs');
  const args = ['--no-config-lookup', '--server', 'nginx', '--format', 'json', tiny];
  const why: number[] = [];
  const viaCli: number[] = [];
  const bare: number[] = [];
  const time = (a: string[]) => {
    const t = process.hrtime.bigint();
    spawnSync(process.execPath, a, { stdio: 'ignore', timeout: 60_000 });
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  for (let i = 0; i < runs; i++) {
    bare.push(time(['-e', '0']));
    why.push(time([bin, ...args]));
    viaCli.push(time([cli, ...args]));
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const extra = median(why) - median(bare);
  // what ran: the bundle (and whether V8 took its code cache) or the unbundled files
  const state = spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, WHY403_DEBUG_BUNDLE: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  console.log(
    `cold start runs: ${(state.stderr ?? '')
      .trim()
      .split('\n')
      .pop()
      ?.replace(/^why403: /, '')}`,
  );
  console.log(
    `cold start (median of ${runs}): one small file ${median(why).toFixed(0)} ms (bin/why403.cjs; dist/src/cli.js ${median(viaCli).toFixed(0)} ms), ` +
      `\`node -e 0\` ${median(bare).toFixed(0)} ms: +${extra.toFixed(0)} ms (goal ≤ +50 ms: ${extra <= 50 ? 'met' : 'not met'})`,
  );
}

export async function run(): Promise<void> {
  if (!existsSync(TIME)) {
    console.log(`skipped: ${TIME} not found (apt-get install time)`);
    return;
  }
  const sizes = (v: string | undefined, d: number[]) => (v ? v.split(',').map(Number) : d);
  const nginxSizes = sizes(process.env.WHY403_BENCH_SCALE_NGINX, [1000, 4000]);
  const apacheSizes = sizes(process.env.WHY403_BENCH_SCALE_APACHE, [100, 400, 1000]);
  console.log(`machine: ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)}; best of ${RUNS} runs each`);
  const work = mkdtempSync(join(tmpdir(), 'why403-bench-scale-'));
  const rows: Row[] = [];
  try {
    const tiny = join(work, 'tiny.conf');
    writeFileSync(tiny, 'server {\n    listen 80;\n    location / {\n        deny all;\n    }\n}\n');
    const startup = measure(process.execPath, [cli, '--no-config-lookup', '--server', 'nginx', '--format', 'json', tiny]);
    console.log(`startup (one tiny file): ${startup.wall.toFixed(2)} s wall, ${startup.cpu.toFixed(2)} s CPU`);
    coldStart(tiny);
    for (const n of nginxSizes) {
      const dir = join(work, `nginx-${n}`);
      mkdirSync(dir);
      const t = generateNginxTree(n, dir);
      const server = existsSync(NGINX_BIN) ? measure(NGINX_BIN, ['-t', '-q', '-p', dir, '-c', t.main]) : null;
      rows.push({ input: `nginx ${n.toLocaleString('en')} servers`, lines: t.lines, why: lint(t.main), server });
      rmSync(dir, { recursive: true, force: true });
    }
    for (const n of apacheSizes) {
      const dir = join(work, `apache-${n}`);
      mkdirSync(dir);
      const t = generateApacheVhostTree(dir, n);
      const server = existsSync(APACHE_BIN) ? measure(APACHE_BIN, ['-t', '-d', dir, '-f', t.main]) : null;
      rows.push({
        input: `apache ${n.toLocaleString('en')} vhosts + ${t.htaccess.toLocaleString('en')} .htaccess`,
        lines: t.lines,
        why: lint(dir),
        server,
      });
      rmSync(dir, { recursive: true, force: true });
    }
    table(rows, startup);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
