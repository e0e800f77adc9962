#!/usr/bin/env node
/**
 * The `why403` command, defined with yargs. Startup matters (it runs in pre-commit on every
 * commit), and loading yargs costs more than the rest of a lint run, so a plain lint invocation
 * (`why403 [options] [paths..]` with no help, version or subcommand) is first parsed from the same
 * option table by `parseStrict` (node's `util.parseArgs` rules, strict); anything that does not parse cleanly there goes to
 * yargs, which gives the help text and the usage errors. Each command imports what it needs when
 * it runs (formatters, YAML, schema validation, parsers).
 *
 * Exit codes (ESLint's): 0 no errors and warnings within --max-warnings; 1 errors, or too many
 * warnings; 2 usage error, bad configuration, or an internal error (never a stack trace unless
 * WHY403_DEBUG=1). No exception reaches the user uncaught.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Argv } from 'yargs';

// node:fs and node:util through require: an `import` makes node build their ES module facades, which
// read every export, and their lazy getters (fs.ReadStream, fs.promises, util.MIMEType…) then load
// modules a lint never uses (~20 ms of each run; scripts/bundle.mjs does the same for the bundle)
const nodeRequire = createRequire(import.meta.url);
const { fstatSync, readSync, realpathSync, statSync, writeSync } = nodeRequire('node:fs') as typeof import('node:fs');

export class UsageError extends Error {}

export type { CliIO, LintArgs } from './cli-io.js';
import type { CliIO, LintArgs } from './cli-io.js';

/**
 * Standard input, at most `max + 1` bytes (more than `max`: run.ts says it is too large). Reads in
 * chunks; a non-blocking stdin that has nothing yet is waited for briefly, not spun on. Here and not
 * in read.ts: cli.js must load on its own (test/bundle.test.ts).
 */
function readStdinBytes(max: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  const wait = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const buf = Buffer.allocUnsafe(65536);
    let n: number;
    try {
      n = readSync(0, buf, 0, 65536, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(wait, 0, 0, 10);
        continue;
      }
      if (code === 'EOF') break; // Windows
      throw e;
    }
    if (n === 0) break;
    chunks.push(buf.subarray(0, n));
    total += n;
    if (total > max) break;
  }
  return Buffer.concat(chunks, total);
}

/**
 * Standard output and error without node's stream objects when they are a pipe, a file or /dev/null
 * (pre-commit, CI, `| less`): `process.stdout` loads node's stream, net and pipe modules (~10 % of a
 * small run's instructions), and on Linux node writes to pipes and files synchronously anyway. The
 * text goes out with `writeSync`, whole, in order; a reader that has gone (EPIPE) ends the writing
 * quietly, as the streams' error handler does (runAsBin). A terminal (or anything else) gets the
 * stream. Whether a descriptor is a terminal is asked of node only for a character device.
 */
function fdOutput(fd: 1 | 2): { write(s: string): void; isTTY(): boolean } {
  let plain: boolean | undefined;
  let gone = false;
  let stream: NodeJS.WriteStream | undefined;
  const getStream = () => {
    if (!stream) {
      stream = fd === 1 ? process.stdout : process.stderr;
      ignoreEpipe(stream);
    }
    return stream;
  };
  const isPlain = () => {
    if (plain === undefined) {
      try {
        const st = fstatSync(fd);
        plain = st.isFile() || st.isFIFO() || (st.isCharacterDevice() && st.rdev === statSync('/dev/null').rdev);
      } catch {
        plain = false;
      }
    }
    return plain;
  };
  const wait = new Int32Array(new SharedArrayBuffer(4));
  return {
    write(s: string) {
      if (!isPlain()) return void getStream().write(s);
      if (gone || s === '') return;
      const buf = Buffer.from(s, 'utf8');
      for (let off = 0; off < buf.length;) {
        try {
          off += writeSync(fd, buf, off, buf.length - off);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN') {
            Atomics.wait(wait, 0, 0, 1); // a non-blocking pipe that is full: wait for the reader
            continue;
          }
          if (code === 'EPIPE') {
            gone = true;
            return;
          }
          throw e;
        }
      }
    },
    isTTY: () => !isPlain() && getStream().isTTY === true,
  };
}

