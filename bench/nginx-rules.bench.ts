/**
 * nginx rules benchmark: lints the generated tree (gen-nginx.ts, N servers) with every nginx-* rule
 * and nothing else, through the engine as the CLI runs it (load, one shared model per set via
 * src/nginx/model/cache.ts, every rule's check). Prints the time per run and per rule (each rule
 * alone, on a fresh load, so each pays for its own model). WHY403_BENCH_RULES_SERVERS (default 1000).
 */
import { rmSync } from 'node:fs';
import { rules } from '../rules/index.js';
import { lint } from '../src/run.js';
import { generateNginxTree } from './gen-nginx.js';

export async function run(): Promise<void> {
  const n = Number(process.env.WHY403_BENCH_RULES_SERVERS ?? 1000);
  const tree = generateNginxTree(n);
  const ids = rules.filter((r) => r.id.startsWith('nginx-')).map((r) => r.id);
  const once = async (only: string[]) => {
    const t0 = process.hrtime.bigint();
    const r = await lint([tree.main], { noConfig: true, only, server: 'nginx', reportUnusedSuppressions: 'off' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return { ms, findings: r.results.reduce((a, x) => a + x.messages.filter((m) => m.ruleId.startsWith('nginx-')).length, 0) };
  };
  try {
    await once(ids); // warm-up
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await once(ids));
    const best = Math.min(...runs.map((r) => r.ms));
    console.log(
      `all ${ids.length} nginx rules on ${n} servers (${tree.lines} lines): best of 3 ${best.toFixed(0)} ms, ${runs[0].findings} findings`,
    );
    const base = await once([]);
    console.log(`  load + engine without rules: ${base.ms.toFixed(0)} ms`);
    for (const id of ids) {
      const r = await once([id]);
      console.log(`  ${id}: ${r.ms.toFixed(0)} ms (${r.findings} findings)`);
    }
  } finally {
    rmSync(tree.dir, { recursive: true, force: true });
  }
}
