/**
 * The Apache semantic model: what applies where, and what a request gets. See docs/model-apache.md.
 */
export { buildApacheModel, selectServer, type ApacheModel, type ModelSettings, type ServerModel, type Section } from './sections.js';
export {
  simulate,
  normalizeUri,
  type SimRequest,
  type SimResult,
  type TraceStep,
  type Outcome,
  type PossibleOutcome,
  type DirIndexLookup,
  type IndexCandidate,
} from './simulate.js';
export { diskFs, resolveWorker, type ModelFs, type FsStat, type Worker } from './fs.js';
export { canonicalModule, ModuleSet, debianDefaultModules, DEBIAN_ENABLED_MODULES, DEBIAN_STATIC_MODULES } from './modules.js';
export { evalConditional, evalIfVersion, flatten, type CondEnv, type ModelNote } from './conditions.js';
export { applyOptions, mergeOptions, newOptions, effectiveOptions, describeOptions } from './options.js';
export { AuthzBuilder, evaluateAuthz, mergeAuthz, newAuthzConf, type AuthzConf, type AuthzResult } from './authz.js';
export { applyAccessCompat, checkAccessCompat, newAccessCompat, type AccessCompatConf } from './access-compat.js';
export { checkOverride, parseAllowOverride, type OverrideState, type OverrideViolation } from './overrides.js';
export { compileSection, mergeDirConf, emptyDirConf, type DirConf, type DirectiveOwner } from './dirconf.js';
export { compilePcre, fnmatch } from './regex.js';
export { directoryProbes, isBlanketDenial, probeUrl, servedRoots, NEUTRAL_CLIENT, type Probe, type ServedRoot } from './cache.js';
