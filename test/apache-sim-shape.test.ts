/**
 * Issue 12 (fourth pass): the work of one simulated Apache request, counted without a clock.
 *
 * - mod_dir serves a DirectoryIndex candidate whose lookup subrequest passed by httpd's fast internal
 *   redirect: the subrequest's handler runs, the URI is not run through the phases a second time.
 *   A directory URL without a disk is 2 (sub)request runs per index name tried, not 3.
 * - The lint probes record no trace (nobody reads it: a proof explains its request again), and their
 *   answers are the ones a traced run gives.
 * - A directory walk without a disk is made once per server and file name; the reused walk leaves the
 *   same trace and unknowns as a fresh one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateApacheVhostTree } from '../bench/gen-apache-vhosts.js';
import type { ConfigSet } from '../src/ast.js';
import { parseApache } from '../src/apache/parser.js';
import { buildApacheModel, directoryProbes, simulate, type SimRequest, type SimResult } from '../src/apache/model/index.js';
import { simStats } from '../src/apache/model/sim/index.js';
import { loadConfig } from '../src/load.js';
import { SourceFile } from '../src/source.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function model(text: string) {
  const path = '/etc/apache2/apache2.conf';
  const root = parseApache(new SourceFile(path, text), { context: 'server' });
  expect(root.errors.map((e) => e.message)).toEqual([]);
  const set: ConfigSet = { server: 'apache', root, files: new Map([[path, root]]), errors: [] };
  return buildApacheModel(set, { serverRoot: '/etc/apache2', modules: ['mod_rewrite'] });
}

/** Run `fn` and return what it did to the simulator's counters. */
function counted<T>(fn: () => T): { value: T; runs: number; simulations: number; steps: number; walks: number; walksReused: number } {
  const s0 = { ...simStats };
  const value = fn();
  return {
    value,
    runs: simStats.runs - s0.runs,
    simulations: simStats.simulations - s0.simulations,
    steps: simStats.steps - s0.steps,
    walks: simStats.walks - s0.walks,
    walksReused: simStats.walksReused - s0.walksReused,
  };
}

/** What a result says, without its trace. */
const answer = (r: SimResult) => ({
  status: r.status,
  outcome: r.outcome,
  cause: r.cause,
  decidedBy: r.decidedBy,
  message: r.message,
  possibleOutcomes: r.possibleOutcomes,
  unknowns: r.unknowns,
  filename: r.filename,
  sections: r.sections,
  dirIndex: r.dirIndex,
  grantedBy: r.grantedBy,
  options: r.options,
  indexNames: r.indexNames,
});

const CONF = `
DocumentRoot /srv/www
<Directory /srv/www>
    Require all granted
    DirectoryIndex index.html index.php
</Directory>
<Directory /srv/www/shop>
    RewriteEngine On
    RewriteCond %{QUERY_STRING} !^page=
    RewriteRule ^index\\.html$ - [F]
</Directory>
`;

describe('mod_dir runs each DirectoryIndex candidate once (fast internal redirect)', () => {
  it('a directory URL without a disk: the request plus one lookup per index name, nothing run twice', () => {
    const m = model(CONF);
    const c = counted(() => simulate(m, { uri: '/docs/', clientIp: '192.0.2.10' }));
    // GET /docs/ → the lookups of index.html and index.php; each may exist, so each is served from
    // its lookup (before: run again through every phase, 5 runs)
    expect(c.simulations).toBe(1);
    expect(c.runs).toBe(3);
    expect(c.value.status).toBeNull();
    expect(c.value.possibleOutcomes.map((p) => [p.when.join(' & '), p.status])).toEqual([
      ['/docs/index.html: /srv/www/docs/index.html exists and is readable', 200],
      ['/docs/index.html: /srv/www/docs/index.html is not readable by www-data', 403],
      ['/docs/index.php: /srv/www/docs/index.php exists and is readable', 200],
      ['/docs/index.php: /srv/www/docs/index.php is not readable by www-data', 403],
      ['no DirectoryIndex file (index.html index.php) exists', 403], // no Options Indexes
    ]);
    // the trace reads as before: the virtual host, then each served candidate's phases and handler
    expect(c.value.trace.filter((t) => t.phase === 'vhost')).toHaveLength(3);
  });

  it('the served candidate keeps the query string of the directory request, as httpd’s lookup does', () => {
    const m = model(CONF);
    // mod_dir looks up index.html?page=2: the RewriteCond does not hold, the candidate passes and is
    // served as that subrequest (before, the served run dropped the query and hit the [F]: 403).
    // Real Apache 2.4 with this config and an index.html: GET /shop/?page=2 → 200, GET /shop/ → 403.
    const r = simulate(m, { uri: '/shop/?page=2', clientIp: '192.0.2.10' });
    const html = r.possibleOutcomes.filter((p) => p.when[0].startsWith('/shop/index.html:'));
    expect(html.map((p) => p.status)).toEqual([200, 403]);
    expect(html[1].cause).toBe('A17'); // the disk's answer, not the RewriteRule's
    // without the query the lookup itself is refused: mod_dir answers that refusal when no other
    // candidate is served
    const plain = simulate(m, { uri: '/shop/', clientIp: '192.0.2.10' });
    expect(plain.dirIndex?.refused.map((x) => [x.name, x.status])).toEqual([['index.html', 403]]);
  });
});

