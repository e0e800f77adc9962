/**
 * Formatters on hand-built and real results: SARIF validated against the official SARIF 2.1.0
 * JSON schema (test/data), GitHub workflow-command escaping, stylish layout, compact lines.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Validator } from '@cfworker/json-schema';
import { describe, expect, test } from 'vitest';
import { rules } from '../rules/index.js';
import { engineRules } from '../src/linter.js';
import { loadFormatter, type FormatContext } from '../src/formatters/index.js';
import { escapeData, escapeProperty } from '../src/formatters/github.js';
import { lint, useColor, type LintResult, type ResultMessage } from '../src/run.js';

const root = resolve(import.meta.dirname, '..');
const schema = JSON.parse(readFileSync(join(root, 'test/data/sarif-schema-2.1.0.json'), 'utf8'));
const validator = new Validator(schema, '4', false);
const ctx: FormatContext = { cwd: root, color: false, rules: [...rules, ...engineRules], version: '1.2.3' };

function msg(p: Partial<ResultMessage>): ResultMessage {
  return {
    ruleId: 'nginx-return-403-server',
    severity: 'error',
    message: 'm',
    line: 1,
    column: 1,
    endLine: 1,
    endColumn: 2,
    docsUrl: 'u',
    ...p,
  };
}
function result(rel: string, messages: ResultMessage[], extra: Partial<LintResult> = {}): LintResult {
  return {
    filePath: join(root, rel),
    relativePath: rel,
    messages,
    suppressedMessages: [],
    errorCount: messages.filter((m) => m.severity === 'error').length,
    fatalErrorCount: 0,
    warningCount: messages.filter((m) => m.severity === 'warning').length,
    infoCount: messages.filter((m) => m.severity === 'info').length,
    fixableErrorCount: messages.filter((m) => m.severity === 'error' && m.fix).length,
    fixableWarningCount: messages.filter((m) => m.severity === 'warning' && m.fix).length,
    ...extra,
  };
}

function validSarif(text: string): void {
  const r = validator.validate(JSON.parse(text));
  expect(r.errors.slice(0, 5)).toEqual([]);
  expect(r.valid).toBe(true);
}

describe('sarif', () => {
  test('real run over the CLI fixture tree validates; relative URIs; every enabled rule in rules[]', async () => {
    const run = await lint(['fixtures/cli/tree'], {
      cwd: root,
      noConfig: true,
      only: ['nginx-return-403-server', 'apache-legacy-access-control', 'unused-suppression'],
    });
    const text = (await loadFormatter('sarif'))(run.results, { ...ctx, rules: run.enabledRules });
    validSarif(text);
    const log = JSON.parse(text);
    const r0 = log.runs[0];
    expect(r0.tool.driver.rules.map((r: { id: string }) => r.id)).toEqual([
      'apache-legacy-access-control',
      'nginx-return-403-server',
      'syntax-error',
      'unused-suppression',
    ]);
    for (const r of r0.tool.driver.rules) {
      expect(r.helpUri).toMatch(/^https:\/\/github\.com\/why403\/why403\/blob\/main\/rules\/[a-z0-9-]+\.md$/);
      expect(r.shortDescription.text.length).toBeLessThanOrEqual(1024);
      expect(r.help.text.length).toBeLessThanOrEqual(1024);
      expect(r.help.text).toContain(r.helpUri);
      expect(r.defaultConfiguration.level).toMatch(/^(error|warning|note)$/);
    }
    // The rule docs are behind helpUri, not embedded (they made a 6-result log 195 KB).
    expect(text).not.toContain('## Why this returns 403');
    expect(text.length).toBeLessThan(20_000);
    const uris = new Set(
      r0.results.map(
        (x: { locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }) =>
          x.locations[0].physicalLocation.artifactLocation.uri,
      ),
    );
    expect([...uris].sort()).toEqual([
      'fixtures/cli/tree/apache/www/.htaccess',
      'fixtures/cli/tree/nginx/nginx.conf',
      'fixtures/cli/tree/nginx/sites-enabled/shop.conf',
    ]);
    const suppressed = r0.results.filter((x: { suppressions?: unknown[] }) => x.suppressions);
    expect(suppressed).toHaveLength(1);
    expect(suppressed[0].suppressions[0]).toEqual({ kind: 'inSource', justification: 'internal only, reached through the VPN' });
    for (const x of r0.results) expect(r0.tool.driver.rules[x.ruleIndex].id).toBe(x.ruleId);
  });

  test('clean run: results is [] and still valid', async () => {
    const text = (await loadFormatter('sarif'))([result('a.conf', [])], ctx);
    validSarif(text);
    expect(JSON.parse(text).runs[0].results).toEqual([]);
  });

  test('levels, related locations, fixes, odd paths and zero-width spans validate', async () => {
    const text = (await loadFormatter('sarif'))(
      [
        result('dir with space/ü.conf', [
          msg({ severity: 'info', line: 3, column: 4, endLine: 3, endColumn: 4 }),
          msg({ severity: 'warning', ruleId: 'unused-suppression', fix: { range: [0, 10], text: '' } }),
          msg({ related: [{ file: join(root, 'x.conf'), message: 'here', line: 2, column: 1, endLine: 4, endColumn: 2 }] }),
        ]),
        result('/outside/abs.conf', [msg({})], { filePath: '/outside/abs.conf' }),
      ],
      ctx,
    );
    validSarif(text);
    const res = JSON.parse(text).runs[0].results;
    expect(res.map((r: { level: string }) => r.level)).toEqual(['note', 'warning', 'error', 'error']);
    expect(res[0].locations[0].physicalLocation.artifactLocation.uri).toBe('dir%20with%20space/%C3%BC.conf');
    expect(res[0].locations[0].physicalLocation.region).toEqual({ startLine: 3, startColumn: 4, endLine: 3, endColumn: 5 });
    expect(res[3].locations[0].physicalLocation.artifactLocation).toEqual({ uri: 'file:///outside/abs.conf' });
    expect(res[2].relatedLocations[0].physicalLocation.artifactLocation).toEqual({ uri: 'x.conf', uriBaseId: '%SRCROOT%' });
  });
});

describe('github', () => {
  test('escaping as actions/toolkit does', () => {
    expect(escapeData('100% a\r\nb')).toBe('100%25 a%0D%0Ab');
    expect(escapeProperty('a:b,c%\n')).toBe('a%3Ab%2Cc%25%0A');
  });
  test('annotations then the stylish report; notice for info; col only when on one line', async () => {
    const out = (await loadFormatter('github'))(
      [result('a,b:c.conf', [msg({ message: 'x\ny 50%' }), msg({ severity: 'info', line: 2, endLine: 3 })])],
      ctx,
    );
    const lines = out.split('\n');
    expect(lines[0]).toBe(
      '::error file=a%2Cb%3Ac.conf,line=1,endLine=1,col=1,endColumn=2,title=nginx-return-403-server::x%0Ay 50%25 [nginx-return-403-server]',
    );
    expect(lines[1]).toBe('::notice file=a%2Cb%3Ac.conf,line=2,endLine=3,col=1,title=nginx-return-403-server::m [nginx-return-403-server]');
    expect(lines[2]).toBe('a,b:c.conf');
  });
});

describe('stylish', () => {
  test('alignment, trailing period stripped, plurals, fixable line, silence when clean', async () => {
    const stylish = await loadFormatter('stylish');
    const out = stylish(
      [
        result('a.conf', [
          msg({ line: 9, column: 5, message: 'short.' }),
          msg({
            line: 12,
            column: 13,
            severity: 'warning',
            ruleId: 'unused-suppression',
            message: 'longer message',
            fix: { range: [0, 1], text: '' },
          }),
        ]),
        result('b.conf', []),
      ],
      ctx,
    );
    expect(out).toBe(
      [
        'a.conf',
        '   9:5   error    short           nginx-return-403-server',
        '  12:13  warning  longer message  unused-suppression',
        '',
        '\u2716 2 problems (1 error, 1 warning)',
        '  0 errors and 1 warning potentially fixable with the `--fix` option.',
        '',
      ].join('\n'),
    );
    expect(stylish([result('b.conf', [])], ctx)).toBe('');
    expect(stylish([result('c.conf', [msg({ severity: 'info' })])], ctx)).toContain('\u2716 1 problem (0 errors, 0 warnings, 1 info)');
  });

  test('colour decision', () => {
    expect(useColor(undefined, {}, true)).toBe(true);
    expect(useColor(undefined, {}, false)).toBe(false);
    expect(useColor(undefined, { NO_COLOR: '1' }, true)).toBe(false);
    expect(useColor(undefined, { FORCE_COLOR: '1' }, false)).toBe(true);
    expect(useColor(undefined, { FORCE_COLOR: '0' }, true)).toBe(false);
    expect(useColor(true, { NO_COLOR: '1' }, false)).toBe(true);
  });
});

test('compact and json', async () => {
  const rs = [result('a.conf', [msg({ line: 2, column: 3, message: 'two\nlines' })])];
  expect((await loadFormatter('compact'))(rs, ctx)).toBe('a.conf:2:3: error: two lines [nginx-return-403-server]\n');
  const j = JSON.parse((await loadFormatter('json'))(rs, ctx));
  expect(j[0]).toMatchObject({ filePath: join(root, 'a.conf'), errorCount: 1, warningCount: 0, usedDeprecatedRules: [] });
  expect(j[0].messages[0]).toMatchObject({
    ruleId: 'nginx-return-403-server',
    severity: 'error',
    line: 2,
    column: 3,
    endLine: 1,
    docsUrl: 'u',
  });
});
