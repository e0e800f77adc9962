/**
 * Apache parser/loader throughput on the generated tree (bench/gen-apache.ts):
 * 1. parseApache over in-memory text (no I/O): lines/s and MB/s on one core;
 * 2. loadApache of the main config with every include read from disk;
 * 3. every nested .htaccess loaded on its own.
 * Rates are given per second of wall time and per second of this process's CPU time (user +
 * system, GC threads included): on a shared, busy machine the CPU figure is the one to compare.
 * Peak memory is the process's max RSS; "retained" is the heap one parsed tree keeps alive.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadApache } from '../src/apache/load.js';
import { parseApache } from '../src/apache/parser.js';
import { SourceFile } from '../src/source.js';
import { generateApacheTree } from './gen-apache.js';

/** Run `f` and return [wall seconds, CPU seconds]. */
function timed(f: () => void): [number, number] {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  f();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return [wall, (c.user + c.system) / 1e6];
}

function rate(what: number, [wall, cpu]: [number, number], unit: string): string {
  return `${fmt(what / wall)} ${unit}/s wall, ${fmt(what / cpu)} ${unit}/s CPU`;
}

function fmt(n: number): string {
  return n >= 1e6 ? (n / 1e6).toFixed(2) + 'M' : n >= 1e3 ? (n / 1e3).toFixed(1) + 'k' : n.toFixed(0);
}

export async function run(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'why403-bench-apache-'));
  try {
    const { main, htaccess } = generateApacheTree(root);

    // 1. parser only
    const first = loadApache(main);
    const texts = [...first.files.values()].map((f) => f.source);
    const lines = texts.reduce((s, t) => s + t.lineCount, 0);
    const bytes = texts.reduce((s, t) => s + Buffer.byteLength(t.text), 0);
    const big = new SourceFile('/bench/all.conf', texts.map((t) => t.text).join('\n'));
    for (let i = 0; i < 3; i++) parseApache(big); // warm-up
    const rounds = 10;
    let nodes = 0;
    const tParse = timed(() => {
      for (let i = 0; i < rounds; i++) nodes += parseApache(new SourceFile(big.path, big.text)).nodes.length;
    });
    const mb = Buffer.byteLength(big.text) / 1e6;
    console.log(
      `parse (in memory): ${fmt(big.lineCount)} lines, ${mb.toFixed(2)} MB x${rounds}: ` +
        `${rate(big.lineCount * rounds, tParse, 'lines')}; ${rate(mb * rounds, tParse, 'MB')} (${nodes / rounds} top nodes)`,
    );
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage().heapUsed;
    const kept = parseApache(new SourceFile(big.path, big.text));
    (globalThis as { gc?: () => void }).gc?.();
    const retained = process.memoryUsage().heapUsed - before;
    if (kept.nodes.length > 0 && (globalThis as { gc?: () => void }).gc) {
      console.log(`retained by one tree: ${(retained / 1e6).toFixed(1)} MB (${(retained / big.lineCount).toFixed(0)} bytes/line)`);
    }

    // 2. main config with includes, from disk
    const loads = 5;
    const tLoad = timed(() => {
      for (let i = 0; i < loads; i++) loadApache(main);
    });
    console.log(
      `loadApache(main) x${loads}: ${first.files.size} files, ${fmt(lines)} lines, ${(bytes / 1e6).toFixed(2)} MB each: ` +
        `${rate(lines * loads, tLoad, 'lines')}; ${rate((bytes / 1e6) * loads, tLoad, 'MB')}`,
    );

    // 3. nested .htaccess files, each loaded on its own
    let htLines = 0;
    for (const p of htaccess) htLines += readFileSync(p, 'utf8').split('\n').length;
    let errs = 0;
    const tHt = timed(() => {
      for (const p of htaccess) errs += loadApache(p).root.errors.length;
    });
    console.log(
      `loadApache(.htaccess) x${htaccess.length}: ${fmt(htLines)} lines: ${rate(htLines, tHt, 'lines')}; ` +
        `${rate(htaccess.length, tHt, 'files')} (${errs} diagnostics)`,
    );
    console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