const stdout = fdOutput(1);
const stderr = fdOutput(2);

export const processIO: CliIO = {
  out: (s) => stdout.write(s),
  err: (s) => stderr.write(s),
  get stdoutTTY() {
    return stdout.isTTY();
  },
  get stderrTTY() {
    return stderr.isTTY();
  },
  env: process.env,
  // at most read.ts's MAX_FILE_BYTES + 1 bytes: `why403 - < /dev/zero` is refused (run.ts), not read to the end
  readStdin: () => readStdinBytes(8 * 1024 * 1024),
};

export interface OptionSpec {
  type: 'string' | 'boolean' | 'number';
  alias?: string;
  default?: string | boolean | number;
  choices?: readonly string[];
  /** May be given more than once (values collect into an array). */
  repeat?: boolean;
  describe: string;
}

/** Options every command takes. */
/** What explain and map read a config with besides the global options (src/command-load.ts). */
const MODEL_OPTIONS: Record<string, OptionSpec> = {
  prefix: { type: 'string', describe: 'nginx: the -p prefix relative paths resolve against (default /usr/share/nginx/)' },
  'server-root': { type: 'string', describe: 'Apache: ServerRoot when the config sets none (default /etc/apache2)' },
  define: { type: 'string', alias: 'D', describe: 'Apache: -D NAME[=VALUE] (repeatable)' },
  'config-lookup': {
    type: 'boolean',
    default: true,
    describe: 'Read the .why403.json/.yaml/package.json settings that lint reads for this file (--no-config-lookup: none)',
  },
};

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  server: { type: 'string', choices: ['nginx', 'apache'], describe: 'Server the files are for (default: detect)' },
  'path-map': { type: 'string', repeat: true, describe: 'Map an installed path to the checkout: FROM=TO (repeatable)' },
  context: {
    type: 'string',
    describe: 'Context of the top level of the given files (nginx: main, http, server, location…; Apache: server, directory, htaccess)',
  },
};

/** Options of the lint command (the default). */
export const LINT_OPTIONS: Record<string, OptionSpec> = {
  ...GLOBAL_OPTIONS,
  config: { type: 'string', alias: 'c', describe: 'Use this config file for every file (no lookup)' },
  'config-lookup': { type: 'boolean', default: true, describe: 'Look for .why403.json/.yaml/package.json (--no-config-lookup: none)' },
  only: { type: 'string', repeat: true, describe: 'Run only this rule (repeatable); the others are off, whatever the config says' },
  'print-config': { type: 'string', describe: 'Print the configuration that applies to FILE and exit' },
  format: {
    type: 'string',
    alias: 'f',
    repeat: true,
    describe: 'stylish, compact, json, sarif or github; NAME:PATH writes to a file (repeatable)',
  },
  'output-file': { type: 'string', alias: 'o', describe: 'Write the (single) format without a path to this file' },
  quiet: { type: 'boolean', default: false, describe: 'Report errors only' },
  'max-warnings': { type: 'number', default: -1, describe: 'Exit 1 when there are more warnings than this (-1: no limit)' },
  'exit-zero': { type: 'boolean', default: false, describe: 'Exit 0 even when there are problems (report-only jobs)' },
  fix: { type: 'boolean', default: false, describe: 'Apply safe fixes to the files' },
  'fix-dry-run': {
    type: 'boolean',
    default: false,
    describe: 'Compute fixes without writing: text formats print a diff, json carries the fixed text',
  },
  stdin: { type: 'boolean', default: false, describe: 'Lint the text on standard input (also: - as a path)' },
  'stdin-filename': { type: 'string', describe: 'The file name stdin pretends to be (server detection, config lookup)' },
  'inline-config': { type: 'boolean', default: true, describe: 'Honour # why403-disable comments (--no-inline-config: ignore them)' },
  'report-unused-suppressions': {
    type: 'string',
    choices: ['off', 'warn', 'error'],
    describe: 'Severity of unused suppression comments (default: warn)',
  },
  'error-on-unmatched-pattern': { type: 'boolean', default: true, describe: 'A glob matching no file is a usage error' },
  color: { type: 'boolean', describe: 'Force colour on or off (default: only on a TTY; NO_COLOR and FORCE_COLOR honoured)' },
  fs: {
    type: 'boolean',
    default: false,
    describe: 'Check the disk the config serves (roots, modes, owners, index files, symlinks, .htaccess files) as the worker user',
  },
  user: { type: 'string', describe: "With --fs: the worker user to check as (default: the config's user / User, else nobody / www-data)" },
  prefix: { type: 'string', describe: 'nginx: the -p prefix relative paths resolve against (default /usr/share/nginx/)' },
  'server-root': { type: 'string', describe: 'Apache: ServerRoot when the config sets none (default /etc/apache2)' },
  define: { type: 'string', alias: 'D', repeat: true, describe: 'Apache: -D NAME[=VALUE] (repeatable), as explain and map take it' },
};

