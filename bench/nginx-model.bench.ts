/**
 * nginx model benchmark: builds the model of the generated tree (gen-nginx.ts, N servers) and
 * simulates requests against it (server choice, location search, rewrite `if`, access, try_files
 * without a file system so every disk question becomes a possibility). Prints models/s and
 * requests/s. Set WHY403_BENCH_MODEL_SERVERS (default 1000) and WHY403_BENCH_MODEL_REQUESTS (20000).
 */
import { rmSync } from 'node:fs';
import { loadNginx } from '../src/nginx/load.js';
import { buildModel, simulate } from '../src/nginx/model/index.js';
import { generateNginxTree } from './gen-nginx.js';

export async function run(): Promise<void> {
  const n = Number(process.env.WHY403_BENCH_MODEL_SERVERS ?? 1000);
  const k = Number(process.env.WHY403_BENCH_MODEL_REQUESTS ?? 20_000);
  const tree = generateNginxTree(n);
  try {
    const set = loadNginx(tree.main);
    let t0 = process.hrtime.bigint();
    const reps = 5;
    let model = buildModel(set);
    for (let i = 1; i < reps; i++) model = buildModel(set);
    let dt = Number(process.hrtime.bigint() - t0) / 1e9 / reps;
    console.log(`model of ${model.servers.length} servers (${tree.lines} lines): ${(dt * 1000).toFixed(1)} ms per build`);
    const uris = ['/', '/index.php', '/static/app.css', '/api/v2/users', '/admin/', '/.git/config', '/img/a.png', '/a/b/../c'];
    const methods = ['GET', 'POST', 'DELETE'];
    let statuses = 0;
    t0 = process.hrtime.bigint();
    for (let i = 0; i < k; i++) {
      const host = `site${(i * 7919) % n}.example.test`;
      const r = simulate(model, {
        uri: uris[i % uris.length],
        host,
        method: methods[i % 3],
        clientIp: i % 2 ? '10.1.2.3' : '127.0.0.1',
        port: 80,
      });
      if (r.status !== null) statuses++;
    }
    dt = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(
      `${k} simulated requests: ${(k / dt).toFixed(0)} requests/s (${((dt / k) * 1e6).toFixed(0)} µs each; ${statuses} with a single status)`,
    );
  } finally {
    rmSync(tree.dir, { recursive: true, force: true });
  }
}
