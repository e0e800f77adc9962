/**
 * What the loader worked out on its own (src/load.ts `loadInfo`), said in an explanation: a partial
 * configuration (the main config was not read) marks the verdict and sets `partial`; a main config
 * found in the standard layout, an inferred path map and includes that read the live system are
 * listed with the assumptions.
 */
import type { ConfigSet } from '../ast.js';
import { loadInfo, partialOf } from '../load-options.js';
import { showPath } from './common.js';
import type { Explanation } from './types.js';

/** The two lines a text output says a partial configuration with (explain, map). */
export function partialLines(p: { reason: string; unknown: string[] }): [string, string] {
  return [`Partial config: ${p.reason}`, `  not known: ${p.unknown.join('; ')}`];
}

export function withLoadInfo(e: Explanation, set: ConfigSet, cwd: string): Explanation {
  const info = loadInfo(set);
  e.partial = partialOf(set);
  if (!info) return e;
  if (e.partial) e.verdict += ` [partial config: ${e.partial.reason}]`;
  const notes: string[] = [];
  if (info.mainFound && info.requested)
    notes.push(
      `the main config ${showPath(info.mainFound, cwd)} was found in the standard layout around ${showPath(info.requested, cwd)} and loaded (it includes that file)`,
    );
  for (const m of info.inferredPathMap)
    notes.push(`--path-map ${m.from}=${showPath(m.to, cwd)} was inferred (${m.because.replace(m.to, showPath(m.to, cwd))})`);
  for (const o of info.outside) {
    const map = `--path-map ${o.suggest.from}=${showPath(o.suggest.to, cwd)}`;
    notes.push(
      `${showPath(o.file, cwd)}:${o.line}:${o.column} includes ${o.target} from the live system, outside ${showPath(o.tree, cwd)}${o.read === 0 ? ' (nothing there)' : ''}; ${map} would read it from the tree`,
    );
  }
  e.assumptions.push(...notes);
  return e;
}
