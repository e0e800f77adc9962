/**
 * Example strings for a regular expression: the sample requests of findings (and of `why403 map`)
 * need a URI that a regex location or section matches. The pattern (JavaScript syntax, as the models
 * translate it) is read by a small recursive-descent reader into sequences of atoms, and a bounded
 * number of short strings are generated from it: the first and every other alternative, each
 * quantifier at its minimum and one above. Lookarounds and back-references generate nothing; every
 * candidate is checked against the real pattern by the caller, so a wrong guess is never used.
 */

type Node =
  | { t: 'lit'; chars: string[] } // one of these characters
  | { t: 'alt'; alts: Node[][] }
  | { t: 'rep'; node: Node; min: number; max: number }
  | { t: 'none' }; // anchors, lookarounds, back-references

/** Characters tried, in order, for a class or a dot: harmless in a URL path. */
const PREFERRED = 'axz019_-~ABZ';

class Reader {
  i = 0;
  constructor(readonly s: string) {}
  peek(): string | undefined {
    return this.s[this.i];
  }
  eof(): boolean {
    return this.i >= this.s.length;
  }
}

function classChars(members: string[], negated: boolean): string[] {
  if (!negated) return members.length ? members : ['a'];
  const out = [...PREFERRED].filter((c) => !members.includes(c));
  return out.length ? out : ['a'];
}

/** Expand a class body `a-z0-9_` (already without brackets) to a few representative members. */
function readClass(r: Reader): Node {
  let negated = false;
  if (r.peek() === '^') {
    negated = true;
    r.i++;
  }
  const members: string[] = [];
  let first = true;
  while (!r.eof() && (r.peek() !== ']' || first)) {
    first = false;
    let c = r.s[r.i++];
    if (c === '\\') {
      const e = r.s[r.i++] ?? '';
      const esc = escapeChars(e);
      if (esc) {
        members.push(...esc);
        continue;
      }
      c = e;
    }
    if (r.peek() === '-' && r.s[r.i + 1] !== undefined && r.s[r.i + 1] !== ']') {
      r.i++;
      let hi = r.s[r.i++];
      if (hi === '\\') hi = r.s[r.i++] ?? hi;
      const lo = c.charCodeAt(0);
      const top = hi.charCodeAt(0);
      for (const p of PREFERRED) if (p.charCodeAt(0) >= lo && p.charCodeAt(0) <= top) members.push(p);
      members.push(c);
      continue;
    }
    members.push(c);
  }
  r.i++; // ]
  return { t: 'lit', chars: classChars(members, negated) };
}

function escapeChars(e: string): string[] | null {
  switch (e) {
    case 'd':
      return ['0', '1'];
    case 'w':
      return ['a', 'z', '0', '_'];
    case 's':
      return [' '];
    case 'D':
    case 'W':
    case 'S':
      return e === 'D' ? ['a', '-'] : e === 'W' ? ['-', '~'] : ['a', '-'];
    case 'n':
      return ['\n'];
    case 't':
      return ['\t'];
    default:
      return null;
  }
}

function readAtom(r: Reader): Node | null {
  const c = r.s[r.i++];
  switch (c) {
    case '^':
    case '$':
      return { t: 'none' };
    case '.':
      return { t: 'lit', chars: [...PREFERRED] };
    case '[':
      return readClass(r);
    case '(': {
      let capture = true;
      if (r.peek() === '?') {
        const kind = r.s.slice(r.i, r.i + 3);
        if (kind.startsWith('?:')) r.i += 2;
        else if (kind.startsWith('?=') || kind.startsWith('?!') || kind.startsWith('?<=') || kind.startsWith('?<!')) {
          // lookaround: skip its body, generate nothing
          r.i += kind.startsWith('?<') ? 3 : 2;
          readAlt(r);
          r.i++;
          return { t: 'none' };
        } else if (kind.startsWith('?<')) {
          r.i = r.s.indexOf('>', r.i) + 1 || r.s.length;
        } else capture = false;
      }
      void capture;
      const alt = readAlt(r);
      r.i++; // )
      return alt;
    }
    case '\\': {
      const e = r.s[r.i++] ?? '';
      if (/[1-9]/.test(e) || e === 'b' || e === 'B' || e === 'k') return { t: 'none' };
      if (e === 'x') {
        const h = r.s.slice(r.i, r.i + 2);
        r.i += 2;
        return { t: 'lit', chars: [String.fromCharCode(parseInt(h, 16) || 0x61)] };
      }
      if (e === 'u') {
        const h = r.s.slice(r.i, r.i + 4);
        r.i += 4;
        return { t: 'lit', chars: [String.fromCharCode(parseInt(h, 16) || 0x61)] };
      }
      return { t: 'lit', chars: escapeChars(e) ?? [e] };
    }
    default:
      return { t: 'lit', chars: [c] };
  }
}

