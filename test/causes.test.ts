/**
 * The 403 catalog stays one thing: the ids in src/causes.ts, the rows of docs/403-causes.md and every
 * id the code and the rule docs use agree; every row has its anchor, heading and overview line; the
 * rules a row names mention it and every rule that mentions an id is named by that row; links to the
 * catalog resolve; nothing points at the team's design notes (users do not have them).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG_URL, CAUSE_IDS, CAUSES, causeDocPath, causeDocUrl, causeTitle, isCauseId, type CauseId } from '../src/causes.js';
import { CAUSES as EXPLAIN_CAUSES, causeTitle as explainCauseTitle } from '../src/explain/index.js';

const root = resolve(import.meta.dirname, '..');
const DOC = 'docs/403-causes.md';
const doc = readFileSync(join(root, DOC), 'utf8');

function files(dir: string, exts: string[]): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...files(p, exts));
    else if (e.isFile() && exts.some((x) => e.name.endsWith(x))) out.push(p); // not symlinks (fixtures hold dangling ones)
  }
  return out.sort();
}

/** Catalog-looking ids in a text: N01…, A01… (httpd's AH01630 log codes do not match). */
const ID_RE = /(?<![\w-])[AN]\d{2}(?![\w-])/g;
const idsIn = (text: string): string[] => [...new Set(text.match(ID_RE) ?? [])];

/** The doc's section for one id: from its anchor to the next anchor. */
function rowOf(id: string): string {
  const start = doc.indexOf(`<a id="${id.toLowerCase()}"></a>`);
  if (start === -1) return '';
  const next = doc.indexOf('<a id="', start + 1);
  return doc.slice(start, next === -1 ? undefined : next);
}

function field(row: string, name: string): string {
  return new RegExp(`^- \\*\\*${name}:\\*\\* (.*)$`, 'm').exec(row)?.[1] ?? '';
}

const expected = [
  ...Array.from({ length: 25 }, (_, i) => `N${String(i + 1).padStart(2, '0')}`),
  ...Array.from({ length: 50 }, (_, i) => `A${String(i + 1).padStart(2, '0')}`),
];

describe('src/causes.ts', () => {
  it('has exactly N01–N25 and A01–A50, in catalog order, with the right server', () => {
    expect([...CAUSE_IDS]).toEqual(expected);
    expect(Object.keys(CAUSES)).toEqual(expected);
    for (const id of CAUSE_IDS) {
      expect(CAUSES[id].server).toBe(id.startsWith('N') ? 'nginx' : 'apache');
      expect(CAUSES[id].title).toMatch(/^\S.*\S$/);
      expect(CAUSES[id].title).not.toMatch(/\.$/);
    }
    const titles = CAUSE_IDS.map((id) => `${CAUSES[id].server}: ${CAUSES[id].title}`);
    expect(new Set(titles).size).toBe(titles.length);
  });
  it('severity classes: the always-403 rows are the ones the config alone decides', () => {
    const by = (s: string) => CAUSE_IDS.filter((id) => CAUSES[id].severity === s);
    expect(by('always-403')).toEqual(['N01', 'N06', 'A01', 'A04', 'A05', 'A06', 'A07', 'A23', 'A24', 'A25', 'A26', 'A29', 'A30']);
    expect(by('not-http')).toEqual(['N25']);
    expect(by('filesystem')).toHaveLength(8 + 12);
  });
  it('causeTitle, isCauseId, causeDocPath; explain re-exports the same table', () => {
    expect(causeTitle('N12')).toBe('directory index forbidden: no index file and autoindex off');
    expect(causeTitle(null)).toBeNull();
    expect(causeTitle(undefined)).toBeNull();
    expect(causeTitle('N26')).toBeNull();
    expect(causeTitle('toString')).toBeNull();
    expect(isCauseId('A50')).toBe(true);
    expect(isCauseId('A51')).toBe(false);
    expect(isCauseId('__proto__')).toBe(false);
    expect(causeDocPath('A30')).toBe('docs/403-causes.md#a30');
    expect(causeDocUrl('N01')).toBe(`${CATALOG_URL}#n01`);
    expect(CATALOG_URL.endsWith(`/${DOC}`)).toBe(true);
    expect(EXPLAIN_CAUSES).toBe(CAUSES);
    expect(explainCauseTitle).toBe(causeTitle);
    // @ts-expect-error: not a catalog id (a typo must not compile)
    const typo: CauseId = 'N1';
    expect(isCauseId(typo)).toBe(false);
  });
});