const SUBCOMMANDS = new Set(['lint', 'rules', 'parse', 'explain', 'map', 'test', 'diff', 'lsp']);

/** Parsed lint arguments, camelCased as yargs gives them. */

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function applyOptions<T>(y: Argv<T>, table: Record<string, OptionSpec>): Argv<T> {
  let out = y;
  for (const [name, o] of Object.entries(table)) {
    out = out.option(name, {
      type: o.type,
      describe: o.describe,
      ...(o.alias ? { alias: o.alias } : {}),
      ...(o.default !== undefined ? { default: o.default } : {}),
      ...(o.choices ? { choices: o.choices as string[] } : {}),
    }) as Argv<T>;
  }
  return out;
}

/**
 * `util.parseArgs({ args, options, allowPositionals: true, strict: true })` for an option table whose
 * short names all belong to string options (LINT_OPTIONS: -c, -f, -o), `no-NAME` registered as a
 * boolean beside each boolean NAME: the same values and positionals, and null where parseArgs throws
 * (an unknown option, a string option without its value or with a value that starts with a dash and
 * is not given inline, a boolean given a value). node's parseArgs module is 50 kB of JavaScript that
 * each run would parse and compile for this (docs/performance.md, "Fifth pass: cold start");
 * test/cli-args.test.ts holds the two side by side.
 */
export function parseStrict(
  argv: readonly string[],
  table: Record<string, OptionSpec>,
): { values: Record<string, string | boolean | Array<string | boolean>>; positionals: string[] } | null {
  const kinds = new Map<string, { string: boolean; multiple: boolean }>();
  const shorts = new Map<string, string>();
  for (const [name, o] of Object.entries(table)) {
    kinds.set(name, { string: o.type !== 'boolean', multiple: o.repeat === true });
    if (o.type === 'boolean') kinds.set(`no-${name}`, { string: false, multiple: false });
    if (o.alias) {
      if (o.type === 'boolean') throw new Error(`parseStrict: -${o.alias} names a boolean option`); // not handled (groups)
      shorts.set(o.alias, name);
    }
  }
  const values: Record<string, string | boolean | Array<string | boolean>> = Object.create(null);
  const positionals: string[] = [];
  const store = (name: string, v: string | boolean) => {
    if (!kinds.get(name)!.multiple) values[name] = v;
    else if (Array.isArray(values[name])) (values[name] as Array<string | boolean>).push(v);
    else values[name] = [v];
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string;
    let value: string | undefined;
    let inline = false;
    if (arg.length >= 2 && arg[0] === '-' && arg[1] !== '-') {
      // -f, -fVALUE; a group (-xy) starts with an unknown short, as every short here takes a value
      const long = shorts.get(arg[1]);
      if (long === undefined) return null;
      name = long;
      if (arg.length > 2) {
        value = arg.slice(2);
        inline = true;
      }
    } else if (arg.length > 2 && arg.startsWith('--')) {
      if (arg.includes('=', 3)) {
        const eq = arg.indexOf('=');
        name = arg.slice(2, eq);
        value = arg.slice(eq + 1);
        inline = true;
      } else name = arg.slice(2);
      if (!kinds.has(name)) return null;
    } else {
      positionals.push(arg); // also '-' and ''
      continue;
    }
    const kind = kinds.get(name)!;
    if (kind.string && !inline) {
      if (i + 1 >= argv.length) return null; // argument missing
      value = argv[++i];
      if (value.length > 1 && value[0] === '-') return null; // ambiguous: an option, or a value?
    }
    if (!kind.string && value !== undefined) return null; // a boolean given a value
    store(name, value ?? true);
  }
  return { values, positionals };
}

