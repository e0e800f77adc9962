/**
 * nginx-htpasswd-missing reads the password file through the model (`model.configFiles()`): the same
 * path map as every other consumer (`--path-map` and the `pathMap` setting), the worker's disk view
 * with --fs. With --fs its finding carries a request with credentials that explain shows to get 403
 * (N04), and real nginx answers that request 403.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { lint, type ResultMessage } from '../src/run.js';
import { nginxSkipReason, startNginx, stopAllServers } from './harness/servers.js';
import { request } from './harness/requests.js';

const RULE = 'nginx-htpasswd-missing';
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
afterEach(stopAllServers);

/** A config naming /etc/why403-test-htpasswd/users (a directory no machine has), and the checkout
 * directory it is mapped onto. */
function tree(): { conf: string; etc: string } {
  const d = mkdtempSync(join(tmpdir(), 'why403-htpasswd-'));
  dirs.push(d);
  mkdirSync(join(d, 'conf'));
  mkdirSync(join(d, 'etc'));
  const conf = join(d, 'conf', 'nginx.conf');
  writeFileSync(
    conf,
    [
      'events {}',
      'http {',
      '    server {',
      '        listen 80;',
      '        server_name private.test;',
      '        auth_basic "private";',
      '        auth_basic_user_file /etc/why403-test-htpasswd/users;',
      '    }',
      '}',
      '',
    ].join('\n'),
  );
  return { conf, etc: join(d, 'etc') };
}

async function findings(
  conf: string,
  opts: { pathMap?: Array<{ from: string; to: string }>; fs?: boolean; prefix?: string },
): Promise<ResultMessage[]> {
  const run = await lint([conf], { noConfig: true, ...opts });
  return run.results.flatMap((r) => r.messages).filter((m) => m.ruleId === RULE);
}

describe('nginx-htpasswd-missing reads the password file through the model', () => {
  it('follows --path-map: reported when the mapped file is missing, not once it exists', async () => {
    const { conf, etc } = tree();
    const pathMap = [{ from: '/etc/why403-test-htpasswd', to: etc }];
    // without the map, the installed directory does not exist here: nothing is said about it
    expect(await findings(conf, {})).toEqual([]);
    const missing = await findings(conf, { pathMap });
    expect(missing.map((m) => `${m.line}:${m.column}`)).toEqual(['7:30']);
    expect(missing[0]!.message).toContain(
      '/etc/why403-test-htpasswd/users does not exist, so every client that sends credentials gets 403',
    );
    writeFileSync(join(etc, 'users'), 'alice:$apr1$x$y\n');
    expect(await findings(conf, { pathMap })).toEqual([]);
  });

  it('with --fs the finding carries a request with credentials that explain shows to get 403 (N04)', async () => {
    const { conf, etc } = tree();
    const [m] = await findings(conf, { pathMap: [{ from: '/etc/why403-test-htpasswd', to: etc }], fs: true });
    expect(m?.status).toBe(403);
    expect(m?.cause).toBe('N04');
    expect(m?.request?.headers.Authorization).toMatch(/^Basic /);
    expect(m?.decidedBy?.line).toBe(7);
  });
});

const skip = nginxSkipReason();
if (skip) console.warn(`[htpasswd-missing] real-server part skipped: ${skip}`);

describe.skipIf(!!skip)('real nginx answers the finding request 403', () => {
  it('the request the finding carries gets 403 from nginx, and 401 without its credentials', async () => {
    const s = await startNginx({
      config: 'server_name private.test;\nroot www;\nauth_basic "private";\nauth_basic_user_file users-never-created;\n',
      context: 'server',
      files: { 'www/index.html': 'ok\n' },
    });
    const [m] = await findings(s.configFile, { fs: true, prefix: s.prefix + '/' });
    expect(m, 'the rule reports the missing file').toBeDefined();
    expect(m!.status).toBe(403);
    const url = new URL(m!.request!.url);
    const real = await request({
      port: s.port,
      method: m!.request!.method,
      path: url.pathname,
      host: url.host,
      headers: m!.request!.headers,
    });
    expect(real.status).toBe(403);
    const bare = await request({ port: s.port, path: url.pathname, host: url.host });
    expect(bare.status).toBe(401);
  });
});
