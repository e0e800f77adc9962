/**
 * The single-file CLI bundle (scripts/bundle.mjs → dist/src/cli.bundle.cjs, its V8 code cache
 * cli.bundle.cache, and cli.bundle.js, an ES module that loads them): it answers every kind of
 * invocation exactly as the unbundled dist/src files do (formats, configs, subcommands, rule docs,
 * version, errors), with its code cache and without; V8 takes the cache on this node; a cache that
 * is not the bundle's, or that V8 refuses, only costs the compile; and dist/src/cli.js runs the
 * bundle only when it is at least as new as itself.
 */
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cliPath, ensureBuilt, repoRoot } from './harness/build.js';
import { LINT_OPTIONS } from '../src/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'why403-bundle-'));
// Built next to the real one (paths relative to dist/src must hold), under a name of its own.
const bundle = join(repoRoot, 'dist/src', `cli.bundle-test-${process.pid}.js`);
const bundleCjs = bundle.replace(/\.js$/, '.cjs');
const bundleCache = bundle.replace(/\.js$/, '.cache');
const runner = join(tmp, 'run-bundle.mjs');
// the bundle through src/cli.ts loadBundle, as dist/src/cli.js runs it; prints (stderr, last) whether
// V8 took the code cache. NO_CACHE=1: without the cache.
const cacheRunner = join(tmp, 'run-bundle-cache.mjs');
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  for (const f of [bundle, bundleCjs, bundleCache, bundle.replace(/\.js$/, '.nginx.cache'), bundle.replace(/\.js$/, '.apache.cache')])
    rmSync(f, { force: true });
});

beforeAll(async () => {
  ensureBuilt();
  // asynchronously: the build and its training run take long enough on a loaded machine for a
  // blocked worker to miss vitest's messages
  const r = await new Promise<{ status: number | null; stderr: string }>((done) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'scripts/bundle.mjs'), `--outfile=${bundle}`],
      { encoding: 'utf8', timeout: 150_000 },
      (e, _out, stderr) => done({ status: e ? (typeof e.code === 'number' ? e.code : -1) : 0, stderr }),
    );
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toBe(''); // the training run for the code cache worked
  writeFileSync(runner, `const m = await import(${JSON.stringify(pathToFileURL(bundle).href)});\nm.runAsBin();\n`);
  writeFileSync(
    cacheRunner,
    [
      `import { loadBundle } from ${JSON.stringify(pathToFileURL(cliPath).href)};`,
      `const b = loadBundle(${JSON.stringify(bundleCjs)}, { cache: !process.env.NO_CACHE });`,
      "process.on('exit', () => process.stderr.write(`cache: ${b.cache}\\n`));",
      'b.exports.runAsBin();',
      '',
    ].join('\n'),
  );
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

