/**
 * Startup cost: wall time of linting one small file in a fresh process, next to `node -e 0` in the
 * same run (median of RUNS runs each, interleaved so machine load hits all cases alike), and the
 * import cost of each runtime dependency. Aim (issue 4): ≤ 120 ms, and ≤ 80 ms above bare node.
 * `npm run bench` builds the single-file bundle first (scripts/bundle.mjs), so the `why403` cases
 * run it; the "unbundled" case sets WHY403_NO_BUNDLE=1 (what runs when no bundle could be built).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const cli = join(root, 'dist/src/cli.js');
const bin = join(root, 'bin/why403.cjs'); // the installed command (package.json "bin")
const small = join(root, 'fixtures/examples/nginx/sites-enabled/blog');
const htaccess = join(root, 'fixtures/examples/site/public/.htaccess');

function bundleState(): string {
  try {
    const fresh = statSync(join(root, 'dist/src/cli.bundle.cjs')).mtimeMs >= statSync(cli).mtimeMs;
    return fresh ? 'the CLI runs dist/src/cli.bundle.cjs' : 'dist/src/cli.bundle.cjs is older than dist/src/cli.js: the CLI runs unbundled';
  } catch {
    return 'no dist/src/cli.bundle.cjs: the CLI runs unbundled';
  }
}

export async function run(): Promise<void> {
  const withConfig = mkdtempSync(join(tmpdir(), 'why403-bench-'));
  writeFileSync(join(withConfig, '.why403.json'), JSON.stringify({ rules: { 'nginx-return-403-server': 'warn' } }));
  copyFileSync(small, join(withConfig, 'site.conf'));
  const unbundled = { WHY403_NO_BUNDLE: '1' };
  const cases: Array<[string, string[], string, Record<string, string>?]> = [
    ['node -e 0', ['-e', '0'], root],
    ['why403 <small nginx file> (bin)', [bin, '--server', 'nginx', small], root],
    ['  the same, dist/src/cli.js', [cli, '--server', 'nginx', small], root],
    ['  the same, unbundled', [cli, '--server', 'nginx', small], root, unbundled],
    ['why403 <small .htaccess> (bin)', [bin, htaccess], root],
    ['  the same, dist/src/cli.js', [cli, htaccess], root],
    ['  the same, unbundled', [cli, htaccess], root, unbundled],
    ['why403 <small file> + .why403.json', [cli, '--server', 'nginx', 'site.conf'], withConfig],
    ['why403 <small file> -f sarif', [cli, '--server', 'nginx', '-f', 'sarif', small], root],
    ['why403 --version', [cli, '--version'], root],
    ['import engine (dist/src/run.js)', ['-e', "import('./dist/src/run.js')"], root],
    ['import parsers (dist/src/load.js)', ['-e', "import('./dist/src/load.js')"], root],
    ['import rules (dist/rules/index.js)', ['-e', "import('./dist/rules/index.js')"], root],
    ['load the nginx rules (rule-manifest)', ['-e', "import('./dist/src/rule-manifest.js').then((m) => m.loadRules(['nginx']))"], root],
    ['load the Apache rules (rule-manifest)', ['-e', "import('./dist/src/rule-manifest.js').then((m) => m.loadRules(['apache']))"], root],
    ['import yargs', ['-e', "import('yargs')"], root],
    ['import picocolors', ['-e', "import('picocolors')"], root],
    ['import yaml', ['-e', "import('yaml')"], root],
    ['import @cfworker/json-schema', ['-e', "import('@cfworker/json-schema')"], root],
    ['import tinyglobby', ['-e', "import('tinyglobby')"], root],
  ];
  const times = cases.map(() => [] as number[]);
  for (let i = 0; i < RUNS; i++) {
    cases.forEach(([, args, cwd, env], k) => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, args, { cwd, stdio: 'ignore', timeout: 30_000, env: { ...process.env, ...env } });
      if (r.error) throw r.error;
      times[k].push(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  }
  rmSync(withConfig, { recursive: true, force: true });
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(times[0]);
  const load = loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
  console.log(
    `median of ${RUNS} fresh processes each (ms); "+node" is the cost above \`node -e 0\`; ${cpus().length} CPUs, load average ${load}; ${bundleState()}`,
  );
  cases.forEach(([name], k) => {
    const m = median(times[k]);
    console.log(`${name.padEnd(40)} ${m.toFixed(1).padStart(7)}  +node ${(m - base).toFixed(1).padStart(6)}`);
  });
}
