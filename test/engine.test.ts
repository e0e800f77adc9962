/** Engine behaviour through the library API: suppressions, fixes, config, discovery, crashes. */
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { rules } from '../rules/index.js';
import { ConfigError, ConfigResolver } from '../src/config.js';
import { expandPaths, isConfigCandidate } from '../src/files.js';
import { applyFixes } from '../src/fix.js';
import { defineRule } from '../src/rule.js';
import { lint, lintText } from '../src/run.js';
import { SourceFile } from '../src/source.js';

const tmp = mkdtempSync(join(tmpdir(), 'why403-engine-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function tree(files: Record<string, string | Buffer>): string {
  const dir = join(tmp, `t${++n}`);
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  return dir;
}

const NGX = (body: string) => `events {}\nhttp {\n${body}\n}\n`;
// The rules these tests are about; findings of rules added later are left out of the comparison.
const MINE = new Set(['nginx-return-403-server', 'apache-legacy-access-control', 'unused-suppression', 'syntax-error']);
const summary = (run: Awaited<ReturnType<typeof lint>>) =>
  run.results.flatMap((r) =>
    r.messages.filter((m) => MINE.has(m.ruleId)).map((m) => `${r.relativePath}:${m.line}:${m.column} ${m.ruleId} ${m.severity}`),
  );

describe('suppressions', () => {
  test('disable-next-line suppresses the finding; stacked comments and reasons are fine', async () => {
    const text = NGX(
      '  server {\n    # why403-disable-next-line nginx-return-403-server -- catch-all\n    # a plain comment\n    return 403;\n  }',
    );
    const run = await lintText(text, { filename: 'nginx.conf', server: 'nginx' });
    expect(summary(run)).toEqual([]);
    const sup = run.results[0].suppressedMessages;
    expect(sup.map((m) => [m.ruleId, m.line, m.suppressions[0].justification])).toEqual([['nginx-return-403-server', 6, 'catch-all']]);
  });

  test('unused and unknown suppressions are reported; --no-inline-config ignores them all', async () => {
    const text = NGX(
      [
        '  server {',
        '    # why403-disable-next-line nginx-return-403-server',
        '    listen 80;',
        '    # why403-disable-next-line nginx-no-such-rule',
        '    return 403;',
        '  }',
      ].join('\n'),
    );
    const run = await lintText(text, { filename: 'nginx.conf', server: 'nginx' });
    expect(summary(run)).toEqual([
      'nginx.conf:4:5 unused-suppression warning',
      'nginx.conf:6:32 unused-suppression warning',
      'nginx.conf:7:5 nginx-return-403-server error',
    ]);
    const msgs = run.results[0].messages;
    expect(msgs[0].message).toBe("unused why403-disable-next-line directive (no problems were reported from 'nginx-return-403-server')");
    expect(msgs[0].fix).toBeDefined();
    expect(msgs[1].message).toContain('unknown rule "nginx-no-such-rule"');
    expect(msgs[1].fix).toBeUndefined();
    const off = await lintText(text, { filename: 'nginx.conf', server: 'nginx', inlineConfig: false });
    expect(summary(off)).toEqual(['nginx.conf:7:5 nginx-return-403-server error']);
    const asError = await lintText(text, { filename: 'nginx.conf', server: 'nginx', reportUnusedSuppressions: 'error' });
    expect(summary(asError).filter((s) => s.includes('unused-suppression error')).length).toBe(2);
    const quietUnused = await lintText(text, { filename: 'nginx.conf', server: 'nginx', reportUnusedSuppressions: 'off' });
    expect(summary(quietUnused)).toEqual(['nginx.conf:7:5 nginx-return-403-server error']);
  });

  test('disable … enable blocks, rule lists, and a partly unused list', async () => {
    const text = NGX(
      [
        '  # why403-disable nginx-return-403-server, apache-legacy-access-control',
        '  server {',
        '    return 403;',
        '  }',
        '  # why403-enable',
        '  server {',
        '    return 403;',
        '  }',
      ].join('\n'),
    );
    const run = await lintText(text, { filename: 'nginx.conf', server: 'nginx' });
    expect(summary(run)).toEqual(['nginx.conf:3:45 unused-suppression warning', 'nginx.conf:9:5 nginx-return-403-server error']);
    // The fix removes just the unused name.
    const m = run.results[0].messages[0];
    const fixed = applyFixes(text, [m.fix!]).output;
    expect(fixed.split('\n')[2]).toBe('  # why403-disable nginx-return-403-server');
  });

  test('trailing disable-line works in nginx; a whole-line one is misplaced', async () => {
    const text = NGX('  server {\n    return 403;  # why403-disable-line\n  }\n  # why403-disable-line\n  server { listen 80; }');
    const run = await lintText(text, { filename: 'nginx.conf', server: 'nginx' });
    expect(summary(run)).toEqual(['nginx.conf:6:3 unused-suppression warning']);
    expect(run.results[0].messages[0].message).toContain('must follow a directive on the same line');
  });

  test('Apache: whole-line directives only', async () => {
    const text =
      '<Directory /srv>\n    # why403-disable-next-line apache-legacy-access-control\n    Order allow,deny\n    Allow from all\n</Directory>\n';
    const run = await lintText(text, { filename: 'apache2.conf', server: 'apache' });
    expect(summary(run)).toEqual(['apache2.conf:4:5 apache-legacy-access-control warning']);
  });
});

describe('--fix', () => {
  // no BOM: nginx reads one as part of the first word and fails (a fatal `bom` syntax error, see below)
  const original = Buffer.concat([
    Buffer.from('# caf\u00e9 \u2014 ', 'utf8'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from(
      '\r\nevents {}\r\nhttp {\r\n    # why403-disable-next-line nginx-return-403-server -- stale\r\n    server { listen 80; }\r\n}\r\n',
      'utf8',
    ),
  ]);
  const expected = Buffer.concat([
    Buffer.from('# caf\u00e9 \u2014 ', 'utf8'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('\r\nevents {}\r\nhttp {\r\n    server { listen 80; }\r\n}\r\n', 'utf8'),
  ]);

  test('a BOM is a fatal syntax error (nginx -t: unknown directive "\\xEF\\xBB\\xBF#"): nothing is fixed or written', async () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), original]);
    const dir = tree({ 'nginx.conf': withBom });
    const file = join(dir, 'nginx.conf');
    const run = await lint([file], { cwd: dir, fix: true, noConfig: true });
    expect(run.fixedFiles).toEqual([]);
    expect(run.results[0].messages.map((m) => [m.ruleId, m.messageId, m.line, m.column, m.fatal])).toEqual([
      ['syntax-error', 'bom', 1, 1, true],
    ]);
    expect(readFileSync(file).equals(withBom)).toBe(true);
  });

  test('deletes the unused comment line only; CRLF and invalid bytes stay; mode kept; idempotent', async () => {
    const dir = tree({ 'nginx.conf': original });
    const file = join(dir, 'nginx.conf');
    chmodSync(file, 0o640);
    const inode = statSync(file).ino;
    const run = await lint([file], { cwd: dir, fix: true, noConfig: true });
    // Written as a new file renamed over the old one (atomic), with no temporary file left.
    expect(statSync(file).ino).not.toBe(inode);
    expect(readdirSync(dir)).toEqual(['nginx.conf']);
    expect(run.fixedFiles).toEqual([file]);
    expect(summary(run)).toEqual([]);
    expect(readFileSync(file).equals(expected)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    const again = await lint([file], { cwd: dir, fix: true, noConfig: true });
    expect(again.fixedFiles).toEqual([]);
    expect(readFileSync(file).equals(expected)).toBe(true);
  });

  test('a symlinked file is fixed through the link (the link stays a link)', async () => {
    const dir = tree({ 'real/nginx.conf': original });
    mkdirSync(join(dir, 'conf'));
    symlinkSync('../real/nginx.conf', join(dir, 'conf/nginx.conf'));
    await lint([join(dir, 'conf/nginx.conf')], { cwd: dir, fix: true, noConfig: true });
    expect(lstatSync(join(dir, 'conf/nginx.conf')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'real/nginx.conf')).equals(expected)).toBe(true);
  });

  test('--fix-dry-run writes nothing and reports the output', async () => {
    const dir = tree({ 'nginx.conf': original });
    const file = join(dir, 'nginx.conf');
    const run = await lint([file], { cwd: dir, fixDryRun: true, noConfig: true });
    expect(readFileSync(file).equals(original)).toBe(true);
    expect(run.fixedFiles).toEqual([]);
    expect(run.results[0].output).toBe(SourceFile.fromBytes(file, expected).text);
    expect(run.results[0].output).not.toContain('why403-disable');
    // As ESLint: the problems the output fixes are not reported as remaining.
    expect(run.results[0].messages.map((m) => m.ruleId)).toEqual([]);
  });

  test('overlapping fixes: the later one is skipped', () => {
    expect(
      applyFixes('abcdef', [
        { range: [1, 3], text: 'X' },
        { range: [2, 4], text: 'Y' },
        { range: [5, 6], text: '' },
      ]),
    ).toEqual({
      output: 'aXde',
      applied: 2,
      skipped: 1,
    });
  });
});

