/** The catalog moved to src/causes.ts (docs/403-causes.md); re-exported for the explain modules. */
export {
  CAUSES,
  CAUSE_IDS,
  CATALOG_URL,
  causeDocPath,
  causeDocUrl,
  causeTitle,
  isCauseId,
  type Cause,
  type CauseId,
  type CauseSeverity,
} from '../causes.js';
