/**
 * One model, one truth. Every finding that claims a status carries a sample request; `explain` on that
 * request, from a fresh load of the config the finding names, must give the same status, the same
 * catalog cause and the same deciding directive. A claim that holds only under assumptions about the
 * disk (`assumes`, no --fs) must find explain's status unknown and, among its possible outcomes, one
 * that rests on the disk alone with the claimed status, cause, deciding directive and exactly those
 * conditions. Checked over every fixture and every corpus file the real servers accept; a few of them
 * also through the CLI (`why403 explain <config> <url> --ip …`), exactly as a user would copy them
 * from the JSON output.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { explain, parseExplainRequest } from '../src/explain/index.js';
import type { Explanation } from '../src/explain/types.js';
import { loadConfig } from '../src/load.js';
import { lint, type LintRun, type ResultMessage } from '../src/run.js';
import type { PathMapping, ServerKind } from '../src/ast.js';
import { ensureBuilt } from './harness/build.js';
import { CORPUS, corpusLinks, corpusPresent, corpusRows } from './harness/corpus.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(root, 'dist', 'src', 'cli.js');

interface Claim {
  where: string;
  m: ResultMessage;
  pathMap: PathMapping[];
  server?: ServerKind;
}

function claimsOf(run: LintRun, pathMap: PathMapping[] = [], server?: ServerKind): Claim[] {
  const out: Claim[] = [];
  for (const r of run.results)
    for (const m of r.messages) if (m.request) out.push({ where: `${r.filePath}:${m.line}:${m.column} ${m.ruleId}`, m, pathMap, server });
  return out;
}

/** explain from a fresh load of the finding's config, with the finding's request. */
function explainClaim(c: Claim) {
  const req = c.m.request!;
  const parsed = parseExplainRequest({
    target: req.url,
    method: req.method,
    ip: req.ip,
    headers: Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`),
    ...(req.proxy !== undefined ? { proxy: req.proxy } : {}),
  });
  if (!parsed.ok) throw new Error(`${c.where}: the sample request does not parse: ${parsed.error}`);
  const set = loadConfig(c.m.config!, { ...(c.server ? { server: c.server } : {}), ...(c.pathMap.length ? { pathMap: c.pathMap } : {}) });
  // a finding in a .htaccess proven on its main config: explain reads the access files on the way (--htaccess)
  return explain(set, c.m.config!, parsed.request, {
    fs: false,
    pathMap: c.pathMap,
    cwd: '',
    ...(c.m.htaccess ? { readHtaccess: true } : {}),
  });
}

/** `file:line:column`; the CLI prints paths relative to its working directory (`root` here). */
const place = (d: { file: string; line: number; column: number } | null | undefined) =>
  d ? `${resolve(root, d.file)}:${d.line}:${d.column}` : '-';

/** What a claim says, as explain would say it: status, cause, deciding directive (and the assumptions). */
const claimText = (m: ResultMessage) =>
  `${m.status} ${m.cause ?? '-'} ${place(m.decidedBy)}${m.assumes ? ` if ${m.assumes.join(' and ')}` : ''}`;

/** The possible outcomes of an explanation that rest on the disk alone, in the words of `claimText`. */
const diskOutcomes = (e: Pick<Explanation, 'possibleOutcomes'>) =>
  e.possibleOutcomes.filter((o) => o.disk).map((o) => `${o.status} ${o.cause ?? '-'} ${place(o.decidedBy)} if ${o.when.join(' and ')}`);

function disagreements(claims: Claim[]): string[] {
  const bad: string[] = [];
  for (const c of claims) {
    const e = explainClaim(c);
    const want = claimText(c.m);
    const req = `for ${c.m.request!.method} ${c.m.request!.url}`;
    if (c.m.assumes) {
      // explain cannot tell without the disk, and one of its possibilities is exactly the claim
      const got = diskOutcomes(e);
      if (e.status !== null || !got.includes(want))
        bad.push(
          `${c.where}: finding says ${want}, explain says ${e.status ?? 'unknown'} (disk outcomes: ${got.join('; ') || 'none'}) ${req}`,
        );
      continue;
    }
    const got = `${e.status} ${e.cause?.id ?? '-'} ${place(e.decidedBy)}`;
    if (got !== want) bad.push(`${c.where}: finding says ${want}, explain says ${got} ${req}`);
  }
  return bad;
}

/** Fixture inputs: every case directory or config file under fixtures/rules/<rule>/ and fixtures/explain/<server>/. */
function fixtureInputs(): string[] {
  const out: string[] = [];
  for (const base of ['fixtures/rules', 'fixtures/explain/nginx', 'fixtures/explain/apache', 'fixtures/examples']) {
    const dir = join(root, base);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (base === 'fixtures/rules') {
        if (!statSync(p).isDirectory()) continue;
        for (const c of readdirSync(p).sort()) if (!c.endsWith('.md')) out.push(join(p, c));
      } else out.push(p);
    }
  }
  return out;
}

const distinct = (claims: Claim[]) => new Set(claims.map((c) => `${c.where} ${c.m.message}`));

/** Rule fixture directories holding a .htaccess: linted as test/rules.test.ts lints them (the config's
 * /srv/why403 mapped to the directory), so each .htaccess is linked to the main config beside it. */
function linkedFixtures(): string[] {
  const out: string[] = [];
  const hasHtaccess = (d: string): boolean =>
    readdirSync(d, { withFileTypes: true }).some((e) => (e.isDirectory() ? hasHtaccess(join(d, e.name)) : e.name === '.htaccess'));
  const rules = join(root, 'fixtures/rules');
  for (const id of readdirSync(rules).sort()) {
    if (!id.startsWith('apache-') || !statSync(join(rules, id)).isDirectory()) continue;
    for (const c of readdirSync(join(rules, id)).sort()) {
      const p = join(rules, id, c);
      if (statSync(p).isDirectory() && existsSync(join(p, 'httpd.conf')) && hasHtaccess(p)) out.push(p);
    }
  }
  return out;
}

describe('every finding that claims a status agrees with explain', () => {
  const all: Claim[] = [];

  it('on every fixture', { timeout: 240_000 }, async () => {
    for (const input of fixtureInputs()) {
      const run = await lint([input], { cwd: root, reportUnusedSuppressions: 'off' });
      expect(run.crashes, input).toEqual([]);
      all.push(...claimsOf(run));
    }
    expect(disagreements(all)).toEqual([]);
    expect(distinct(all).size).toBeGreaterThan(20);
  });

  it('on every .htaccess fixture linted with its main config: proven there, with the file in place', { timeout: 120_000 }, async () => {
    const claims: Claim[] = [];
    for (const dir of linkedFixtures()) {
      const pathMap = [{ from: '/srv/why403', to: dir }];
      const run = await lint([dir], { cwd: root, pathMap, reportUnusedSuppressions: 'off' });
      expect(run.crashes, dir).toEqual([]);
      claims.push(...claimsOf(run, pathMap, 'apache'));
    }
    const linked = claims.filter((c) => c.where.split(':')[0].endsWith('/.htaccess'));
    // each names the main config, says explain needs --htaccess, and its trace runs from that config into the file
    for (const c of linked) {
      expect(c.m.config, c.where).toMatch(/\/httpd\.conf$/);
      expect(c.m.htaccess, c.where).toBe(true);
      expect(c.m.trace!.some((t) => t.file === c.m.config)).toBe(true);
      expect(c.m.trace!.at(-1)!.file, c.where).toBe(c.where.split(':')[0]);
    }
    expect(new Set(linked.map((c) => c.m.ruleId))).toEqual(new Set(['apache-explicit-forbidden', 'apache-htaccess-directive-not-allowed']));
    // a main config's claim made with a .htaccess of the run on the request's path says so too (it was
    // proven with the run's .htaccess files in place: fixtures/rules/apache-docroot-denied/htaccess-*)
    const mains = claims.filter((c) => c.m.htaccess && c.where.split(':')[0].endsWith('/httpd.conf'));
    expect(mains.map((c) => c.m.ruleId)).toContain('apache-docroot-denied');
    for (const c of mains) expect(c.m.config, c.where).toBe(c.where.split(':')[0]);
    expect(disagreements(claims)).toEqual([]);
    // without the .htaccess files explain cannot tell (AllowOverride lets them decide): the flag is needed
    for (const c of linked) expect(explainClaim({ ...c, m: { ...c.m, htaccess: undefined } }).status, c.where).toBeNull();
    all.push(...claims);
  });

  it('a claim under a disk assumption is checked as strictly: each lie is caught', () => {
    // fixtures/rules/nginx-sensitive-path-403/bad-error-page: 403 only while the error page exists
    const assumed = all.filter((c) => c.m.assumes && c.m.ruleId === 'nginx-sensitive-path-403');
    expect(assumed.length).toBeGreaterThan(0);
    const c = assumed[0];
    expect(c.m.assumes).toEqual([expect.stringMatching(/^file \/.*\/errors\/403\.html is a file$/)]);
    const forged = (m: Partial<ResultMessage>): Claim => ({ ...c, m: { ...c.m, ...m } });
    const lies = [
      // the other possibility's condition (its status is 404), or one condition too many
      forged({ assumes: [c.m.assumes![0].replace(/is a file$/, 'does not exist')] }),
      forged({ assumes: [...c.m.assumes!, 'file /nonexistent is a file'] }),
      // no assumption: explain's status is unknown, not 403
      forged({ assumes: undefined }),
      forged({ status: 404 }),
      forged({ cause: 'N06' }),
      forged({ decidedBy: { ...c.m.decidedBy!, line: c.m.decidedBy!.line + 1 } }),
    ];
    for (const lie of lies) expect(disagreements([lie]), claimText(lie.m)).toHaveLength(1);
  });

  it.skipIf(!corpusPresent)('on every corpus file the real servers accept', { timeout: 300_000 }, async () => {
    const claims: Claim[] = [];
    for (const server of ['nginx', 'apache'] as const) {
      const links = corpusLinks(`${server}/`);
      for (const r of corpusRows(server).filter((x) => x.result === 'ok')) {
        const file = join(CORPUS, r.path);
        const etc = server === 'nginx' ? '/etc/nginx' : '/etc/apache2';
        const layout = r.method.startsWith('layout') ? [{ from: etc, to: dirname(file) }] : [];
        const pathMap = [...links, ...layout];
        const run = await lint([file], { cwd: CORPUS, noConfig: true, server, pathMap, reportUnusedSuppressions: 'off' });
        expect(run.crashes, r.path).toEqual([]);
        claims.push(...claimsOf(run, pathMap, server));
      }
    }
    expect(disagreements(claims)).toEqual([]);
    all.push(...claims);
    const n = distinct(all).size;
    console.log(`invariant: ${n} distinct findings carry a sample request (${claims.length} from the corpus); explain agrees with each`);
    expect(n).toBeGreaterThanOrEqual(40);
  });

  it('through the CLI, as a user copies the request from the JSON output', { timeout: 120_000 }, () => {
    ensureBuilt();
    const picked = new Map<string, Claim>();
    for (const c of all) if (!c.pathMap.length && !picked.has(c.m.ruleId)) picked.set(c.m.ruleId, c);
    expect(picked.size).toBeGreaterThan(5);
    // and every claim under a disk assumption, and every .htaccess finding proven on its main config
    const assumed = all.filter((c) => c.m.assumes && !c.pathMap.length);
    expect(assumed.length).toBeGreaterThan(0);
    const linked = all.filter((c) => c.m.htaccess);
    expect(linked.length).toBeGreaterThan(1);
    for (const c of [...picked.values(), ...assumed, ...linked]) {
      const r = c.m.request!;
      const args = [CLI, 'explain', c.m.config!, r.url, '--method', r.method, '--ip', r.ip];
      for (const [k, v] of Object.entries(r.headers)) args.push('--header', `${k}: ${v}`);
      if (r.proxy !== undefined) args.push('--proxy', String(r.proxy));
      if (c.m.htaccess) args.push('--htaccess');
      for (const p of c.pathMap) args.push('--path-map', `${p.from}=${p.to}`);
      const run = (format: string) =>
        execFileSync(process.execPath, [...args, '--format', format], { encoding: 'utf8', timeout: 30_000, cwd: root });
      const out = JSON.parse(run('json')) as Explanation;
      if (!c.m.assumes) {
        expect(`${out.status} ${out.cause?.id ?? '-'}`, c.where).toBe(`${c.m.status} ${c.m.cause ?? '-'}`);
        continue;
      }
      expect(out.status, c.where).toBeNull();
      expect(diskOutcomes(out), c.where).toContain(claimText(c.m));
      // the text a user reads lists the claimed status under exactly those conditions
      const lines = run('text').split('\n');
      expect(
        lines.some((l) => l.startsWith(`  - ${c.m.status} `) && l.endsWith(` if ${c.m.assumes!.join(' and ')}`)),
        c.where,
      ).toBe(true);
    }
  });
});