describe('config', () => {
  test('nearest config wins, looked up to the repository root; severity and off', async () => {
    const dir = tree({
      '.git/HEAD': 'ref: refs/heads/main\n',
      '.why403.json': JSON.stringify({ rules: { 'nginx-return-403-server': 'warn' } }),
      'site/nginx.conf': NGX('  server { return 403; }'),
      'other/.why403.yaml': 'rules:\n  nginx-return-403-server: "off"\n',
      'other/nginx.conf': NGX('  server { return 403; }'),
    });
    const run = await lint(['site/nginx.conf', 'other/nginx.conf'], { cwd: dir });
    expect(summary(run)).toEqual(['site/nginx.conf:3:12 nginx-return-403-server warning']);
  });

  test('a why403 key in package.json; -c overrides the lookup; ignores', async () => {
    const dir = tree({
      '.git/HEAD': '',
      'package.json': JSON.stringify({ name: 'x', why403: { rules: { 'nginx-return-403-server': 'info' }, ignores: ['skip/**'] } }),
      'a/nginx.conf': NGX('  server { return 403; }'),
      'skip/nginx.conf': NGX('  server { return 403; }'),
      'strict.json': JSON.stringify({ rules: { 'nginx-return-403-server': ['error'] } }),
    });
    const run = await lint(['.'], { cwd: dir });
    expect(summary(run)).toEqual(['a/nginx.conf:3:12 nginx-return-403-server info']);
    const run2 = await lint(['a'], { cwd: dir, configFile: 'strict.json' });
    expect(summary(run2)).toEqual(['a/nginx.conf:3:12 nginx-return-403-server error']);
  });

  test('invalid configs are ConfigErrors with precise messages', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['.why403.json', JSON.stringify({ rules: { 'nginx-nope': 'error' } }), /rules\["nginx-nope"\]: unknown rule "nginx-nope"/],
      [
        '.why403.json',
        JSON.stringify({ rules: { 'nginx-return-403-server': 'loud' } }),
        /rules\["nginx-return-403-server"\]: "loud" is not "off", "info", "warning" \("warn"\) or "error"/,
      ],
      ['.why403.json', JSON.stringify({ rulez: {} }), /unknown key "rulez"/],
      ['.why403.json', JSON.stringify({ settings: { apacheVersion: 'one' } }), /settings\.apacheVersion: /],
      [
        '.why403.json',
        JSON.stringify({ reportUnusedSuppressions: 'loud' }),
        /reportUnusedSuppressions: "loud" is not "off", "warn" or "error"/,
      ],
      ['.why403.json', '{ "rules": ', /cannot parse .*\.why403\.json/],
      ['.why403.yaml', 'rules: [unclosed', /cannot parse .*\.why403\.yaml/],
      ['.why403.json', '[]', /must be an object/],
    ];
    for (const [name, text, re] of cases) {
      const dir = tree({ '.git/HEAD': '', [name]: text, 'nginx.conf': 'events {}\n' });
      const r = new ConfigResolver(rules, { cwd: dir });
      let err: unknown = null;
      try {
        r.forFile(join(dir, 'nginx.conf'));
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(ConfigError);
      expect((err as Error).message, text).toMatch(re);
    }
  });
});

