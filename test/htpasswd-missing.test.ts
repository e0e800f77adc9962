/**
 * nginx-htpasswd-missing reads the password file through the model (`model.configFiles()`): the same
 * path map as every other consumer (`--path-map` and the `pathMap` setting), the worker's disk view
 * with --fs. With --fs its finding carries a request with credentials that explain shows to get 403
 * (N04), and real nginx answers that request 403.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lint, type ResultMessage } from '../src/run.js';
import { cliPath, ensureBuilt } from './harness/build.js';
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

describe('a fragment read alone: the rule and explain resolve a relative password file the same way', () => {
  // nginx joins a relative auth_basic_user_file to the conf prefix, the directory of the main config
  // (fixtures/rules/nginx-htpasswd-missing/conf-d shows it on real nginx: conf.d/htpasswd exists, the
  // request with credentials gets 403). A repository that holds only conf.d/site.conf gets the
  // loader's guess for that directory, the parent of conf.d/, in both the rule and the simulator;
  // explain used the fragment's own directory and answered 403 where the rule saw the file.
  const credentials = 'Authorization: Basic dXNlcjpzZWNyZXQ=';
  beforeAll(() => ensureBuilt(), 200_000);
  function fragment(): { d: string; conf: string } {
    const d = mkdtempSync(join(tmpdir(), 'why403-htpasswd-frag-'));
    dirs.push(d);
    chmodSync(d, 0o755); // the worker user (explain --fs reads as it) searches it
    mkdirSync(join(d, 'conf.d'));
    mkdirSync(join(d, 'www'));
    writeFileSync(join(d, 'www', 'index.html'), 'ok\n');
    const conf = join(d, 'conf.d', 'site.conf');
    writeFileSync(
      conf,
      'server {\n    listen 80;\n    server_name private.test;\n    root www;\n    auth_basic "private";\n    auth_basic_user_file htpasswd;\n}\n',
    );
    writeFileSync(join(d, 'conf.d', 'htpasswd'), 'user:{PLAIN}secret\n');
    return { d, conf };
  }
  // the CLI, as a user asks it (it builds the worker's view of the disk for --fs)
  function explainFs(conf: string): {
    status: number | null;
    cause: { id: string } | null;
    decidedBy: { line: number } | null;
    possibleOutcomes: { status: number }[];
  } {
    const r = spawnSync(
      process.execPath,
      [cliPath, 'explain', '--fs', '--format', 'json', conf, 'http://private.test/', '-H', credentials],
      {
        encoding: 'utf8',
        timeout: 30_000,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1' },
      },
    );
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  }

  it('the password file only beside the fragment: reported, and explain --fs gives 403 (N04) by that line', async () => {
    const { d, conf } = fragment();
    const found = await findings(conf, { fs: true });
    expect(found.map((m) => `${m.line}:${m.column}`)).toEqual(['6:26']);
    expect(found[0]!.message).toContain(`${join(d, 'htpasswd')} does not exist`);
    const e = explainFs(conf);
    expect([e.status, e.cause?.id, e.decidedBy?.line]).toEqual([403, 'N04', 6]);
  });

  it('the password file at the conf prefix: not reported, and explain --fs does not give 403', async () => {
    const { d, conf } = fragment();
    writeFileSync(join(d, 'htpasswd'), 'user:{PLAIN}secret\n');
    expect(await findings(conf, { fs: true })).toEqual([]);
    const e = explainFs(conf);
    expect(e.status).not.toBe(403);
    expect(e.possibleOutcomes.map((o) => o.status)).not.toContain(403);
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
