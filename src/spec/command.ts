/**
 * `why403 test <spec…> [--format text|json]`: check a spec of expected answers offline. Exit 0 when every
 * expectation holds, 1 naming each one that does not (with the predicted status and the trace), 2 on a
 * bad spec (with the position of the error) or a config that does not parse.
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { CliIO } from '../cli-io.js';
import { parseSpec, runSpec, type SpecResult } from './index.js';

export interface TestArgs {
  specs: string[];
  format?: string;
}

export async function testCommand(a: TestArgs, io: CliIO): Promise<number> {
  const format = a.format ?? 'text';
  if (format !== 'text' && format !== 'json') {
    io.err(`why403 test: --format must be text or json, got "${format}"\n`);
    return 2;
  }
  let failed = 0;
  let passed = 0;
  const json: Array<{ spec: string; results: Array<Record<string, unknown>> }> = [];
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
    const { results, configErrors } = runSpec(spec);
    if (configErrors.length) {
      io.err(`why403 test: ${relative(process.cwd(), spec.config)} does not parse:\n${configErrors.map((x) => `  ${x}`).join('\n')}\n`);
      return 2;
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
    if (format === 'text') io.out(results.map(show).join(''));
    else
      json.push({
        spec: given,
        results: results.map((r) => ({
          line: r.expectation.line,
          column: r.expectation.column,
          request: { method: r.expectation.method, url: r.expectation.url, ip: r.expectation.ip ?? null, headers: r.expectation.headers },
          expected: r.expectation.status,
          predicted: r.status,
          ok: r.ok,
          ...(r.problem ? { problem: r.problem } : {}),
          decidedBy: r.explanation?.decidedBy ?? null,
        })),
      });
  }
  if (format === 'json') io.out(JSON.stringify(json, null, 2) + '\n');
  else io.out(`\n${passed} passed, ${failed} failed\n`);
  return failed ? 1 : 0;
}