describe('the code cache', () => {
  const ex = join(repoRoot, 'fixtures/examples');
  const runCache = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [cacheRunner, ...args], {
      cwd: ex,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, NO_COLOR: '1', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const lines = r.stderr.split('\n');
    const cache = lines.findLast((l) => l.startsWith('cache: '));
    return { code: r.status, stdout: r.stdout, stderr: lines.filter((l) => l !== cache).join('\n'), cache };
  };
  const cases: string[][] = [
    ['--exit-zero', '.'],
    ['-f', 'json', 'nginx', 'apache2'],
    ['-f', 'sarif', 'site'],
    ['rules', 'nginx-return-403-server'],
    ['explain', 'nginx/nginx.conf', 'http://localhost/'],
  ];

  test.each(cases.map((c) => [c.join(' '), c]))('is taken by V8 on this node, and %s prints the same with it and without', (_n, args) => {
    const withCache = runCache(args as string[]);
    const without = runCache(args as string[], { NO_CACHE: '1' });
    expect(withCache.cache).toBe('cache: accepted');
    expect(without.cache).toBe('cache: absent');
    expect({ ...withCache, cache: '' }).toEqual({ ...without, cache: '' });
    expect(withCache.stdout).not.toBe('');
  });

  test('a cache of another bundle is not given to V8, and one V8 refuses only costs the compile', () => {
    const good = readFileSync(bundleCache);
    const want = runCache(['-f', 'json', 'nginx'], { NO_CACHE: '1' });
    try {
      // V8 checks only its version, flags and the source length: the id line keeps a cache from
      // another bundle (same length, other code) away from it
      writeFileSync(bundleCache, Buffer.concat([Buffer.from('0123456789abcdef\n'), good.subarray(good.indexOf(10) + 1)]));
      const other = runCache(['-f', 'json', 'nginx']);
      expect(other.cache).toBe('cache: absent');
      expect({ ...other, cache: '' }).toEqual({ ...want, cache: '' });
      // the right id, but data V8 refuses (as from another node version)
      const nl = good.indexOf(10) + 1;
      const junk = Buffer.from(good);
      junk.fill(7, nl + 16, nl + 64);
      writeFileSync(bundleCache, junk);
      const refused = runCache(['-f', 'json', 'nginx']);
      expect(refused.cache).toBe('cache: rejected');
      expect({ ...refused, cache: '' }).toEqual({ ...want, cache: '' });
      rmSync(bundleCache);
      const none = runCache(['-f', 'json', 'nginx']);
      expect(none.cache).toBe('cache: absent');
      expect({ ...none, cache: '' }).toEqual({ ...want, cache: '' });
    } finally {
      writeFileSync(bundleCache, good);
    }
  });
});

