/**
 * `explain --auth user:password` decides 401-or-not from the user file (issue 13), and the real
 * servers confirm each prediction: nginx auth_basic and Apache mod_authn_file, with right and wrong
 * passwords, a user the file lacks, and Apache's AuthzSendForbiddenOnFailure (403 only after the
 * password passed).
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { explain } from '../src/explain/index.js';
import { parseExplainRequest } from '../src/explain/request.js';
import { loadConfig } from '../src/load.js';
import { apacheSkipReason, nginxSkipReason, startApache, startNginx, stopAllServers, type RunningServer } from './harness/servers.js';
import { request } from './harness/requests.js';

const htpasswd =
  spawnSync('htpasswd', ['-nbB', 'x', 'y'], { encoding: 'utf8', timeout: 20_000 }).status === 0
    ? null
    : 'htpasswd (apache2-utils) is not installed';
const ht = (flag: string, user: string, pw: string) =>
  spawnSync('htpasswd', ['-nb', flag, user, pw], { encoding: 'utf8', timeout: 20_000 }).stdout.trim();
const basic = (u: string, p: string) => ({ Authorization: 'Basic ' + Buffer.from(`${u}:${p}`, 'utf8').toString('base64') });

afterEach(stopAllServers);

/** Predicted and real status of each user:password on `path`. */
async function agree(s: RunningServer, tries: [string, string, number][], path = '/'): Promise<string[]> {
  const set = loadConfig(
    s.configFile,
    s.kind === 'nginx'
      ? { server: 'nginx', prefix: s.prefix + '/' }
      : { server: 'apache', serverRoot: s.prefix, defines: { HARNESS_ROOT: s.prefix } },
  );
  const rows: string[] = [];
  for (const [user, password, want] of tries) {
    const parsed = parseExplainRequest({ target: `http://localhost:${s.port}${path}`, auth: `${user}:${password}` });
    if (!parsed.ok) throw new Error(parsed.error);
    const e = explain(set, s.configFile, parsed.request, {
      fs: true,
      pathMap: [],
      cwd: '',
      ...(s.kind === 'nginx' ? { prefix: s.prefix + '/' } : { serverRoot: s.prefix, defines: { HARNESS_ROOT: s.prefix } }),
    });
    const real = (await request({ port: s.port, path, headers: basic(user, password) })).status;
    rows.push(`${user}:${password} predicted ${e.status} real ${real} expected ${want} (${e.verdict})`);
  }
  return rows;
}

const nginxSkip = htpasswd ?? nginxSkipReason();
const apacheSkip = htpasswd ?? apacheSkipReason();
if (nginxSkip) console.warn(`[auth-explain-real] nginx part skipped: ${nginxSkip}`);
if (apacheSkip) console.warn(`[auth-explain-real] Apache part skipped: ${apacheSkip}`);

describe.skipIf(!!nginxSkip)('nginx: explain --auth against auth_basic_user_file', () => {
  it('right password 200, wrong password and unknown user 401', async () => {
    const users = [ht('-B', 'alice', 'secret'), ht('-m', 'bob', 'hunter2'), ht('-s', 'carol', 'sha')].join('\n') + '\n';
    const s = await startNginx({
      config: 'location / {\n    auth_basic "x";\n    auth_basic_user_file users;\n    root www;\n}\n',
      files: { users, 'www/index.html': 'ok\n' },
    });
    const rows = await agree(s, [
      ['alice', 'secret', 200],
      ['alice', 'Secret', 401],
      ['bob', 'hunter2', 200],
      ['bob', '', 401],
      ['carol', 'sha', 200],
      ['dave', 'secret', 401],
    ]);
    for (const r of rows) expect(r, rows.join('\n')).toMatch(/predicted (\d+) real \1 expected \1 /);
  });
});

describe.skipIf(!!apacheSkip)('Apache: explain --auth against AuthUserFile', () => {
  it('right password 200, wrong password and unknown user 401; AuthzSendForbiddenOnFailure gives 403 only after the password passed', async () => {
    const users = [ht('-B', 'alice', 'secret'), ht('-m', 'bob', 'hunter2')].join('\n') + '\n';
    const s = await startApache({
      config: [
        '<Directory ${HARNESS_ROOT}/htdocs>',
        '    AuthType Basic',
        '    AuthName x',
        '    AuthUserFile ${HARNESS_ROOT}/users',
        '    Require valid-user',
        '</Directory>',
        '<Directory ${HARNESS_ROOT}/htdocs/bob>',
        '    Require user bob',
        '    AuthzSendForbiddenOnFailure On',
        '</Directory>',
        '',
      ].join('\n'),
      files: { users, 'htdocs/index.html': 'ok\n', 'htdocs/bob/index.html': 'bob\n' },
    });
    const rows = [
      ...(await agree(s, [
        ['alice', 'secret', 200],
        ['alice', 'nope', 401],
        ['bob', 'hunter2', 200],
        ['eve', 'secret', 401],
      ])),
      ...(await agree(
        s,
        [
          ['bob', 'hunter2', 200],
          ['alice', 'secret', 403],
          ['alice', 'nope', 401],
        ],
        '/bob/',
      )),
    ];
    for (const r of rows) expect(r, rows.join('\n')).toMatch(/predicted (\d+) real \1 expected \1 /);
  });
});
