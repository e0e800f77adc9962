/**
 * Expectation markers in fixtures (docs/ARCHITECTURE.md): whole-line comments that say which
 * findings a fixture must produce.
 *
 *   # expect: <rule-id>                      the next directive line has a finding of the rule
 *   # expect+N: <rule-id>                    the finding is N lines below the marker
 *   # expect: <rule-id> col=14 "text"        also the column and a substring of the message
 *   # expect-file: <rule-id>                 a finding at line 1 of the file
 */
export interface Expectation {
  rule: string;
  line: number;
  column?: number;
  message?: string;
  /** Line of the marker itself (for error messages). */
  markerLine: number;
}

const MARKER = /^\s*#\s*expect(?:(\+\d+)|(-file))?:\s*(\S+)(.*)$/;

export function parseMarkers(text: string): Expectation[] {
  const lines = text.split(/\r?\n/);
  const out: Expectation[] = [];
  lines.forEach((l, i) => {
    const m = MARKER.exec(l);
    if (!m) return;
    const markerLine = i + 1;
    let line: number;
    if (m[2]) line = 1;
    else if (m[1]) line = markerLine + Number(m[1].slice(1));
    else {
      line = 0;
      for (let j = i + 1; j < lines.length; j++) {
        const t = lines[j].trim();
        if (t !== '' && !t.startsWith('#')) {
          line = j + 1;
          break;
        }
      }
      if (line === 0) throw new Error(`marker on line ${markerLine} has no directive line after it`);
    }
    const rest = m[4];
    const col = /\bcol=(\d+)/.exec(rest);
    const msg = /"((?:[^"\\]|\\.)*)"/.exec(rest);
    out.push({
      rule: m[3],
      line,
      markerLine,
      ...(col ? { column: Number(col[1]) } : {}),
      ...(msg ? { message: msg[1].replace(/\\(.)/g, '$1') } : {}),
    });
  });
  return out;
}

export interface Found {
  ruleId: string;
  line: number;
  column: number;
  message: string;
}

/** Compare findings with expectations; returns human-readable mismatches (empty when they agree). */
export function compareMarkers(file: string, expected: Expectation[], found: Found[], rule: string): string[] {
  const problems: string[] = [];
  const left = found.filter((f) => f.ruleId === rule);
  for (const e of expected.filter((x) => x.rule === rule)) {
    const i = left.findIndex(
      (f) =>
        f.line === e.line &&
        (e.column === undefined || f.column === e.column) &&
        (e.message === undefined || f.message.includes(e.message)),
    );
    if (i === -1) {
      const near = left.filter((f) => f.line === e.line).map((f) => `col ${f.column}: ${f.message}`);
      problems.push(
        `${file}:${e.line}: expected ${rule}${e.column ? ` at col ${e.column}` : ''}${e.message ? ` with "${e.message}"` : ''} (marker line ${e.markerLine})${near.length ? `; found ${near.join(' | ')}` : '; none found'}`,
      );
    } else left.splice(i, 1);
  }
  for (const f of left) problems.push(`${file}:${f.line}:${f.column}: unexpected ${rule}: ${f.message}`);
  return problems;
}
