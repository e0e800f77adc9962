/**
 * Robustness over real-world configs (../shared/corpus): for every nginx file, build the model and
 * simulate a few requests against every server. Nothing may throw, the simulator must not report an
 * internal failure, and every trace step that names a directive must point into a file of the set.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNginx } from '../src/nginx/load.js';
import { buildModel, simulate } from '../src/nginx/model/index.js';
import { CORPUS, corpusOrSkip, corpusRows } from './harness/corpus.js';

const files = corpusOrSkip('nginx model corpus test') ? corpusRows('nginx').map((r) => r.path) : [];

describe.skipIf(files.length === 0)('nginx model over the corpus', () => {
  it(`builds and simulates ${files.length} corpus files without failing`, () => {
    const failures: string[] = [];
    let servers = 0;
    let simulated = 0;
    let decided = 0;
    for (const f of files) {
      const set = loadNginx(join(CORPUS, f));
      const model = buildModel(set);
      for (const s of model.servers) {
        servers++;
        const host = s.names.find((n) => n.kind === 'exact')?.name || 'localhost';
        for (const [method, uri] of [
          ['GET', '/'],
          ['POST', '/index.php'],
          ['GET', '/.git/config'],
          ['DELETE', '/a/b/../c?x=1'],
        ]) {
          const r = simulate(model, { method, uri, host, port: s.listens[0]?.port, clientIp: '192.0.2.1', maxRuns: 32 });
          simulated++;
          if (r.status !== null) decided++;
          for (const u of r.unknowns) if (/simulator failed/.test(u)) failures.push(`${f} ${method} ${uri}: ${u}`);
          for (const t of r.trace)
            if (t.directive && !set.files.has(t.directive.source.path)) failures.push(`${f}: trace points outside the set: ${t.at}`);
        }
      }
    }
    console.log(
      `nginx model corpus: ${files.length} files, ${servers} servers, ${simulated} simulated requests, ${decided} with one status`,
    );
    expect(failures.slice(0, 20).join('\n')).toBe('');
    expect(simulated).toBeGreaterThan(0);
  }, 120_000);
});
