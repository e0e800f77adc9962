/**
 * The built binary (dist/src/cli.js) end to end: every exit-code path, every format against golden
 * files (fixtures/cli/golden; regenerate with WHY403_UPDATE=1), stdin, config errors, suppressions,
 * bad input (missing, unreadable, binary, directory), directory trees, --fix, and the subcommands.
 */
import { execFileSync, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureBuilt } from './harness/build.js';

const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'dist/src/cli.js');
const fx = join(root, 'fixtures/cli');
const golden = join(fx, 'golden');
const tmp = mkdtempSync(join(tmpdir(), 'why403-cli-'));
chmodSync(tmp, 0o755);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(() => ensureBuilt(), 120_000);

interface Out {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ONLY = ['--only', 'nginx-return-403-server', '--only', 'apache-legacy-access-control', '--only', 'unused-suppression'];

function why(
  args: string[],
  opts: { cwd?: string; input?: string | Buffer; env?: Record<string, string>; uid?: number; allRules?: boolean } = {},
): Out {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...opts.env };
  const o: SpawnSyncOptions = {
    cwd: opts.cwd ?? join(fx, 'tree'),
    env,
    input: opts.input ?? '',
    timeout: 30_000,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  };
  if (opts.uid !== undefined) {
    o.uid = opts.uid;
    o.gid = opts.uid;
  }
  // Pin the rule set so that rules added later do not change these expectations.
  const pinned = opts.allRules || ['rules', 'parse', '--help', '--version'].includes(args[0]) ? args : [...ONLY, ...args];
  const r = spawnSync(process.execPath, [bin, ...pinned], o);
  return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

function checkGolden(name: string, text: string): void {
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  const norm = text.split(root).join('<root>').split(`"${version}"`).join('"<version>"');
  const file = join(golden, name);
  if (process.env.WHY403_UPDATE || !existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, norm);
  }
  expect(norm).toBe(readFileSync(file, 'utf8'));
}

