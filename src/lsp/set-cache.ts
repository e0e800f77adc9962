/**
 * What the language server keeps between two lint runs (src/run.ts `LintOptions.lintSet`):
 *
 * - the findings of each loaded set, reused when the set is the same as last time: the same files
 *   read in the same order with the same text and context, the same include targets, the same load
 *   errors and load info, the same settings, model options, rules and rule settings of every file.
 *   A set is loaded on every run (reading the disk, with the open buffers laid over it), so a file
 *   changed on disk, a new file a glob now matches or a buffer closed is seen; only the rules are
 *   skipped, and they read nothing but the set. Sets whose findings depend on the disk beyond the
 *   files read (`auth_basic_user_file`, whose existence nginx-htpasswd-missing checks; Apache
 *   `<IfFile>`) and .htaccess sets (linked to the run's main configs) are linted every time.
 * - the sets of the last run with what their model is built from, so hover, symbols and explain read
 *   the model the lint built (src/model/index.ts caches it per set) instead of loading the tree again.
 */
import type { ConfigSet, Node, ParsedFile } from '../ast.js';
import type { LintSetOptions, LintSetResult } from '../linter.js';
import { loadInfo } from '../load-options.js';
import type { Settings } from '../rule.js';
import type { ModelOptions } from '../model/index.js';

/** A set linted in the last run, with what its model was built from. */
export interface LintedSet {
  set: ConfigSet;
  settings: Settings;
  modelOptions: Omit<ModelOptions, 'settings'>;
}

interface Entry {
  key: string[];
  set: ConfigSet;
  result: LintSetResult;
}

/** Directive keys whose findings depend on the disk (without --fs): such a set is never reused. */
const DISK_KEYS = new Set(['auth_basic_user_file', '<iffile', 'iffile']);

/** The parsed files of the loads (src/load-options.ts `parseCached`): a run drops those it did not read. */
export class RunParseCache extends Map<string, ParsedFile> {
  private used = new Set<string>();
  override get(key: string): ParsedFile | undefined {
    this.used.add(key);
    return super.get(key);
  }
  override set(key: string, value: ParsedFile): this {
    this.used?.add(key);
    return super.set(key, value);
  }
  begin(): void {
    this.used.clear();
  }
  end(): void {
    for (const k of [...this.keys()]) if (!this.used.has(k)) this.delete(k);
  }
}

/** Counts, for the tests and the server's log. */
export interface SetCacheStats {
  hits: number;
  misses: number;
}

export class SetCache {
  private entries = new Map<string, Entry>();
  private used = new Set<string>();
  private linted: LintedSet[] = [];
  readonly stats: SetCacheStats = { hits: 0, misses: 0 };

  constructor(private readonly engine: (set: ConfigSet, opts: LintSetOptions) => LintSetResult) {}

  /** Start a run: the sets linted from now on are the run's. */
  begin(): void {
    this.used.clear();
    this.linted = [];
  }

  /** End a run: entries the run did not use are dropped (a closed file's tree is not kept). */
  end(): LintedSet[] {
    for (const k of [...this.entries.keys()]) if (!this.used.has(k)) this.entries.delete(k);
    return this.linted;
  }

  /** src/run.ts `LintOptions.lintSet`. */
  lintSet = (set: ConfigSet, opts: LintSetOptions): LintSetResult => {
    const modelOptions = opts.modelOptions ?? {};
    const htaccess = set.server === 'apache' && set.root.context === 'htaccess';
    const slot = `${set.server}\0${set.root.context}\0${set.root.source.path}`;
    const key = htaccess ? null : fingerprint(set, opts);
    const have = this.entries.get(slot);
    if (key && have && sameKey(have.key, key)) {
      this.stats.hits++;
      this.used.add(slot);
      this.linted.push({ set: have.set, settings: opts.settings, modelOptions });
      return copy(have.result);
    }
    this.stats.misses++;
    const result = this.engine(set, opts);
    this.linted.push({ set, settings: opts.settings, modelOptions });
    if (key) {
      this.entries.set(slot, { key, set, result: copy(result) });
      this.used.add(slot);
    }
    return result;
  };
}

/** A result the caller may change (src/run.ts deletes the files of a fragment's main config). */
function copy(r: LintSetResult): LintSetResult {
  return {
    files: new Map([...r.files].map(([k, e]) => [k, { ...e, messages: [...e.messages] }])),
    crashes: [...r.crashes],
  };
}

function sameKey(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Everything `lintSet`'s findings depend on, as strings; null when they depend on more (the disk). */
export function fingerprint(set: ConfigSet, opts: LintSetOptions): string[] | null {
  const key: string[] = [
    set.server,
    set.root.source.path,
    set.root.context,
    JSON.stringify(opts.settings),
    JSON.stringify(opts.modelOptions ?? {}),
    opts.rules.map((r) => r.id).join(','),
    JSON.stringify(loadInfo(set) ?? null),
    JSON.stringify(set.errors),
  ];
  const files: Array<[string, ParsedFile]> = set.files.has(set.root.source.path)
    ? [...set.files]
    : [[set.root.source.path, set.root], ...set.files];
  for (const [path, f] of files) {
    key.push(path, f.server, f.context, f.source.text, JSON.stringify(f.errors), f.htaccessDir ?? '');
    // the rule settings that apply to the file (its .why403.json)
    key.push(
      opts.rules
        .map((r) => {
          const s = opts.ruleSetting(path, r);
          return s.options === undefined ? s.severity : `${s.severity}${JSON.stringify(s.options)}`;
        })
        .join(','),
    );
    // what each include read (the disk: a glob may match other files now), in reading order
    const stack: Node[][] = [f.nodes];
    while (stack.length) {
      const nodes = stack.pop()!;
      for (const n of nodes) {
        if (n.type !== 'directive') continue;
        if (DISK_KEYS.has(n.key)) return null;
        if (n.includes) key.push(`include ${n.span.start.offset} ${n.includes.join('\0')}`);
        if (n.block) stack.push(n.block);
      }
    }
  }
  return key;
}