/**
 * The yargs-free path for a plain lint run. Returns null when yargs must decide (help, version,
 * subcommands, anything that does not parse, a value outside its choices).
 */
export function fastParse(argv: string[]): LintArgs | null {
  const parsed = parseStrict(argv, LINT_OPTIONS);
  if (!parsed) return null;
  const pos = parsed.positionals;
  if (pos.length > 0 && SUBCOMMANDS.has(pos[0]) && pos[0] !== 'lint') return null;
  const paths = pos[0] === 'lint' ? pos.slice(1) : pos;
  const args: Record<string, unknown> = { paths };
  for (const [name, o] of Object.entries(LINT_OPTIONS)) {
    let v: unknown = parsed.values[name];
    if (o.type === 'boolean' && parsed.values[`no-${name}`]) v = false;
    if (v === undefined) v = o.default;
    if (v === undefined) continue;
    if (o.choices && !o.choices.includes(String(v))) return null;
    if (o.type === 'number') {
      const n = Number(v);
      if (typeof v === 'string' && (v.trim() === '' || Number.isNaN(n))) return null;
      v = n;
    }
    if (o.repeat && Array.isArray(v) && v.length === 1) v = v[0];
    args[camel(name)] = v;
  }
  return args as LintArgs;
}

/** A repeatable option's values (a string once, an array when repeated). */
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

async function lint(a: LintArgs, io: CliIO): Promise<number> {
  return (await import('./run.js')).lintCommand(a, parsePathMap(a.pathMap), io);
}