describe('docs/403-causes.md', () => {
  it('every CAUSES row has an anchor, a heading with its title, an overview line and every field', () => {
    for (const id of CAUSE_IDS) {
      const row = rowOf(id);
      expect(row, `${DOC} has no <a id="${id.toLowerCase()}"></a>`).not.toBe('');
      expect(row).toContain(`\n#### ${id}: ${CAUSES[id].title}\n`);
      for (const f of ['Trigger', 'Error log', 'Source', 'Severity', 'Reproduced on a real server', 'Rules', '`explain`'])
        expect(field(row, f), `${id}: ${f}`).not.toBe('');
      // Every row names the server source it comes from (file: function), or a Debian config file.
      expect(field(row, 'Source'), id).toMatch(/\.(c|h|pm|conf)\b|echo-nginx-module/);
      const line = doc.split('\n').find((l) => l.startsWith(`| [${id}](#${id.toLowerCase()}) |`));
      expect(line, `overview line of ${id}`).toBeDefined();
      expect(line).toContain(`| ${CAUSES[id].title.replace(/\|/g, '\\|')} | ${CAUSES[id].severity} |`);
    }
  });
  it('has no row, anchor or id that src/causes.ts does not know', () => {
    const anchors = [...doc.matchAll(/<a id="([a-z0-9-]+)"><\/a>/g)].map((m) => m[1]);
    expect(new Set(anchors).size).toBe(anchors.length);
    const idAnchors = anchors.filter((a) => /^[an]\d{2}$/.test(a));
    expect(idAnchors).toEqual(expected.map((id) => id.toLowerCase()));
    for (const id of idsIn(doc)) expect(isCauseId(id), `${DOC} mentions ${id}`).toBe(true);
    const headings = [...doc.matchAll(/^#### ([AN]\d{2}):/gm)].map((m) => m[1]);
    expect(headings).toEqual(expected);
  });
  it('every link inside the doc resolves to an anchor, and every rule it names exists', () => {
    const anchors = new Set([...doc.matchAll(/<a id="([a-z0-9-]+)"><\/a>/g)].map((m) => m[1]));
    const internal = [...doc.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(internal.length).toBeGreaterThan(100);
    for (const a of internal) expect(anchors.has(a), `#${a}`).toBe(true);
    const rules = new Set(files('rules', ['.md']).map((f) => f.slice('rules/'.length, -3)));
    for (const m of doc.matchAll(/\]\(\.\.\/rules\/([^)]+)\.md\)/g)) expect(rules.has(m[1]), m[1]).toBe(true);
  });
});

describe('every id used in src/ and rules/ is in the catalog', () => {
  const sources = [...files('src', ['.ts']), ...files('rules', ['.ts', '.md'])];
  it.each(sources)('%s', (f) => {
    for (const id of idsIn(readFileSync(join(root, f), 'utf8'))) {
      expect(isCauseId(id), `${f} uses ${id}`).toBe(true);
      expect(rowOf(id), `${f} uses ${id}, which has no row in ${DOC}`).not.toBe('');
    }
  });
});

it('every `# cause:` / `# model-cause:` marker in fixtures/ names a catalog id', () => {
  const all = files('fixtures', ['']).filter((f) => !f.includes('/golden/'));
  let markers = 0;
  for (const f of all) {
    const text = readFileSync(join(root, f), 'latin1');
    for (const m of text.matchAll(/^\s*#\s*(?:model-)?cause:\s*(\S+)/gm)) {
      markers++;
      expect(isCauseId(m[1]), `${f}: ${m[0].trim()}`).toBe(true);
    }
  }
  expect(markers).toBeGreaterThan(20);
});

describe('rules and rows agree', () => {
  const ruleFiles = files('rules', ['.ts', '.md']).filter((f) => f !== 'rules/index.ts');
  it('a rule that mentions an id is named in that row; a rule a row names mentions the id in its doc', () => {
    for (const f of ruleFiles) {
      const rule = f.slice('rules/'.length).replace(/\.(ts|md)$/, '');
      for (const id of idsIn(readFileSync(join(root, f), 'utf8')))
        expect(field(rowOf(id), 'Rules'), `${f} mentions ${id}`).toContain(`[${rule}](../rules/${rule}.md)`);
    }
    for (const id of CAUSE_IDS) {
      for (const m of field(rowOf(id), 'Rules').matchAll(/\(\.\.\/rules\/([^)]+)\.md\)/g)) {
        const ruleDoc = readFileSync(join(root, 'rules', `${m[1]}.md`), 'utf8');
        expect(ruleDoc, `rules/${m[1]}.md should link its row ${id}`).toContain(`(${causeDocUrl(id)})`);
      }
    }
  });
  it('"explain: yes" only for the ids the simulators can name', () => {
    const sim = new Set(
      [...files('src/nginx/model', ['.ts']), ...files('src/apache/model', ['.ts'])].flatMap((f) =>
        [...readFileSync(join(root, f), 'utf8').matchAll(/'([AN]\d{2})'/g)].map((m) => m[1]),
      ),
    );
    expect(sim.size).toBeGreaterThan(30);
    for (const id of CAUSE_IDS) {
      const e = field(rowOf(id), '`explain`');
      if (e.startsWith('yes')) expect(sim.has(id), `${id} says explain models it`).toBe(true);
      // Named by a simulator but not reachable as the decided 403 of `explain` must say why.
      else if (sim.has(id)) expect(e, id).toMatch(/^(listed under "Also possible"|no: )/);
    }
  });
});

describe('links to the catalog, and none to the design notes', () => {
  const texts = ['README.md', 'package.json', ...files('docs', ['.md']), ...files('src', ['.ts']), ...files('rules', ['.ts', '.md'])];
  it.each(texts)('%s', (f) => {
    const text = readFileSync(join(root, f), 'utf8');
    expect(text).not.toMatch(/shared\/design|403-CAUSES/);
    for (const m of text.matchAll(/\]\(([./]*(?:docs\/)?)403-causes\.md(?:#([^)]*))?\)/g)) {
      const target = relative(root, resolve(join(root, f, '..'), `${m[1]}403-causes.md`));
      expect(target, `${f}: ${m[0]}`).toBe(DOC);
      if (m[2]) expect(doc, `${f}: ${m[0]}`).toContain(`<a id="${m[2]}"></a>`);
    }
    for (const m of text.matchAll(/403-causes\.md#([a-z0-9-]+)/g)) expect(doc, `${f}: #${m[1]}`).toContain(`<a id="${m[1]}"></a>`);
  });
  it('the package ships the catalog', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.files.some((f: string) => f === DOC || f === 'docs/*.md')).toBe(true);
  });
});
