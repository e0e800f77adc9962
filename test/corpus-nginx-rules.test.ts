/**
 * The nginx rules on the shared corpus (/work/shared/corpus): every nginx file that real nginx
 * accepted (INDEX.tsv result `ok`) is linted as the CLI would lint it — the main configs with their
 * includes (installed paths mapped to the corpus copy, as test/nginx-corpus.test.ts loads them), then
 * every file no main pulled in on its own, in the context the loader infers. No error-severity
 * finding of an nginx-* rule is allowed unless it is in ALLOWED below, each entry with the fixture
 * that shows the real 403. Every finding (all severities) is printed; docs/corpus-findings-nginx.md
 * explains those on h5bp's and Debian's configs.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rules } from '../rules/index.js';
import type { PathMapping } from '../src/ast.js';
import { lint, lintText, type LintRun } from '../src/run.js';
import { CORPUS, corpusFindings, corpusLinks, corpusOrSkip, corpusRows, type CorpusFinding, type CorpusRow } from './harness/corpus.js';

const root = resolve(import.meta.dirname, '..');
const have = corpusOrSkip('the nginx rules corpus test');

const abs = (p: string) => join(CORPUS, p);
const DEBIAN = 'nginx/debian-nginx-common/etc/nginx';
const H5BP = 'nginx/h5bp-server-configs-nginx';

/**
 * Error findings that are right: `<file>:<line> <rule>` → why, and the fixture proving the 403.
 * (Empty: no accepted corpus file has an error-severity finding.)
 */
const ALLOWED: Record<string, string> = {};

const nginxRules = rules.filter((r) => r.id.startsWith('nginx-')).map((r) => r.id);

type Row = CorpusRow;

type Finding = CorpusFinding;
const findingsOf = (run: LintRun): Finding[] => corpusFindings(run, 'nginx-');

describe.skipIf(!have)('nginx rules on the corpus files real nginx accepts', () => {
  const rows: Row[] = corpusRows('nginx').filter((r) => r.result === 'ok');

  it('no error-severity finding unless allowed with a demonstrated 403', { timeout: 120_000 }, async () => {
    const base = [
      ...corpusLinks('nginx/'),
      { from: abs(`${DEBIAN}/modules-enabled`), to: abs('nginx/debian-libnginx-mod/usr/share/nginx/modules-available') },
      { from: '/etc/nginx/modules-enabled', to: abs('nginx/debian-libnginx-mod/usr/share/nginx/modules-available') },
    ];
    const opts = (pathMap: PathMapping[], context?: string) => ({
      cwd: root,
      noConfig: true,
      only: nginxRules,
      server: 'nginx' as const,
      pathMap: [...base, ...pathMap],
      reportUnusedSuppressions: 'off' as const,
      context,
    });
    const all: Finding[] = [];
    const covered = new Set<string>();
    const mains = rows.filter((r) => r.kind === 'main');
    for (const r of mains) {
      const file = abs(r.path);
      const map = r.method.startsWith('layout') || r.path.startsWith(DEBIAN) ? [{ from: '/etc/nginx', to: dirname(file) }] : [];
      const run = await lint([file], opts(map));
      expect(run.crashes).toEqual([]);
      for (const x of run.results) covered.add(resolve(x.filePath));
      all.push(...findingsOf(run));
    }
    // h5bp's test vhosts stand in for its conf.d/ (INDEX method `layout`)
    const vhosts = await lint([abs(`${H5BP}/nginx.conf`)], opts([{ from: abs(`${H5BP}/conf.d`), to: abs(`${H5BP}/test/vhosts`) }]));
    expect(vhosts.crashes).toEqual([]);
    for (const x of vhosts.results) covered.add(resolve(x.filePath));
    all.push(...findingsOf(vhosts));

    const rest = rows.filter((r) => r.kind !== 'main' && !covered.has(abs(r.path)));
    for (const group of [H5BP, DEBIAN, '']) {
      const paths = rest
        .filter((r) => (group ? r.path.startsWith(group) : !r.path.startsWith(H5BP) && !r.path.startsWith(DEBIAN)))
        .map((r) => abs(r.path));
      if (paths.length === 0) continue;
      const run = await lint(paths, opts([{ from: '/etc/nginx', to: abs(group || DEBIAN) }]));
      expect(run.crashes).toEqual([]);
      all.push(...findingsOf(run));
    }
    const seen = new Map<string, Finding>();
    for (const f of all) seen.set(`${f.key} ${f.message}`, f);
    const list = [...seen.values()].sort((a, b) => a.key.localeCompare(b.key));
    console.log(
      `${list.length} findings of nginx-* rules on ${rows.length} accepted files:\n` +
        list.map((f) => `  ${f.severity} ${f.key}: ${f.message}`).join('\n'),
    );
    const errors = list.filter((f) => f.severity === 'error' && !(f.key in ALLOWED));
    expect(errors.map((f) => `${f.key}: ${f.message}`)).toEqual([]);
    expect(rows.length).toBeGreaterThan(250);
    expect(covered.size).toBeGreaterThan(20);
  });

  it('never crashes on the files nginx rejected, nor on odd directives', { timeout: 120_000 }, async () => {
    const rejected = readFileSync(join(CORPUS, 'INDEX.tsv'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t'))
      .filter((c) => c[1] === 'nginx' && c[5] === 'fails')
      .map((c) => abs(c[0]));
    const run = await lint(rejected, { cwd: root, noConfig: true, only: nginxRules, server: 'nginx', reportUnusedSuppressions: 'off' });
    expect(run.crashes).toEqual([]);
    expect(run.results.length).toBeGreaterThan(50);
    const odd = [
      'http { server { allow; deny; index; try_files; error_page; valid_referers; limit_except { deny all; } location { } } }',
      'http { server { location / { index; autoindex off; } location ~ ( { deny all; } error_page 404; proxy_cache_valid 10m; proxy_cache c; } }',
      'http { server { if ($invalid_referer) { return 403; } valid_referers; auth_request; satisfy any; deny all; auth_basic x; } }',
      'deny all;\nreturn 403;\n',
      'http {' + ' location / {'.repeat(300) + '}'.repeat(300) + ' }',
    ];
    for (const text of odd) {
      const r = await lintText(text, { filename: 'odd/nginx.conf', server: 'nginx', cwd: root, noConfig: true, only: nginxRules });
      expect(r.crashes, text.slice(0, 60)).toEqual([]);
    }
  });
});
