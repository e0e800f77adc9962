/**
 * The shared real-world corpus (../shared/corpus beside the repository): its INDEX.tsv rows and its
 * SYMLINKS.tsv links. Tests that read it skip with a printed reason when it is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { PathMapping, ServerKind } from '../../src/ast.js';

export const CORPUS = resolve(__dirname, '../../../shared/corpus');
export const corpusPresent = existsSync(join(CORPUS, 'INDEX.tsv'));

/** Log why a corpus test skips; returns `corpusPresent`. */
export function corpusOrSkip(what: string): boolean {
  if (!corpusPresent) console.log(`${what} skipped: ${CORPUS}/INDEX.tsv not found`);
  return corpusPresent;
}

/** One INDEX.tsv row (see SOURCES.md, "Validation"). */
export interface CorpusRow {
  path: string;
  server: ServerKind;
  kind: string;
  note: string;
  testedWith: string;
  result: string;
  method: string;
  rejectClass: string;
  detail: string;
}

/** Every INDEX.tsv row, or those of one server; [] when the corpus is absent. */
export function corpusRows(server?: ServerKind): CorpusRow[] {
  if (!corpusPresent) return [];
  return readFileSync(join(CORPUS, 'INDEX.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'))
    .map((c) => ({
      path: c[0],
      server: c[1] as ServerKind,
      kind: c[2] ?? '',
      note: c[3] ?? '',
      testedWith: c[4] ?? '',
      result: c[5] ?? '',
      method: c[6] ?? '',
      rejectClass: c[7] ?? '',
      detail: c[8] ?? '',
    }))
    .filter((r) => server === undefined || r.server === server);
}

/** The corpus keeps symbolic links as small text files (SYMLINKS.tsv lists them): each link whose
 * path starts with `prefix` as an absolute path mapping to its target, so loaders follow them. */
export function corpusLinks(prefix: string): PathMapping[] {
  const f = join(CORPUS, 'SYMLINKS.tsv');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8')
    .split('\n')
    .map((l) => l.split('\t'))
    .filter(([link, target]) => link?.startsWith(prefix) && target)
    .map(([link, target]) => ({ from: join(CORPUS, link), to: resolve(dirname(join(CORPUS, link)), target) }));
}

/** A finding of a corpus lint run, keyed `<corpus path>:<line> <rule>`. */
export interface CorpusFinding {
  key: string;
  severity: string;
  message: string;
}

/** The findings of rules whose id starts with `rulePrefix` in a lint run over corpus files. */
export function corpusFindings(
  run: { results: { filePath: string; messages: { ruleId: string; line: number; severity: string; message: string }[] }[] },
  rulePrefix: string,
): CorpusFinding[] {
  const out: CorpusFinding[] = [];
  for (const r of run.results) {
    for (const m of r.messages) {
      if (!m.ruleId.startsWith(rulePrefix)) continue;
      out.push({ key: `${relative(CORPUS, r.filePath)}:${m.line} ${m.ruleId}`, severity: m.severity, message: m.message });
    }
  }
  return out;
}
