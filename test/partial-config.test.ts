/**
 * Issue 14, the last two examples: trees checked out elsewhere whose includes name the installed
 * layout, and partial configs (a vhost or snippet without its main config).
 *
 * - A copy of /etc/nginx in deploy/nginx whose nginx.conf includes `/etc/nginx/sites-enabled/*` and
 *   that has a sites-enabled/ of its own: the path map is inferred, so the copy's
 *   sites-enabled/default (with `return 403;`) is what is linted, and a note says so. When the tree
 *   does not mirror the installed layout, the include is read from the live place and that is a
 *   warning naming the path and the `--path-map` to use. The "live" place is a temp directory outside
 *   the linted tree (nothing under /etc is written).
 * - Debian's 000-default.conf explained alone for http://localhost/.htaccess: partial (apache2.conf
 *   was not read, <FilesMatch ^\.ht> is unknown); in a layout with apache2.conf above sites-enabled/
 *   the main config is found and loaded and the answer is 403, as real Apache answers.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explain, parseExplainRequest, renderJson, renderText, type Explanation } from '../src/explain/index.js';
import { loadConfig } from '../src/load.js';
import { loadInfo, noteOutside, suggestMap, type LoadTrace } from '../src/load-options.js';
import { lint } from '../src/run.js';
import { cliPath, ensureBuilt } from './harness/build.js';
import { request } from './harness/requests.js';
import { apacheSkipReason, startApache, stopAllServers } from './harness/servers.js';

const tmp = mkdtempSync(join(tmpdir(), 'why403-partial-'));
afterAll(async () => {
  await stopAllServers();
  rmSync(tmp, { recursive: true, force: true });
});

function write(path: string, text: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

function explainUrl(config: string, url: string): Explanation {
  const r = parseExplainRequest({ target: url });
  if (!r.ok) throw new Error(r.error);
  return explain(loadConfig(config), config, r.request, { fs: false, pathMap: [], cwd: '' });
}

async function findings(paths: string[]) {
  const run = await lint(paths, { cwd: tmp, noConfig: true });
  expect(run.crashes).toEqual([]);
  return run.results.flatMap((r) => r.messages.map((m) => ({ file: r.filePath, ...m })));
}

const RETURN_403 = 'server {\n    listen 80 default_server;\n    server_name _;\n    return 403;\n}\n';
const LIVE_SITE = 'server {\n    listen 80 default_server;\n    server_name _;\n    location / {\n        return 200;\n    }\n}\n';

const STATIC_SITE = 'server {\n    listen 80 default_server;\n    server_name _;\n    location / {\n        root /srv/shop;\n    }\n}\n';

describe('nginx: a copy of the installed tree whose includes name the installed paths', () => {
  // the installed tree the copy's includes name (stands for /etc/nginx)
  const live = join(tmp, 'live/nginx');
  write(join(live, 'sites-enabled/default'), LIVE_SITE);

  it('mirrors the installed layout: the path map is inferred, the copy is linted and the note says so', async () => {
    const deploy = join(tmp, 'mirror/deploy/nginx');
    const main = write(join(deploy, 'nginx.conf'), `events {}\nhttp {\n    include ${live}/sites-enabled/*;\n}\n`);
    const site = write(join(deploy, 'sites-enabled/default'), RETURN_403);
    const set = loadConfig(main);
    expect([...set.files.keys()]).toEqual([main, site]);
    expect(loadInfo(set)?.inferredPathMap.map((m) => [m.from, m.to])).toEqual([[live, deploy]]);
    const found = await findings([main]);
    expect(found.filter((m) => m.ruleId === 'nginx-return-403-server').map((m) => [m.file, m.line])).toEqual([[site, 4]]);
    const note = found.filter((m) => m.ruleId === 'any-config-scope');
    expect(note.map((m) => [m.file, m.severity])).toEqual([[main, 'info']]);
    expect(note[0].message).toContain(`--path-map ${live}=${deploy}`);
    expect(found.filter((m) => m.ruleId === 'any-include-outside-tree')).toEqual([]);
    // explain answers from the copy and says what it inferred
    const e = explainUrl(main, 'http://localhost/');
    expect(e.status).toBe(403);
    expect(e.decidedBy?.file).toBe(site);
    expect(e.partial).toBeNull();
    expect(e.assumptions.some((a) => a.includes(`--path-map ${live}=${deploy} was inferred`))).toBe(true);
  });

  it('the literal /etc/nginx of the issue is mapped onto the copy the same way (nothing under /etc is read)', async () => {
    const deploy = join(tmp, 'etc-copy/deploy/nginx');
    const main = write(join(deploy, 'nginx.conf'), 'events {}\nhttp {\n    include /etc/nginx/sites-enabled/*;\n}\n');
    const site = write(join(deploy, 'sites-enabled/default'), RETURN_403);
    const set = loadConfig(main);
    expect([...set.files.keys()]).toEqual([main, site]);
    expect(loadInfo(set)?.inferredPathMap.map((m) => m.from)).toEqual(['/etc/nginx']);
    const found = await findings([main]);
    expect(found.filter((m) => m.ruleId === 'nginx-return-403-server').map((m) => m.file)).toEqual([site]);
  });

  it('does not mirror it: the include reads the live tree, and that is a warning naming the path and the --path-map', async () => {
    const deploy = join(tmp, 'nomirror/deploy/nginx');
    const main = write(join(deploy, 'nginx.conf'), `events {}\nhttp {\n    include ${live}/sites-enabled/*;\n}\n`);
    write(join(deploy, 'sites/default'), RETURN_403); // the copy keeps its sites elsewhere: no mirror
    const set = loadConfig(main);
    expect([...set.files.keys()]).toEqual([main, join(live, 'sites-enabled/default')]);
    const found = await findings([main]);
    const warn = found.filter((m) => m.ruleId === 'any-include-outside-tree');
    expect(warn.map((m) => [m.file, m.line, m.column, m.severity])).toEqual([[main, 3, 13, 'warning']]);
    expect(warn[0].message).toContain(`reads ${live}/sites-enabled/* from the live system, not from ${deploy}`);
    expect(warn[0].message).toContain(`--path-map ${live}=${deploy}`);
    // the live site answers 200, and explain says where that came from
    const e = explainUrl(main, 'http://localhost/');
    expect(e.status).toBe(200);
    expect(e.assumptions.some((a) => a.includes(`includes ${live}/sites-enabled/* from the live system`))).toBe(true);
    // with the suggested map, the copy is read instead
    const run = await lint([main], { cwd: tmp, noConfig: true, pathMap: [{ from: live, to: deploy }] });
    expect(run.results.flatMap((r) => r.messages).filter((m) => m.ruleId === 'any-include-outside-tree')).toEqual([]);
  });

  it('a site in sites-enabled/ linted alone is checked through the nginx.conf above it', async () => {
    const deploy = join(tmp, 'alone-in-layout/nginx');
    const main = write(join(deploy, 'nginx.conf'), 'events {}\nhttp {\n    deny all;\n    include sites-enabled/*;\n}\n');
    const avail = write(join(deploy, 'sites-available/shop'), STATIC_SITE);
    mkdirSync(join(deploy, 'sites-enabled'));
    symlinkSync('../sites-available/shop', join(deploy, 'sites-enabled/shop'));
    write(join(deploy, 'sites-available/unused'), LIVE_SITE);
    const set = loadConfig(avail);
    expect(set.root.source.path).toBe(main);
    const enabled = join(deploy, 'sites-enabled/shop');
    expect(loadInfo(set)).toMatchObject({ requested: enabled, mainFound: main, partial: null });
    // the http-level deny of the main config decides
    const e = explainUrl(avail, 'http://localhost/');
    expect(e.partial).toBeNull();
    expect(e.status).toBe(403);
    expect(e.decidedBy?.file).toBe(main);
    // lint reports the named file only (under the name the server reads it by), with the note
    const found = await findings([avail]);
    expect(new Set(found.map((m) => m.file))).toEqual(new Set([enabled]));
    expect(found.find((m) => m.ruleId === 'any-config-scope')?.message).toContain(`checked through the main config ${main}`);
    // a site that is not enabled stays partial, and the note says the main config does not include it
    const unused = explainUrl(join(deploy, 'sites-available/unused'), 'http://localhost/');
    expect(unused.partial?.reason).toContain(`${main} was found but does not include unused`);
  });

  it('a server block alone is partial: explain says so in the verdict, the text and the JSON', () => {
    const file = write(join(tmp, 'lone/shop.conf'), LIVE_SITE);
    const e = explainUrl(file, 'http://localhost/');
    expect(e.status).toBe(200);
    expect(e.partial?.reason).toMatch(/^nginx's main config \(nginx\.conf\) was not loaded/);
    expect(e.partial?.unknown.join('\n')).toContain('other server {} blocks');
    expect(e.verdict).toContain('[partial config: ');
    expect(renderText(e)).toContain('Partial config: nginx');
    expect(JSON.parse(renderJson(e)).partial).toEqual(e.partial);
  });
});

describe("Apache: Debian's 000-default.conf and http://localhost/.htaccess", () => {
  const layout = join(tmp, 'apache/etc/apache2');
  const htdocs = join(layout, 'htdocs');
  const define = `<IfDefine !HARNESS_ROOT>\n    Define HARNESS_ROOT ${layout}\n</IfDefine>\n`;
  // the access-relevant parts of Debian's apache2.conf; paths through ${HARNESS_ROOT} so that the
  // same files run in real Apache from the harness's copy
  const apache2conf = write(
    join(layout, 'apache2.conf'),
    `${define}<Directory />\n    Options FollowSymLinks\n    AllowOverride None\n    Require all denied\n</Directory>\n` +
      '<Directory ${HARNESS_ROOT}/htdocs>\n    AllowOverride None\n    Require all granted\n</Directory>\n' +
      'AccessFileName .htaccess\n<FilesMatch "^\\.ht">\n    Require all denied\n</FilesMatch>\n' +
      'IncludeOptional sites-enabled/*.conf\n',
  );
  const vhostText = `${define}<VirtualHost *:80>\n    ServerName localhost\n    DocumentRoot \${HARNESS_ROOT}/htdocs\n</VirtualHost>\n`;
  const vhost = write(join(layout, 'sites-enabled/000-default.conf'), vhostText);
  write(join(htdocs, '.htaccess'), 'Options -Indexes\n');
  write(join(htdocs, 'index.html'), 'hello\n');
  const alone = write(join(tmp, 'apache/vhost-only/000-default.conf'), vhostText);

  it('the vhost alone: partial, naming apache2.conf and <FilesMatch ^\\.ht>, and not a confident 403', async () => {
    const e = explainUrl(alone, 'http://localhost/.htaccess');
    expect(e.partial?.reason).toBe("Apache's main config (apache2.conf) was not loaded");
    expect(e.partial?.unknown).toEqual(expect.arrayContaining(['<Directory />', '<FilesMatch ^\\.ht>']));
    expect(e.status).not.toBe(403);
    expect(e.verdict).toContain("[partial config: Apache's main config (apache2.conf) was not loaded]");
    const found = await findings([alone]);
    const note = found.filter((m) => m.ruleId === 'any-config-scope');
    expect(note.map((m) => m.severity)).toEqual(['info']);
    expect(note[0].message).toContain("Apache's main config (apache2.conf) was not loaded: <Directory />, <FilesMatch ^\\.ht>");
  });

  it('the vhost in its layout: apache2.conf is found and loaded, and the answer is 403 (A07)', async () => {
    const e = explainUrl(vhost, 'http://localhost/.htaccess');
    expect(e.partial).toBeNull();
    expect(e.status).toBe(403);
    expect(e.cause?.id).toBe('A07');
    expect(e.decidedBy?.file).toBe(apache2conf);
    expect(e.assumptions.some((a) => a.startsWith(`the main config ${apache2conf} was found`))).toBe(true);
    const found = await findings([vhost]);
    expect(found.find((m) => m.ruleId === 'any-config-scope')?.message).toContain(`checked through the main config ${apache2conf}`);
  });

  describe('the CLI', () => {
    beforeAll(() => ensureBuilt(), 200_000);
    const cli = (args: string[]) => execFileSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: 60_000, cwd: tmp });
    it('explain --format json carries partial; the text output says it', () => {
      const json = JSON.parse(cli(['explain', alone, 'http://localhost/.htaccess', '--format', 'json'])) as Explanation;
      expect(json.partial?.reason).toBe("Apache's main config (apache2.conf) was not loaded");
      expect(cli(['explain', alone, 'http://localhost/.htaccess'])).toContain(
        "Partial config: Apache's main config (apache2.conf) was not loaded",
      );
      const whole = JSON.parse(cli(['explain', vhost, 'http://localhost/.htaccess', '--format', 'json'])) as Explanation;
      expect([whole.status, whole.partial]).toEqual([403, null]);
    });
  });

  const skip = apacheSkipReason();
  if (skip) console.warn(`[partial-config] real Apache skipped: ${skip}`);
  it.skipIf(!!skip)('real Apache started from the layout answers 403 to /.htaccess and 200 to /index.html', async () => {
    const server = await startApache({ fixture: layout, main: 'apache2.conf', base: 'bare' });
    try {
      const ht = await request({ port: server.port, method: 'GET', path: '/.htaccess', host: 'localhost', timeoutMs: 5000 });
      const index = await request({ port: server.port, method: 'GET', path: '/index.html', host: 'localhost', timeoutMs: 5000 });
      expect([ht.status, index.status], server.errorLog()).toEqual([403, 200]);
    } finally {
      await server.stop();
    }
  });
});

describe('outside includes: what is recorded and the suggested map', () => {
  const at = { source: { path: '/w/deploy/nginx/nginx.conf' }, span: { start: { line: 3, column: 5 } } };
  it('a tree that is an installed location itself is not "leaving a checkout"', () => {
    const trace: LoadTrace = { outside: [] };
    noteOutside(trace, at, '/etc/letsencrypt/options-ssl-nginx.conf', '/etc/nginx', 1);
    noteOutside(trace, at, '/w/deploy/nginx/mime.types', '/w/deploy/nginx', 1);
    expect(trace.outside).toEqual([]);
    noteOutside(trace, at, '/etc/letsencrypt/options-ssl-nginx.conf', '/w/deploy/nginx', 0);
    expect(trace.outside.map((o) => [o.target, o.read, o.suggest.from])).toEqual([
      ['/etc/letsencrypt/options-ssl-nginx.conf', 0, '/etc/letsencrypt'],
    ]);
  });
  it('suggests the installed directory the tree stands for', () => {
    expect(suggestMap('/etc/nginx/sites-enabled/*', '/w/deploy/nginx')).toEqual({ from: '/etc/nginx', to: '/w/deploy/nginx' });
    expect(suggestMap('/etc/apache2/conf-enabled/*.conf', '/w/apache2')).toEqual({ from: '/etc/apache2', to: '/w/apache2' });
    expect(suggestMap('/etc/nginx/snippets/php.conf', '/w/conf')).toEqual({ from: '/etc/nginx/snippets', to: '/w/conf' });
  });
  it('Apache: a ServerRoot naming the installed place is mapped onto a tree that mirrors it', () => {
    const live = join(tmp, 'apache-live/apache2');
    write(join(live, 'sites-enabled/live.conf'), '<VirtualHost *:80>\n    ServerName live.test\n</VirtualHost>\n');
    const tree = join(tmp, 'apache-copy/apache2');
    const main = write(join(tree, 'apache2.conf'), `ServerRoot "${live}"\nIncludeOptional sites-enabled/*.conf\n`);
    const site = write(join(tree, 'sites-enabled/copy.conf'), '<VirtualHost *:80>\n    ServerName copy.test\n</VirtualHost>\n');
    const set = loadConfig(main);
    expect([...set.files.keys()]).toEqual([main, site]);
    expect(loadInfo(set)?.inferredPathMap.map((m) => [m.from, m.to])).toEqual([[live, tree]]);
    // without the mirror (the copy keeps its sites elsewhere), the live file is read, and recorded
    const bare = join(tmp, 'apache-bare/apache2');
    const main2 = write(join(bare, 'apache2.conf'), `ServerRoot "${live}"\nIncludeOptional sites-enabled/*.conf\n`);
    const set2 = loadConfig(main2);
    expect([...set2.files.keys()]).toEqual([main2, join(live, 'sites-enabled/live.conf')]);
    expect(loadInfo(set2)?.outside.map((o) => [o.target, o.line, o.suggest.from])).toEqual([[`${live}/sites-enabled/*.conf`, 2, live]]);
  });
});
