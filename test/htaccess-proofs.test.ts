/**
 * Findings in a .htaccess linted with the main config that reads it are proven on that config, with the
 * file in place (src/model/proof.ts, src/explain/htaccess.ts): the request goes to the URL the config
 * serves the directory at, `config` is the main config, the trace runs from it into the file, and
 * `why403 explain <config> <url> --htaccess` says the same. A .htaccess linted alone keeps the proof on
 * the file itself; one its linked config never reads (AllowOverride None) gets none.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HtaccessReader } from '../src/explain/htaccess.js';
import { parseApache } from '../src/apache/parser.js';
import { SourceFile } from '../src/source.js';
import { lint, type ResultMessage } from '../src/run.js';
import { cliPath, ensureBuilt, repoRoot } from './harness/build.js';

const tmp = mkdtempSync(join(tmpdir(), 'why403-htproof-'));
// searchable by the worker user, as a served tree is (lint --fs checks it)
chmodSync(tmp, 0o755);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A tree: httpd.conf serving <dir>/htdocs with `allow` as its AllowOverride, and .htaccess files by path. */
function tree(name: string, allow: string, files: Record<string, string>): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'htdocs'), { recursive: true });
  writeFileSync(
    join(dir, 'httpd.conf'),
    `DocumentRoot /srv/site/htdocs\n<Directory /srv/site/htdocs>\n    AllowOverride ${allow}\n    Require all granted\n</Directory>\n`,
  );
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

async function findings(dir: string, fs = false): Promise<Array<ResultMessage & { file: string }>> {
  const run = await lint([dir], {
    cwd: dir,
    noConfig: true,
    pathMap: [{ from: '/srv/site', to: dir }],
    reportUnusedSuppressions: 'off',
    fs,
  });
  expect(run.crashes).toEqual([]);
  return run.results.flatMap((r) => r.messages.map((m) => ({ ...m, file: r.filePath })));
}

describe('HtaccessReader', () => {
  it('reads the access file of a directory on first ask, through the path map, once', () => {
    const dir = tree('reader', 'All', { 'htdocs/a/.htaccess': 'Require all denied\n' });
    const r = new HtaccessReader(['.htaccess'], [{ from: '/srv/site', to: dir }]);
    const a = r.get('/srv/site/htdocs/a');
    expect(a?.source.path).toBe(join(dir, 'htdocs/a/.htaccess'));
    expect(a?.htaccessDir).toBe('/srv/site/htdocs/a');
    expect(r.get('/srv/site/htdocs/a')).toBe(a);
    expect(r.get('/srv/site/htdocs')).toBeUndefined();
    expect(r.get('/srv/site/htdocs')).toBeUndefined();
    expect(r.has('/srv/site/htdocs/a')).toBe(true);
    expect(r.reads).toBe(1);
    // a parse standing in for one directory; the disk reads are shared with the reader it came from
    const own = parseApache(new SourceFile(join(dir, 'htdocs/.htaccess'), 'Require all granted\n'), { context: 'htaccess' });
    const w = r.with(new Map([['/srv/site/htdocs', own]]));
    expect(w.get('/srv/site/htdocs')).toBe(own);
    expect(w.get('/srv/site/htdocs/a')).toBe(a);
    expect(r.get('/srv/site/htdocs')).toBeUndefined();
    expect(r.reads).toBe(1);
  });
});

