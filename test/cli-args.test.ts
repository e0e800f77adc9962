/**
 * The CLI's own strict argument parser (src/cli.ts `parseStrict`, which spares each run node's
 * parseArgs module) against node's `util.parseArgs` with the same table: the same values and
 * positionals for every argument list, and null exactly where parseArgs throws. Argument lists are
 * drawn (seeded) from words that exercise each rule: short options with and without their value,
 * groups, `--name=value`, booleans given values, negations, values that start with a dash, `--`,
 * `-`, unknown names and names of Object.prototype.
 */
import { parseArgs } from 'node:util';
import { describe, expect, test } from 'vitest';
import { mulberry32 } from '../bench/prng.js';
import { fastParse, LINT_OPTIONS, parseStrict } from '../src/cli.js';

type ParseArgsOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>['options']>;
const options: ParseArgsOptions = {};
for (const [name, o] of Object.entries(LINT_OPTIONS)) {
  options[name] = {
    type: o.type === 'boolean' ? 'boolean' : 'string',
    ...(o.alias ? { short: o.alias } : {}),
    ...(o.repeat ? { multiple: true } : {}),
  };
  if (o.type === 'boolean') options[`no-${name}`] = { type: 'boolean' };
}

function reference(argv: string[]): { values: Record<string, unknown>; positionals: string[] } | null {
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: { ...r.values }, positionals: r.positionals };
  } catch {
    return null;
  }
}

function ours(argv: string[]): { values: Record<string, unknown>; positionals: string[] } | null {
  const r = parseStrict(argv, LINT_OPTIONS);
  return r && { values: { ...r.values }, positionals: r.positionals };
}

const words = [
  'a.conf',
  'dir/',
  '',
  '-',
  '--',
  '---',
  '--=x',
  '-=x',
  '-f',
  'json',
  '-fjson',
  '-f=json',
  '-fq',
  '-qf',
  '-c',
  '-cfx',
  'x.json',
  '-o',
  '-oout.txt',
  '-x',
  '-xy',
  '-h',
  '-5',
  '-1',
  '--format',
  '--format=',
  '--format=sarif',
  '--format=a=b',
  '--config',
  '--output-file',
  '--quiet',
  '--quiet=1',
  '--quiet=',
  '--no-quiet',
  '--no-quiet=x',
  '--fix',
  '--no-fix',
  '--fix-dry-run',
  '--only',
  'nginx-a',
  '--only=b',
  '--max-warnings',
  '--max-warnings=-1',
  '--path-map',
  'a=b',
  '--server',
  'nginx',
  '--server=apache',
  '--color',
  '--no-color',
  '--stdin',
  '--stdin-filename',
  '--bogus',
  '--bogus=1',
  '--constructor',
  '--__proto__',
  '--toString=x',
  '--help',
  '--version',
  '--no-config-lookup',
  '--no-no-color',
  'lint',
  'explain',
];

describe('parseStrict answers as util.parseArgs (strict) does', () => {
  test('for 20,000 drawn argument lists', () => {
    const rand = mulberry32(12);
    let refused = 0;
    for (let n = 0; n < 20_000; n++) {
      const argv = Array.from({ length: Math.floor(rand() * 6) }, () => words[Math.floor(rand() * words.length)]);
      const want = reference(argv);
      if (!want) refused++;
      expect(ours(argv), JSON.stringify(argv)).toEqual(want);
    }
    // both kinds were drawn
    expect(refused).toBeGreaterThan(2_000);
    expect(refused).toBeLessThan(18_000);
  });

  test.each([
    [['-f', 'json', '-f', 'sarif', 'a.conf'], { values: { format: ['json', 'sarif'] }, positionals: ['a.conf'] }],
    [['--max-warnings=-1', '--', '-x', '--fix'], { values: { 'max-warnings': '-1' }, positionals: ['-x', '--fix'] }],
    [['-cfx'], { values: { config: 'fx' }, positionals: [] }],
    [['--no-fix', '--fix'], { values: { 'no-fix': true, fix: true }, positionals: [] }],
    [['--max-warnings', '-1'], null],
    [['-f'], null],
    [['--quiet=1'], null],
    [['-q'], null],
    [['--constructor'], null],
  ])('%j', (argv, want) => {
    expect(reference(argv)).toEqual(want);
    expect(ours(argv)).toEqual(want);
  });

  test('fastParse on top of it: lint arguments, or null for yargs', () => {
    expect(fastParse(['--no-config-lookup', '-f', 'json', 'a.conf'])).toMatchObject({
      paths: ['a.conf'],
      configLookup: false,
      format: 'json',
      quiet: false,
      maxWarnings: -1,
    });
    expect(fastParse(['lint', 'a.conf'])).toMatchObject({ paths: ['a.conf'] });
    expect(fastParse(['explain', 'a.conf', '/'])).toBeNull();
    expect(fastParse(['--server', 'lighttpd', 'a.conf'])).toBeNull();
    expect(fastParse(['--help'])).toBeNull();
  });
});
