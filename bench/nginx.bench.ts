/**
 * nginx parser benchmark: generates the tree of gen-nginx.ts (N = 10,000 servers ≈ 900k lines) and
 * loads it with includes (read + lex + parse + directive-table check), several times; prints
 * lines/s, MB/s and peak memory. Set WHY403_BENCH_SERVERS to change N.
 */
import { rmSync } from 'node:fs';
import { loadNginx } from '../src/nginx/load.js';
import { generateNginxTree } from './gen-nginx.js';

export async function run(): Promise<void> {
  const n = Number(process.env.WHY403_BENCH_SERVERS ?? 10_000);
  const tree = generateNginxTree(n);
  console.log(`generated ${tree.files} files, ${tree.lines} lines, ${(tree.bytes / 1e6).toFixed(1)} MB in ${tree.dir}`);
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 5);
  const times: number[] = [];
  const cpus: number[] = [];
  let directives = 0;
  for (let r = 0; r < 5; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    let set: ReturnType<typeof loadNginx> | null = loadNginx(tree.main);
    const t1 = process.hrtime.bigint();
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1e6);
    sample();
    times.push(Number(t1 - t0) / 1e9);
    if (r === 0 && set) {
      let errors = set!.errors.length;
      for (const f of set!.files.values()) errors += f.errors.length;
      for (const f of set!.files.values()) {
        const st = [f.nodes];
        while (st.length)
          for (const x of st.pop()!)
            if (x.type === 'directive') {
              directives++;
              if (x.block) st.push(x.block);
            }
      }
      console.log(`files read: ${set!.files.size}, directives: ${directives}, diagnostics: ${errors}`);
    }
    set = null; // let the tree go before the next round
  }
  clearInterval(timer);
  console.log(
    `  machine: ${(await import('node:os')).cpus().length} CPUs, load average ${(await import('node:os')).loadavg()[0].toFixed(1)} (other work on the machine inflates wall time)`,
  );
  const best = Math.min(...times);
  const median = times.slice().sort((a, b) => a - b)[Math.floor(times.length / 2)];
  console.log(`load (read+parse+check), best of ${times.length}: ${best.toFixed(3)} s; median ${median.toFixed(3)} s`);
  const bestCpu = Math.min(...cpus);
  console.log(
    `  CPU time (all threads, incl. GC helpers), best: ${bestCpu.toFixed(3)} s → ${Math.round(tree.lines / bestCpu).toLocaleString('en')} lines/s of CPU`,
  );
  console.log(`  wall: ${Math.round(tree.lines / best).toLocaleString('en')} lines/s, ${(tree.bytes / 1e6 / best).toFixed(1)} MB/s`);
  console.log(`  peak RSS ${(peakRss / 1e6).toFixed(0)} MB, peak heapUsed ${(peakHeap / 1e6).toFixed(0)} MB`);
  rmSync(tree.dir, { recursive: true, force: true });
}
