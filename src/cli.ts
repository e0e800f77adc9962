#!/usr/bin/env node
/**
 * The `why403` command. Only yargs is loaded up front; each command imports what it needs when it
 * runs (formatters, YAML, schema validation, parsers), so `why403 file.conf` starts fast.
 *
 * Exit codes (ESLint's): 0 no errors and warnings within --max-warnings; 1 errors, or too many
 * warnings; 2 usage error, bad configuration, or an internal error (never a stack trace unless
 * WHY403_DEBUG=1). No exception reaches the user uncaught.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';

export class UsageError extends Error {}

export interface CliIO {
  out(s: string): void;
  err(s: string): void;
  stdoutTTY: boolean;
  stderrTTY: boolean;
  env: NodeJS.ProcessEnv;
  readStdin(): Buffer;
}

export const processIO: CliIO = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  stdoutTTY: process.stdout.isTTY === true,
  stderrTTY: process.stderr.isTTY === true,
  env: process.env,
  readStdin: () => readFileSync(0),
};

/** Options shared by every command. */
function globalOptions<T>(y: Argv<T>) {
  return y
    .option('server', { type: 'string', choices: ['nginx', 'apache'] as const, describe: 'Server the files are for (default: detect)' })
    .option('path-map', { type: 'string', describe: 'Map an installed path to the checkout: FROM=TO (repeatable)' })
    .option('context', { type: 'string', describe: 'Context of the top level of the given files (nginx: main, http, server, location…; Apache: server, directory, htaccess)' });
}

function lintOptions<T>(y: Argv<T>) {
  return globalOptions(y)
    .positional('paths', { type: 'string', array: true, describe: 'Files, directories or globs; - reads stdin' })
    .option('config', { alias: 'c', type: 'string', describe: 'Use this config file for every file (no lookup)' })
    .option('config-lookup', { type: 'boolean', default: true, describe: 'Look for .why403.json/.yaml/package.json (--no-config-lookup: none)' })
    .option('print-config', { type: 'string', describe: 'Print the configuration that applies to FILE and exit' })
    .option('format', { alias: 'f', type: 'string', describe: 'stylish, compact, json, sarif or github; NAME:PATH writes to a file (repeatable)' })
    .option('output-file', { alias: 'o', type: 'string', describe: 'Write the (single) format without a path to this file' })
    .option('quiet', { type: 'boolean', default: false, describe: 'Report errors only' })
    .option('max-warnings', { type: 'number', default: -1, describe: 'Exit 1 when there are more warnings than this (-1: no limit)' })
    .option('exit-zero', { type: 'boolean', default: false, describe: 'Exit 0 even when there are problems (report-only jobs)' })
    .option('fix', { type: 'boolean', default: false, describe: 'Apply safe fixes to the files' })
    .option('fix-dry-run', { type: 'boolean', default: false, describe: 'Compute fixes without writing (see the json output)' })
    .option('stdin', { type: 'boolean', default: false, describe: 'Lint the text on standard input' })
    .option('stdin-filename', { type: 'string', describe: 'The file name stdin pretends to be (server detection, config lookup)' })
    .option('inline-config', { type: 'boolean', default: true, describe: 'Honour # why403-disable comments (--no-inline-config: ignore them)' })
    .option('report-unused-suppressions', { type: 'string', choices: ['off', 'warn', 'error'] as const, describe: 'Severity of unused suppression comments (default: warn)' })
    .option('error-on-unmatched-pattern', { type: 'boolean', default: true, describe: 'A glob matching no file is a usage error' })
    .option('color', { type: 'boolean', describe: 'Force colour on or off (default: only on a TTY; NO_COLOR and FORCE_COLOR honoured)' });
}

export type LintArgs = Awaited<ReturnType<ReturnType<typeof lintOptions>['parseAsync']>>;

/** A repeatable option's values (yargs gives a string once, an array when repeated). */
export function many(v: unknown): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
}