describe('formats (golden files)', () => {
  test.each([
    ['stylish', 'stylish.txt'],
    ['compact', 'compact.txt'],
    ['json', 'json.json'],
    ['sarif', 'sarif.json'],
    ['github', 'github.txt'],
  ])('%s', (format, file) => {
    const r = why(['-f', format]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    checkGolden(file, r.stdout);
  });

  test('clean: stylish, compact and github print nothing; json lists the files; sarif has results: []', () => {
    const cwd = join(fx, 'clean');
    for (const f of ['stylish', 'compact', 'github']) expect(why(['-f', f], { cwd })).toEqual({ code: 0, stdout: '', stderr: '' });
    const json = JSON.parse(why(['-f', 'json'], { cwd }).stdout) as Array<{ relativePath: string; messages: unknown[] }>;
    expect(json.map((r) => [r.relativePath, r.messages.length])).toEqual([['nginx.conf', 0]]);
    const sarif = JSON.parse(why(['-f', 'sarif'], { cwd }).stdout) as {
      runs: Array<{ results: unknown[]; tool: { driver: { rules: Array<{ id: string }> } } }>;
    };
    expect(sarif.runs[0].results).toEqual([]);
    expect(sarif.runs[0].tool.driver.rules.map((r) => r.id)).toContain('nginx-return-403-server');
  });

  test('-f may repeat as name:path: stylish on stdout, SARIF and JSON in files', () => {
    const out = join(tmp, 'reports');
    const r = why(['-f', 'stylish', '-f', `sarif:${out}/why403.sarif`, '-f', `json:${out}/why403.json`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✖ 6 problems');
    expect(JSON.parse(readFileSync(join(out, 'why403.sarif'), 'utf8')).version).toBe('2.1.0');
    expect(JSON.parse(readFileSync(join(out, 'why403.json'), 'utf8'))).toHaveLength(3);
    const o = why(['-f', 'compact', '-o', join(out, 'compact.txt')]);
    expect(o.stdout).toBe('');
    expect(readFileSync(join(out, 'compact.txt'), 'utf8')).toBe(why(['-f', 'compact']).stdout);
  });

  test('colour: only when asked (FORCE_COLOR, --color), never with NO_COLOR or when piped', () => {
    const esc = '\u001b[';
    expect(why([]).stdout).not.toContain(esc);
    expect(why([], { env: { FORCE_COLOR: '1' } }).stdout).toContain(esc);
    expect(why(['--color']).stdout).toContain(esc);
    expect(why([], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } }).stdout).not.toContain(esc);
    expect(why(['--no-color'], { env: { FORCE_COLOR: '1' } }).stdout).not.toContain(esc);
  });
});

describe('exit codes', () => {
  test('0: clean', () => expect(why(['.'], { cwd: join(fx, 'clean') }).code).toBe(0));
  test('0: warnings only, no --max-warnings', () => {
    const r = why([], { cwd: join(fx, 'warn-only') });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 problems (0 errors, 2 warnings)');
  });
  test('1: too many warnings', () => {
    const r = why(['--max-warnings', '1'], { cwd: join(fx, 'warn-only') });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('why403: too many warnings (2); the maximum is 1\n');
    expect(why(['--max-warnings', '2'], { cwd: join(fx, 'warn-only') }).code).toBe(0);
  });
  test('all rules (not pinned): the tree still fails on its server-level return 403', () => {
    const r = why(['-f', 'compact'], { allRules: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('nginx/sites-enabled/shop.conf:6:5: error: `return 403` at server level');
  });
  test('1 with the reader gone (`| head -c 1` on ~200 KB of SARIF): no "internal error" on EPIPE', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" -f sarif | head -c 1 >/dev/null; echo "rc=\${PIPESTATUS[0]}"`], {
      cwd: join(fx, 'tree'),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('rc=1\n');
  });
  test('1: errors; 0 with --exit-zero', () => {
    expect(why([]).code).toBe(1);
    expect(why(['--exit-zero']).code).toBe(0);
  });
  test('--quiet: errors only', () => {
    const r = why(['--quiet', '-f', 'compact']);
    expect(r.stdout.trim().split('\n')).toEqual([
      'nginx/sites-enabled/shop.conf:6:5: error: `return 403` at server level runs before location matching, so every request to this server (shop.example.test) is answered 403 [nginx-return-403-server]',
    ]);
    expect(why(['--quiet'], { cwd: join(fx, 'warn-only') })).toEqual({ code: 0, stdout: '', stderr: '' });
  });
  test.each([
    [['--no-such-flag'], /Unknown argument/],
    [['-f', 'xml'], /unknown format "xml"/],
    [['--max-warnings', 'many'], /--max-warnings/],
    [['--report-unused-suppressions', 'loud'], /Invalid values/],
    [['--path-map', 'nonsense'], /--path-map expects FROM=TO/],
    [['-o', 'x.txt', '-f', 'json', '-f', 'compact'], /--output-file needs exactly one --format/],
    [['--stdin-filename', 'x.conf'], /--stdin-filename needs --stdin/],
    [['no/such/dir/*.conf'], /no files match the pattern "no\/such\/dir\/\*\.conf"/],
    [['--only', 'nginx-nope'], /--only names unknown rule "nginx-nope"/],
  ])('2: usage error %j', (args, re) => {
    const r = why(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(re as RegExp);
    expect(r.stderr).not.toMatch(/\n\s+at /); // never a stack trace
  });
  test('2: a directory holding no config is said, never a silent pass', () => {
    const empty = join(tmp, 'no-configs');
    mkdirSync(join(empty, 'docs'), { recursive: true });
    writeFileSync(join(empty, 'docs', 'readme.txt'), 'not a config\n');
    const r = why([empty]);
    expect(r).toEqual({ code: 2, stdout: '', stderr: `why403: no nginx or Apache config found in the directory "${empty}"\n` });
    expect(why(['--no-error-on-unmatched-pattern', empty]).code).toBe(0);
  });
  test('2: bad config, with a precise message', () => {
    const r = why([], { cwd: join(fx, 'bad-config') });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `why403: invalid configuration in ${join(fx, 'bad-config/.why403.json')}:\n` +
        '  rules["nginx-no-such-rule"]: unknown rule "nginx-no-such-rule" (run `why403 rules` for the list)\n' +
        '  rules["nginx-return-403-server"]: "loud" is not "off", "info", "warning" ("warn") or "error"\n',
    );
    expect(why(['-c', 'missing.json']).stderr).toBe('why403: cannot read config missing.json: no such file\n');
    expect(why(['-c', 'missing.json']).code).toBe(2);
    expect(why(['--no-config-lookup'], { cwd: join(fx, 'bad-config') }).code).toBe(0);
  });
  test('--print-config shows the configuration that applies to a file', () => {
    const r = why(['--print-config', 'nginx/nginx.conf']);
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c).toMatchObject({ file: 'nginx/nginx.conf', configFile: null, reportUnusedSuppressions: 'warn' });
    expect(c.rules['nginx-return-403-server']).toBe('error');
    expect(why(['--print-config', 'nginx.conf'], { cwd: join(fx, 'bad-config') }).code).toBe(2);
  });
});

describe('input', () => {
  const text = readFileSync(join(fx, 'tree/nginx/sites-enabled/shop.conf'), 'utf8');
  test('--stdin with --stdin-filename, and - as a path', () => {
    const a = why(['--stdin', '--stdin-filename', 'sites-enabled/shop.conf', '-f', 'compact'], { input: text });
    expect(a.code).toBe(1);
    expect(a.stdout).toContain('sites-enabled/shop.conf:6:5: error: `return 403` at server level');
    const b = why(['-', '--stdin-filename', 'sites-enabled/shop.conf', '-f', 'compact'], { input: text });
    expect(b).toEqual(a);
    const c = why(['--stdin', '--server', 'apache', '-f', 'compact'], { input: 'Order allow,deny\n' });
    expect(c.stdout).toBe(
      '<stdin>:1:1: warning: Order is mod_access_compat syntax, deprecated since Apache 2.4: Require lines need no Order; remove it once the Allow and Deny lines are converted [apache-legacy-access-control]\n',
    );
  });

  test('binary stdin is one finding', () => {
    const r = why(['--stdin', '--stdin-filename', 'x/nginx.conf', '-f', 'compact'], { input: Buffer.from([0x41, 0, 0x42]) });
    expect(r).toEqual({
      code: 1,
      stdout: 'x/nginx.conf:1:1: error: x/nginx.conf looks like a binary file (it contains NUL bytes), not a config file [syntax-error]\n',
      stderr: '',
    });
  });

  test('a missing path, a binary file, an unreadable file: one finding each, the run goes on', () => {
    const dir = join(tmp, 'bad-input');
    mkdirSync(join(dir, 'nginx'), { recursive: true });
    writeFileSync(join(dir, 'nginx/binary.conf'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]));
    writeFileSync(join(dir, 'nginx/secret.conf'), 'events {}\n');
    chmodSync(join(dir, 'nginx/secret.conf'), 0o000);
    cpSync(join(fx, 'tree/nginx/sites-enabled/shop.conf'), join(dir, 'nginx/shop.conf'));
    const asRoot = process.getuid?.() === 0;
    const r = why(['nginx', 'missing.conf', '-f', 'compact'], { cwd: dir, uid: asRoot ? 65534 : undefined });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toContainEqual(
      expect.stringMatching(/^missing\.conf:1:1: error: cannot read .*missing\.conf: no such file or directory \[syntax-error\]$/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^nginx\/binary\.conf:1:1: error: .*binary.* \[syntax-error\]$/));
    expect(lines).toContainEqual(expect.stringMatching(/^nginx\/secret\.conf:1:1: error: .*permission denied.* \[syntax-error\]$/));
    expect(lines).toContainEqual(expect.stringMatching(/^nginx\/shop\.conf:6:5: error: .*\[nginx-return-403-server\]$/));
  });

  test('20000 nested blocks: one clear finding, no crash; parse prints the tree', () => {
    const file = join(tmp, 'deep/nginx.conf');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, 'http {\n' + 'location / {\n'.repeat(20000) + 'return 403;\n' + '}\n'.repeat(20000) + '}\n');
    const r = why(['-f', 'compact', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(
      `${file}:200:1: error: nesting deeper than 200 levels is not analysed: the contents of this "location" block are skipped [syntax-error]`,
    );
    const p = why(['parse', file]);
    expect(p.stderr).not.toContain('internal error');
    expect(p.stdout.split('\n').length).toBeGreaterThan(400);
    expect(p.stdout + p.stderr).toContain('nesting deeper than 200 levels is not analysed');
  });

  test('a directory given as a file (parse)', () => {
    const r = why(['parse', 'nginx']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is a directory/);
  });

  test('a directory tree: configs found, node_modules skipped, includes linted in context', () => {
    const dir = join(tmp, 'treecopy');
    cpSync(join(fx, 'tree'), dir, { recursive: true });
    mkdirSync(join(dir, 'node_modules/x'), { recursive: true });
    writeFileSync(join(dir, 'node_modules/x/nginx.conf'), 'http { server { return 403; } }\n');
    const r = why(['-f', 'compact', '.'], { cwd: dir });
    expect(r.stdout).toBe(why(['-f', 'compact']).stdout);
  });
});

describe('-D / --define (Apache), as explain and map take it', () => {
  test('an <IfDefine NAME> section is read with -D NAME: its claim then carries the request explain shows', () => {
    const dir = join(tmp, 'define');
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'httpd.conf');
    writeFileSync(
      conf,
      'DocumentRoot /srv/x\n<IfDefine LOCKED>\n<Directory /srv/x>\n    Order allow,deny\n    Allow from 10.0.0.0/8\n    Deny from all\n</Directory>\n</IfDefine>\n',
    );
    const dead = (args: string[]) => {
      const r = why(['--no-config-lookup', '--only', 'apache-dead-allow-deny', '-f', 'json', ...args, conf], { cwd: dir });
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as { messages: { ruleId: string; request?: { ip: string; url: string }; status?: number }[] }[];
      return out[0].messages.filter((m) => m.ruleId === 'apache-dead-allow-deny');
    };
    // without the name the section is not read: the line is still dead, but no request shows a 403
    expect(dead([]).map((m) => m.request ?? null)).toEqual([null]);
    for (const d of [['-D', 'LOCKED'], ['--define', 'LOCKED'], ['--define=LOCKED=1']])
      expect(
        dead(d).map((m) => [m.request?.ip, m.request?.url, m.status]),
        d.join(' '),
      ).toEqual([['10.0.0.1', 'http://localhost/', 403]]);
    const bad = why(['--no-config-lookup', '-D', '1x', conf], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--define expects NAME or NAME=VALUE, got "1x"/);
  });
});