describe('the bundle loads at start-up only what a lint needs', () => {
  // a module that only `test --real`, `diff --base`, `--auth`, spec files or the language server use
  // must not be loaded by a lint (src/lazy.ts; esbuild's CommonJS output requires a module's imports
  // when the module is first used, and the bundle's top level is the CLI's own module)
  test('no top-level require of node:fs, node:http, node:child_process, bcryptjs, yaml, the LSP and the like', () => {
    const text = readFileSync(bundleCjs, 'utf8');
    const top = [...text.matchAll(/^var \w+ = (?:__toESM\()?require\("([^"]+)"\)/gm)].map((m) => m[1]);
    expect(top).toContain('node:path'); // the pattern reads the bundle's top-level requires
    // node:fs, node:util and node:crypto are read through require without their ES module facades
    // (scripts/bundle.mjs), crypto on first use
    for (const heavy of ['node:http', 'node:net', 'node:child_process', 'bcryptjs', 'yaml', 'yargs', 'vscode-languageserver'])
      expect(top.filter((t) => t === heavy || t.startsWith(heavy + '/'))).toEqual([]);
    // node:module, node:v8 and node:os are not loaded by a lint either: the bin's test below asks node
    // which modules it loaded (a text match here could not fail: the bundle names them as
    // createRequire(…)("node:…"), read lazily)
  });

  test('a lint of one file loads none of them', () => {
    // node's list of the builtins it loaded, and the packages in require's cache, after a lint
    const probe = join(tmp, 'probe.cjs');
    writeFileSync(
      probe,
      "process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify([...process.moduleLoadList, ...Object.keys(require.cache)]) + '\\n'));\n",
    );
    const r = spawnSync(process.execPath, ['--require', probe, cacheRunner, '--no-config-lookup', 'nginx/sites-enabled/blog'], {
      cwd: join(repoRoot, 'fixtures/examples'),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '));
    expect(line, r.stderr).toBeDefined();
    const loaded = JSON.parse(line!.slice('LOADED '.length)) as string[];
    expect(loaded).toContain('NativeModule vm'); // the list is node's
    for (const heavy of ['NativeModule http', 'NativeModule child_process', 'NativeModule crypto', 'NativeModule readline'])
      expect(loaded).not.toContain(heavy);
    expect(loaded.filter((f) => /node_modules\/(bcryptjs|yaml|yargs|vscode-languageserver)\//.test(f))).toEqual([]);
  });
});

describe('dist/src/cli.js picks the bundle only when it is fresh', () => {
  // A copy of cli.js next to a stand-in bundle that only says it ran.
  const dir = join(tmp, 'pick');
  mkdirSync(dir, { recursive: true });
  const cli = join(dir, 'cli.js');
  const fake = join(dir, 'cli.bundle.cjs');
  beforeAll(() => copyFileSync(cliPath, cli));
  const runCli = (env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [cli, '--no-config-lookup', 'nothing.conf'], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...env },
    });
  const age = (file: string, s: number) => utimesSync(file, s, s);

  test('a bundle as new as cli.js runs; an older one, a broken one or WHY403_NO_BUNDLE=1 does not', () => {
    writeFileSync(fake, '/* why403 bundle 00 */(function (exports) { exports.runAsBin = () => process.stdout.write("BUNDLE"); })\n');
    age(cli, 1_000_000);
    age(fake, 1_000_000);
    expect(runCli().stdout).toBe('BUNDLE');
    const said = runCli({ WHY403_DEBUG_BUNDLE: '1' });
    expect(said.stdout).toBe('BUNDLE');
    expect(said.stderr).toBe(`why403: bundle ${fake}, code cache absent\n`);
    const off = runCli({ WHY403_NO_BUNDLE: '1' });
    expect(off.stdout).toBe('');
    expect(off.stderr).toContain('why403:'); // the unbundled code ran (and, copied alone, cannot load run.js)
    age(fake, 999_999);
    expect(runCli().stdout).toBe('');
    writeFileSync(fake, '(function (exports) {\n');
    age(fake, 1_000_001);
    const broken = runCli({ WHY403_DEBUG: '1' });
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toContain('cannot load');
    expect(broken.stderr).toContain('running unbundled');
  });
});

describe('bin/why403.cjs (the installed command)', () => {
  // A package laid out as installed: bin/why403.cjs, dist/src/cli.js and the test bundle under the
  // names the bin reads (cli.bundle.cjs and its caches), the rest of the package linked in.
  const pkg = join(tmp, 'pkg');
  const bin = join(pkg, 'bin/why403.cjs');
  const src = join(pkg, 'dist/src');
  beforeAll(() => {
    mkdirSync(join(pkg, 'bin'), { recursive: true });
    mkdirSync(src, { recursive: true });
    copyFileSync(join(repoRoot, 'bin/why403.cjs'), bin);
    copyFileSync(join(repoRoot, 'package.json'), join(pkg, 'package.json'));
    for (const d of ['node_modules', 'rules', 'schemas']) symlinkSync(join(repoRoot, d), join(pkg, d));
    copyFileSync(cliPath, join(src, 'cli.js'));
    copyFileSync(bundleCjs, join(src, 'cli.bundle.cjs'));
    for (const kind of ['', '.nginx', '.apache'])
      copyFileSync(bundle.replace(/\.js$/, `${kind}.cache`), join(src, `cli.bundle${kind}.cache`));
    age(join(src, 'cli.js'), 1_000_000);
  });
  const age = (file: string, s: number) => utimesSync(file, s, s);
  const ex = join(repoRoot, 'fixtures/examples');
  const runBin = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [bin, ...args], {
      cwd: ex,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, NO_COLOR: '1', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });

  test.each([
    [['--no-config-lookup', '-f', 'json', 'nginx/sites-enabled/blog'], 'code cache accepted (nginx)'],
    [['--no-config-lookup', '--server', 'nginx', join(tmp, 'cfg/site.conf')], 'code cache accepted (nginx)'],
    [['--no-config-lookup', join(tmp, 'cfg/site.conf')], 'code cache accepted (nginx)'], // by its first bytes
    [['--no-config-lookup', 'site/public/.htaccess'], 'code cache accepted (apache)'],
    [['--exit-zero', '.'], 'code cache accepted'],
    [['explain', 'nginx/nginx.conf', 'http://localhost/'], 'code cache accepted'],
  ])('%j runs as dist/src/cli.js does, with the cache of its server (%s)', (args, said) => {
    const got = runBin(args, { WHY403_DEBUG_BUNDLE: '1' });
    const want = run(cliPath, args, ex);
    expect(got.stdout).toBe(want.stdout);
    expect(got.status).toBe(want.code);
    const line = got.stderr.split('\n').find((l) => l.startsWith('why403: bundle') || l === 'why403: unbundled');
    expect(line).toBe(`why403: bundle ${join(src, 'cli.bundle.cjs')}, ${said}`);
    expect(got.stderr.replace(`${line}\n`, '')).toBe(want.stderr);
  });

  test("the bin's options that take a value are the lint command's (src/cli.ts LINT_OPTIONS)", () => {
    // the bin skips their values when it guesses the server from the paths; a copy, so it is compared
    const text = readFileSync(bin, 'utf8');
    const listed = /const VALUE_OPTIONS = new Set\(\[([^\]]*)\]\);\s*for \(const o of \[([^\]]*)\]\)/.exec(text);
    expect(listed, 'the VALUE_OPTIONS lines of bin/why403.cjs').not.toBeNull();
    const words = (l: string) => [...l.matchAll(/'([^']+)'/g)].map((m) => m[1]);
    const inBin = [...words(listed![1]), ...words(listed![2]).map((o) => `--${o}`)].sort();
    const want = Object.entries(LINT_OPTIONS)
      .filter(([name, o]) => o.type !== 'boolean' && name !== 'server') // --server is read by the bin itself
      .flatMap(([name, o]) => [`--${name}`, ...(o.alias ? [`-${o.alias}`] : [])])
      .sort();
    expect(inBin).toEqual(want);
  });

  test('a lint of one file starts no ES module loader, node:module, node:v8 or parseArgs', () => {
    const probe = join(tmp, 'probe-bin.cjs');
    writeFileSync(probe, "process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(process.moduleLoadList) + '\\n'));\n");
    const r = spawnSync(process.execPath, ['--require', probe, bin, '--no-config-lookup', 'nginx/sites-enabled/blog'], {
      cwd: ex,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, NO_COLOR: '1', WHY403_DEBUG_BUNDLE: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toContain('code cache accepted (nginx)');
    const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '));
    const loaded = JSON.parse(line!.slice('LOADED '.length)) as string[];
    expect(loaded).toContain('NativeModule vm');
    for (const not of [
      'NativeModule internal/modules/esm/loader',
      'NativeModule module',
      'NativeModule v8',
      'NativeModule internal/util/parse_args/parse_args',
      'NativeModule internal/fs/dir',
      'NativeModule os',
    ])
      expect(loaded).not.toContain(not);
  });

  test('without a fresh bundle, or with WHY403_NO_BUNDLE=1, it imports dist/src/cli.js', () => {
    const args = ['--no-config-lookup', '-f', 'json', 'nginx/sites-enabled/blog'];
    const off = runBin(args, { WHY403_NO_BUNDLE: '1', WHY403_DEBUG_BUNDLE: '1' });
    // the copied cli.js cannot load the rest of dist/src (run.js): it ran, and says so
    expect(off.stderr).toMatch(/^why403: unbundled\nwhy403: internal error: Cannot find module .*run\.js/);
    expect({ stdout: off.stdout, status: off.status }).toEqual({ stdout: '', status: 2 });
    try {
      age(join(src, 'cli.bundle.cjs'), 999_999);
      expect(runBin(args, { WHY403_DEBUG_BUNDLE: '1' }).stderr.split('\n')[0]).toBe('why403: unbundled');
    } finally {
      age(join(src, 'cli.bundle.cjs'), 1_000_001);
    }
    expect(runBin(args, { WHY403_DEBUG_BUNDLE: '1' }).stderr.split('\n')[0]).toContain('code cache accepted (nginx)');
  });

  test("the checkout's own bin: --version, --help and an unbundled lint answer as dist/src/cli.js", () => {
    const own = join(repoRoot, 'bin/why403.cjs');
    for (const args of [['--version'], ['--help'], ['--no-config-lookup', '-f', 'json', 'nginx/sites-enabled/blog']]) {
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, NO_COLOR: '1', WHY403_NO_BUNDLE: '1' };
      const got = spawnSync(process.execPath, [own, ...args], { cwd: ex, env, encoding: 'utf8', timeout: 60_000 });
      expect({ code: got.status, stdout: got.stdout, stderr: got.stderr }).toEqual(run(cliPath, args, ex));
    }
  });
});
