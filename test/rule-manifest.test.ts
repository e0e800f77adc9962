/**
 * src/rule-manifest.ts, the one hand-written rule list (the CLI loads from it lazily for a fast start,
 * rules/index.ts derives the library's list from it): it names every rule file, sorted, each id's prefix gives the rule's servers, a run loads only
 * the rules of the servers in it, and config validation without any rule loaded (stand-ins built
 * from schemas/why403.schema.json) uses the very schema the real rules give.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rules } from '../rules/index.js';
import { buildSchema } from '../src/config.js';
import { loadRules, RULE_IDS, RULE_MANIFEST, ruleStubsFromSchema, serversOfId } from '../src/rule-manifest.js';
import { cliPath, ensureBuilt, repoRoot } from './harness/build.js';

const schemaFile = join(repoRoot, 'schemas/why403.schema.json');
const tmp = mkdtempSync(join(tmpdir(), 'why403-manifest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the manifest', () => {
  test('lists every rule file of rules/, sorted (rules/index.ts is derived from it)', () => {
    const files = readdirSync(join(repoRoot, 'rules'))
      .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    const missing = files.filter((id) => !RULE_IDS.includes(id));
    const extra = RULE_IDS.filter((id) => !files.includes(id));
    const lines = missing.map((id) => `  ['${id}', () => import('../rules/${id}.js')],`).join('\n');
    expect({ missing, extra }, `src/rule-manifest.ts lacks rule files; add these lines there (sorted):\n${lines}\n`).toEqual({
      missing: [],
      extra: [],
    });
    expect(RULE_IDS).toEqual(files);
    expect(rules.map((r) => r.id)).toEqual(files);
  });

  test("each id's prefix names the rule's servers", () => {
    for (const r of rules) expect([...r.servers].sort(), r.id).toEqual([...serversOfId(r.id)].sort());
    expect(serversOfId('any-x')).toEqual(['nginx', 'apache']);
  });

  test('each entry loads the rule of its id (the module rules/index.ts imports)', async () => {
    const all = await loadRules();
    expect(all.map((r) => r.id)).toEqual(RULE_IDS);
    all.forEach((r, i) => expect(r).toBe(rules[i]));
    for (const [id, load] of RULE_MANIFEST) expect(((await load()).default as { id: string }).id).toBe(id);
  });

  test('loadRules(server) gives that server’s rules only, in order', async () => {
    for (const s of ['nginx', 'apache'] as const) {
      const got = await loadRules([s]);
      expect(got.map((r) => r.id)).toEqual(rules.filter((r) => r.servers.includes(s)).map((r) => r.id));
      expect(got.length).toBeGreaterThan(0);
    }
  });
});

describe('config validation stand-ins', () => {
  test('give the schema the real rules give', () => {
    const stubs = ruleStubsFromSchema(schemaFile);
    expect(stubs).not.toBeNull();
    expect(buildSchema(stubs!)).toEqual(buildSchema(rules));
  });

  test('are refused (null) when the schema file is missing, broken, or names other rules', () => {
    expect(ruleStubsFromSchema(join(tmp, 'nope.json'))).toBeNull();
    const broken = join(tmp, 'broken.json');
    writeFileSync(broken, '{"properties":');
    expect(ruleStubsFromSchema(broken)).toBeNull();
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as { properties: { rules: { properties: Record<string, unknown> } } };
    const props = schema.properties.rules.properties;
    delete props[RULE_IDS[0]];
    const fewer = join(tmp, 'fewer.json');
    writeFileSync(fewer, JSON.stringify(schema));
    expect(ruleStubsFromSchema(fewer)).toBeNull();
    props[RULE_IDS[0]] = props[RULE_IDS[1]];
    props['nginx-not-a-rule'] = props[RULE_IDS[1]];
    const other = join(tmp, 'other.json');
    writeFileSync(other, JSON.stringify(schema));
    expect(ruleStubsFromSchema(other)).toBeNull();
  });
});

describe('the CLI loads the rules of the servers in the run only', () => {
  beforeAll(() => ensureBuilt(), 180_000);

  // A module hook that prints every rules/*.js the process loads.
  const hook = join(tmp, 'hook.mjs');
  const register = join(tmp, 'register.mjs');
  writeFileSync(
    hook,
    `export async function load(url, ctx, next) {\n  if (/\\/dist\\/rules\\/[^/]+\\.js$/.test(url)) process._rawDebug('LOADED ' + url.replace(/^.*\\//, '').replace(/\\.js$/, ''));\n  return next(url, ctx);\n}\n`,
  );
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`);

  function loadedRules(args: string[], cwd = tmp): { code: number | null; loaded: string[]; out: string } {
    const r = spawnSync(process.execPath, ['--import', register, cliPath, ...args], {
      cwd,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: '1', WHY403_NO_BUNDLE: '1' },
    });
    const loaded = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('LOADED '))
      .map((l) => l.slice(7));
    return { code: r.status, loaded: [...new Set(loaded)].sort(), out: r.stdout + r.stderr };
  }
  const idsFor = (s: 'nginx' | 'apache') =>
    rules
      .filter((r) => r.servers.includes(s))
      .map((r) => r.id)
      .sort();

  test('an nginx file: the nginx rules, and they report', () => {
    const dir = mkdtempSync(join(tmp, 'n-'));
    writeFileSync(join(dir, 'site.conf'), 'server {\n    listen 80;\n    return 403;\n}\n');
    const r = loadedRules(['--server', 'nginx', 'site.conf'], dir);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain('nginx-return-403-server');
    expect(r.loaded).toEqual(idsFor('nginx'));
  });

  test('an Apache file with a config that sets an nginx rule: the Apache rules only, config still checked', () => {
    const dir = mkdtempSync(join(tmp, 'a-'));
    writeFileSync(
      join(dir, '.why403.json'),
      JSON.stringify({ rules: { 'nginx-return-403-server': 'off', 'apache-legacy-access-control': 'error' } }),
    );
    writeFileSync(join(dir, '.htaccess'), 'Order deny,allow\nDeny from all\n');
    const r = loadedRules(['.htaccess'], dir);
    expect(r.out).toContain('apache-legacy-access-control');
    expect(r.loaded).toEqual(idsFor('apache'));
    writeFileSync(
      join(dir, '.why403.json'),
      JSON.stringify({ rules: { 'apache-no-such-rule': 'error', 'nginx-return-403-server': ['warn', { x: 1 }] } }),
    );
    const bad = loadedRules(['.htaccess'], dir);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('unknown rule "apache-no-such-rule"');
    expect(bad.out).toContain('nginx-return-403-server');
    expect(bad.loaded).toEqual([]);
  });

  test('both servers in one run: every rule', () => {
    const dir = mkdtempSync(join(tmp, 'b-'));
    writeFileSync(join(dir, 'site.conf'), 'server {\n    listen 80;\n    return 403;\n}\n');
    writeFileSync(join(dir, '.htaccess'), 'Order deny,allow\nDeny from all\n');
    const r = loadedRules(['site.conf', '.htaccess'], dir);
    expect(r.out).toContain('nginx-return-403-server');
    expect(r.out).toContain('apache-legacy-access-control');
    expect(r.loaded).toEqual([...RULE_IDS].sort());
  });
});
