/**
 * The Apache part of the shared corpus (/work/shared/corpus, INDEX.tsv says what real apache2 -t
 * made of each file): accepted files parse without syntax errors, syntax rejections are found on
 * the line Apache names, Config::General samples are rejected with diagnostics, never a throw.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadApache } from '../src/apache/load.js';
import { parseApache } from '../src/apache/parser.js';
import { readSource } from '../src/read.js';
import { CORPUS, corpusOrSkip, corpusRows, type CorpusRow } from './harness/corpus.js';

const have = corpusOrSkip('Apache corpus tests');

type Row = CorpusRow;
const rows: Row[] = corpusRows('apache');

function parseRow(r: Row) {
  const res = readSource(join(CORPUS, r.path));
  if (!res.ok) throw new Error(`cannot read corpus file ${r.path}: ${res.error.message}`);
  return parseApache(res.source, { context: r.kind === 'htaccess' ? 'htaccess' : 'server' });
}

const isConfigGeneral = (r: Row) => r.note.includes('Config::General');

describe.skipIf(!have)('Apache corpus', () => {
  it('has the expected population', () => {
    expect(rows.filter((r) => r.result === 'ok').length).toBeGreaterThan(500);
  });

  it('parses every file apache2 accepted with zero syntax errors and no unknown directive', () => {
    const bad: string[] = [];
    let n = 0;
    for (const r of rows.filter((x) => x.result === 'ok')) {
      const f = parseRow(r);
      n++;
      for (const e of f.errors) {
        if (e.severity === 'error' || e.code === 'unknown-directive')
          bad.push(`${r.path}:${e.span.start.line}:${e.span.start.column} ${e.code} ${e.message}`);
      }
    }
    expect(n).toBeGreaterThan(500);
    expect(bad).toEqual([]);
  });

  it('finds each syntax rejection on the line and with the words Apache names', () => {
    const checked: string[] = [];
    for (const r of rows.filter((x) => x.result === 'fails' && x.rejectClass === 'syntax')) {
      const m = /Syntax error on line (\d+) of [^:]+: (.*?)(?: \[|$)/.exec(
        r.detail.replace(/.*Syntax error on line \d+ of \/etc\/apache2\/sites-enabled\/zzz-harness\.conf: /, ''),
      );
      expect(m, r.detail).not.toBeNull();
      const line = Number(m![1]);
      const msg = m![2];
      if (msg.startsWith('Cannot parse expression')) {
        // AuthName's value is an ap_expr string; the expression fails only after ${PATH} was
        // expanded from the server's process environment 60 times. Not knowable from the file.
        console.log(`not checked (depends on the server's environment): ${r.path}: ${msg.slice(0, 60)}…`);
        continue;
      }
      const f = parseRow(r);
      const hits = f.errors.filter((e) => e.severity === 'error' && e.span.start.line === line);
      expect(
        hits.map((e) => e.message),
        r.path,
      ).toContain(msg);
      checked.push(r.path);
    }
    expect(checked.length).toBeGreaterThanOrEqual(1);
  });

  it('rejects the Config::General dialect samples with diagnostics, never a throw', () => {
    const samples = rows.filter(isConfigGeneral);
    expect(samples.length).toBe(14);
    for (const r of samples) {
      const f = parseRow(r);
      if (r.result === 'ok') {
        expect(f.errors, r.path).toEqual([]); // `includeoptional non-existent.conf` is valid httpd syntax
        continue;
      }
      expect(f.errors.length, r.path).toBeGreaterThan(0);
      // the first diagnostic is on the line apache2 stopped at, or before it
      const m = /Syntax error on line (\d+) of apache\/etingof[^:]*: /.exec(r.detail);
      expect(m, r.detail).not.toBeNull();
      expect(f.errors[0].span.start.line, r.path).toBeLessThanOrEqual(Number(m![1]));
    }
  });

  it('loads the complete main configs with their includes', () => {
    // the corpus checkout keeps symlinks as text files; SYMLINKS.tsv maps them to their targets
    const links = readFileSync(join(CORPUS, 'SYMLINKS.tsv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'))
      .map(([p, target]) => ({ from: join(CORPUS, p), to: join(CORPUS, p, '..', target) }));
    const debian = loadApache(join(CORPUS, 'apache/debian-apache2/etc/apache2/apache2.conf'), { pathMap: links });
    expect(debian.errors).toEqual([]);
    expect(debian.files.size).toBeGreaterThan(30);
    for (const [p, f] of debian.files) {
      expect(f.errors, p).toEqual([]);
      expect(p.includes('-enabled/'), p).toBe(false); // every enabled link read as its target
    }
    const h5bp = join(CORPUS, 'apache/h5bp-server-configs-apache');
    const set = loadApache(join(h5bp, 'httpd.conf'), { pathMap: [{ from: '/usr/local/apache2', to: h5bp }] });
    expect(set.errors.filter((e) => e.code !== 'include-not-found')).toEqual([]);
    expect(set.files.size).toBeGreaterThan(10);
    for (const f of set.files.values()) expect(f.errors.filter((e) => e.severity === 'error')).toEqual([]);
  });
});
