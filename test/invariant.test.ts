/**
 * One model, one truth. Every finding that claims a status carries a sample request; `explain` on that
 * request, from a fresh load of the config the finding names, must give the same status, the same
 * catalog cause and the same deciding directive. Checked over every fixture and every corpus file the
 * real servers accept; a few of them also through the CLI (`why403 explain <config> <url> --ip …`),
 * exactly as a user would copy them from the JSON output.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { explain, parseExplainRequest } from '../src/explain/index.js';
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
  });
  if (!parsed.ok) throw new Error(`${c.where}: the sample request does not parse: ${parsed.error}`);
  const set = loadConfig(c.m.config!, { ...(c.server ? { server: c.server } : {}), ...(c.pathMap.length ? { pathMap: c.pathMap } : {}) });
  return explain(set, c.m.config!, parsed.request, { fs: false, pathMap: c.pathMap, cwd: '' });
}

function disagreements(claims: Claim[]): string[] {
  const bad: string[] = [];
  for (const c of claims) {
    const e = explainClaim(c);
    const got = `${e.status} ${e.cause?.id ?? '-'} ${e.decidedBy ? `${e.decidedBy.file}:${e.decidedBy.line}:${e.decidedBy.column}` : '-'}`;
    const d = c.m.decidedBy;
    const want = `${c.m.status} ${c.m.cause ?? '-'} ${d ? `${d.file}:${d.line}:${d.column}` : '-'}`;
    if (got !== want) bad.push(`${c.where}: finding says ${want}, explain says ${got} for ${c.m.request!.method} ${c.m.request!.url}`);
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
    for (const c of picked.values()) {
      const r = c.m.request!;
      const args = [CLI, 'explain', c.m.config!, r.url, '--method', r.method, '--ip', r.ip, '--format', 'json'];
      for (const [k, v] of Object.entries(r.headers)) args.push('--header', `${k}: ${v}`);
      const out = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', timeout: 30_000, cwd: root })) as {
        status: number | null;
        cause: { id: string } | null;
      };
      expect(`${out.status} ${out.cause?.id ?? '-'}`, c.where).toBe(`${c.m.status} ${c.m.cause ?? '-'}`);
    }
  });
});