describe('files', () => {
  test('directory discovery: server configs only, VCS and node_modules skipped, mains first, each file once', async () => {
    const dir = tree({
      'etc/nginx/nginx.conf': 'events {}\n',
      'etc/nginx/sites-available/default': 'server { listen 80; }\n',
      'etc/nginx/conf.d/gzip.conf': 'gzip on;\n',
      'etc/apache2/apache2.conf': 'ServerName x\n',
      'etc/apache2/sites-available/000-default.conf': '<VirtualHost *:80>\n</VirtualHost>\n',
      'www/.htaccess': 'Require all granted\n',
      'www/index.html': '<p>hi</p>\n',
      'node_modules/pkg/nginx.conf': 'events {}\n',
      '.git/nginx.conf': 'events {}\n',
      'notes/readme.conf': 'not a server config\n',
      'etc/nginx/sites-available/default.bak': 'old\n',
    });
    symlinkSync('../sites-available/default', join(dir, 'etc/nginx/sites-available/../conf.d/default-link.conf'));
    const { files } = await expandPaths(['.'], dir);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual([
      'etc/apache2/apache2.conf',
      'etc/nginx/nginx.conf',
      'etc/apache2/sites-available/000-default.conf',
      'etc/nginx/conf.d/default-link.conf',
      'etc/nginx/conf.d/gzip.conf',
      'www/.htaccess',
    ]);
    expect(isConfigCandidate('/x/sites-enabled/example.com')).toBe(true);
    expect(isConfigCandidate('/x/src/app.conf')).toBe(false);
  });

  test('a main config pulls in its includes: findings in the included file, linted once, in context', async () => {
    const dir = tree({
      'nginx/nginx.conf': 'events {}\nhttp {\n  server {\n    include snippets/deny.conf;\n  }\n}\n',
      'nginx/snippets/deny.conf': '# server-level snippet\nreturn 403;\n',
    });
    const run = await lint(['.'], { cwd: dir, noConfig: true });
    expect(summary(run)).toEqual(['nginx/snippets/deny.conf:2:1 nginx-return-403-server error']);
  });

  test('missing paths and unmatched globs', async () => {
    const dir = tree({ 'nginx.conf': 'events {}\n' });
    const r = await expandPaths(['nope.conf', 'x/*.conf', 'nginx.conf'], dir);
    expect(r.missing).toEqual([join(dir, 'nope.conf')]);
    expect(r.unmatched).toEqual(['x/*.conf']);
    const run = await lint(['nope.conf', 'nginx.conf'], { cwd: dir, noConfig: true });
    expect(summary(run)).toEqual(['nope.conf:1:1 syntax-error error']);
  });
});

test('a rule that throws is a crash; the other rules still report', async () => {
  const boom = defineRule({
    id: 'any-boom',
    servers: ['nginx', 'apache'],
    severity: 'error',
    description: 'Throws.',
    category: 'other',
    fixable: false,
    messages: { x: 'x' },
    check() {
      throw new Error('kaput');
    },
  });
  const run = await lintText(NGX('  server { return 403; }'), { filename: 'nginx.conf', server: 'nginx', rules: [boom, ...rules] });
  expect(run.crashes.map((c) => [c.ruleId, c.error.split('\n')[0]])).toEqual([['any-boom', 'Error: kaput']]);
  expect(summary(run)).toEqual(['nginx.conf:3:12 nginx-return-403-server error']);
});

test('defineRule rejects ids without a server prefix', () => {
  expect(() =>
    defineRule({
      id: 'bad_id',
      servers: ['nginx'],
      severity: 'error',
      description: '',
      category: 'other',
      fixable: false,
      messages: {},
      check() {},
    }),
  ).toThrow(/kebab-case/);
});
