/**
 * The map as text (grouped by server, one line per place), JSON (the entries as they are), Markdown
 * (for a pull-request comment) and SARIF (one result per place, the sample's explain trace as a code
 * flow; level `note`, since a deliberate refusal is no mistake).
 */
import { relative, isAbsolute } from 'node:path';
import type { MapEntry, MapResult } from './index.js';
import { partialLines } from '../explain/partial.js';

export type MapFormat = 'text' | 'json' | 'markdown' | 'sarif';

const show = (p: string, cwd: string): string => {
  if (!isAbsolute(p)) return p;
  const r = relative(cwd, p);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : p;
};

function sampleText(e: MapEntry): string {
  if (!e.sample) return `no sample: ${e.note ?? 'conditional'}`;
  const h = Object.entries(e.sample.headers)
    .map(([k, v]) => ` -H '${k}: ${v}'`)
    .join('');
  const x = e.explainedOn;
  const on = !x ? '' : x.config ? ` (explained on ${x.config}${x.htaccess ? ' with --htaccess' : ''})` : ' (explained with --htaccess)';
  return `e.g. ${e.sample.method} ${e.sample.url} from ${e.sample.ip}${h} → ${e.status}${on}`;
}

function groups(results: MapResult[]): Map<string, MapEntry[]> {
  const by = new Map<string, MapEntry[]>();
  for (const r of results)
    for (const e of r.entries) {
      const k = `${r.server} ${e.server}`;
      const l = by.get(k) ?? [];
      l.push(e);
      by.set(k, l);
    }
  return by;
}

/** The partial-config warnings of the results, once per config. */
function partials(results: MapResult[], cwd: string): string[] {
  return results.filter((r) => r.partial).map((r) => `${show(r.config, cwd)}: partial config: ${r.partial!.reason}`);
}

function text(results: MapResult[], cwd: string): string {
  const lines: string[] = [];
  for (const r of results) if (r.partial) lines.push(...partialLines(r.partial), '');
  for (const [server, entries] of groups(results)) {
    lines.push(server);
    for (const e of entries) {
      const scope = e.scope.length ? e.scope[e.scope.length - 1] : '(server)';
      lines.push(`  ${show(e.file, cwd)}:${e.line}:${e.column}  ${e.status}  ${scope}  \`${e.directive}\`: ${e.who.text}`);
      lines.push(`      ${sampleText(e)}${e.uris.except.length ? `; not for ${e.uris.except.join(', ')}` : ''}`);
    }
    lines.push('');
  }
  const n = results.reduce((s, r) => s + r.entries.length, 0);
  const proven = results.reduce((s, r) => s + r.entries.filter((e) => e.sample).length, 0);
  lines.push(
    n
      ? `${n} place${n === 1 ? '' : 's'} can answer 403/401 (${proven} shown by a sample request)`
      : 'nothing in this config answers 403 or 401',
  );
  return lines.join('\n') + '\n';
}

const md = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function markdown(results: MapResult[], cwd: string): string {
  const out: string[] = ['## Who gets 403 (why403 map)', ''];
  for (const p of partials(results, cwd)) out.push(`> **${md(p)}**`, '');
  const warned = out.length - 2;
  for (const [server, entries] of groups(results)) {
    out.push(`### ${md(server)}`, '', '| where | status | scope | directive | who | sample |', '| --- | --- | --- | --- | --- | --- |');
    for (const e of entries) {
      const s = e.sample ? `\`${e.sample.method} ${e.sample.url}\` from ${e.sample.ip}` : `_${md(e.note ?? 'conditional')}_`;
      out.push(
        `| \`${md(show(e.file, cwd))}:${e.line}\` | ${e.status} | ${e.scope.length ? e.scope.map((x) => `\`${md(x)}\``).join(' › ') : '(server)'} | \`${md(e.directive)}\` | ${md(e.who.text)} | ${s} |`,
      );
    }
    out.push('');
  }
  if (out.length === 2 + warned) out.push('Nothing in this config answers 403 or 401.', '');
  return out.join('\n');
}

function sarif(results: MapResult[], cwd: string, version: string): string {
  const uri = (p: string) => {
    const r = show(p, cwd);
    return isAbsolute(r)
      ? { uri: `file://${r.split('/').map(encodeURIComponent).join('/')}` }
      : { uri: r.split('/').map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
  };
  const res = results.flatMap((r) =>
    r.entries.map((e) => ({
      ruleId: e.status === 401 ? 'map-401' : 'map-403',
      level: 'note',
      message: {
        text: `${e.status} for ${e.who.text}: \`${e.directive}\` (${e.scope.join(' › ') || e.server}); ${sampleText(e)}${r.partial ? ` [partial config: ${r.partial.reason}]` : ''}`,
      },
      locations: [{ physicalLocation: { artifactLocation: uri(e.file), region: { startLine: e.line, startColumn: e.column } } }],
      ...(e.trace?.length
        ? {
            codeFlows: [
              {
                threadFlows: [
                  {
                    locations: e.trace.map((t) => ({
                      location: {
                        physicalLocation: { artifactLocation: uri(t.file), region: { startLine: t.line, startColumn: t.column } },
                        message: { text: t.message },
                      },
                    })),
                  },
                ],
              },
            ],
          }
        : {}),
    })),
  );
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'why403',
            version,
            informationUri: 'https://github.com/why403/why403',
            rules: [
              { id: 'map-403', shortDescription: { text: 'A place in the config that answers 403 Forbidden' } },
              { id: 'map-401', shortDescription: { text: 'A place in the config that asks for credentials (401)' } },
            ],
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: `file://${cwd.replace(/\/?$/, '/')}` } },
        results: res,
      },
    ],
  };
  return JSON.stringify(log, null, 2) + '\n';
}

export function renderMap(results: MapResult[], format: MapFormat, cwd: string, version = '0.0.0'): string {
  switch (format) {
    case 'json':
      return (
        JSON.stringify(
          results.flatMap((r) =>
            r.entries.map((e) => ({ ...e, serverKind: r.server, config: r.config, ...(r.partial ? { partial: r.partial.reason } : {}) })),
          ),
          null,
          2,
        ) + '\n'
      );
    case 'markdown':
      return markdown(results, cwd);
    case 'sarif':
      return sarif(results, cwd, version);
    default:
      return text(results, cwd);
  }
}