function readQuant(r: Reader, node: Node): Node {
  const c = r.peek();
  let min = 1;
  let max = 1;
  if (c === '*' || c === '+' || c === '?') {
    r.i++;
    min = c === '+' ? 1 : 0;
    max = c === '?' ? 1 : Infinity;
  } else if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(r.s.slice(r.i));
    if (!m) return node;
    r.i += m[0].length;
    min = Number(m[1]);
    max = m[2] ? (m[3] ? Number(m[3]) : Infinity) : min;
  } else return node;
  if (r.peek() === '?' || r.peek() === '+') r.i++; // lazy or possessive
  return { t: 'rep', node, min, max };
}

function readSeq(r: Reader): Node[] {
  const seq: Node[] = [];
  while (!r.eof() && r.peek() !== '|' && r.peek() !== ')') {
    const a = readAtom(r);
    if (a) seq.push(readQuant(r, a));
  }
  return seq;
}

function readAlt(r: Reader): Node {
  const alts: Node[][] = [readSeq(r)];
  while (r.peek() === '|') {
    r.i++;
    alts.push(readSeq(r));
  }
  return { t: 'alt', alts };
}

/** Up to `limit` strings generated from `n`, shortest choices first. */
function gen(n: Node, limit: number): string[] {
  switch (n.t) {
    case 'none':
      return [''];
    case 'lit':
      return n.chars.slice(0, Math.max(1, Math.min(limit, 3)));
    case 'alt': {
      // Round-robin over the alternatives, so every branch is tried early.
      const lists = n.alts.map((alt) => genSeq(alt, limit));
      const out: string[] = [];
      for (let i = 0; out.length < limit * 2 && lists.some((l) => i < l.length); i++)
        for (const l of lists) if (i < l.length) out.push(l[i]);
      return out.length ? out : [''];
    }
    case 'rep': {
      const inner = gen(n.node, limit);
      const counts = [n.min, Math.min(n.min + 1, n.max)].filter((x, i, a) => a.indexOf(x) === i && x <= 8);
      const out: string[] = [];
      for (const k of counts) for (const s of inner) out.push(s.repeat(k));
      return out.length ? out : [''];
    }
  }
}

function genSeq(seq: Node[], limit: number): string[] {
  let acc = [''];
  for (const n of seq) {
    const next: string[] = [];
    const parts = gen(n, limit);
    for (const a of acc) for (const p of parts) if (next.length < limit * 4) next.push(a + p);
    acc = next;
  }
  return acc;
}

/**
 * Strings that `regex` matches, shortest first, at most `limit` of them; each is checked against the
 * regex itself. Empty when none of the generated strings matches (the pattern is beyond this reader).
 */
/** A regex the models compiled (src/regex-engine.ts ConfigRegex) or a plain RegExp. */
export type Pattern = RegExp | { readonly source: string; matches(subject: string): boolean | object };

/** True only for a definite match (an unknown from the engine's budget is no match). */
export function patternMatches(p: Pattern, s: string): boolean {
  if (p instanceof RegExp) {
    p.lastIndex = 0;
    return p.test(s);
  }
  return p.matches(s) === true;
}

export function regexExamples(regex: Pattern, limit = 8, decorate: (s: string) => string[] = (s) => [s]): string[] {
  let tree: Node;
  try {
    const r = new Reader(regex.source);
    tree = readAlt(r);
  } catch {
    return [];
  }
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of gen(tree, limit)) {
    for (const s of decorate(raw)) {
      if (seen.has(s)) continue;
      seen.add(s);
      if (patternMatches(regex, s)) out.push(s);
      if (out.length >= limit) return out;
    }
  }
  return out;
}

/** Candidate URI paths for a path regex: the generated strings as paths, and with a file name added. */
export function uriExamples(regex: Pattern, limit = 8): string[] {
  return regexExamples(regex, limit, (s) => {
    const base = s.startsWith('/') ? s : `/${s}`;
    const named = `/x${s}`; // a file name before the match: /x.bak
    return [base, `${base}x`, named, `/x${base}`, `${base}/x`].map((p) => p.replace(/\/\/+/g, '/'));
  });
}