describe('lint probes: no trace recorded, the same answers', () => {
  it('a traceless run answers as a traced one, and records no step', () => {
    const m = model(CONF);
    for (const uri of ['/', '/docs/', '/shop/', '/shop/index.html', '/shop/?page=1', '/x.php']) {
      const req: SimRequest = { uri, clientIp: '192.0.2.10' };
      const traced = counted(() => simulate(model(CONF), req));
      const bare = counted(() => simulate(m, { ...req, trace: false }));
      expect(traced.steps, uri).toBeGreaterThan(0);
      expect(traced.value.trace.length, uri).toBeGreaterThan(0);
      expect(bare.steps, uri).toBe(0);
      expect(bare.value.trace, uri).toEqual([]);
      expect({ ...answer(bare.value), sections: bare.value.sections.map((s) => s.label) }, uri).toEqual({
        ...answer(traced.value),
        sections: traced.value.sections.map((s) => s.label),
      });
    }
  });

  it('a generated tree: two requests per probe, under two runs per request, no trace step, and walks shared', () => {
    const dir = mkdtempSync(join(tmpdir(), 'why403-sim-shape-'));
    dirs.push(dir);
    generateApacheVhostTree(dir, 20);
    const m = buildApacheModel(loadConfig(join(dir, 'apache2.conf')));
    const c = counted(() => directoryProbes(m));
    expect(c.value.length).toBe(80);
    expect(c.simulations).toBe(2 * c.value.length);
    // 20 vhosts: 160 simulated requests, 280 (sub)request runs (380 before mod_dir's lookups were
    // served by fast redirect: each directory probe ran its index.html once more)
    expect(c.runs).toBeLessThanOrEqual(1.75 * c.simulations);
    expect(c.steps).toBe(0);
    // the probe of a directory's index.html walks what the directory's own index lookup walked
    expect(c.walksReused).toBeGreaterThanOrEqual(c.value.filter((p) => p.result.dirIndex).length * 0.7);
    expect(c.walks + c.walksReused).toBeLessThanOrEqual(c.runs);
  });
});

describe('a directory walk without a disk is made once per server and file name', () => {
  it('the second request walks nothing and leaves the same trace and unknowns', () => {
    const m = model(`
DocumentRoot /srv/www
<Directory /srv/www>
    AllowOverride All
    Require all granted
</Directory>
<DirectoryMatch "^/srv/www/(a|b)+$">
    Require all denied
</DirectoryMatch>
`);
    const req: SimRequest = { uri: '/sub/page.html', clientIp: '192.0.2.10' };
    const first = counted(() => simulate(m, req));
    const again = counted(() => simulate(m, req));
    expect(first.walks).toBe(1);
    expect(again.walks).toBe(0);
    expect(again.walksReused).toBe(1);
    expect(again.value.trace).toEqual(first.value.trace);
    expect(again.value.unknowns).toEqual(first.value.unknowns);
    // the .htaccess files AllowOverride would read are unknowns of each request, reused walk or not
    expect(again.value.unknowns.some((u) => u.includes('/srv/www/sub/.htaccess'))).toBe(true);
    expect(answer(again.value)).toEqual(answer(first.value));
    // a walk made without a trace is made again for a request that wants one
    const m2 = model('DocumentRoot /srv/www\n<Directory /srv/www>\n    Require all granted\n</Directory>\n');
    counted(() => simulate(m2, { ...req, trace: false }));
    const traced = counted(() => simulate(m2, req));
    expect(traced.walks).toBe(1);
    expect(traced.value.trace.some((t) => t.phase === 'directory_walk')).toBe(true);
  });
});