describe('a .htaccess finding is proven on the main config that reads the file', () => {
  it('apache-htaccess-directive-not-allowed: a 500 at the directory URL, decided by the first refused line only', async () => {
    const dir = tree('refused', 'FileInfo', { 'htdocs/app/.htaccess': 'AddType text/plain .log\nOptions -Indexes\nRequire all denied\n' });
    const got = (await findings(dir)).filter((m) => m.ruleId === 'apache-htaccess-directive-not-allowed');
    expect(got.map((m) => [m.line, m.status ?? null])).toEqual([
      [2, 500],
      [3, null],
    ]);
    const m = got[0];
    expect(m.request).toEqual({ method: 'GET', url: 'http://localhost/app/', ip: '192.0.2.10', headers: {} });
    expect(m.config).toBe(join(dir, 'httpd.conf'));
    expect(m.htaccess).toBe(true);
    expect(m.decidedBy).toMatchObject({ file: join(dir, 'htdocs/app/.htaccess'), line: 2, column: 1 });
    // from the vhost through the config's DocumentRoot and <Directory> into the file
    expect(m.trace!.map((t) => `${t.file === m.config ? 'httpd.conf' : '.htaccess'}:${t.line}`)).toEqual([
      'httpd.conf:1',
      'httpd.conf:2',
      '.htaccess:2',
    ]);
    // with --fs the main config reads the file from disk: the same proof, no --htaccess needed (its
    // deciding line named by the installed path, as explain --fs names it)
    const fs = (await findings(dir, true)).find((x) => x.ruleId === 'apache-htaccess-directive-not-allowed' && x.line === 2)!;
    expect([fs.status, fs.config, fs.htaccess, fs.decidedBy?.file, fs.decidedBy?.line]).toEqual([
      500,
      m.config,
      undefined,
      '/srv/site/htdocs/app/.htaccess',
      2,
    ]);
  });

  it('a .htaccess above answering 500 first leaves the deeper file’s finding without a proof', async () => {
    const dir = tree('above', 'FileInfo', { 'htdocs/.htaccess': 'Options +Indexes\n', 'htdocs/app/.htaccess': 'Options -Indexes\n' });
    const got = (await findings(dir)).filter((m) => m.ruleId === 'apache-htaccess-directive-not-allowed');
    expect(got.map((m) => [m.file.slice(dir.length), m.status ?? null, m.request?.url ?? null])).toEqual([
      ['/htdocs/.htaccess', 500, 'http://localhost/'],
      ['/htdocs/app/.htaccess', null, null],
    ]);
  });

  it('apache-explicit-forbidden: read under AllowOverride FileInfo it is proven on the config; under None it claims nothing', async () => {
    const files = { 'htdocs/shop/.htaccess': 'Redirect 403 /shop/old.html\n' };
    const read = (await findings(tree('read', 'FileInfo', files))).find((m) => m.ruleId === 'apache-explicit-forbidden')!;
    expect([read.request?.url, read.status, read.cause, read.htaccess, read.config?.endsWith('/read/httpd.conf')]).toEqual([
      'http://localhost/shop/old.html',
      403,
      'A29',
      true,
      true,
    ]);
    const unread = (await findings(tree('unread', 'None', files))).find((m) => m.ruleId === 'apache-explicit-forbidden')!;
    expect(unread.request).toBeUndefined();
    // linted alone: the partial view, explained on the file itself
    const alone = await lint([join(tmp, 'read/htdocs/shop/.htaccess')], { cwd: tmp, noConfig: true, reportUnusedSuppressions: 'off' });
    const a = alone.results.flatMap((r) => r.messages).find((m) => m.ruleId === 'apache-explicit-forbidden')!;
    expect([a.status, a.config, a.htaccess]).toEqual([403, join(tmp, 'read/htdocs/shop/.htaccess'), undefined]);
  });

  it('through the CLI: explain --htaccess gives the proof’s answer, without it the status is unknown; SARIF carries the flag', () => {
    ensureBuilt();
    const dir = join(repoRoot, 'fixtures/rules/apache-htaccess-directive-not-allowed/bad');
    const args = [cliPath, 'explain', join(dir, 'httpd.conf'), 'http://localhost/app/', '--ip', '192.0.2.10'];
    const more = ['--path-map', `/srv/why403=${dir}`, '--no-config-lookup', '--format', 'json'];
    const run = (...extra: string[]) =>
      JSON.parse(execFileSync(process.execPath, [...args, ...more, ...extra], { encoding: 'utf8', timeout: 30_000 })) as {
        status: number | null;
        decidedBy: { file: string; line: number } | null;
        assumptions: string[];
        suggestions: string[];
      };
    const on = run('--htaccess');
    expect([on.status, on.decidedBy?.file.endsWith('htdocs/app/.htaccess'), on.decidedBy?.line]).toEqual([500, true, 4]);
    expect(on.assumptions.some((a) => a.includes('(--htaccess); nothing else on disk was'))).toBe(true);
    const off = run();
    expect(off.status).toBeNull();
    expect(off.suggestions.some((s) => s.startsWith('--htaccess reads only the .htaccess files'))).toBe(true);
    // (exit 1: the findings are errors)
    const lintRun = spawnSync(
      process.execPath,
      [
        cliPath,
        '--no-config-lookup',
        '-f',
        'sarif',
        '--path-map',
        `/srv/why403=${dir}`,
        join(dir, 'httpd.conf'),
        join(dir, 'htdocs/app/.htaccess'),
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(lintRun.status).toBe(1);
    const sarif = JSON.parse(lintRun.stdout) as {
      runs: Array<{ results: Array<{ properties?: Record<string, unknown>; codeFlows?: Array<{ message: { text: string } }> }> }>;
    };
    const proven = sarif.runs[0].results.filter((r) => r.codeFlows);
    expect(proven).toHaveLength(1);
    expect(proven[0].properties).toEqual({ htaccess: true });
    expect(proven[0].codeFlows![0].message.text).toBe('GET http://localhost/app/ from 192.0.2.10 gets 500 (explain --htaccess)');
    expect(readFileSync(join(dir, 'htdocs/app/.htaccess'), 'utf8')).toContain('Options -Indexes');
  });
});

describe('the map of a linked .htaccess (the language server links them)', () => {
  it('says its samples were explained on the main config with --htaccess; alone, it does not', async () => {
    const { loadConfig } = await import('../src/load.js');
    const { linkHtaccess } = await import('../src/apache/model/htaccess-link.js');
    const { mapConfig } = await import('../src/map/index.js');
    const { renderMap } = await import('../src/map/render.js');
    const dir = tree('map-linked', 'All', { 'htdocs/priv/.htaccess': 'Require all denied\n' });
    const pathMap = [{ from: '/srv/site', to: dir }];
    const main = loadConfig(join(dir, 'httpd.conf'), { pathMap });
    const ht = loadConfig(join(dir, 'htdocs/priv/.htaccess'), { pathMap });
    const alone = mapConfig(ht, { pathMap }).entries;
    expect(alone.map((e) => [e.directive, e.status, e.explainedOn])).toEqual([['Require all denied', 403, undefined]]);
    linkHtaccess(ht, [{ set: main, settings: {}, modelOptions: { pathMap } }]);
    const linked = mapConfig(ht, { pathMap });
    const [e] = linked.entries;
    expect([e.directive, e.status, e.sample?.url]).toEqual(['Require all denied', 403, 'http://localhost/priv/']);
    expect(e.explainedOn).toEqual({ config: join(dir, 'httpd.conf'), htaccess: true });
    expect(renderMap([linked], 'text', dir)).toContain(`→ 403 (explained on ${join(dir, 'httpd.conf')} with --htaccess)`);
    // and the CLI says the same for that request
    ensureBuilt();
    const r = spawnSync(
      process.execPath,
      [
        cliPath,
        'explain',
        '-f',
        'json',
        '--htaccess',
        '--path-map',
        `/srv/site=${dir}`,
        join(dir, 'httpd.conf'),
        e.sample!.url,
        '--ip',
        e.sample!.ip,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(JSON.parse(r.stdout).status).toBe(403);
  });
});

describe('a main-config claim that an unread .htaccess could change says so (unless)', () => {
  it('no .htaccess in the run: the claim carries what explain did not know; with the run reading them, nothing', async () => {
    const main = (dir: string) =>
      writeFileSync(
        join(dir, 'httpd.conf'),
        'DocumentRoot /srv/site/htdocs\n<Directory /srv/site/htdocs>\n    AllowOverride AuthConfig\n    Require all denied\n</Directory>\n',
      );
    const bare = tree('unless-bare', 'None', {});
    main(bare);
    const [m] = (await findings(bare)).filter((x) => x.ruleId === 'apache-docroot-denied');
    expect([m?.status, m?.unless]).toEqual([
      403,
      ['AllowOverride lets /srv/site/htdocs/.htaccess change the outcome; it was not read (--htaccess or --fs reads it)'],
    ]);
    // SARIF: in the properties and the code flow's message
    ensureBuilt();
    const sarif = spawnSync(
      process.execPath,
      [cliPath, '--no-config-lookup', '-f', 'sarif', '--path-map', `/srv/site=${bare}`, join(bare, 'httpd.conf')],
      { encoding: 'utf8', timeout: 30_000 },
    );
    const res = (
      JSON.parse(sarif.stdout) as {
        runs: Array<{
          results: Array<{ ruleId: string; properties?: Record<string, unknown>; codeFlows?: Array<{ message: { text: string } }> }>;
        }>;
      }
    ).runs[0].results.find((r) => r.ruleId === 'apache-docroot-denied')!;
    expect(res.properties).toEqual({ unless: m!.unless });
    expect(res.codeFlows![0].message.text).toContain('gets 403, unless AllowOverride lets /srv/site/htdocs/.htaccess change the outcome');
    // the same claim with the directory's .htaccess in the run (it keeps the denial): read, so no caveat
    const read = tree('unless-read', 'None', { 'htdocs/.htaccess': 'AuthName "x"\n' });
    main(read);
    const [k] = (await findings(read)).filter((x) => x.ruleId === 'apache-docroot-denied');
    expect([k?.status, k?.htaccess, k?.unless]).toEqual([403, true, undefined]);
  });
});
