/**
 * What a lint run produces, as the library returns it and the formatters read it. Types only: the
 * formatters and the CLI import them from here, not from run.ts (no import cycle).
 */
import type { RuleCrash } from './linter.js';
import type { Proof, SampleRequest } from './model/types.js';
import type { Rule } from './rule.js';

export interface ResultMessage {
  ruleId: string;
  severity: 'info' | 'warning' | 'error';
  message: string;
  messageId?: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  fix?: { range: [number, number]; text: string };
  suggestions?: Array<{ desc: string; fix: { range: [number, number]; text: string } }>;
  related?: Array<{ file: string; message: string; line: number; column: number; endLine: number; endColumn: number }>;
  fatal?: boolean;
  docsUrl: string;
  /** A request that shows what the finding claims: `why403 explain <config> <request.url> --ip <request.ip>`
   * gives it the same answer. */
  request?: SampleRequest;
  /** The main config that request is explained with. */
  config?: string;
  /** The status explain predicts for `request`. */
  status?: number;
  /** Catalog id of that 403 (docs/403-causes.md), when it is one. */
  cause?: string;
  /** The directive that decided, and the explain trace that reaches it (absolute paths). */
  decidedBy?: Proof['decidedBy'];
  trace?: Proof['trace'];
  /** When the status holds only under these conditions about the disk (explain without --fs: "file
   * /srv/www/errors/403.html is a file"): explain lists a possible outcome with exactly them. */
  assumes?: string[];
  /** True when explain reads the .htaccess files on the request's path to give that status
   * (`why403 explain <config> <url> --htaccess`): a finding in a .htaccess proven on the main config. */
  htaccess?: true;
  /** What explain did not know that could change `status` (an .htaccess AllowOverride lets in that
   * was not read, a regex it cannot evaluate), as its "Not known" lists them: the claim holds unless one
   * of them changes it. */
  unless?: string[];
}

export interface LintResult {
  /** Absolute path (or the stdin filename). */
  filePath: string;
  /** Path relative to the working directory, with `/` separators. */
  relativePath: string;
  messages: ResultMessage[];
  suppressedMessages: Array<ResultMessage & { suppressions: Array<{ kind: string; justification: string }> }>;
  errorCount: number;
  fatalErrorCount: number;
  warningCount: number;
  infoCount: number;
  fixableErrorCount: number;
  fixableWarningCount: number;
  /** The fixed text (only with `fixDryRun`, or `fix` on stdin, when something changed). */
  output?: string;
  /** The text as read, when there are problems and no output. */
  source?: string;
}

export interface LintRun {
  results: LintResult[];
  /** Rules that threw: the run is incomplete (exit 2). */
  crashes: RuleCrash[];
  /** Globs that matched nothing, and directories holding no config. */
  unmatched: string[];
  /** Every rule that was on for some file, engine rules included (for SARIF `rules[]`). */
  enabledRules: Rule<string, object>[];
  /** Files written by `fix`. */
  fixedFiles: string[];
  /** Files `fix` had fixes for but did not write, and why (read-only, owner not keepable, OS error). */
  fixErrors: Array<{ filePath: string; message: string }>;
  cwd: string;
  /** Findings counted (in errorCount etc.) but not listed: over MAX_LISTED_FINDINGS in the run. */
  omittedMessages?: number;
}
