/**
 * Rule docs stay true (ESLint's checkRuleFiles + check-rule-examples): a doc for every rule and no
 * orphan; the fixed outline of LAYOUT.md §6.6; H1 = id; first paragraph = description; option
 * headings = schema properties; every `## Incorrect` example yields at least one finding of the
 * rule and every `## Correct` example none. Also: rules/index.ts is sorted and complete, and the
 * config schema in schemas/ is the one built from the rules' metadata.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { rules } from '../rules/index.js';
import { buildSchema } from '../src/config.js';
import { engineRules } from '../src/linter.js';
import { DOCS_BASE, RULE_ID_RE } from '../src/rule.js';
import { lintText } from '../src/run.js';
import { copyFsFixture } from './harness/fs-copy.js';

const root = resolve(import.meta.dirname, '..');
const all = [...rules, ...engineRules];
const REQUIRED = ['Why this returns 403', 'Incorrect', 'Correct', 'Options', 'Proof', 'How to fix', 'Further reading'];
const ORDER = ['Why this returns 403', 'Incorrect', 'Correct', 'Options', 'Proof', 'How to fix', 'When not to use it', 'Further reading'];

interface Example {
  lang: string;
  code: string;
  /** The fence's info string after the language: `file=NAME` lints the example under that file name
   * (e.g. `.htaccess`), `settings={…}` (JSON, to the end of the line) under those settings,
   * `fs=DIR` with `--fs` against a copy of that fixture directory laid out as the real-server harness
   * does (modes applied), standing for /srv/why403. */
  info: string;
}

function sections(doc: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = doc.split(/^## /m).slice(1);
  for (const p of parts) {
    const nl = p.indexOf('\n');
    out.set(p.slice(0, nl).trim(), p.slice(nl + 1));
  }
  return out;
}

function examples(body: string): Example[] {
  const out: Example[] = [];
  const re = /^```(\w+)([^\n]*)\n([\s\S]*?)^```/gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) out.push({ lang: m[1], info: m[2], code: m[3] });
  return out;
}

async function findings(ex: Example) {
  const server = ex.lang === 'nginx' ? 'nginx' : 'apache';
  const file = /(?:^|\s)file=(\S+)/.exec(ex.info)?.[1];
  const filename = file ? `doc-example/${file}` : server === 'nginx' ? 'doc-example/nginx.conf' : 'doc-example/apache2.conf';
  const settings = /(?:^|\s)settings=(\{.*\})\s*$/.exec(ex.info)?.[1];
  let configFile: string | undefined;
  if (settings) {
    configFile = join(mkdtempSync(join(tmpdir(), 'why403-doc-')), 'why403.config.json');
    writeFileSync(configFile, JSON.stringify({ settings: JSON.parse(settings) }));
  }
  const fsDir = /(?:^|\s)fs=(\S+)/.exec(ex.info)?.[1];
  const disk = fsDir ? copyFsFixture(join(root, fsDir)) : null;
  const run = await lintText(ex.code, {
    filename,
    server,
    cwd: root,
    configFile,
    ...(disk ? { fs: true, pathMap: [{ from: '/srv/why403', to: disk.root }] } : {}),
  }).finally(() => disk?.cleanup());
  expect(run.crashes).toEqual([]);
  return run.results.flatMap((r) => r.messages);
}

test('rules/index.ts lists every rule file once, sorted by id', () => {
  const files = readdirSync(join(root, 'rules'))
    .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
    .map((f) => f.replace(/\.ts$/, ''))
    .sort();
  const ids = rules.map((r) => r.id);
  expect(ids).toEqual([...ids].sort());
  expect(ids).toEqual(files);
  for (const id of ids) expect(id).toMatch(RULE_ID_RE);
});

test('a doc for every rule and no orphan doc', () => {
  const docs = readdirSync(join(root, 'rules'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => f.replace(/\.md$/, ''))
    .sort();
  expect(docs).toEqual(all.map((r) => r.id).sort());
});

test('schemas/why403.schema.json is the schema built from the rules (regenerate: WHY403_UPDATE=1)', async () => {
  const file = join(root, 'schemas/why403.schema.json');
  const built = JSON.stringify(buildSchema(rules), null, 2) + '\n';
  if (process.env.WHY403_UPDATE) (await import('node:fs')).writeFileSync(file, built);
  expect(readFileSync(file, 'utf8')).toBe(built);
});

describe.each(all.map((r) => [r.id, r] as const))('%s', (id, rule) => {
  // A missing doc fails the tests below (and the orphan test), not the whole file.
  const docPath = join(root, 'rules', `${id}.md`);
  const doc = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '';
  const secs = sections(doc);

  test('outline, title, description and docs URL', () => {
    expect(existsSync(docPath), `rules/${id}.md is missing`).toBe(true);
    expect(doc.split('\n')[0]).toBe(`# ${id}`);
    const firstPara = doc
      .split(/\n\s*\n/)[1]
      ?.replace(/\s+/g, ' ')
      .trim();
    expect(firstPara).toBe(rule.description);
    const heads = [...secs.keys()];
    for (const h of REQUIRED) expect(heads).toContain(h);
    for (const h of heads) expect(ORDER).toContain(h);
    expect(heads).toEqual(ORDER.filter((h) => heads.includes(h)));
    expect(rule.docsUrl).toBe(`${DOCS_BASE}${id}.md`);
  });

  test("proof section says what the rule's `proof` says", () => {
    const body = (secs.get('Proof') ?? '').replace(/\s+/g, ' ').trim();
    if (rule.proof === 'request') expect(body).toMatch(/^A finding that says what a request gets carries that request/);
    else expect(body).toBe(`Findings carry no request. ${rule.proof?.none}`);
  });

  test('options section matches the schema', () => {
    const props = Object.keys(rule.options?.properties ?? {}).sort();
    const body = secs.get('Options') ?? '';
    const h3 = [...body.matchAll(/^### (\S+)/gm)].map((m) => m[1]).sort();
    if (props.length === 0) expect(body.trim()).toBe('This rule has no options.');
    else expect(h3).toEqual(props);
  });

  test('every Incorrect example has a finding of the rule, every Correct example none', async () => {
    const bad = examples(secs.get('Incorrect') ?? '');
    const good = examples(secs.get('Correct') ?? '');
    expect(bad.length).toBeGreaterThan(0);
    expect(good.length).toBeGreaterThan(0);
    for (const ex of [...bad, ...good]) expect(['nginx', 'apache']).toContain(ex.lang);
    for (const ex of bad) expect((await findings(ex)).filter((m) => m.ruleId === id).length, ex.code).toBeGreaterThan(0);
    for (const ex of good)
      expect(
        (await findings(ex)).filter((m) => m.ruleId === id),
        ex.code,
      ).toEqual([]);
  });
});
