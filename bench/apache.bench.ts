/**
 * Apache parser/loader throughput on the generated tree (bench/gen-apache.ts):
 * 1. parseApache over in-memory text (no I/O): lines/s and MB/s on one core;
 * 2. loadApache of the main config with every include read from disk;
 * 3. every nested .htaccess loaded on its own.
 * Peak memory is the process's max RSS.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadApache } from '../src/apache/load.js';
import { parseApache } from '../src/apache/parser.js';
import { SourceFile } from '../src/source.js';
import { generateApacheTree } from './gen-apache.js';

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
    let t0 = process.hrtime.bigint();
    let nodes = 0;
    for (let i = 0; i < rounds; i++) nodes += parseApache(new SourceFile(big.path, big.text)).nodes.length;
    let secs = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(
      `parse (in memory): ${fmt(big.lineCount)} lines, ${(Buffer.byteLength(big.text) / 1e6).toFixed(2)} MB x${rounds}: ` +
        `${fmt((big.lineCount * rounds) / secs)} lines/s, ${((Buffer.byteLength(big.text) * rounds) / 1e6 / secs).toFixed(1)} MB/s (${nodes / rounds} top nodes)`,
    );

    // 2. main config with includes, from disk
    t0 = process.hrtime.bigint();
    const loads = 5;
    for (let i = 0; i < loads; i++) loadApache(main);
    secs = Number(process.hrtime.bigint() - t0) / 1e9 / loads;
    console.log(
      `loadApache(main): ${first.files.size} files, ${fmt(lines)} lines, ${(bytes / 1e6).toFixed(2)} MB in ${(secs * 1000).toFixed(1)} ms: ` +
        `${fmt(lines / secs)} lines/s, ${(bytes / 1e6 / secs).toFixed(1)} MB/s`,
    );

    // 3. nested .htaccess files, each loaded on its own
    let htLines = 0;
    let htBytes = 0;
    for (const p of htaccess) {
      const t = readFileSync(p, 'utf8');
      htBytes += Buffer.byteLength(t);
      htLines += t.split('\n').length;
    }
    t0 = process.hrtime.bigint();
    let errs = 0;
    for (const p of htaccess) errs += loadApache(p).root.errors.length;
    secs = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(
      `loadApache(.htaccess) x${htaccess.length}: ${fmt(htLines)} lines, ${(htBytes / 1e6).toFixed(2)} MB in ${(secs * 1000).toFixed(0)} ms: ` +
        `${fmt(htLines / secs)} lines/s, ${fmt(htaccess.length / secs)} files/s (${errs} diagnostics)`,
    );
    console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
