/**
 * Issue 12: the Apache model's cost grows linearly with the number of vhosts and .htaccess files.
 * Not timed: counts the work itself (per-dir config merges, vhosts looked at while selecting a
 * server) for a lint of N and 4N generated vhosts with their .htaccess files, and asserts that 4×
 * the input costs at most 4.4× the work. Before the indexes, every .htaccess was placed by merging
 * every vhost's sections again (16× the merges for 4× the vhosts) and every simulated request
 * scanned every vhost.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateApacheVhostTree } from '../bench/gen-apache-vhosts.js';
import { generateNginxTree } from '../bench/gen-nginx.js';
import { dirConfStats } from '../src/apache/model/dirconf.js';
import { buildApacheModel, selectServer, vhostSelectStats } from '../src/apache/model/sections.js';
import { servedRoots } from '../src/apache/model/cache.js';
import { simStats } from '../src/apache/model/sim/index.js';
import { loadConfig, loadStats, loadText } from '../src/load.js';
import { observeByteReads } from '../src/read.js';
import { LARGE_SET_CHARS, lint, lintCommand } from '../src/run.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function work(n: number): Promise<{
  merges: number;
  reused: number;
  scanned: number;
  htaccess: number;
  messages: number;
  files: number;
  sections: number;
  loads: number;
}> {
  const dir = mkdtempSync(join(tmpdir(), `why403-shape-${n}-`));
  dirs.push(dir);
  const tree = generateApacheVhostTree(dir, n);
  const m0 = dirConfStats.merges;
  const r0 = dirConfStats.reused;
  const s0 = vhostSelectStats.scanned;
  const l0 = loadStats.loads;
  const run = await lint([dir], { noConfig: true });
  // every section and .htaccess file of the tree: what a merge can bring in
  let sections = 0;
  for (const f of readdirSync(join(dir, 'sites-enabled')))
    sections += (readFileSync(join(dir, 'sites-enabled', f), 'utf8').match(/^\s*<(?!\/)/gm) ?? []).length;
  return {
    sections,
    reused: dirConfStats.reused - r0,
    merges: dirConfStats.merges - m0,
    scanned: vhostSelectStats.scanned - s0,
    loads: loadStats.loads - l0,
    htaccess: tree.htaccess,
    messages: run.results.reduce((k, r) => k + r.messages.length, 0),
    files: run.results.length,
  };
}

describe('Apache lint work grows linearly with the vhosts (issue 12)', () => {
  it('4× the vhosts and .htaccess files: at most 4.4× the merges and vhost scans', async () => {
    const small = await work(20);
    const big = await work(80);
    // the runs really linted the trees: every .htaccess, apache2.conf and the sites files, with findings
    expect(small.files).toBe(small.htaccess + 1 + 1);
    expect(big.files).toBe(big.htaccess + 1 + 2);
    expect(big.htaccess).toBeGreaterThanOrEqual(3.5 * small.htaccess);
    expect(small.messages).toBeGreaterThan(0);
    expect(small.merges).toBeGreaterThan(20);
    expect(small.scanned).toBeGreaterThan(0);
    expect(big.merges / small.merges).toBeLessThanOrEqual(4.4);
    expect(big.scanned / small.scanned).toBeLessThanOrEqual(4.4);
    // Each chain of sections is merged once per model (dirconf.ts mergeMemo): the lint probes and
    // proofs walk the same <Directory> chains again and again, and those walks reuse the merges.
    // Without the memo the merges were 9× the sections (20 vhosts: 1,903 merges for 220 sections and
    // 34 .htaccess files; with it 214, and 1,689 reused).
    for (const w of [small, big]) {
      // apache2.conf is read once, not once more per .htaccess file below it (a .htaccess is never
      // looked up through the main config around it: 45 s instead of 4 s at 1,000 vhosts)
      expect(w.loads).toBeLessThanOrEqual(w.files);
      expect(w.reused).toBeGreaterThan(w.merges);
      expect(w.merges).toBeLessThanOrEqual(3 * (w.sections + w.htaccess));
    }
  }, 120_000);
});

describe('a main config is read once however many fragments sit beside it', () => {
  it('60 vhost files that apache2.conf does not include: 61 loads, not 60 more of apache2.conf', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'why403-shape-fragments-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'sites-available'));
    writeFileSync(join(dir, 'apache2.conf'), 'ServerRoot ' + dir + '\nIncludeOptional sites-enabled/*.conf\n');
    for (let i = 0; i < 60; i++)
      writeFileSync(
        join(dir, 'sites-available', `site${i}.conf`),
        `<VirtualHost *:80>\n    ServerName s${i}.test\n    DocumentRoot /srv/s${i}\n    <Location /admin>\n        Require all denied\n    </Location>\n</VirtualHost>\n`,
      );
    const l0 = loadStats.loads;
    const run = await lint([dir], { noConfig: true });
    expect(run.results).toHaveLength(61);
    // every vhost file was linted, alone (apache2.conf does not include it), and says why
    const one = run.results.find((r) => r.filePath.endsWith('site7.conf'))!;
    expect(one.messages.map((m) => m.message).join('\n')).toContain('does not include site7.conf');
    expect(loadStats.loads - l0).toBeLessThanOrEqual(61);
  }, 60_000);
});

describe('progress on a large tree moves while its one main config is linted (issue 12)', () => {
  it('a set of more than LARGE_SET_CHARS reports each rule on a terminal; nothing without one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'why403-shape-progress-'));
    dirs.push(dir);
    const tree = generateNginxTree(250, dir);
    expect(tree.bytes).toBeGreaterThan(LARGE_SET_CHARS);
    const run = async (stderrTTY: boolean) => {
      const err: string[] = [];
      const io = {
        out: () => {},
        err: (s: string) => void err.push(s),
        stdoutTTY: false,
        stderrTTY,
        env: {},
        readStdin: () => new Uint8Array(),
      };
      const code = await lintCommand({ paths: [tree.main], format: 'json', maxWarnings: -1, configLookup: false }, [], io);
      return { code, err };
    };
    const tty = await run(true);
    expect(tty.code).toBe(0); // warnings only
    const rules = tty.err.filter((s) => s.includes('linting nginx.conf: rule '));
    expect(rules.length).toBeGreaterThan(5);
    const first = /rule 1\/(\d+) \((\d+) files read\)/.exec(rules[0]);
    expect(first).not.toBeNull();
    const total = Number(first![1]);
    expect(rules[rules.length - 1]).toContain(`rule ${total}/${total}`);
    expect(Number(first![2])).toBe(tree.files); // every config file was read before the rules ran
    expect(tty.err[tty.err.length - 1]).toBe('\r\u001b[K'); // cleared before the report
    expect((await run(false)).err).toEqual([]);
  }, 120_000);
});

describe('indexed vhost selection keeps httpd order (first vhost whose name or alias matches)', () => {
  const text = [
    '<VirtualHost *:80>',
    '    ServerName a.test',
    '    ServerAlias *.shared.test',
    '</VirtualHost>',
    '<VirtualHost *:80>',
    '    ServerName b.test',
    '    ServerAlias x.shared.test w?.test',
    '</VirtualHost>',
    '<VirtualHost *:80>',
    '    ServerName c.test',
    '    ServerAlias c[0-9].test',
    '</VirtualHost>',
    '<VirtualHost 127.0.0.1:80>',
    '    ServerName local.test',
    '</VirtualHost>',
    '',
  ].join('\n');
  const model = buildApacheModel(loadText('/etc/apache2/apache2.conf', text, { server: 'apache' }));
  const name = (host: string, port: number | undefined, ip = '10.0.0.1') => selectServer(model, host, port, ip).serverName ?? 'main';
  it.each([
    ['x.shared.test', 80, 'a.test'], // a's wildcard comes before b's literal alias
    ['shared.test', 80, 'a.test'], // no match: the first candidate
    ['B.TEST:80', 80, 'b.test'],
    ['wz.test', 80, 'b.test'],
    // ap_strcasecmp_match knows only `*` and `?`: `[0-9]` is literal, so c7.test matches no alias
    ['c7.test', 80, 'a.test'],
    ['c[0-9].test', 80, 'c.test'],
    ['deep.x.shared.test.', 80, 'a.test'],
    ['c.test', 8080, 'main'],
  ])('%s on port %s → %s', (host, port, want) => {
    expect(name(host, port)).toBe(want);
  });
  it('an exact address match wins over *', () => {
    expect(name('a.test', 80, '127.0.0.1')).toBe('local.test');
  });
});

describe('an Apache tree is read once and its lint probes stay bounded (issue 12, third pass)', () => {
  /** Lint a generated tree of `n` vhosts, counting the reads of each file and the simulated requests. */
  async function counted(n: number) {
    const dir = mkdtempSync(join(tmpdir(), `why403-shape-reads-${n}-`));
    dirs.push(dir);
    const tree = generateApacheVhostTree(dir, n);
    const reads = new Map<string, number>();
    const s0 = { ...simStats };
    const prev = observeByteReads((p) => void reads.set(p, (reads.get(p) ?? 0) + 1));
    let run: Awaited<ReturnType<typeof lint>>;
    try {
      run = await lint([dir], { noConfig: true });
    } finally {
      observeByteReads(prev);
    }
    const model = buildApacheModel(loadConfig(join(dir, 'apache2.conf')));
    return {
      tree,
      run,
      reads,
      roots: servedRoots(model).length,
      simulations: simStats.simulations - s0.simulations,
      runs: simStats.runs - s0.runs,
    };
  }

  it('every file is opened once: no second read of a head to tell the server, none per .htaccess', async () => {
    const { tree, run, reads } = await counted(20);
    expect(run.results).toHaveLength(tree.htaccess + 2);
    // each .htaccess, apache2.conf and the sites file: read, and read once
    for (const r of run.results) expect(reads.get(r.filePath), r.filePath).toBe(1);
    expect([...reads.values()].every((c) => c === 1)).toBe(true);
    expect(reads.size).toBe(run.results.length);
  }, 60_000);

  it('simulated requests: a bounded number per served root, growing with the vhosts and no faster', async () => {
    const small = await counted(20);
    const big = await counted(80);
    for (const w of [small, big]) {
      expect(w.roots).toBeGreaterThan(0);
      expect(w.simulations).toBeGreaterThan(w.roots); // the probes ran
      // two probes per served root and per <Directory> below it, a few more per restricted section
      // (20 vhosts: 40 served roots, 260 simulated requests; 280 before the third pass reused the probe of
      // index.html in apache-authmerging-off-drops-deny)
      expect(w.simulations).toBeLessThanOrEqual(8 * w.roots);
      // each one a bounded number of (sub)requests (DirectoryIndex lookups, internal redirects)
      expect(w.runs).toBeLessThanOrEqual(4 * w.simulations);
    }
    expect(big.roots / small.roots).toBe(4);
    expect(big.simulations / small.simulations).toBeLessThanOrEqual(4.4);
    expect(big.runs / small.runs).toBeLessThanOrEqual(4.4);
  }, 120_000);
});
