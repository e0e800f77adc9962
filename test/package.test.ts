/**
 * What a user installs: `npm pack --dry-run` lists the built code, the rule docs, the schema, the
 * licence, the README and the docs it links to, and nothing of the tests or fixtures; the package
 * runs no install script; and the emitted type declarations compile in a consumer that has no
 * @types/node (`types: []`, the declarations copied where no node_modules is above them).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureBuilt, repoRoot as root } from './harness/build.js';

const tmp = mkdtempSync(join(tmpdir(), 'why403-package-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => ensureBuilt(), 200_000);

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  files: string[];
  repository?: { url: string };
  homepage?: string;
  bugs?: { url: string };
  license: string;
};

describe('package contents', () => {
  test('no install-time script for consumers; prepare builds a checkout; metadata points at the repository', () => {
    for (const s of ['preinstall', 'install', 'postinstall']) expect(pkg.scripts[s], s).toBeUndefined();
    expect(pkg.scripts.prepare).toBeDefined();
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the why403 authors\n/);
    expect(pkg.repository?.url).toBe('git+https://github.com/why403/why403.git');
    expect(pkg.homepage).toMatch(/^https:\/\/github\.com\/why403\/why403/);
    expect(pkg.bugs?.url).toBe('https://github.com/why403/why403/issues');
  });

  test('npm pack --dry-run: dist, rule docs, schema, LICENSE, README, docs; no tests, fixtures or sources', () => {
    const which = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' });
    if (which.status !== 0) {
      console.log('package.test.ts: npm is not installed; pack listing not checked');
      return;
    }
    // --ignore-scripts: list the files as they are (prepare would rebuild dist/ first).
    const json = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, npm_config_update_notifier: 'false' },
    });
    const files = new Set((JSON.parse(json) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path));
    for (const f of [
      'LICENSE',
      'README.md',
      'package.json',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/cli.js',
      'bin/why403.cjs',
      'schemas/why403.schema.json',
    ])
      expect(files.has(f), f).toBe(true);
    for (const md of readdirSync(join(root, 'rules')).filter((f) => f.endsWith('.md'))) expect(files.has(`rules/${md}`), md).toBe(true);
    for (const md of readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'))) expect(files.has(`docs/${md}`), md).toBe(true);
    const stray = [...files].filter(
      (f) => /^(test|fixtures|bench|scripts|src|dist\/bench|\.github)\//.test(f) || /\.test\.|\.tsbuildinfo$/.test(f),
    );
    expect(stray).toEqual([]);
    expect([...files].filter((f) => f.startsWith('rules/') && !f.endsWith('.md'))).toEqual([]);
  });
});

describe('the command', () => {
  test('"bin" is the CommonJS loader bin/why403.cjs (no ES module loader at start), a node script', () => {
    const bin = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin;
    expect(bin).toEqual({ why403: 'bin/why403.cjs' });
    expect(readFileSync(join(root, bin.why403), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(pkg.files).toContain('bin');
  });
});

describe('type declarations', () => {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  /** A consumer project with why403's declarations in node_modules and no other package. */
  function consumer(name: string, source: string): { code: number | null; out: string } {
    const dir = join(tmp, name);
    const pkgDir = join(dir, 'node_modules/why403');
    mkdirSync(pkgDir, { recursive: true });
    writeFileSync(join(pkgDir, 'package.json'), readFileSync(join(root, 'package.json')));
    for (const sub of ['dist/src', 'dist/rules'])
      cpSync(join(root, sub), join(pkgDir, sub), {
        recursive: true,
        filter: (p) => statSync(p).isDirectory() || p.endsWith('.d.ts'),
      });
    writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022',
          lib: ['es2022'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          types: [],
          skipLibCheck: false,
        },
        files: ['consumer.ts'],
      }),
    );
    writeFileSync(join(dir, 'consumer.ts'), source);
    const r = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, out: `${r.stdout}${r.stderr}`.split(dir).join('<consumer>') };
  }

  test('a consumer without @types/node compiles against dist/src/index.d.ts', () => {
    const r = consumer(
      'ok',
      `import { lint, lintText, explain, loadConfig, parseExplainRequest, renderExplanation, loadFormatter, rules,
  type LintRun, type Explanation, type ResultMessage } from 'why403';
const run: LintRun = await lintText('server { return 403; }\\n', { filename: 'a.conf' });
const again: LintRun = await lint(['deploy/'], { cwd: '/srv/repo' });
const set = loadConfig('/etc/nginx/nginx.conf');
const req = parseExplainRequest({ target: '/admin/', ip: '10.0.0.7' });
let text = '';
if (req.ok) {
  const e: Explanation = explain(set, '/etc/nginx/nginx.conf', req.request, { fs: false, pathMap: [] });
  text = renderExplanation(e) + e.verdict + String(e.status);
}
const stylish = await loadFormatter('stylish');
const first: ResultMessage | undefined = run.results[0]?.messages[0];
export const out: string = stylish(again.results, { cwd: '/', color: false, rules: run.enabledRules, version: '0' }) + text + String(first?.line) + rules.length;
`,
    );
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  }, 180_000);

  test('control: in that consumer a Node type is unknown (no @types/node is reachable)', () => {
    const r = consumer('control', `import { rules } from 'why403';\nexport const b: Buffer | number = rules.length;\n`);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/TS2591: Cannot find name 'Buffer'/);
  }, 180_000);
});
