import type { Rule } from '../rule.js';
import type { LintResult } from '../results.js';

export interface FormatContext {
  cwd: string;
  /** ANSI colours on. */
  color: boolean;
  /** Rules that were on for some file (SARIF rules[]). */
  rules: readonly Rule<string, object>[];
  version: string;
}

export type Formatter = (results: readonly LintResult[], ctx: FormatContext) => string;
