/**
 * `lint --fs` for Apache: the access files (`.htaccess`, or AccessFileName's names) that Apache reads
 * under the directories a main config serves — where AllowOverride / AllowOverrideList is not None —
 * found by the model's bounded disk scan (src/model/disk.ts). The engine lints each one in the
 * context of the configs that serve it (src/apache/model/htaccess-link.ts), whether or not it was
 * named on the command line.
 */
import type { ConfigSet } from '../ast.js';
import { mapPath } from '../load-options.js';
import type { Settings } from '../rule.js';
import { modelFor, type ModelOptions } from './index.js';
import './disk.js'; // registers the disk scanner

export interface FoundHtaccess {
  /** The file on this machine (after the path map). */
  file: string;
  /** The path Apache reads it at. */
  path: string;
}

/** Readable access files under the served directories of the main configs (each file once). */
export function discoverHtaccess(
  mains: ReadonlyArray<{ set: ConfigSet; settings: Settings; modelOptions?: Omit<ModelOptions, 'settings'> }>,
): FoundHtaccess[] {
  const out = new Map<string, FoundHtaccess>();
  for (const m of mains) {
    const options: ModelOptions = { settings: m.settings, ...(m.modelOptions ?? {}), fs: true };
    const view = modelFor(m.set, options);
    const scan = view.disk();
    if (!scan) continue;
    const pathMap = [...(options.pathMap ?? []), ...Object.entries(m.settings.pathMap ?? {}).map(([from, to]) => ({ from, to }))];
    for (const h of scan.htaccess) {
      if (!h.readable) continue; // apache-fs-htaccess-unreadable reports it; there is nothing to lint
      const file = mapPath(h.path, pathMap);
      if (!out.has(file)) out.set(file, { file, path: h.path });
    }
  }
  return [...out.values()];
}