async function withYargs(argv: string[], io: CliIO): Promise<number> {
  const { default: yargs } = await import('yargs');
  // Loaded here, not at the top: dist/src/cli.js imports no module of ours before it picks the bundle.
  const { packageVersion } = await import('./version.js');
  let code = 0;
  const y = yargs(argv)
    .scriptName('why403')
    .usage('$0 [paths..]  Find the nginx and Apache directives that answer 403 Forbidden')
    .parserConfiguration({ 'camel-case-expansion': true, 'strip-dashed': false })
    .strict()
    .exitProcess(false)
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .alias('v', 'version')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      throw err && !(err instanceof UsageError) && !msg ? err : new UsageError(msg || err?.message || 'invalid usage');
    })
    .epilogue('Exit codes: 0 no errors (warnings within --max-warnings), 1 errors or too many warnings, 2 usage/config error or crash.')
    .command(
      ['lint [paths..]', '$0 [paths..]'],
      'Lint files, directories or globs (the default command)',
      (b) =>
        applyOptions(b, LINT_OPTIONS).positional('paths', {
          type: 'string',
          array: true,
          describe: 'Files, directories or globs; - reads stdin',
        }),
      async (a) => {
        code = await lint(a as unknown as LintArgs, io);
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
        applyOptions(b, GLOBAL_OPTIONS)
          .positional('file', { type: 'string', demandOption: true })
          .option('format', { alias: 'f', type: 'string', choices: ['text', 'json'], default: 'text' }),
      async (a) => {
        code = await (
          await import('./run.js')
        ).parseCommand(
          a.file as string,
          {
            format: a.format as 'text' | 'json',
            server: a.server as 'nginx' | 'apache' | undefined,
            context: a.context as string | undefined,
            pathMap: parsePathMap(a.pathMap),
          },
          io,
        );
      },
    );
  y.command(
    'diff <paths..>',
    'Whose access changes between two configs (or a git revision and the working tree)?',
    (b) =>
      applyOptions(b, GLOBAL_OPTIONS)
        .positional('paths', {
          type: 'string',
          array: true,
          demandOption: true,
          describe: 'BASE HEAD configs, or one config with --base REV',
        })
        .option('base', { type: 'string', describe: 'Read the base from this git revision (e.g. origin/main)' })
        .option('format', { alias: 'f', type: 'string', choices: ['text', 'json', 'markdown', 'github'], default: 'text' })
        .option('fail-on', {
          type: 'string',
          choices: ['any', 'opened', 'closed', 'none'],
          default: 'any',
          describe: 'Exit 1 when such a change is found (opened: a 401/403 became 2xx/3xx; closed: the reverse)',
        })
        .option('prefix', { type: 'string', describe: 'nginx: the -p prefix relative paths resolve against' })
        .option('server-root', { type: 'string', describe: 'Apache: ServerRoot when the config sets none' })
        .option('fs', { type: 'boolean', default: false, describe: 'Read the disk the configs serve (both sides see the same disk)' })
        .epilogue('Exit codes: 0 no change that --fail-on names, 1 such a change, 2 bad input.'),
    async (a) => {
      code = await (
        await import('./diff/command.js')
      ).diffCommand(
        {
          paths: (a.paths as string[]).map(String),
          base: a.base as string | undefined,
          format: a.format as string | undefined,
          failOn: a.failOn as string | undefined,
          server: a.server as string | undefined,
          pathMap: parsePathMap(a.pathMap),
          prefix: a.prefix as string | undefined,
          serverRoot: a.serverRoot as string | undefined,
          fs: a.fs === true,
        },
        io,
      );
    },
  );
  y.command(
    'test <specs..>',
    'Check a spec of expected answers (YAML or JSON) offline, each with explain',
    (b) =>
      applyOptions(b, GLOBAL_OPTIONS)
        .positional('specs', {
          type: 'string',
          array: true,
          demandOption: true,
          describe: 'Spec files, YAML or JSON (format: README, "Deploy gate")',
        })
        .option('format', { alias: 'f', type: 'string', choices: ['text', 'json'], default: 'text' })
        .option('real', {
          type: 'boolean',
          default: false,
          describe: 'Send the expectations to a real nginx/apache2 started on 127.0.0.1 with the config',
        })
        .epilogue('Exit codes: 0 every expectation holds, 1 some do not (each is named), 2 a bad spec or a config that does not parse.'),
    async (a) => {
      code = await (
        await import('./spec/command.js')
      ).testCommand({ specs: (a.specs as string[]).map(String), format: a.format as string | undefined, real: a.real as boolean }, io);
    },
  );
  y.command(
    'map <configs..>',
    'Every place of a config that answers 403 (or 401), who gets it, and a request that shows it',
    (b) =>
      applyOptions(applyOptions(b, GLOBAL_OPTIONS), MODEL_OPTIONS)
        .positional('configs', {
          type: 'string',
          array: true,
          demandOption: true,
          describe: 'Main configs (nginx.conf, apache2.conf, httpd.conf) or .htaccess files',
        })
        .option('format', { alias: 'f', type: 'string', choices: ['text', 'json', 'markdown', 'sarif'], default: 'text' })
        .option('fs', {
          type: 'boolean',
          default: false,
          describe: 'Read the disk the config serves, so the sample requests are explained with it (as explain --fs)',
        })
        .epilogue('Exit codes: 0 the map was made (whatever it holds), 2 bad input (a config that cannot be read or does not parse).'),
    async (a) => {
      code = await (
        await import('./map/command.js')
      ).mapCommand(
        {
          configs: (a.configs as string[]).map(String),
          format: a.format as string | undefined,
          server: a.server as string | undefined,
          pathMap: parsePathMap(a.pathMap),
          context: a.context as string | undefined,
          prefix: a.prefix as string | undefined,
          serverRoot: a.serverRoot as string | undefined,
          define: a.define as string | string[] | undefined,
          configLookup: a.configLookup as boolean | undefined,
          fs: a.fs === true,
        },
        io,
      );
    },
  );
  y.command(
    'explain <config> <url>',
    'Why does this request get 403 (or what does it get instead)? Simulates it on the config',
    (b) =>
      applyOptions(applyOptions(b, GLOBAL_OPTIONS), MODEL_OPTIONS)
        .positional('config', {
          type: 'string',
          demandOption: true,
          describe: 'The main config (nginx.conf, apache2.conf, httpd.conf) or an .htaccess',
        })
        .positional('url', { type: 'string', demandOption: true, describe: 'http://host:port/path?q, or /path?q' })
        .option('method', { alias: 'X', type: 'string', default: 'GET', describe: 'Request method' })
        .option('ip', { type: 'string', describe: 'Client address (default 127.0.0.1)' })
        .option('header', {
          alias: 'H',
          type: 'string',
          describe: "Request header 'Name: value' (repeatable; Host here wins over the URL's)",
        })
        .option('user', { type: 'string', describe: 'The request carries valid credentials for this user' })
        .option('auth', {
          type: 'string',
          describe: 'USER:PASSWORD: the request carries these credentials, checked against the user file in effect',
        })
        .option('proxy', {
          type: 'string',
          describe: "PORT: send the URL as a forward proxy's client does (absolute form on the request line) to this port of the server",
        })
        .option('fs', {
          type: 'boolean',
          default: false,
          describe: 'Check root/alias/DocumentRoot on disk: existence, index files, symlinks, modes and owners',
        })
        .option('htaccess', {
          type: 'boolean',
          default: false,
          describe: 'Apache: read the .htaccess files of the directories the request walks (through --path-map), and nothing else on disk',
        })
        .option('format', { alias: 'f', type: 'string', choices: ['text', 'json'], default: 'text' })
        .option('expect', { type: 'number', describe: 'Exit 1 when the predicted status is not this one (for CI)' })
        .option('color', { type: 'boolean', describe: 'Force colour on or off' })
        .epilogue('Exit codes: 0 the explanation was produced, 1 --expect differs, 2 bad input (URL, IP, header, config).'),
    async (a) => {
      code = await (
        await import('./explain/command.js')
      ).explainCommand(
        {
          config: a.config as string,
          target: a.url as string,
          method: a.method as string | undefined,
          ip: a.ip as string | undefined,
          header: a.header as string | string[] | undefined,
          user: a.user as string | undefined,
          auth: a.auth as string | undefined,
          proxy: a.proxy as string | undefined,
          fs: a.fs as boolean | undefined,
          htaccess: a.htaccess as boolean | undefined,
          format: a.format as string | undefined,
          server: a.server as string | undefined,
          pathMap: parsePathMap(a.pathMap),
          context: a.context as string | undefined,
          prefix: a.prefix as string | undefined,
          serverRoot: a.serverRoot as string | undefined,
          define: a.define as string | string[] | undefined,
          expect: a.expect as number | undefined,
          color: a.color as boolean | undefined,
          configLookup: a.configLookup as boolean | undefined,
        },
        io,
      );
    },
  );
  y.command(
    'lsp',
    'Language server (LSP) for editors: diagnostics, code actions, hover, outline, explain',
    (b) =>
      b
        .option('stdio', { type: 'boolean', default: true, describe: 'Talk LSP over standard input and output (the only transport)' })
        .option('clientProcessId', { type: 'number', describe: 'Exit when this process (the editor) has gone' })
        .epilogue('See the "Editors" section of the README for VS Code, Neovim and Helix.'),
    async () => {
      // loaded here only: the other commands never load the language server libraries
      await (await import('./lsp/index.js')).runLsp();
    },
  );
  await y.parseAsync();
  return code;
}

