/**
 * Proofs under a disk assumption (src/model/proof.ts `assumes`) in the outputs and consumers:
 * - lint's JSON carries `assumes` beside `request`/`status`; SARIF says it in the code-flow message and
 *   the result's properties (and still validates against the SARIF 2.1.0 schema);
 * - the LSP hover shows the sample with its condition; `why403 map` (which shows no conditions) makes
 *   no such sample unless asked (`assumeDisk`);
 * - a claim whose possibility also rests on something else than the disk (a variable explain cannot
 *   know) stays without a request;
 * - the proof costs no extra simulator run: with `statusOnly` a null status stops after two runs.
 * The real-server side is test/proof-assumes-real.test.ts; the agreement with explain, test/invariant.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Validator } from '@cfworker/json-schema';
import { describe, expect, it } from 'vitest';
import { rules } from '../rules/index.js';
import { loadFormatter } from '../src/formatters/index.js';
import { engineRules } from '../src/linter.js';
import { loadConfig } from '../src/load.js';
import { hoverText } from '../src/lsp/hover.js';
import { mapConfig } from '../src/map/index.js';
import { modelFor } from '../src/model/index.js';
import { prove } from '../src/model/proof.js';
import { simStats } from '../src/nginx/model/index.js';
import { simStats as apacheSimStats } from '../src/apache/model/sim/index.js';
import { lint, lintText, type ResultMessage } from '../src/run.js';
import type { Settings } from '../src/rule.js';

const root = resolve(import.meta.dirname, '..');
const FIXTURE = join(root, 'fixtures/rules/nginx-sensitive-path-403/bad-error-page');
const CONF = join(FIXTURE, 'nginx.conf');
/** The page's path as explain resolves `root www;` without -p (nginx's default prefix). */
const PAGE = '/usr/share/nginx/www/errors/403.html';

async function findings(text?: string): Promise<ResultMessage[]> {
  const run = text === undefined ? await lint([CONF], { noConfig: true }) : await lintText(text, { filename: join(FIXTURE, 'x.conf') });
  return run.results.flatMap((r) => r.messages).filter((m) => m.ruleId === 'nginx-sensitive-path-403');
}

describe('a proof under a disk assumption', () => {
  it('JSON: assumes beside request and status', async () => {
    const [m] = await findings();
    expect(m.request).toEqual({ method: 'GET', url: 'http://site.test/.git', ip: '192.0.2.10', headers: {} });
    expect(m.status).toBe(403);
    expect(m.cause).toBe('N01');
    expect(m.decidedBy).toMatchObject({ file: CONF, line: 15, directive: 'deny all' });
    expect(m.assumes).toEqual([`file ${PAGE} is a file`]);
    expect(m.trace?.length).toBeGreaterThan(3);
  });

  it('SARIF: the code flow says the condition, the result carries it, the log validates', async () => {
    const run = await lint([CONF], { noConfig: true, cwd: root });
    const text = (await loadFormatter('sarif'))(run.results, { cwd: root, color: false, rules: [...rules, ...engineRules], version: '1' });
    const schema = JSON.parse(readFileSync(join(root, 'test/data/sarif-schema-2.1.0.json'), 'utf8'));
    const v = new Validator(schema, '4', false).validate(JSON.parse(text));
    expect(v.errors.slice(0, 5)).toEqual([]);
    const r = JSON.parse(text).runs[0].results.find((x: { ruleId: string }) => x.ruleId === 'nginx-sensitive-path-403');
    expect(r.properties).toEqual({ assumes: [`file ${PAGE} is a file`] });
    expect(r.codeFlows[0].message.text).toBe(`GET http://site.test/.git from 192.0.2.10 gets 403 if file ${PAGE} is a file`);
  });

  it('the LSP hover shows the sample with its condition; map makes such samples only when asked', async () => {
    const set = loadConfig(CONF, { server: 'nginx' });
    const file = set.files.get(CONF)!;
    const at = file.source.text.indexOf('location ~');
    const text = await hoverText({ set, settings: {} as Settings, modelOptions: {}, lo: {} }, file, at + 3, FIXTURE);
    expect(text).toContain(`from 192.0.2.10 → 403 if file ${PAGE} is a file`);
    const plain = mapConfig(set, {}).entries.find((e) => e.directive === 'deny all')!;
    expect(plain.sample).toBeNull();
    expect(plain.assumes).toBeUndefined();
    const asked = mapConfig(set, { assumeDisk: true }).entries.find((e) => e.directive === 'deny all')!;
    expect(asked.sample?.url).toBe('http://site.test/.git');
    expect(asked.assumes).toEqual([`file ${PAGE} is a file`]);
  });

  it('no proof when a condition is not about the disk, or when the disk cannot give the claim', async () => {
    const base = readFileSync(CONF, 'utf8');
    // the error page's location tests a variable explain cannot know: 403 if that `if` holds (an
    // assumption about the request, not the disk) and the page exists: no proof, no request
    const unknown = base.replace(
      'error_page 403 /errors/403.html;',
      'error_page 403 /errors/403.html;\n        location /errors/ {\n            if ($upstream_http_x_a) { add_header X-A 1; }\n        }',
    );
    const u = await findings(unknown);
    expect(u).toHaveLength(1);
    expect(u[0].request).toBeUndefined();
    expect(u[0].assumes).toBeUndefined();
    // `=404`: 404 whatever the disk holds; explain knows it, the claim is refuted and not reported
    expect(await findings(base.replace('error_page 403 /errors/403.html;', 'error_page 403 =404 /errors/403.html;'))).toEqual([]);
  });

  it('costs no simulator run: two runs for the proof, as before', () => {
    const m = modelFor(loadConfig(CONF, { server: 'nginx' }), {});
    const before = { ...simStats };
    const p = prove(m, { host: 'site.test', path: '/.git' }, { status: 403 }, { assumeDisk: true });
    expect(p && p.assumes).toEqual([`file ${PAGE} is a file`]);
    expect(simStats.simulations - before.simulations).toBe(1);
    expect(simStats.runs - before.runs).toBe(2);
    // without the option the same claim has no proof (null, not refuted)
    expect(prove(m, { host: 'site.test', path: '/.git' }, { status: 403 })).toBeNull();
  });
});

