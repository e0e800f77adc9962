/**
 * The one generic rule test: for every rule in rules/index.ts, every fixture under
 * fixtures/rules/<id>/ is linted with only that rule on, and its findings must equal the
 * `# expect…` markers (test/harness/markers.ts). A fixture is a file, or a directory holding a main
 * config (nginx.conf, httpd.conf, apache2.conf) and the files it includes; markers in every file
 * of the directory count. A `<case>.config.json` beside a fixture file is used as its config.
 * The `.htaccess` files of a directory fixture are linted with its main config, with the harness's
 * root (`/srv/why403`, the default of `${HARNESS_ROOT}`) mapped onto the fixture directory, so they
 * are tied to the config that serves them as in a real checkout.
 * The disk rules (`*-fs-*`) lint a copy of the fixture laid out as the real-server harness lays it
 * out (`# mode:`/`# mkdir:` lines applied, test/harness/fs-copy.ts) with `fs: true`, the copy standing
 * for /srv/why403 and for the nginx prefix.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { rules } from '../rules/index.js';
import { lint } from '../src/run.js';
import { compareMarkers, parseMarkers, type Found } from './harness/markers.js';
import { copyFsFixture } from './harness/fs-copy.js';

const root = resolve(import.meta.dirname, '..');
const MAINS = ['nginx.conf', 'httpd.conf', 'apache2.conf'];

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (!e.name.endsWith('.config.json')) out.push(p);
  }
  return out;
}

interface Case {
  name: string;
  entry: string;
  /** The directory a directory fixture stands for (mapped from /srv/why403). */
  dir?: string;
  files: string[];
  config?: string;
}

function casesOf(id: string): Case[] {
  const dir = join(root, 'fixtures/rules', id);
  if (!existsSync(dir)) return [];
  const out: Case[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (name.endsWith('.config.json')) continue;
    if (statSync(p).isDirectory()) {
      const main = MAINS.map((m) => join(p, m)).find((m) => existsSync(m));
      if (!main) throw new Error(`fixture directory ${p} has no main config (${MAINS.join(', ')})`);
      out.push({ name, entry: main, files: filesUnder(p), dir: p });
    } else {
      const cfg = p.replace(/(\.[^./]+)?$/, '.config.json');
      out.push({ name, entry: p, files: [p], config: existsSync(cfg) && cfg !== p ? cfg : undefined });
    }
  }
  return out;
}

describe.each(rules.map((r) => [r.id, r] as const))('%s', (id, rule) => {
  const cases = casesOf(id);
  // findings of this rule over its fixtures, and how many carry the request that shows their claim
  const seen = { findings: 0, withRequest: 0 };
  test('has fixtures, with at least one expected finding and one clean case', () => {
    expect(cases.length).toBeGreaterThan(0);
    const marked = cases.filter((c) => c.files.some((f) => parseMarkers(readFileSync(f, 'utf8')).some((m) => m.rule === id)));
    expect(marked.length).toBeGreaterThan(0);
    expect(marked.length).toBeLessThan(cases.length);
  });
  const lintCase = (c: Case, withDisk: boolean) => {
    const htaccess = c.dir ? c.files.filter((f) => f.endsWith('/.htaccess')) : [];
    const disk = c.dir && withDisk ? copyFsFixture(c.dir) : null;
    const at = (f: string) => (disk && c.dir ? disk.root + f.slice(c.dir.length) : f);
    const run = lint([at(c.entry), ...htaccess.map(at)], {
      cwd: root,
      pathMap: c.dir ? [{ from: '/srv/why403', to: disk?.root ?? c.dir }] : undefined,
      only: [id],
      noConfig: !c.config,
      configFile: c.config,
      server: rule.servers.length === 1 ? rule.servers[0] : undefined,
      reportUnusedSuppressions: 'off',
      ...(disk ? { fs: true, prefix: `${disk.root}/` } : {}),
    }).finally(() => disk?.cleanup());
    return { run, disk };
  };
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { run: running, disk } = lintCase(c, id.includes('-fs-'));
    const run = await running;
    expect(run.crashes).toEqual([]);
    const problems: string[] = [];
    const byFile = new Map<string, Found[]>();
    for (const r of run.results)
      byFile.set(disk && c.dir && r.filePath.startsWith(disk.root) ? c.dir + r.filePath.slice(disk.root.length) : r.filePath, r.messages);
    for (const f of c.files) {
      const expected = parseMarkers(readFileSync(f, 'utf8'));
      problems.push(...compareMarkers(f.slice(root.length + 1), expected, byFile.get(f) ?? [], id));
      byFile.delete(f);
    }
    for (const [f, msgs] of byFile) problems.push(...compareMarkers(f, [], msgs, id));
    expect(problems).toEqual([]);
    for (const r of run.results)
      for (const msg of r.messages)
        if (msg.ruleId === id) {
          seen.findings++;
          if (msg.request) seen.withRequest++;
        }
  });
  // runs after the cases (vitest runs a file's tests in order): the rule's `proof` says whether its
  // findings carry requests, and its fixtures show it
  test('its findings carry requests as its `proof` says', async () => {
    expect(rule.proof, 'every shipped rule says how its findings show their claim (RuleDefinition.proof)').toBeDefined();
    if (seen.findings === 0)
      // the cases were filtered out (vitest -t): lint them here
      for (const c of cases)
        for (const r of (await lintCase(c, id.includes('-fs-')).run).results)
          for (const msg of r.messages)
            if (msg.ruleId === id) {
              seen.findings++;
              if (msg.request) seen.withRequest++;
            }
    expect(seen.findings).toBeGreaterThan(0);
    if (rule.proof === 'request') {
      // a rule that proves only where explain reads the disk: its directory cases as the disk rules lint them
      for (const c of cases)
        if (seen.withRequest === 0 && c.dir && !id.includes('-fs-'))
          for (const r of (await lintCase(c, true).run).results)
            for (const msg of r.messages) if (msg.ruleId === id && msg.request) seen.withRequest++;
      expect(seen.withRequest, 'no finding over the fixtures carries a request (not even with --fs)').toBeGreaterThan(0);
    } else {
      expect(rule.proof!.none.length).toBeGreaterThan(20);
      expect(seen.withRequest, `findings carry requests, but the rule says: ${rule.proof!.none}`).toBe(0);
    }
  });
});
