/**
 * ESLint's result array: per file `filePath`, `messages`, `suppressedMessages`, counts, `source` or
 * `output`; each message with `ruleId`, `severity`, `message`, `messageId`, 1-based `line`/`column`
 * and exclusive `endLine`/`endColumn`, `fix`, `suggestions` and the rule's `docsUrl`. Unlike ESLint,
 * `severity` is a word ("error", "warning", "info") because why403 has three levels.
 */
import type { Formatter } from './types.js';

export const json: Formatter = (results) =>
  JSON.stringify(
    results.map((r) => ({
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
    })),
  ) + '\n';
