/**
 * Startup cost: wall time of linting one small file in a fresh process, next to `node -e 0` in the
 * same run (median of RUNS runs each, interleaved so machine load hits all cases alike), and the
 * import cost of each runtime dependency. Aim (issue 4): ≤ 120 ms, and ≤ 80 ms above bare node.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(root, 'dist/src/cli.js');
const small = join(root, 'fixtures/examples/nginx/sites-enabled/blog');

export async function run(): Promise<void> {
  const withConfig = mkdtempSync(join(tmpdir(), 'why403-bench-'));
  writeFileSync(join(withConfig, '.why403.json'), JSON.stringify({ rules: { 'nginx-return-403-server': 'warn' } }));
  copyFileSync(small, join(withConfig, 'site.conf'));
  const cases: Array<[string, string[], string]> = [
    ['node -e 0', ['-e', '0'], root],
    ['why403 <small nginx file>', [cli, '--server', 'nginx', small], root],
    ['why403 <small file> + .why403.json', [cli, '--server', 'nginx', 'site.conf'], withConfig],
    ['why403 <small file> -f sarif', [cli, '--server', 'nginx', '-f', 'sarif', small], root],
    ['why403 --version', [cli, '--version'], root],
    ['import engine (dist/src/run.js)', ['-e', "import('./dist/src/run.js')"], root],
    ['import parsers (dist/src/load.js)', ['-e', "import('./dist/src/load.js')"], root],
    ['import rules (dist/rules/index.js)', ['-e', "import('./dist/rules/index.js')"], root],
    ['import yargs', ['-e', "import('yargs')"], root],
    ['import picocolors', ['-e', "import('picocolors')"], root],
    ['import yaml', ['-e', "import('yaml')"], root],
    ['import @cfworker/json-schema', ['-e', "import('@cfworker/json-schema')"], root],
    ['import tinyglobby', ['-e', "import('tinyglobby')"], root],
  ];
  const times = cases.map(() => [] as number[]);
  for (let i = 0; i < RUNS; i++) {
    cases.forEach(([, args, cwd], k) => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, args, { cwd, stdio: 'ignore', timeout: 30_000 });
      if (r.error) throw r.error;
      times[k].push(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  }
  rmSync(withConfig, { recursive: true, force: true });
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(times[0]);
  const load = loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`median of ${RUNS} fresh processes each (ms); "+node" is the cost above \`node -e 0\`; ${cpus().length} CPUs, load average ${load}`);
  cases.forEach(([name], k) => {
    const m = median(times[k]);
    console.log(`${name.padEnd(40)} ${m.toFixed(1).padStart(7)}  +node ${(m - base).toFixed(1).padStart(6)}`);
  });
}
