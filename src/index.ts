/** why403's library API. */
export { lint, lintText, type LintOptions, type LintResult, type LintRun, type ResultMessage } from './run.js';
export {
  defineRule,
  DOCS_BASE,
  docsUrl,
  type Rule,
  type RuleContext,
  type RuleDefinition,
  type Severity,
  type Settings,
  type Fix,
  type Suggestion,
} from './rule.js';
export { lintSet, engineRules, type LintMessage, type FileEntry } from './linter.js';
export { applySuppressions, parseDirectives } from './suppress.js';
export { ConfigResolver, ConfigError, buildSchema, loadConfigFile, type Why403Config } from './config.js';
export { expandPaths, isConfigCandidate } from './files.js';
export { applyFixes } from './fix.js';
export { loadFormatter, FORMATS, type FormatName, type FormatContext, type Formatter } from './formatters/index.js';
export { rules } from '../rules/index.js';
export type * from './ast.js';
export { loadConfig, loadText, detectServer } from './load.js';
export {
  explain,
  parseExplainRequest,
  renderText as renderExplanation,
  renderJson as renderExplanationJson,
  CAUSES,
  causeTitle,
  type ExplainOptions,
  type ExplainRequest,
  type RequestInput,
  type Explanation,
  type ExplainStep,
  type PossibleOutcome,
} from './explain/index.js';
