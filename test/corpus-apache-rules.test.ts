/**
 * The Apache rules on the shared corpus (/work/shared/corpus): every Apache file that real apache2
 * accepted (INDEX.tsv result `ok`) is linted as the CLI would lint it — the complete main configs
 * with their includes (installed paths mapped to the corpus copy), then every other accepted file on
 * its own (`.htaccess` files in htaccess context). No error-severity finding of an apache-* rule is
 * allowed unless it is in ALLOWED below, each entry with the fixture that shows the real 403.
 * Every finding (all severities) is printed; docs/corpus-findings-apache.md explains them.
 */
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rules } from '../rules/index.js';
import type { PathMapping } from '../src/ast.js';
import { lint, type LintRun } from '../src/run.js';
import { CORPUS, corpusFindings, corpusOrSkip, corpusRows, type CorpusFinding } from './harness/corpus.js';

const root = resolve(import.meta.dirname, '..');
const have = corpusOrSkip('the Apache rules corpus test');

/** Main configs and where their installed paths live in the corpus. */
const MAINS: Record<string, PathMapping[]> = {
  'apache/debian-apache2/etc/apache2/apache2.conf': [{ from: '/etc/apache2', to: 'apache/debian-apache2/etc/apache2' }],
  'apache/h5bp-server-configs-apache/httpd.conf': [{ from: '/usr/local/apache2', to: 'apache/h5bp-server-configs-apache' }],
  'apache/h5bp-server-configs-apache/test/vhosts/.htaccess.server.localhost.conf': [
    { from: '/usr/local/apache2', to: 'apache/h5bp-server-configs-apache' },
  ],
};

/**
 * Error findings that are right: `<file>:<line> <rule>` → why, and the fixture proving the 403.
 */
const ALLOWED: Record<string, string> = {
  // Read through its httpd.conf since issue 14 (ServerRoot /usr/lib64/apache2 mapped onto the tree,
  // which mirrors it): Gentoo's modules.d/00_default_settings.conf denies <Directory /> and only
  // /var/www/localhost/htdocs is granted. fixtures/rules/apache-docroot-denied/not-granted shows the 403.
  'apache/certbot-certbot/certbot/src/certbot/_internal/tests/plugins/apache/testdata/gentoo_apache/apache/apache2/vhosts.d/gentoo.example.com.conf:4 apache-docroot-denied':
    'DocumentRoot /var/www/html is not granted by the Gentoo config: real 403 (fixtures/rules/apache-docroot-denied/not-granted)',
};

const apacheRules = rules.filter((r) => r.id.startsWith('apache-')).map((r) => r.id);

type Finding = CorpusFinding;
const findingsOf = (run: LintRun): Finding[] => corpusFindings(run, 'apache-');

describe.skipIf(!have)('Apache rules on the corpus files real Apache accepts', () => {
  const rows = corpusRows('apache').filter((r) => r.result === 'ok');

  it('no error-severity finding unless allowed with a demonstrated 403', { timeout: 120_000 }, async () => {
    const all: Finding[] = [];
    const covered = new Set<string>();
    for (const [main, map] of Object.entries(MAINS)) {
      const run = await lint([join(CORPUS, main)], {
        cwd: root,
        noConfig: true,
        only: apacheRules,
        server: 'apache',
        pathMap: map.map((m) => ({ from: m.from, to: join(CORPUS, m.to) })),
        reportUnusedSuppressions: 'off',
      });
      expect(run.crashes).toEqual([]);
      for (const r of run.results) covered.add(resolve(r.filePath));
      all.push(...findingsOf(run));
    }
    const rest = rows.filter((r) => !covered.has(join(CORPUS, r.path)) && !(r.path in MAINS));
    for (const ctx of ['htaccess', 'server'] as const) {
      const paths = rest.filter((r) => (r.kind === 'htaccess') === (ctx === 'htaccess')).map((r) => join(CORPUS, r.path));
      const run = await lint(paths, {
        cwd: root,
        noConfig: true,
        only: apacheRules,
        server: 'apache',
        context: ctx === 'htaccess' ? 'htaccess' : undefined,
        reportUnusedSuppressions: 'off',
      });
      expect(run.crashes).toEqual([]);
      all.push(...findingsOf(run));
    }
    const seen = new Map<string, Finding>();
    for (const f of all) seen.set(`${f.key} ${f.message}`, f);
    const list = [...seen.values()].sort((a, b) => a.key.localeCompare(b.key));
    console.log(
      `${list.length} findings of apache-* rules on ${rows.length} accepted files:\n` +
        list.map((f) => `  ${f.severity} ${f.key}: ${f.message}`).join('\n'),
    );
    const errors = list.filter((f) => f.severity === 'error' && !(f.key in ALLOWED));
    expect(errors.map((f) => `${f.key}: ${f.message}`)).toEqual([]);
    expect(rows.length).toBeGreaterThan(500);
  });
});
