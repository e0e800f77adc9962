/**
 * The Apache request simulator's entry point. The phases live in src/apache/model/sim/ (see its
 * index.ts for which file holds which phase).
 */
export {
  simulate,
  normalizeUri,
  aliasPrefix,
  type SimRequest,
  type SimResult,
  type TraceStep,
  type Outcome,
  type PossibleOutcome,
  type DirIndexLookup,
  type IndexCandidate,
} from './sim/index.js';
export { canonicalDir } from './sections.js';
export { sectionKey } from './conditions.js';
