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
  for (let i = 0; i < results.length; i++) yield (i === 0 ? '[' : ',') + JSON.stringify(entry(results[i]));
  yield ']\n';
}

export const json: Formatter = (results) => JSON.stringify(results.map(entry)) + '\n';
