/**
 * The shipped .pre-commit-hooks.yaml, exercised by the real `pre-commit` tool (Debian's package)
 * against a temporary git repository. pre-commit clones this checkout at HEAD (committed files
 * only), runs `npm install` there (the `prepare` script builds dist/ with tsc), packs it and
 * installs the package into an isolated environment, then runs the hook on the staged configs.
 * Skips, with the reason printed, when git or pre-commit is missing or HEAD is unavailable.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
const head = spawnSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
const hooksCommitted = spawnSync('git', ['-C', root, 'cat-file', '-e', 'HEAD:.pre-commit-hooks.yaml']).status === 0;
const skip = !which('git')
  ? 'git is not installed'
  : !which('pre-commit')
    ? 'pre-commit is not installed (Debian package pre-commit)'
    : !which('npm')
      ? 'npm is not installed'
      : head.status !== 0 || !hooksCommitted
        ? 'this checkout has no commit with .pre-commit-hooks.yaml'
        : '';
if (skip) console.log(`precommit.test.ts skipped: ${skip}`);

const tmp = mkdtempSync(join(tmpdir(), 'why403-precommit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sh(cmd: string, args: string[], cwd: string, timeout = 60_000) {
  const env = {
    ...process.env,
    PRE_COMMIT_HOME: join(tmp, 'cache'),
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@example.test',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@example.test',
    NO_COLOR: '1',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  delete (env as Record<string, string | undefined>).FORCE_COLOR;
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, timedOut: r.error !== undefined };
}

function write(dir: string, files: Record<string, string>) {
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
}

test.skipIf(skip !== '')(
  'why403 and why403-fix hooks run through pre-commit',
  () => {
    const repo = join(tmp, 'repo');
    mkdirSync(repo);
    expect(sh('git', ['init', '-q', '-b', 'main'], repo).code).toBe(0);
    write(repo, {
      '.pre-commit-config.yaml': `repos:\n  - repo: ${root}\n    rev: ${head.stdout.trim()}\n    hooks:\n      - id: why403\n      - id: why403-fix\n        stages: [manual]\n`,
      'deploy/nginx/nginx.conf': 'events {}\nhttp {\n    include sites-enabled/*.conf;\n}\n',
      'deploy/nginx/sites-enabled/shop.conf': 'server {\n    listen 80;\n    return 403;\n}\n',
      'deploy/supervisor/app.conf': '[program:app]\ncommand=/bin/true\n',
      'README.md': '# x\n',
    });
    expect(sh('git', ['add', '-A'], repo).code).toBe(0);

    // First run installs the hook environment (npm install + prepare + pack): allow minutes.
    const bad = sh('pre-commit', ['run', '--all-files', 'why403'], repo, 540_000);
    expect(bad.timedOut, bad.out).toBe(false);
    expect(bad.code, bad.out).toBe(1);
    expect(bad.out).toMatch(/deploy\/nginx\/sites-enabled\/shop\.conf\s*\n\s+3:5\s+error\s+`return 403` at server level/);
    expect(bad.out).not.toContain('supervisor'); // the files: pattern leaves other .conf files alone

    write(repo, {
      'deploy/nginx/sites-enabled/shop.conf': 'server {\n    listen 80;\n    location /private/ {\n        return 403;\n    }\n}\n',
    });
    const good = sh('pre-commit', ['run', '--all-files', 'why403'], repo, 120_000);
    expect(good.code, good.out).toBe(0);
    expect(good.out).toMatch(/why403\.+Passed/);

    // The fix hook deletes an unused suppression comment; pre-commit reports the modified file.
    const stale = 'server {\n    listen 80;\n    # why403-disable-next-line nginx-return-403-server\n    location / {\n    }\n}\n';
    write(repo, { 'deploy/nginx/sites-enabled/shop.conf': stale });
    const fix = sh('pre-commit', ['run', '--all-files', '--hook-stage', 'manual', 'why403-fix'], repo, 120_000);
    expect(fix.code, fix.out).toBe(1);
    expect(fix.out).toMatch(/files were modified by this hook/);
    expect(readFileSync(join(repo, 'deploy/nginx/sites-enabled/shop.conf'), 'utf8')).toBe(
      'server {\n    listen 80;\n    location / {\n    }\n}\n',
    );
    const again = sh('pre-commit', ['run', '--all-files', '--hook-stage', 'manual', 'why403-fix'], repo, 120_000);
    expect(again.code, again.out).toBe(0);

    // A cross-file finding: the .htaccess is dead only because apache2.conf says AllowOverride None.
    // pre-commit splits the file list over parallel invocations (and shuffles it) unless the hook
    // has require_serial: true; then the two files may land in different runs and the finding is lost.
    const sites: Record<string, string> = {};
    for (let i = 0; i < 12; i++)
      sites[`deploy/nginx/sites-enabled/site${i}`] = `server {\n    listen 80;\n    server_name s${i}.example.test;\n}\n`;
    write(repo, {
      ...sites,
      '.why403.json': JSON.stringify({
        rules: { 'apache-htaccess-ignored': 'error' },
        settings: { pathMap: { '/srv/site': 'deploy/www' } },
      }),
      'deploy/apache2/apache2.conf':
        'DocumentRoot /srv/site\n<Directory /srv/site>\n    AllowOverride None\n    Require all granted\n</Directory>\n',
      'deploy/www/private/.htaccess': 'Require all denied\n',
      '.pre-commit-config.yaml':
        readFileSync(join(repo, '.pre-commit-config.yaml'), 'utf8') +
        `  - repo: local\n    hooks:\n      - id: why403-split\n        name: why403 (require_serial false)\n` +
        `        entry: sh -c 'printf "%s\\n" "$*" >> ${join(tmp, 'split.log')}; exec "${process.execPath}" "${join(root, 'dist/src/cli.js')}" "$@"' split\n` +
        `        language: system\n        files: '(^|/)(apache2\\.conf|\\.htaccess|sites-enabled/[^/]+)$'\n        require_serial: false\n        stages: [manual]\n`,
    });
    expect(sh('git', ['add', '-A'], repo).code).toBe(0);
    const hooks = readFileSync(join(root, '.pre-commit-hooks.yaml'), 'utf8');
    expect(hooks.match(/^- id:/gm)?.length).toBe(hooks.match(/^ {2}require_serial: true$/gm)?.length);
    const serial = sh('pre-commit', ['run', '--all-files', 'why403'], repo, 120_000);
    expect(serial.code, serial.out).toBe(1);
    expect(serial.out).toMatch(
      /deploy\/www\/private\/\.htaccess\s*\n\s+1:1\s+error\s+`Require all denied` protects nothing: `AllowOverride None`/,
    );

    // Control: the same lint with require_serial: false (a local hook running the built CLI).
    const split = sh('pre-commit', ['run', '--all-files', '--hook-stage', 'manual', 'why403-split'], repo, 120_000);
    const calls = readFileSync(join(tmp, 'split.log'), 'utf8').trim().split('\n');
    const apart = calls.some((c) => c.includes('.htaccess') && !c.includes('apache2.conf'));
    if (apart) {
      expect(calls.length).toBeGreaterThan(1);
      expect(split.out).not.toContain('protects nothing'); // the finding the serial hook reports is lost
    } else {
      console.log(`precommit.test.ts: pre-commit did not separate the two files here (${calls.length} invocation(s)); control not checked`);
    }
  },
  600_000,
);
