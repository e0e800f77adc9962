/**
 * Self-tests of the real-server harness with Apache httpd: statuses, source addresses, the generated
 * bases, permission cases and cleanup are all checked against the real server.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from './harness/requests.js';
import {
  apacheCompiledIn,
  apacheSkipReason,
  groupAlive,
  processAlive,
  rootSkipReason,
  runningServerCount,
  ServerStartError,
  startApache,
  stopAllServers,
} from './harness/servers.js';

const skip = apacheSkipReason();
if (skip) console.warn(`[servers-apache] skipped: ${skip}`);
const rootSkip = rootSkipReason();
if (!skip && rootSkip) console.warn(`[servers-apache] file-permission test skipped: ${rootSkip}`);

afterEach(stopAllServers);

const grantRoot = '<Directory ${HARNESS_ROOT}/htdocs>\n    Require all granted\n</Directory>\n';

describe.skipIf(!!skip)('Apache harness', () => {
  it('Require all denied answers 403 with AH01630', async () => {
    const s = await startApache({
      base: 'bare',
      config: '<Directory ${HARNESS_ROOT}/htdocs>\n    Require all denied\n</Directory>\n',
      files: { 'htdocs/index.html': 'hello\n' },
    });
    const mark = s.logMark();
    expect((await request({ port: s.port, path: '/' })).status).toBe(403);
    expect(s.errorLogSince(mark)).toContain('AH01630');
  });

  it('the bare base has no access defaults: an unconfigured DocumentRoot is served', async () => {
    const s = await startApache({ base: 'bare', config: '# nothing\n', files: { 'htdocs/index.html': 'hello\n' } });
    const r = await request({ port: s.port, path: '/' });
    expect(r.status).toBe(200);
    expect(r.body).toBe('hello\n');
  });

  it('Require ip 127.0.0.7 answers by source address', async () => {
    const s = await startApache({
      config: '<Directory ${HARNESS_ROOT}/htdocs>\n    Require ip 127.0.0.7\n</Directory>\n',
      files: { 'htdocs/index.html': 'hello\n' },
    });
    expect((await request({ port: s.port, path: '/', from: '127.0.0.7' })).status).toBe(200);
    expect((await request({ port: s.port, path: '/', from: '127.0.0.1' })).status).toBe(403);
  });

  it('the debian base denies an ungranted DocumentRoot (A06) and grants it when the fixture does', async () => {
    const denied = await startApache({ base: 'debian', config: '# no grant\n', files: { 'htdocs/index.html': 'hi\n' } });
    const mark = denied.logMark();
    expect((await request({ port: denied.port, path: '/' })).status).toBe(403);
    expect(denied.errorLogSince(mark)).toMatch(/AH01630: client denied by server configuration: .*\/htdocs/);
    // Debian's <FilesMatch "^\.ht"> and /server-status (Require local) are there too
    await denied.stop();

    const granted = await startApache({
      base: 'debian',
      config: grantRoot,
      files: { 'htdocs/index.html': 'hi\n', 'htdocs/.htpasswd': 'u:x\n' },
    });
    expect((await request({ port: granted.port, path: '/' })).status).toBe(200);
    expect((await request({ port: granted.port, path: '/.htpasswd' })).status).toBe(403);
    expect((await request({ port: granted.port, path: '/server-status' })).status).toBe(200);
  });

  it('the htaccess base grants htdocs and reads .htaccess files', async () => {
    const s = await startApache({
      files: {
        'htdocs/index.html': 'hi\n',
        'htdocs/private/.htaccess': 'Require all denied\n',
        'htdocs/private/a.html': 'a\n',
      },
    });
    expect((await request({ port: s.port, path: '/' })).status).toBe(200);
    expect((await request({ port: s.port, path: '/private/a.html' })).status).toBe(403);
  });

  it('a full httpd.conf with its own LoadModule lines, Listen and VirtualHost is used as is', async () => {
    const M = '/usr/lib/apache2/modules';
    const s = await startApache({
      config: [
        `LoadModule mpm_prefork_module ${M}/mod_mpm_prefork.so`,
        `LoadModule authz_core_module ${M}/mod_authz_core.so`,
        `LoadModule authz_host_module ${M}/mod_authz_host.so`,
        'ServerRoot /etc/apache2',
        'Listen 80',
        'Listen [::]:80',
        'ErrorLog /var/log/apache2/why403-harness-should-not-exist.log',
        'StartServers 1',
        'DocumentRoot htdocs',
        '<VirtualHost *:80>',
        '    DocumentRoot htdocs',
        '    <Location /secret>',
        '        Require all denied',
        '    </Location>',
        '</VirtualHost>',
        '',
      ].join('\n'),
      files: { 'htdocs/index.html': 'hi\n', 'htdocs/secret': 's\n' },
    });
    expect(readFileSync(s.configFile, 'utf8')).toContain(`Listen 127.0.0.1:${s.port}`);
    // no mod_dir in this config, so ask for the file itself
    expect((await request({ port: s.port, path: '/index.html' })).status).toBe(200);
    expect((await request({ port: s.port, path: '/secret' })).status).toBe(403);
    expect(existsSync('/var/log/apache2/why403-harness-should-not-exist.log')).toBe(false);
  });

  it.skipIf(!!rootSkip)('a file readable only by root gives 403 with the unprivileged worker', async () => {
    const s = await startApache({
      config: grantRoot,
      files: { 'htdocs/open.html': 'open\n', 'htdocs/secret.html': { content: 'secret\n', mode: 0o600 } },
    });
    expect((await request({ port: s.port, path: '/open.html' })).status).toBe(200);
    const mark = s.logMark();
    expect((await request({ port: s.port, path: '/secret.html' })).status).toBe(403);
    expect(s.errorLogSince(mark)).toMatch(/AH00132|Permission denied/);
  });

  it('reports a bad config with the error log and leaves no process behind', async () => {
    let err: unknown;
    try {
      await startApache({ config: '<Directory ${HARNESS_ROOT}/htdocs>\n    Require bogus-provider x\n</Directory>\n' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ServerStartError);
    const e = err as ServerStartError;
    expect(e.message).toMatch(/Syntax error|Unknown Authz provider/i);
    expect(e.pid).toBeTypeOf('number');
    expect(processAlive(e.pid!)).toBe(false);
    expect(groupAlive(e.pid!)).toBe(false);
    expect(runningServerCount()).toBe(0);
  });

  it('knows what apache2 -l has compiled in, and the bases load only the rest', async () => {
    const builtIn = apacheCompiledIn();
    expect(builtIn.has('unixd')).toBe(true);
    expect(builtIn.has('log_config')).toBe(true);
    const s = await startApache({ base: 'bare', config: '# empty\n' });
    const conf = readFileSync(s.configFile, 'utf8');
    expect(conf).toMatch(/^LoadModule authz_core_module /m);
    expect(conf).not.toMatch(/^LoadModule (unixd|log_config)_module /m);
  });

  it('stop() kills the parent and its children by PID and removes the prefix', async () => {
    const s = await startApache({ base: 'bare', config: '# empty\n' });
    expect(groupAlive(s.pid)).toBe(true);
    await s.stop();
    expect(processAlive(s.pid)).toBe(false);
    expect(groupAlive(s.pid)).toBe(false);
    expect(existsSync(s.prefix)).toBe(false);
  });
});