/** Apache: the same proofs (src/apache/model/sim marks `disk`; explain's `traceAssumes` is the default
 * handler's first possibility). The real-server side is test/proof-assumes-apache-real.test.ts. */
describe('an Apache proof under a disk assumption', () => {
  const A_FIXTURE = join(root, 'fixtures/rules/apache-location-overrides-files-deny/bad');
  const A_CONF = join(A_FIXTURE, 'httpd.conf');
  const A_RULE = 'apache-location-overrides-files-deny';
  const FILE = '/srv/why403/htdocs/.htpasswd';
  const aFindings = async (text?: string, fs = false) => {
    const run =
      text === undefined
        ? await lint([A_CONF], { noConfig: true, fs, pathMap: fs ? [{ from: '/srv/why403', to: A_FIXTURE }] : undefined })
        : await lintText(text, { filename: join(A_FIXTURE, 'x.conf') });
    return run.results.flatMap((r) => r.messages).filter((m) => m.ruleId === A_RULE);
  };

  it('JSON: a served file claims 200 under "exists and is readable"; --fs reads it instead', async () => {
    const [m] = await aFindings();
    expect(m.request).toEqual({ method: 'GET', url: 'http://localhost/.htpasswd', ip: '192.0.2.10', headers: {} });
    expect(m.status).toBe(200);
    expect(m.assumes).toEqual([`${FILE} exists and is readable`]);
    expect(m.trace?.map((t) => t.message)).toContain('authz_core: GRANTED (Require all granted)');
    const [f] = await aFindings(undefined, true);
    expect(f.status).toBe(200);
    expect(f.assumes).toBeUndefined();
  });

  it('no proof when the run meets an unknown besides the disk (an AllowOverride that lets a .htaccess decide)', async () => {
    const base = readFileSync(A_CONF, 'utf8');
    const other = base.replace(
      '<Location />',
      '<Directory ${HARNESS_ROOT}/htdocs>\n    AllowOverride AuthConfig\n</Directory>\n<Location />',
    );
    expect(other).not.toBe(base);
    const u = await aFindings(other);
    expect(u).toHaveLength(1);
    expect(u[0].request).toBeUndefined();
    expect(u[0].assumes).toBeUndefined();
  });

  it('costs no simulator run: one simulation of one run, as before', () => {
    const m = modelFor(loadConfig(A_CONF, { server: 'apache' }), {});
    const before = { ...apacheSimStats };
    const p = prove(m, { host: 'localhost', path: '/.htpasswd' }, { status: 200 }, { assumeDisk: true });
    expect(p && p.assumes).toEqual([`${FILE} exists and is readable`]);
    expect(apacheSimStats.simulations - before.simulations).toBe(1);
    expect(apacheSimStats.runs - before.runs).toBe(1);
    // without the option: no proof (null, not refuted); the other possibilities prove nothing either
    expect(prove(m, { host: 'localhost', path: '/.htpasswd' }, { status: 200 })).toBeNull();
    expect(prove(m, { host: 'localhost', path: '/.htpasswd' }, { status: 404 }, { assumeDisk: true })).toBeNull();
    expect(prove(m, { host: 'localhost', path: '/.htpasswd' }, { status: 403 }, { assumeDisk: true })).toBeNull();
  });
});