describe('--fix', () => {
  test('deletes unused suppressions atomically; a second run changes nothing; --fix-dry-run writes nothing', () => {
    const dir = join(tmp, 'fix');
    cpSync(join(fx, 'tree'), dir, { recursive: true });
    const file = join(dir, 'nginx/sites-enabled/shop.conf');
    const before = readFileSync(file, 'utf8');
    chmodSync(file, 0o600);
    const dry = why(['--fix-dry-run', '-f', 'json'], { cwd: dir });
    expect(readFileSync(file, 'utf8')).toBe(before);
    const out = (JSON.parse(dry.stdout) as Array<{ relativePath: string; output?: string }>).find((x) =>
      x.relativePath.endsWith('shop.conf'),
    );
    expect(out?.output).toBe(before.replace('    # why403-disable-next-line nginx-return-403-server\n', ''));
    // As ESLint: with --fix-dry-run, what the fixes would remove is not reported as remaining.
    const plain = why(['-f', 'compact'], { cwd: dir });
    expect(plain.stdout).toContain('unused why403-disable-next-line');
    const dryCompact = why(['--fix-dry-run', '-f', 'compact'], { cwd: dir });
    expect(dryCompact.stdout).not.toContain('unused why403-disable-next-line');
    expect(dryCompact.stdout).toContain('nginx-return-403-server');
    // Two fixes: the unused suppression, and the .htaccess's legacy lines (apache-legacy-access-control's
    // fix sits on the section's first legacy finding).
    const [findings, ...diffs] = dryCompact.stdout.split(/^--- a\//m);
    expect(findings.split('\n').length).toBe(plain.stdout.split('\n').length - 2);
    // and the text formats show what would change, file by file
    expect(diffs.map((x) => x.split('\n')[0]).sort()).toEqual(['apache/www/.htaccess', expect.stringMatching(/shop\.conf$/)]);
    expect(readFileSync(file, 'utf8')).toBe(before);
    const r = why(['--fix', '-f', 'compact'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('unused why403-disable-next-line');
    expect(readFileSync(file, 'utf8')).toBe(out?.output);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = why(['--fix', '-f', 'compact'], { cwd: dir });
    expect(again.stdout).toBe(r.stdout);
    expect(readFileSync(file, 'utf8')).toBe(out?.output);
  });
});

describe('usage messages', () => {
  test.each([
    [['--max-warnings', 'abc'], "--max-warnings expects a whole number, got 'abc'"],
    [['--max-warnings=1.5'], "--max-warnings expects a whole number, got '1.5'"],
    [['--max-warnings', '-5'], "--max-warnings expects a whole number ≥ -1 (-1: no limit), got '-5'"],
  ])('%j says what it expects, exit 2', (args, message) => {
    const r = why(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`why403: ${message}\nRun \`why403 --help\` for usage.\n`);
    expect(r.stdout).toBe('');
  });

  test('--max-warnings with a whole number still counts warnings', () => {
    expect(why(['--max-warnings', '0', 'apache'], { cwd: join(fx, 'tree') }).code).toBe(1);
    expect(why(['--max-warnings', '100', 'apache'], { cwd: join(fx, 'tree') }).code).toBe(0);
  });

  test('explain usage errors point at `why403 explain --help`', () => {
    const none = why(['explain'], { allRules: true });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Run `why403 explain --help` for usage.');
    const badUrl = why(['explain', 'nginx/nginx.conf', 'ht tp://x'], { allRules: true });
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/^why403 explain: .*ht tp:\/\/x.*\nRun `why403 explain --help` for usage\.\n$/);
    const badIp = why(['explain', 'nginx/nginx.conf', '/', '--ip', 'nope'], { allRules: true });
    expect(badIp.code).toBe(2);
    expect(badIp.stderr).toContain('Run `why403 explain --help` for usage.');
    const parse = why(['parse']);
    expect(parse.code).toBe(2);
    expect(parse.stderr).toContain('Run `why403 parse --help` for usage.');
  });
});

describe('files outside the linted tree (an untrusted config may include any readable file)', () => {
  function tree(): { repo: string; base: string } {
    const base = join(tmp, 'outside-tree');
    mkdirSync(join(base, 'repo'), { recursive: true });
    mkdirSync(join(base, 'etc'), { recursive: true });
    writeFileSync(join(base, 'etc/shadow'), 'root:$6$SECRETHASH:19000:0:99999:7:::\n');
    writeFileSync(join(base, 'etc/known.conf'), 'server_tokens off; # SECRETCOMMENT\nreturn 403 "SECRETARG";\n');
    writeFileSync(
      join(base, 'repo/nginx.conf'),
      `events {}\nhttp {\n    include ${base}/etc/shadow;\n    server {\n        include ${base}/etc/known.conf;\n    }\n}\n`,
    );
    return { repo: join(base, 'repo'), base };
  }

  test('lint: findings there keep rule, file and line but quote no text (every format)', () => {
    const { repo, base } = tree();
    for (const f of ['compact', 'stylish', 'json', 'sarif', 'github']) {
      const r = why(['-f', f, 'nginx.conf'], { cwd: repo });
      expect(r.code, f).toBe(1);
      expect(`${r.stdout}${r.stderr}`, f).not.toMatch(/SECRET/);
      expect(r.stdout, f).toContain('nginx-return-403-server');
      expect(r.stdout, f).toContain('syntax-error');
    }
    const compact = why(['-f', 'compact', 'nginx.conf'], { cwd: repo }).stdout;
    expect(compact).toContain(`${base}/etc/known.conf:2:1: error: `);
    expect(compact).toMatch(/at `return`; text from files outside the linted tree is not shown/);
    const json = JSON.parse(why(['-f', 'json', 'nginx.conf'], { cwd: repo }).stdout) as Array<{ filePath: string; source?: string }>;
    expect(json.find((x) => x.filePath.endsWith('known.conf'))?.source).toBeUndefined();
  });

  test('parse (text and json): directive names the server knows, no arguments, comments or error text', () => {
    const { repo } = tree();
    const text = why(['parse', 'nginx.conf'], { cwd: repo });
    expect(`${text.stdout}${text.stderr}`).not.toMatch(/SECRET/);
    expect(text.stdout).toMatch(/^\s+1:1 server_tokens\n\s+2:1 return\n/m);
    expect(text.stdout).toMatch(/^\s+1:1 \(not shown\)$/m);
    const json = why(['parse', '-f', 'json', 'nginx.conf'], { cwd: repo });
    expect(`${json.stdout}${json.stderr}`).not.toMatch(/SECRET/);
    const payload = JSON.parse(json.stdout) as { config: Array<{ file: string; parsed: Array<{ directive: string; args: string[] }> }> };
    const known = payload.config.find((c) => c.file.endsWith('known.conf'));
    expect(known?.parsed.map((d) => [d.directive, d.args])).toEqual([
      ['server_tokens', []],
      ['return', []],
    ]);
  });

  test('control: the same files under the working directory or a named path are shown in full', () => {
    const { base } = tree();
    const text = why(['parse', 'repo/nginx.conf'], { cwd: base });
    expect(text.stdout).toContain('return 403 "SECRETARG"');
    const named = why(['parse', join(base, 'etc/known.conf'), '--context', 'server'], { cwd: join(base, 'repo') });
    expect(named.stdout).toContain('SECRETARG');
  });
});

describe('subcommands', () => {
  test('rules lists every rule; rules <id> prints its doc', () => {
    const r = why(['rules']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^RULE\s+SERVERS\s+DEFAULT\s+DESCRIPTION$/);
    expect(r.stdout).toMatch(/^nginx-return-403-server\s+nginx\s+error\s+An unconditional/m);
    expect(r.stdout).toMatch(/^unused-suppression\s+nginx,apache\s+warning \(fixable\)/m);
    const d = why(['rules', 'nginx-return-403-server']);
    expect(d.stdout).toBe(readFileSync(join(root, 'rules/nginx-return-403-server.md'), 'utf8'));
    expect(why(['rules', 'nope'])).toMatchObject({ code: 2, stderr: 'why403: unknown rule "nope"; run `why403 rules` for the list\n' });
  });

  test('parse prints the tree with includes, or the crossplane payload', () => {
    const t = why(['parse', 'nginx/nginx.conf']);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('# include nginx/sites-enabled/shop.conf');
    expect(t.stdout).toMatch(/^\s+6:5 return 403 "closed, sorry: come back later"$/m);
    const a = why(['parse', 'apache/www/.htaccess']);
    expect(a).toEqual({
      code: 0,
      stdout: '# apache apache/www/.htaccess (context htaccess)\n2:1 Order deny,allow\n3:1 Deny from all\n5:1 Allow from 192.0.2.10\n',
      stderr: '',
    });
    const j = why(['parse', 'nginx/nginx.conf', '--format', 'json']);
    const payload = JSON.parse(j.stdout) as { config: Array<{ file: string }> };
    expect(payload.config.map((c) => c.file.split(root).join('<root>'))).toEqual([
      '<root>/fixtures/cli/tree/nginx/nginx.conf',
      '<root>/fixtures/cli/tree/nginx/sites-enabled/shop.conf',
    ]);
  });

  test('--help and --version exit 0', () => {
    const h = why(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Exit codes: 0 no errors');
    expect(why(['--version']).stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });
});

describe('GitHub integration', () => {
  test('the problem matcher reads every compact line (file, line, column, severity, message, rule)', () => {
    const m = JSON.parse(readFileSync(join(root, '.github/why403-matcher.json'), 'utf8')) as {
      problemMatcher: Array<{ owner: string; pattern: Array<Record<string, string | number>> }>;
    };
    const [main, info] = m.problemMatcher.map((p) => ({ p: p.pattern[0], re: new RegExp(p.pattern[0].regexp as string) }));
    const lines = readFileSync(join(golden, 'compact.txt'), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      const g = main.re.exec(line);
      expect(g, line).not.toBeNull();
      const [, file, ln, col, sev, msg, code] = g!;
      expect(`${file}:${ln}:${col}: ${sev}: ${msg} [${code}]`).toBe(line);
      expect(main.p.file).toBe(1);
    }
    const i = info.re.exec('a b/x.conf:3:7: info: note this: [x] [any-rule]');
    expect(i?.slice(1)).toEqual(['a b/x.conf', '3', '7', 'note this: [x]', 'any-rule']);
    expect(main.re.exec('a.conf:3:7: info: x [any-rule]')).toBeNull();
  });

  test("action.yml's lint step runs the CLI with annotations, writes SARIF and reports the exit code", async () => {
    const { parse } = await import('yaml');
    const action = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as {
      runs: { using: string; steps: Array<{ id?: string; run?: string }> };
    };
    expect(action.runs.using).toBe('composite');
    const step = action.runs.steps.find((s) => s.id === 'lint');
    const out = join(tmp, 'gh-output');
    const sarifFile = join(tmp, 'action', 'results.sarif');
    mkdirSync(dirname(sarifFile), { recursive: true });
    const r = spawnSync('bash', ['-c', step!.run!], {
      cwd: join(fx, 'tree'),
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        PATH: process.env.PATH,
        GITHUB_ACTION_PATH: root,
        GITHUB_OUTPUT: out,
        WHY403_PATHS: '.',
        WHY403_FORMAT: 'github',
        WHY403_SARIF: sarifFile,
        WHY403_ARGS: ONLY.join(' '),
      },
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(readFileSync(join(golden, 'github.txt'), 'utf8'));
    expect(JSON.parse(readFileSync(sarifFile, 'utf8')).runs[0].results.length).toBe(7);
    expect(readFileSync(out, 'utf8')).toBe('exit-code=1\n');
  });
});

test('progress on stderr only when stderr is a TTY (and the run is long)', () => {
  const dir = join(tmp, 'many');
  for (let i = 0; i < 30; i++) {
    mkdirSync(join(dir, 'conf.d'), { recursive: true });
    writeFileSync(join(dir, `conf.d/site${String(i).padStart(2, '0')}.conf`), 'server { listen 80; }\n');
  }
  const plain = why(['-f', 'compact', '.'], { cwd: dir });
  expect(plain).toEqual({ code: 0, stdout: '', stderr: '' });
  const hasScript = spawnSync('sh', ['-c', 'command -v script']).status === 0;
  if (!hasScript) {
    console.log('progress TTY check skipped: util-linux `script` is not installed');
    return;
  }
  // `script` gives the command a terminal; stdout goes to a file so only stderr is on the TTY.
  const outFile = join(tmp, 'many-out.txt');
  const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} ${ONLY.join(' ')} -f compact . > ${JSON.stringify(outFile)}`;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env.PATH, TERM: 'dumb' },
  });
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('why403: reading configs: 20 files');
  expect(r.stdout).toContain('why403: 10/30 files linted');
  expect(r.stdout).toContain('\r\u001b[K');
  expect(readFileSync(outFile, 'utf8')).toBe('');
  // CI set: no progress even on a terminal.
  const ci = spawnSync('script', ['-qec', cmd, '/dev/null'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env.PATH, TERM: 'dumb', CI: 'true' },
  });
  expect(ci.status).toBe(0);
  expect(ci.stdout).not.toContain('why403:');
});

test('progress moves while one large tree loads (files read), not only once linting starts', async () => {
  const dir = join(tmp, 'one-tree');
  mkdirSync(join(dir, 'conf.d'), { recursive: true });
  writeFileSync(join(dir, 'nginx.conf'), 'events {}\nhttp {\n    include conf.d/*.conf;\n}\n');
  for (let i = 0; i < 45; i++) writeFileSync(join(dir, `conf.d/s${String(i).padStart(2, '0')}.conf`), 'server { listen 80; }\n');
  const { lintCommand } = await import('../src/run.js');
  const run = async (stderrTTY: boolean, env: Record<string, string>) => {
    const events: string[] = [];
    const io = {
      out: (s: string) => void events.push(`out:${s}`),
      err: (s: string) => void events.push(`err:${s}`),
      stdoutTTY: false,
      stderrTTY,
      env,
      readStdin: () => new Uint8Array(),
    };
    const code = await lintCommand({ paths: [join(dir, 'nginx.conf')], format: 'compact', maxWarnings: -1, configLookup: false }, [], io);
    return { code, events };
  };
  const tty = await run(true, {});
  expect(tty.code).toBe(0);
  // One main config (nothing to count while linting): what moves is the count of files read.
  expect(tty.events).toEqual([
    'err:\r\u001b[Kwhy403: reading configs: 20 files',
    'err:\r\u001b[Kwhy403: reading configs: 40 files',
    'err:\r\u001b[K',
    'out:', // the report (empty: no problems) comes after the progress line is cleared
  ]);
  expect((await run(false, {})).events).toEqual(['out:']);
  expect((await run(true, { CI: 'true' })).events).toEqual(['out:']);
});
