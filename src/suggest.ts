/**
 * "Did you mean …?" for unknown directive names: the closest name of a directive table by edit
 * distance (optimal string alignment: insertions, deletions, substitutions and transpositions of two
 * neighbours each cost 1), so `retrun` → `return`, `Requre` → `Require`, `proxy_passs` → `proxy_pass`.
 */

/** Optimal-string-alignment distance between `a` and `b`, or `max + 1` as soon as it exceeds `max`. */
export function editDistance(a: string, b: string, max: number): number {
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > max) return max + 1;
  // three rows: i-2, i-1, i
  let prev2 = new Array<number>(lb + 1).fill(0);
  let prev = new Array<number>(lb + 1);
  let cur = new Array<number>(lb + 1);
  for (let j = 0; j <= lb; j++) prev[j] = j;
  for (let i = 1; i <= la; i++) {
    cur[0] = i;
    let rowMin = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= lb; j++) {
      const cb = b.charCodeAt(j - 1);
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca === cb ? 0 : 1));
      if (i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    const t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  return prev[lb];
}

/** How far a name may be from a suggestion: 1 edit for names of up to 4 characters, 2 up to 8, else 3. */
export function maxDistance(name: string): number {
  return name.length <= 4 ? 1 : name.length <= 8 ? 2 : 3;
}

/**
 * The candidate closest to `name` (ties: the first in `candidates`' order), or null when none is
 * within `maxDistance(name)`. `key` maps both sides before comparing (e.g. to lower case); a
 * candidate equal to `name` under `key` only (another case) wins at once.
 */
export function closestName(name: string, candidates: Iterable<string>, key: (s: string) => string = (s) => s): string | null {
  const k = key(name);
  let limit = maxDistance(k);
  let best: string | null = null;
  let bestD = limit + 1;
  for (const c of candidates) {
    if (c === name) continue;
    const d = editDistance(k, key(c), limit);
    if (d === 0) return c; // differs only where `key` makes no difference (case)
    if (d < bestD) {
      best = c;
      bestD = d;
      if (d === 1) limit = 1;
    }
  }
  return best;
}
