/**
 * SARIF 2.1.0 for GitHub code scanning: one run, `tool.driver.rules[]` with every enabled rule
 * (id, short description, a one-line help text pointing at helpUri, default level, tags;
 * the rule docs themselves are not embedded, so the log stays small), results with relative URIs against %SRCROOT% (the working directory) and 1-based regions
 * (endColumn exclusive, UTF-16 code units). `results` is `[]` when clean, so old alerts close.
 * Suppressed findings are included with `suppressions[{kind: "inSource"}]`. No fingerprints are
 * invented: upload-sarif computes `primaryLocationLineHash` itself.
 */
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ResultMessage } from '../results.js';
import type { Formatter } from './types.js';

const LEVEL = { error: 'error', warning: 'warning', info: 'note' } as const;

function clip(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1) + '\u2026';
}

function relativeTo(cwd: string, file: string): string {
  const r = relative(cwd, file);
  return r.startsWith('..') || isAbsolute(r) ? file : r.split(sep).join('/');
}

function uriFor(rel: string, abs: string): { uri: string; uriBaseId?: string } {
  if (rel.startsWith('/') || /^[A-Za-z]:/.test(rel)) return { uri: pathToFileURL(abs).href };
  return { uri: rel.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
}

export const sarif: Formatter = (results, ctx) => {
  // Metadata only: the rule docs stay behind helpUri (embedding them made a 6-result log 195 KB).
  const rules = ctx.rules.map((r) => ({
    id: r.id,
    name: r.id,
    shortDescription: { text: clip(r.description, 1024) },
    helpUri: r.docsUrl,
    help: { text: `Documentation: ${r.docsUrl}` },
    defaultConfiguration: { level: LEVEL[r.severity] },
    properties: {
      tags: [...r.servers, r.category, '403'],
      precision: 'high',
      'problem.severity': r.severity === 'info' ? 'recommendation' : r.severity,
    },
  }));
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const region = (m: { line: number; column: number; endLine: number; endColumn: number }) => ({
    startLine: m.line,
    startColumn: m.column,
    endLine: Math.max(m.endLine, m.line),
    endColumn: m.endLine > m.line || m.endColumn > m.column ? m.endColumn : m.column + 1,
  });
  const out: unknown[] = [];
  const toResult = (rel: string, abs: string, m: ResultMessage, suppressions?: Array<{ kind: string; justification: string }>) => {
    const res: Record<string, unknown> = {
      ruleId: m.ruleId,
      level: LEVEL[m.severity],
      message: { text: m.message },
      locations: [{ physicalLocation: { artifactLocation: uriFor(rel, abs), region: region(m) } }],
    };
    const i = index.get(m.ruleId);
    if (i !== undefined) res.ruleIndex = i;
    if (m.related?.length) {
      res.relatedLocations = m.related.map((r, id) => ({
        id,
        message: { text: r.message },
        physicalLocation: { artifactLocation: uriFor(relativeTo(ctx.cwd, r.file), r.file), region: region(r) },
      }));
    }
    if (m.request && m.trace?.length) {
      // The explain trace of the sample request: from the server/vhost to the decisive directive.
      const req = m.request;
      res.codeFlows = [
        {
          // a status that holds only under assumptions about the disk says them (the JSON's `assumes`)
          message: {
            text: `${req.method} ${req.url}${req.proxy !== undefined ? ` (a forward-proxy request to port ${req.proxy})` : ''} from ${req.ip} gets ${m.status}${m.assumes ? ` if ${m.assumes.join(' and ')}` : ''}${m.htaccess ? ' (explain --htaccess)' : ''}${m.unless ? `, unless ${m.unless.join('; ')}` : ''}`,
          },
          threadFlows: [
            {
              locations: m.trace.map((t) => ({
                location: {
                  physicalLocation: {
                    artifactLocation: uriFor(relativeTo(ctx.cwd, t.file), t.file),
                    region: { startLine: t.line, startColumn: t.column },
                  },
                  message: { text: t.message },
                },
              })),
            },
          ],
        },
      ];
    }
    if (m.assumes || m.htaccess || m.unless)
      res.properties = {
        ...(m.assumes ? { assumes: m.assumes } : {}),
        ...(m.htaccess ? { htaccess: true } : {}),
        ...(m.unless ? { unless: m.unless } : {}),
      };
    if (m.fix) {
      res.fixes = [
        {
          description: { text: 'why403 --fix' },
          artifactChanges: [
            {
              artifactLocation: uriFor(rel, abs),
              replacements: [
                {
                  deletedRegion: { charOffset: m.fix.range[0], charLength: m.fix.range[1] - m.fix.range[0] },
                  insertedContent: { text: m.fix.text },
                },
              ],
            },
          ],
        },
      ];
    }
    if (suppressions)
      res.suppressions = suppressions.map((s) => ({ kind: 'inSource', ...(s.justification ? { justification: s.justification } : {}) }));
    out.push(res);
  };
  for (const r of results) {
    for (const m of r.messages) toResult(r.relativePath, r.filePath, m);
    for (const m of r.suppressedMessages) toResult(r.relativePath, r.filePath, m, m.suppressions);
  }
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'why403',
            informationUri: 'https://github.com/why403/why403',
            version: ctx.version,
            semanticVersion: ctx.version,
            rules,
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(ctx.cwd.endsWith('/') ? ctx.cwd : ctx.cwd + '/').href } },
        columnKind: 'utf16CodeUnits',
        results: out,
      },
    ],
  };
  return JSON.stringify(log, null, 2) + '\n';
};
