/**
 * Which findings a run will never list, known while the rules still run (issue 12, memory).
 *
 * A run lists its first MAX_LISTED_FINDINGS findings (src/run.ts `finish`: results by relative path,
 * then each file's messages by line, column, rule id and message) and only counts the rest. A finding
 * that sorts after that many findings which are certain to be listed ahead of it can never be
 * listed, whatever comes later (later findings only push it further back), so it need not keep its
 * proof (the request, the trace), related locations or suggestions: only what the counts read
 * (severity, fix, fatal) and what the sort and the merge of sets read (position, rule, message).
 * At 10,000 nginx servers that is 20,001 of 30,001 findings. A finding reported before the bound knew
 * is stripped when `limit` smaller certain findings have come (the rules run one after the other,
 * each over every file: the first proving rule's findings are all reported before the bound is full).
 *
 * Certain to be listed ahead means: in a file whose findings nothing removes after the rules ran
 * (no `why403-disable`/`why403-enable` text while inline config is on, not a file of a fragment's main
 * config that the run drops, not a file an earlier set already had findings in, whose duplicates the
 * merge drops) and, with `quiet`, an error. Everything else is neither counted nor trusted, so the
 * bound is conservative: a finding it drops is one `finish` would have cut off.
 */
import type { ConfigSet } from './ast.js';
import { cmp, compareMessages, type LintMessage } from './linter.js';

/** A finding and its file's path as the results show it. */
interface Key {
  rel: string;
  m: LintMessage;
}

/** The order of `finish` (src/run.ts: results by relative path) and `sortMessages` (src/linter.ts). */
function compare(a: Key, b: Key): number {
  return cmp(a.rel, b.rel) || compareMessages(a.m, b.m);
}

export interface BoundOptions {
  /** How many findings the run lists. */
  limit: number;
  /** A file's path as the results show it (their sort key). */
  relativePath(file: string): string;
  /** Suppression comments are applied (`inlineConfig` is not false). */
  suppressions: boolean;
  /** Only errors are listed. */
  quiet: boolean;
}

export class ListedBound {
  /** The `limit` smallest keys of certain findings so far, as a max-heap. */
  private readonly heap: Key[] = [];
  private readonly rels = new Map<string, string>();
  constructor(private readonly o: BoundOptions) {}

  /** The question for one set's findings (`LintSetOptions.listed`): false when a finding can never be
   * listed. `had`: files an earlier set already reported in; `kept`: whether the run keeps a file's
   * findings (a fragment's main config: only the named files). */
  forSet(set: ConfigSet, had: (file: string) => boolean, kept: (file: string) => boolean): (file: string, m: LintMessage) => boolean {
    const certainFile = new Map<string, boolean>();
    const isCertain = (file: string): boolean => {
      let c = certainFile.get(file);
      if (c === undefined) {
        const parsed = set.files.get(file) ?? (set.root.source.path === file ? set.root : undefined);
        c = parsed !== undefined && !had(file) && kept(file) && !(this.o.suppressions && mentionsSuppression(parsed.source.text));
        certainFile.set(file, c);
      }
      return c;
    };
    return (file, m) => {
      const key: Key = { rel: this.rel(file), m };
      const full = this.heap.length >= this.o.limit;
      // strictly after the last of `limit` certain findings (an equal key may sort either way)
      if (full && compare(key, this.heap[0]) > 0) return false;
      if (isCertain(file) && (!this.o.quiet || m.severity === 'error')) this.add(key, full);
      return true;
    };
  }

  private rel(file: string): string {
    let r = this.rels.get(file);
    if (r === undefined) this.rels.set(file, (r = this.o.relativePath(file)));
    return r;
  }

  private add(key: Key, full: boolean): void {
    const h = this.heap;
    if (!full) {
      // sift up
      let i = h.length;
      h.push(key);
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (compare(h[p], key) >= 0) break;
        h[i] = h[p];
        i = p;
      }
      h[i] = key;
      return;
    }
    // replace the largest (key is not after it here), then sift down
    const out = h[0];
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && compare(h[r], h[l]) > 0 ? r : l;
      if (compare(h[c], key) <= 0) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = key;
    // the finding it replaced now has `limit` certain findings before it (unless it ties the new last)
    if (compare(out, h[0]) > 0) unlist(out.m);
  }
}

/** Every suppression comment (src/suppress.ts) names one of these; a file without them has none. */
const mentionsSuppression = (text: string): boolean => text.includes('why403-disable') || text.includes('why403-enable');

/** What a finding that will not be listed no longer needs (it was reported before the bound knew).
 * (Only fields it has: adding one would change the message's shape.) */
function unlist(m: LintMessage): void {
  if (m.proof) m.proof = undefined;
  if (m.related) m.related = undefined;
  if (m.suggestions) m.suggestions = undefined;
}
