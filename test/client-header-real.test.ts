/**
 * The harness's `clientHeader` option on the real servers: a request from 127.0.0.1 that names a
 * client address in `X-Why403-Client` is judged as coming from that address (nginx realip, Apache
 * mod_remoteip), IPv4 and IPv6; without the header it is judged as coming from 127.0.0.1. This is what
 * lets test/proofs-real.test.ts send a proof's request from 192.0.2.10 although only loopback exists.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from './harness/requests.js';
import { apacheSkipReason, CLIENT_HEADER, nginxSkipReason, startApache, startNginx, stopAllServers } from './harness/servers.js';

afterEach(stopAllServers);

const nginxSkip = nginxSkipReason();
const apacheSkip = apacheSkipReason();
if (nginxSkip) console.warn(`[client-header-real] nginx skipped: ${nginxSkip}`);
if (apacheSkip) console.warn(`[client-header-real] apache skipped: ${apacheSkip}`);

/** Status of GET `path` from 127.0.0.1, naming `client` in the header (none when undefined). */
async function statusFor(port: number, path: string, client?: string): Promise<number> {
  const headers: Record<string, string> = client ? { [CLIENT_HEADER]: client } : {};
  return (await request({ port, path, headers, timeoutMs: 5000 })).status;
}

describe.skipIf(!!nginxSkip)('nginx: the client address from X-Why403-Client', () => {
  const site = [
    'server {',
    '    listen 80;',
    '    root www;',
    '    location /v4/ { allow 192.0.2.10; deny all; }',
    '    location /v6/ { allow 2001:db8::10; deny all; }',
    '    location /local/ { allow 127.0.0.1; deny all; }',
    '}',
    '',
  ].join('\n');
  const files = { 'www/v4/index.html': 'v4\n', 'www/v6/index.html': 'v6\n', 'www/local/index.html': 'local\n' };

  for (const context of ['http', 'main'] as const) {
    it(`allow 192.0.2.10 / 2001:db8::10; deny all (fixture written for the ${context} context)`, async () => {
      const config = context === 'main' ? `events {}\nhttp {\n${site}}\n` : site;
      const s = await startNginx({ config, context, files, clientHeader: CLIENT_HEADER });
      expect(await statusFor(s.port, '/v4/', '192.0.2.10')).toBe(200);
      expect(await statusFor(s.port, '/v4/', '192.0.2.11')).toBe(403);
      expect(await statusFor(s.port, '/v4/')).toBe(403);
      expect(await statusFor(s.port, '/v6/', '2001:db8::10')).toBe(200);
      expect(await statusFor(s.port, '/v6/', '2001:db8::11')).toBe(403);
      expect(await statusFor(s.port, '/v6/')).toBe(403);
      // no header: the connection's own address
      expect(await statusFor(s.port, '/local/')).toBe(200);
      expect(await statusFor(s.port, '/local/', '192.0.2.10')).toBe(403);
    });
  }

  it('without the option the header is ignored', async () => {
    const s = await startNginx({ config: site, context: 'http', files });
    expect(await statusFor(s.port, '/v4/', '192.0.2.10')).toBe(403);
    expect(await statusFor(s.port, '/local/', '192.0.2.10')).toBe(200);
  });
});

describe.skipIf(!!apacheSkip)('Apache: the client address from X-Why403-Client', () => {
  const dirs = [
    '<Directory ${HARNESS_ROOT}/htdocs/v4>\n    Require ip 192.0.2.10\n</Directory>',
    '<Directory ${HARNESS_ROOT}/htdocs/v6>\n    Require ip 2001:db8::10\n</Directory>',
    '<Directory ${HARNESS_ROOT}/htdocs/local>\n    Require local\n</Directory>',
    // mod_access_compat (Satisfy All: the inherited Require of <Directory /> must pass too)
    '<Directory ${HARNESS_ROOT}/htdocs/legacy>\n    Require all granted\n    Order deny,allow\n    Deny from all\n    Allow from 192.0.2.10\n</Directory>',
    '',
  ].join('\n');
  const files = {
    'htdocs/v4/index.html': 'v4\n',
    'htdocs/v6/index.html': 'v6\n',
    'htdocs/local/index.html': 'local\n',
    'htdocs/legacy/index.html': 'legacy\n',
  };

  const check = async (port: number) => {
    expect(await statusFor(port, '/v4/', '192.0.2.10')).toBe(200);
    expect(await statusFor(port, '/v4/', '192.0.2.11')).toBe(403);
    expect(await statusFor(port, '/v4/')).toBe(403);
    expect(await statusFor(port, '/v6/', '2001:db8::10')).toBe(200);
    expect(await statusFor(port, '/v6/')).toBe(403);
    expect(await statusFor(port, '/legacy/', '192.0.2.10')).toBe(200);
    expect(await statusFor(port, '/legacy/')).toBe(403);
    // Require local: the named address is not local
    expect(await statusFor(port, '/local/')).toBe(200);
    expect(await statusFor(port, '/local/', '192.0.2.10')).toBe(403);
  };

  it('Require ip 192.0.2.10 / 2001:db8::10, Allow from, Require local (generated Debian base)', async () => {
    await check((await startApache({ config: dirs, base: 'debian', files, clientHeader: CLIENT_HEADER })).port);
  });

  it('in a virtual host', async () => {
    const vhost = `<VirtualHost *:80>\n    ServerName localhost\n    DocumentRoot \${HARNESS_ROOT}/htdocs\n${dirs}</VirtualHost>\n`;
    await check((await startApache({ config: vhost, base: 'debian', files, clientHeader: CLIENT_HEADER })).port);
  });

  it('without the option the header is ignored', async () => {
    const s = await startApache({ config: dirs, base: 'debian', files });
    expect(await statusFor(s.port, '/v4/', '192.0.2.10')).toBe(403);
    expect(await statusFor(s.port, '/local/', '192.0.2.10')).toBe(200);
  });
});