/** The command an argument list runs: the first word that is not an option (`lint` when none is a
 * subcommand). Options that take a value come after the command in every usage shown. */
function subcommandOf(argv: string[]): string {
  for (const a of argv) {
    if (a === '--') break;
    if (a.startsWith('-')) continue;
    return SUBCOMMANDS.has(a) ? a : 'lint';
  }
  return 'lint';
}

/** `--max-warnings` checked on the text given (yargs and parseStrict would turn `abc` into NaN). */
function checkMaxWarnings(argv: string[]): void {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    let raw: string | undefined;
    if (a === '--max-warnings') raw = argv[i + 1] ?? '';
    else if (a.startsWith('--max-warnings=')) raw = a.slice('--max-warnings='.length);
    else continue;
    if (!/^\s*-?\d+\s*$/.test(raw)) throw new UsageError(`--max-warnings expects a whole number, got '${raw}'`);
    if (Number(raw) < -1) throw new UsageError(`--max-warnings expects a whole number ≥ -1 (-1: no limit), got '${raw.trim()}'`);
  }
}

/** A write to a reader that has gone (EPIPE) is dropped; other stream errors are thrown. */
function ignoreEpipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  // A lone `-` means stdin, as --stdin does (yargs would drop it).
  const dash = argv.indexOf('-');
  const end = argv.indexOf('--');
  if (dash !== -1 && (end === -1 || dash < end)) argv = [...argv.slice(0, dash), '--stdin', ...argv.slice(dash + 1)];
  const sub = subcommandOf(argv);
  try {
    if (sub === 'lint') checkMaxWarnings(argv);
    const fast = fastParse(argv);
    if (fast) return await lint(fast, io);
    // `why403 … | head` through yargs, which writes to node's streams: the reader has gone; stop
    // writing quietly and keep the exit code of the run (processIO's own writer does the same)
    if (io === processIO) for (const stream of [process.stdout, process.stderr]) ignoreEpipe(stream);
    return await withYargs(argv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`why403: ${e.message}\nRun \`why403${sub === 'lint' ? '' : ' ' + sub} --help\` for usage.\n`);
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

function invokedAsBin(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/** Runs the command for this process (the bin), setting the exit code. */
export function runAsBin(): void {
  process.on('uncaughtException', (e) => {
    process.stderr.write(`why403: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  });
  main(process.argv.slice(2)).then(
    (c) => {
      process.exitCode = c;
    },
    (e) => {
      process.stderr.write(`why403: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 2;
    },
  );
}

/** What the bundle exports (this module's exports). */
export interface BundleExports {
  main: typeof main;
  runAsBin: typeof runAsBin;
}

/** A loaded bundle and whether V8 took the code cache beside it. */
export interface LoadedBundle {
  exports: BundleExports;
  /** accepted: compiled from the cache; rejected: V8 refused it (another node or V8 flags); absent:
   * no cache, or one written for another bundle. */
  cache: 'accepted' | 'rejected' | 'absent';
  script: import('node:vm').Script;
}

/**
 * Loads the single-file CLI bundle (scripts/bundle.mjs): `file` (…/cli.bundle.cjs) holds one function
 * expression `(function (exports, require, module, __filename, __dirname, __why403_url, __why403_import) {…})`,
 * compiled through `vm.Script` with the V8 code cache that the build wrote beside it (`cli.bundle.cache`:
 * the build id, a newline, V8's data), so most of its functions are not parsed and compiled again on
 * every run. V8 checks only its own version, flags and the source length, so the cache is used only when
 * it carries the id on the bundle's first line; V8 may still reject it (another node), and then
 * the bundle compiles from its source as before. Nothing is written at run time. `import.meta.url` in
 * the bundle is `__why403_url` (this file's URL for the bundle), and `import()` of a package is
 * `__why403_import`, an `import()` here (dist/src, where the bundle lies, so the same packages resolve).
 */
export function loadBundle(file: string, opts: { cache?: boolean } = {}): LoadedBundle {
  const { Script } = nodeRequire('node:vm') as typeof import('node:vm');
  const { readFileSync } = nodeRequire('node:fs') as typeof import('node:fs');
  // the bundle is ASCII (scripts/bundle.mjs escapes anything else), so latin1 is its exact decoding
  const source = readFileSync(file, 'latin1');
  const id = /^\/\* why403 bundle ([0-9a-f]+) \*\//.exec(source)?.[1] ?? '';
  let cachedData: Buffer | undefined;
  if (opts.cache !== false && id) {
    try {
      const data = readFileSync(file.replace(/\.cjs$/, '') + '.cache');
      const nl = data.indexOf(10);
      if (nl > 0 && data.toString('latin1', 0, nl) === id) cachedData = data.subarray(nl + 1);
    } catch {
      /* no cache: compile from the source */
    }
  }
  const script = new Script(source, { filename: file, ...(cachedData ? { cachedData } : {}) });
  const cache = !cachedData ? 'absent' : script.cachedDataRejected ? 'rejected' : 'accepted';
  const fn = script.runInThisContext() as (...a: unknown[]) => void;
  const module = { exports: {} as BundleExports };
  const url = pathToFileURL(file).href;
  fn.call(module.exports, module.exports, createRequire(url), module, file, dirname(file), url, (id: string) => import(id));
  return { exports: module.exports, cache, script };
}

/**
 * The bundle of the CLI (scripts/bundle.mjs), when it is at least as new as this file: loading one
 * module instead of ~50 is most of what is left of startup. A later `tsc` leaves it older, and then
 * these files run. WHY403_NO_BUNDLE=1 turns it off. Help and version need nothing but yargs, so they
 * skip it (loading the bundle would cost them ~15 ms).
 */
function freshBundle(argv: string[]): string | null {
  if (import.meta.url.endsWith('.cjs') || process.env.WHY403_NO_BUNDLE) return null;
  if (argv.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-v')) return null;
  const bundle = fileURLToPath(new URL('./cli.bundle.cjs', import.meta.url));
  try {
    return statSync(bundle).mtimeMs >= statSync(fileURLToPath(import.meta.url)).mtimeMs ? bundle : null;
  } catch {
    return null;
  }
}

// Run when executed as the bin (not when imported by tests).
if (invokedAsBin()) {
  const bundle = freshBundle(process.argv.slice(2));
  let loaded: LoadedBundle | undefined;
  if (bundle) {
    try {
      loaded = loadBundle(bundle);
    } catch (e) {
      if (process.env.WHY403_DEBUG)
        process.stderr.write(`why403: cannot load ${bundle} (${e instanceof Error ? e.message : String(e)}); running unbundled\n`);
    }
  }
  // WHY403_DEBUG_BUNDLE=1: say what ran (test/bundle.test.ts)
  if (process.env.WHY403_DEBUG_BUNDLE)
    process.stderr.write(loaded ? `why403: bundle ${bundle}, code cache ${loaded.cache}\n` : 'why403: unbundled\n');
  if (loaded) loaded.exports.runAsBin();
  else runAsBin();
}
