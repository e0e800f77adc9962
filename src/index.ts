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
/** The one model per server (src/model/index.ts) and the proofs findings carry. */
export { modelFor, type Model, type ModelOptions, type NginxView, type ApacheView } from './model/index.js';
export { prove, explainSample, type Proof, type SampleInput, type SampleRequest } from './model/proof.js';
/** `why403 map`, `why403 diff` and `why403 test` as functions. */
export { mapConfig, type MapEntry, type MapResult, type MapOptions, type Who } from './map/index.js';
export { renderMap, type MapFormat } from './map/render.js';
export { diffConfigs, type Change, type DiffResult, type DiffSide, type Verdict } from './diff/index.js';
export { parseSpec, runSpec, parseCompact, type Spec, type Expectation, type SpecResult } from './spec/index.js';
