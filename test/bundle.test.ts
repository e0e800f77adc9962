/**
 * The single-file CLI bundle (scripts/bundle.mjs → dist/src/cli.bundle.js): it answers every kind
 * of invocation exactly as the unbundled dist/src files do (formats, configs, subcommands, rule
 * docs, version, errors), and dist/src/cli.js runs it only when it is at least as new as itself.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cliPath, ensureBuilt, repoRoot } from './harness/build.js';

const tmp = mkdtempSync(join(tmpdir(), 'why403-bundle-'));
// Built next to the real one (paths relative to dist/src must hold), under a name of its own.
const bundle = join(repoRoot, 'dist/src', `cli.bundle-test-${process.pid}.js`);
const runner = join(tmp, 'run-bundle.mjs');
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(bundle, { force: true });
});

beforeAll(() => {
  ensureBuilt();
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/bundle.mjs'), `--outfile=${bundle}`], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  writeFileSync(runner, `const m = await import(${JSON.stringify(pathToFileURL(bundle).href)});\nm.runAsBin();\n`);
}, 180_000);

interface Out {
  code: number | null;
  stdout: string;
  stderr: string;
}
function run(entry: string, args: string[], cwd: string, input = ''): Out {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, NO_COLOR: '1', WHY403_NO_BUNDLE: '1' };
  const r = spawnSync(process.execPath, [entry, ...args], { cwd, env, input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the bundle answers as the unbundled CLI does', () => {
  const ex = join(repoRoot, 'fixtures/examples');
  const cfgDir = join(tmp, 'cfg');
  mkdirSync(cfgDir, { recursive: true });
  writeFileSync(join(cfgDir, '.why403.yaml'), 'rules:\n  nginx-return-403-server: warn\n  apache-legacy-access-control: off\n');
  writeFileSync(join(cfgDir, 'site.conf'), 'server {\n    listen 80;\n    return 403;\n}\n');
  const badDir = join(tmp, 'bad');
  mkdirSync(badDir, { recursive: true });
  writeFileSync(join(badDir, '.why403.json'), JSON.stringify({ rules: { 'nginx-no-such-rule': 'error' } }));
  writeFileSync(join(badDir, 'site.conf'), 'server {}\n');

  const cases: Array<[string, string[], string, string?]> = [
    ['nginx + Apache examples, stylish', ['--exit-zero', '.'], ex],
    ['json', ['-f', 'json', 'nginx'], ex],
    ['sarif (version, rule docs)', ['-f', 'sarif', 'apache2', 'site'], ex],
    ['compact and github', ['-f', 'compact', '-f', 'github', 'site'], ex],
    ['a YAML config', ['site.conf'], cfgDir],
    ['an invalid config', ['site.conf'], badDir],
    ['--print-config', ['--print-config', 'site.conf'], cfgDir],
    ['stdin', ['--stdin', '--stdin-filename', 'x.conf', '--server', 'nginx'], tmp, 'server { return 403; }\n'],
    ['--only an unknown rule', ['--only', 'nginx-nope', '.'], ex],
    ['--version', ['--version'], ex],
    ['--help', ['--help'], ex],
    ['rules', ['rules'], ex],
    ['rules <id> (its doc)', ['rules', 'nginx-return-403-server'], ex],
    ['parse -f json', ['parse', '-f', 'json', 'nginx/sites-enabled/blog'], ex],
    ['explain', ['explain', join(cfgDir, 'site.conf'), 'http://localhost/'], ex],
    ['a usage error', ['--max-warnings', 'x'], ex],
  ];
  test.each(cases)('%s', (_name, args, cwd, input) => {
    const want = run(cliPath, args, cwd, input);
    const got = run(runner, args, cwd, input);
    expect(got).toEqual(want);
    expect(want.stdout + want.stderr).not.toBe('');
  });
});

describe('the bundle loads at start-up only what a lint needs', () => {
  // esbuild hoists every static import of a package or builtin to the top of the bundle, so a module
  // that only `test --real`, `diff --base` or `--auth` uses must be loaded lazily (src/lazy.ts)
  test('no top-level import of node:fs, node:http, node:child_process, bcryptjs, yaml, the LSP and the like', () => {
    const text = readFileSync(bundle, 'utf8');
    const top = [...text.matchAll(/^import\b[^;]*?from\s+"([^"]+)";?$/gm)].map((m) => m[1]);
    expect(top).toContain('node:path'); // the pattern reads the bundle's imports
    // node:fs, node:util and node:crypto are read through require (scripts/bundle.mjs): their ES
    // module facades would load streams, fs/promises and more on every run
    for (const heavy of [
      'node:fs',
      'node:util',
      'node:crypto',
      'node:http',
      'node:net',
      'node:child_process',
      'bcryptjs',
      'yaml',
      'yargs',
      'vscode-languageserver',
    ])
      expect(top.filter((t) => t === heavy || t.startsWith(heavy + '/'))).toEqual([]);
  });
});

describe('dist/src/cli.js picks the bundle only when it is fresh', () => {
  // A copy of cli.js next to a stand-in bundle that only says it ran.
  const dir = join(tmp, 'pick');
  mkdirSync(dir, { recursive: true });
  const cli = join(dir, 'cli.js');
  const fake = join(dir, 'cli.bundle.js');
  beforeAll(() => copyFileSync(cliPath, cli));
  const runCli = (env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [cli, '--no-config-lookup', 'nothing.conf'], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...env },
    });
  const age = (file: string, s: number) => utimesSync(file, s, s);

  test('a bundle as new as cli.js runs; an older one, a broken one or WHY403_NO_BUNDLE=1 does not', () => {
    writeFileSync(fake, 'export function runAsBin() { process.stdout.write("BUNDLE"); }\n');
    age(cli, 1_000_000);
    age(fake, 1_000_000);
    expect(runCli().stdout).toBe('BUNDLE');
    const off = runCli({ WHY403_NO_BUNDLE: '1' });
    expect(off.stdout).toBe('');
    expect(off.stderr).toContain('why403:'); // the unbundled code ran (and, copied alone, cannot load run.js)
    age(fake, 999_999);
    expect(runCli().stdout).toBe('');
    writeFileSync(fake, 'export function runAsBin( {\n');
    age(fake, 1_000_001);
    const broken = runCli({ WHY403_DEBUG: '1' });
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toContain('cannot load');
    expect(broken.stderr).toContain('running unbundled');
  });
});
