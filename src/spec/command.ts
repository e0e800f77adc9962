/**
 * `why403 test <spec…> [--format text|json] [--real]`: check a spec of expected answers offline. Exit 0
 * when every expectation holds, 1 naming each one that does not (with the predicted status and the
 * trace), 2 on a bad spec (with the position of the error) or a config that does not parse.
 *
 * `--real` sends the same expectations to a real nginx/apache2 started on 127.0.0.1 with the config
 * (src/real/spec.ts) and prints, per expectation, the predicted and the real status: exit 1 when the
 * real server disagrees with the spec, 2 when it cannot be started (not installed, config refused).
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { CliIO } from '../cli-io.js';
import { parseSpec, runSpec, type SpecResult } from './index.js';

export interface TestArgs {
  specs: string[];
  format?: string;
  /** Check the spec against a real server instead of (and beside) the prediction. */
  real?: boolean;
}

export async function testCommand(a: TestArgs, io: CliIO): Promise<number> {
  const format = a.format ?? 'text';
  if (format !== 'text' && format !== 'json') {
    io.err(`why403 test: --format must be text or json, got "${format}"\n`);
    return 2;
  }
  let failed = 0;
  let passed = 0;
  let skipped = 0;
  const json: Array<{ spec: string; server?: string; results: Array<Record<string, unknown>> }> = [];
  for (const given of a.specs) {
    const file = resolve(given);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      io.err(`why403 test: cannot read ${given}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return 2;
    }
    const { spec, errors } = parseSpec(text, file);
    if (!spec) {
      for (const e of errors) io.err(`${given}:${e.line}:${e.column}: ${e.message}\n`);
      io.err(`why403 test: ${given} is not a valid spec (see why403 test --help)\n`);
      return 2;
    }
    const { results, configErrors, partial } = runSpec(spec);
    if (configErrors.length) {
      io.err(`why403 test: ${relative(process.cwd(), spec.config)} does not parse:\n${configErrors.map((x) => `  ${x}`).join('\n')}\n`);
      return 2;
    }
    if (a.real) {
      const { runSpecReal } = await import('../real/spec.js');
      const run = await runSpecReal(spec);
      if (run.error) {
        io.err(`why403 test --real: ${given}: the real ${run.server} did not start:\n${run.error}\n`);
        return 2;
      }
      const predicted = new Map(results.map((r) => [r.expectation, r.status]));
      const pred = (x: SpecResult['expectation']) => {
        const p = predicted.get(x);
        return p === null || p === undefined ? 'unknown' : String(p);
      };
      for (const r of run.results) {
        const x = r.expectation;
        if (!r.sent) skipped++;
        else if (r.ok) passed++;
        else failed++;
        if (format === 'text') {
          const tag = !r.sent ? 'skip' : r.ok ? 'ok  ' : 'FAIL';
          const real = r.status === null ? (r.sent ? 'no answer' : 'not sent') : `real ${r.status}`;
          const differs = r.status !== null && pred(x) !== 'unknown' && pred(x) !== String(r.status) ? '  (why403 predicts otherwise)' : '';
          io.out(
            `  ${tag}  ${given}:${x.line}  ${x.text}\n        predicted ${pred(x)}, ${real}${differs}${r.note ? `\n        ${r.note}` : ''}\n`,
          );
        }
      }
      if (format === 'json')
        json.push({
          spec: given,
          server: run.server,
          results: run.results.map((r) => ({
            line: r.expectation.line,
            column: r.expectation.column,
            request: requestJson(r.expectation),
            expected: r.expectation.status,
            predicted: predicted.get(r.expectation) ?? null,
            real: r.status,
            sent: r.sent,
            ok: r.ok,
            ...(r.note ? { note: r.note } : {}),
          })),
        });
      continue;
    }
    const show = (r: SpecResult): string => {
      const x = r.expectation;
      if (r.ok) return `  ok    ${given}:${x.line}  ${x.text}\n`;
      const trace = (r.explanation?.trace ?? [])
        .filter((t) => t.at)
        .map((t) => `          ${t.at!.file}:${t.at!.line}:${t.at!.column}  ${t.message}${t.decisive ? '  ← decided' : ''}`)
        .join('\n');
      return `  FAIL  ${given}:${x.line}  ${x.text}\n        ${r.problem}\n${trace ? `${trace}\n` : ''}`;
    };
    for (const r of results) r.ok ? passed++ : failed++;
    if (format === 'text') io.out((partial ? `  partial config: ${partial}\n` : '') + results.map(show).join(''));
    else
      json.push({
        spec: given,
        ...(partial ? { partial } : {}),
        results: results.map((r) => ({
          line: r.expectation.line,
          column: r.expectation.column,
          request: requestJson(r.expectation),
          expected: r.expectation.status,
          predicted: r.status,
          ok: r.ok,
          ...(r.problem ? { problem: r.problem } : {}),
          decidedBy: r.explanation?.decidedBy ?? null,
        })),
      });
  }
  if (format === 'json') io.out(JSON.stringify(json, null, 2) + '\n');
  else
    io.out(`\n${passed} passed, ${failed} failed${a.real ? `, ${skipped} not sent` : ''}${a.real ? ' (against the real server)' : ''}\n`);
  return failed ? 1 : 0;
}

/** The request of an expectation, for the JSON output (the password is not repeated). */
function requestJson(x: SpecResult['expectation']): Record<string, unknown> {
  return { method: x.method, url: x.url, ip: x.ip ?? null, headers: x.headers, user: x.user ?? null };
}