function parsePathMap(list: unknown): Array<{ from: string; to: string }> {
  return many(list).map((s) => {
    const i = s.indexOf('=');
    if (i <= 0 || i === s.length - 1) throw new UsageError(`--path-map expects FROM=TO, got "${s}"`);
    return { from: s.slice(0, i), to: s.slice(i + 1) };
  });
}

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  let code = 0;
  // yargs drops a lone `-`; it means stdin, as --stdin does.
  const dash = argv.indexOf('-');
  const end = argv.indexOf('--');
  if (dash !== -1 && (end === -1 || dash < end)) argv = [...argv.slice(0, dash), '--stdin', ...argv.slice(dash + 1)];
  const y = yargs(argv)
    .scriptName('why403')
    .usage('$0 [paths..]  Lint nginx and Apache configs for what answers 403 Forbidden')
    .parserConfiguration({ 'camel-case-expansion': true, 'strip-dashed': false })
    .strict()
    .exitProcess(false)
    .help()
    .alias('h', 'help')
    .version(readVersion())
    .alias('v', 'version')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      throw err && !(err instanceof UsageError) && !msg ? err : new UsageError(msg || err?.message || 'invalid usage');
    })
    .epilogue('Exit codes: 0 no errors (warnings within --max-warnings), 1 errors or too many warnings, 2 usage/config error or crash.')
    .command(
      ['lint [paths..]', '$0 [paths..]'],
      'Lint files, directories or globs (the default command)',
      (b) => lintOptions(b),
      async (a) => {
        code = await (await import('./run.js')).lintCommand(a as unknown as LintArgs, parsePathMap(a.pathMap), io);
      },
    )
    .command(
      'rules [id]',
      'List the rules, or print the doc of one',
      (b) => b.positional('id', { type: 'string', describe: 'Rule id' }),
      async (a) => {
        code = await (await import('./run.js')).rulesCommand(a.id as string | undefined, io);
      },
    )
    .command(
      'parse <file>',
      'Print the parsed tree of a config (with its includes)',
      (b) =>
        globalOptions(b)
          .positional('file', { type: 'string', demandOption: true })
          .option('format', { alias: 'f', type: 'string', choices: ['text', 'json'] as const, default: 'text' }),
      async (a) => {
        code = await (await import('./run.js')).parseCommand(
          a.file as string,
          { format: a.format as 'text' | 'json', server: a.server as 'nginx' | 'apache' | undefined, context: a.context, pathMap: parsePathMap(a.pathMap) },
          io,
        );
      },
    );
  // `explain` (issue: request simulation) registers here, the same way: a lazy import of its
  // command module, e.g. .command('explain <file> <request..>', …, async (a) => { code = await (await import('./explain/cli.js')).explainCommand(a, io); })
  try {
    await y.parseAsync();
    return code;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`why403: ${e.message}\nRun \`why403 --help\` for usage.\n`);
      return 2;
    }
    if (e && typeof e === 'object' && (e as Error).name === 'ConfigError') {
      io.err(`why403: ${(e as Error).message}\n`);
      return 2;
    }
    io.err(`why403: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (io.env.WHY403_DEBUG) io.err(`${e instanceof Error ? e.stack : ''}\n`);
    else io.err('This is a bug in why403; run again with WHY403_DEBUG=1 for details and report it.\n');
    return 2;
  }
}

function readVersion(): string {
  try {
    const url = new URL('../../package.json', import.meta.url);
    const alt = new URL('../package.json', import.meta.url);
    const text = existsSync(url) ? readFileSync(url, 'utf8') : readFileSync(alt, 'utf8');
    return (JSON.parse(text) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

// Run when executed as the bin (not when imported by tests).
function invokedAsBin(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}
if (invokedAsBin()) {
  process.on('uncaughtException', (e) => {
    process.stderr.write(`why403: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  });
  main(hideBin(process.argv)).then(
    (c) => {
      process.exitCode = c;
    },
    (e) => {
      process.stderr.write(`why403: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
