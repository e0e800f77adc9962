/**
 * ESLint's result array: per file `filePath`, `messages`, `suppressedMessages`, counts, `source` or
 * `output`; each message with `ruleId`, `severity`, `message`, `messageId`, 1-based `line`/`column`
 * and exclusive `endLine`/`endColumn`, `fix`, `suggestions` and the rule's `docsUrl`. Unlike ESLint,
 * `severity` is a word ("error", "warning", "info") because why403 has three levels.
 */
import type { LintResult } from '../results.js';
import type { Formatter } from './types.js';

function entry(r: LintResult): object {
  return {
    filePath: r.filePath,
    relativePath: r.relativePath,
    messages: r.messages,
    suppressedMessages: r.suppressedMessages,
    errorCount: r.errorCount,
    fatalErrorCount: r.fatalErrorCount,
    warningCount: r.warningCount,
    infoCount: r.infoCount,
    fixableErrorCount: r.fixableErrorCount,
    fixableWarningCount: r.fixableWarningCount,
    ...(r.output !== undefined ? { output: r.output } : {}),
    ...(r.source !== undefined ? { source: r.source } : {}),
    usedDeprecatedRules: [],
  };
}

/**
 * The same text as `json`, one file's entry at a time: a big tree's output is tens of megabytes
 * (each file with problems carries its source), and a single string of it, then its UTF-8 copy for
 * the write, came on top of everything the run still held.
 */
export function* jsonChunks(results: readonly LintResult[]): Generator<string> {
  if (results.length === 0) {
    yield '[]\n';
    return;
  }
  // small pieces joined up to ≈ 64 K characters (one write each), a big one (a source) alone
  let out = '';
  for (let i = 0; i < results.length; i++) {
    out += i === 0 ? '[' : ',';
    for (const piece of entryChunks(results[i])) {
      if (out.length + piece.length > CHUNK) {
        if (out) yield out;
        out = '';
      }
      if (piece.length > CHUNK) yield piece;
      else out += piece;
    }
  }
  yield out + ']\n';
}

const CHUNK = 64 * 1024;

/** `JSON.stringify(entry(r))` in pieces: each message, and the source, on its own. A file's entry was
 * one string of ≈ 1.2 MB at 10,000 servers (its 265 KB source, and its messages, whose `…` and `→`
 * made the whole string two bytes per character), a hundred of them written one after the other. */
function* entryChunks(r: LintResult): Generator<string> {
  const e = entry(r) as Record<string, unknown>;
  let sep = '{';
  for (const k of Object.keys(e)) {
    const v = e[k];
    const name = `${sep}${JSON.stringify(k)}:`;
    sep = ',';
    if (Array.isArray(v) && v.length > 0) {
      yield `${name}[`;
      for (let j = 0; j < v.length; j++) yield (j === 0 ? '' : ',') + JSON.stringify(v[j]);
      yield ']';
    } else yield name + JSON.stringify(v);
  }
  yield '}';
}

export const json: Formatter = (results) => JSON.stringify(results.map(entry)) + '\n';
