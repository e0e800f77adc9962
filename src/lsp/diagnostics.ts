/**
 * Lint results as LSP diagnostics, and their code actions: the finding's fix, its suggestions, and a
 * `# why403-disable-next-line <rule> -- <reason>` comment above the line (src/suppress.ts's syntax).
 */
import type { CodeAction, Diagnostic, Range, TextEdit } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ResultMessage } from '../results.js';

/** LSP DiagnosticSeverity (numbers, so this module loads nothing at run time). */
const SEVERITY = { error: 1, warning: 2, info: 3 } as const;

/** What a diagnostic carries for its code actions (LSP `data`, sent back by the client). */
export interface DiagnosticData {
  fix?: ResultMessage['fix'];
  suggestions?: ResultMessage['suggestions'];
  /** The document version the offsets are for. */
  version: number;
}

export const REASON_PLACEHOLDER = 'REASON';

export function toDiagnostic(m: ResultMessage, version: number): Diagnostic {
  const range: Range = {
    start: { line: Math.max(0, m.line - 1), character: Math.max(0, m.column - 1) },
    end: { line: Math.max(0, (m.endLine || m.line) - 1), character: Math.max(0, (m.endColumn || m.column) - 1) },
  };
  if (range.end.line < range.start.line || (range.end.line === range.start.line && range.end.character < range.start.character))
    range.end = { ...range.start };
  const data: DiagnosticData = { version };
  if (m.fix) data.fix = m.fix;
  if (m.suggestions?.length) data.suggestions = m.suggestions;
  const d: Diagnostic = {
    range,
    severity: SEVERITY[m.severity],
    source: 'why403',
    code: m.ruleId,
    message: m.message,
    data,
  };
  if (m.docsUrl) d.codeDescription = { href: m.docsUrl };
  if (m.related?.length)
    d.relatedInformation = m.related.map((r) => ({
      location: {
        uri: fileUri(r.file),
        range: {
          start: { line: Math.max(0, r.line - 1), character: Math.max(0, r.column - 1) },
          end: { line: Math.max(0, r.endLine - 1), character: Math.max(0, r.endColumn - 1) },
        },
      },
      message: r.message,
    }));
  return d;
}

function fileUri(p: string): string {
  return 'file://' + p.split('/').map(encodeURIComponent).join('/');
}

function edit(doc: TextDocument, f: { range: [number, number]; text: string }): TextEdit {
  return { range: { start: doc.positionAt(f.range[0]), end: doc.positionAt(f.range[1]) }, newText: f.text };
}

/** The code actions of the diagnostics a client sends back for a range. */
export function codeActions(doc: TextDocument, diagnostics: Diagnostic[]): CodeAction[] {
  const out: CodeAction[] = [];
  const suppressed = new Set<string>();
  for (const d of diagnostics) {
    if (d.source !== 'why403' || typeof d.code !== 'string') continue;
    const data = (d.data ?? null) as DiagnosticData | null;
    // offsets are for the text that was linted: a client that asks with an older diagnostic gets no edit
    const fresh = data !== null && data.version === doc.version;
    if (fresh && data.fix)
      out.push({
        title: `Fix: ${d.code}`,
        kind: 'quickfix',
        diagnostics: [d],
        isPreferred: true,
        edit: { changes: { [doc.uri]: [edit(doc, data.fix)] } },
      });
    if (fresh)
      for (const s of data.suggestions ?? [])
        out.push({ title: s.desc, kind: 'quickfix', diagnostics: [d], edit: { changes: { [doc.uri]: [edit(doc, s.fix)] } } });
    if (d.code === 'syntax-error') continue; // a file that does not parse cannot be suppressed line by line
    const key = `${d.code}:${d.range.start.line}`;
    if (suppressed.has(key)) continue;
    suppressed.add(key);
    const line = d.range.start.line;
    const text = doc.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } });
    const indent = /^[ \t]*/.exec(text)?.[0] ?? '';
    out.push({
      title: `Suppress ${d.code} on this line (why403-disable-next-line, with a reason)`,
      kind: 'quickfix',
      diagnostics: [d],
      edit: {
        changes: {
          [doc.uri]: [
            {
              range: { start: { line, character: 0 }, end: { line, character: 0 } },
              newText: `${indent}# why403-disable-next-line ${d.code} -- ${REASON_PLACEHOLDER}\n`,
            },
          ],
        },
      },
    });
  }
  return out;
}
