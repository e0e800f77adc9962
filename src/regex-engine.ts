/**
 * The one place where a regex or glob taken from a config is run (why403 issue 11: a config in an
 * untrusted pull request must not be able to hang CI through catastrophic backtracking).
 *
 * Regexes arrive already translated to JavaScript syntax (src/nginx/model/regex.ts, src/apache/model/regex.ts).
 * `compileConfigRegex` re-reads that JavaScript source and:
 *
 * 1. rewrites it to RE2 syntax with the JavaScript meaning kept (`.` → `[^\n\r\u2028\u2029]`, `\s` → the
 *    JavaScript set, identity escapes → `\x{…}`, `(?<n>` → `(?P<n>`) and compiles it with `re2js`, a
 *    linear-time engine (no backtracking at all). Captures and named groups come from RE2's submatches.
 * 2. only when the pattern needs what RE2 lacks (lookahead/lookbehind, back-references, `m` flag line
 *    terminators, an empty class) it falls back to a backtracking JavaScript RegExp, under a budget that is
 *    STRUCTURAL, decided before running anything (a JS RegExp cannot be interrupted once started):
 *    - a quantified group (`(…)*`, `(…){2,}`, …) may not contain another quantifier, an alternation or a
 *      back-reference: that is the shape of every exponential blow-up (`(a|aa)+`, `(a+)+`, `(.*a){20}`);
 *    - what is left backtracks at most polynomially: with u variable quantifiers, b back-references and
 *      an unanchored start, one match costs about n^(u+b+1) × (product of small bounded ranges and
 *      alternatives). We solve for the longest subject n whose estimate stays under FALLBACK_STEPS and
 *      refuse longer subjects at match time with an `unknown` result; when even 64 characters would be
 *      too long, the pattern itself is `unknown`.
 *    A worker thread with Atomics.wait and a timeout was the other option; it costs a thread start and a
 *    structured clone per match and turns a deterministic answer into a timing-dependent one. The static
 *    budget gives the same answer on every machine.
 * 3. One special case: nginx's translation of PCRE `$` is `(?=\n?$)` ("end, or before a final newline").
 *    For subjects that do not end in `\n` that is exactly RE2's `$`, so such patterns stay on RE2 and take
 *    the (budgeted) fallback only for subjects ending in a newline.
 *
 * Case-insensitivity: RE2's `(?i)` uses Unicode simple case folding, JavaScript's non-unicode `i`
 * uppercases; they agree on ASCII and on Latin-1 letters, which is what config subjects contain (nginx
 * matches byte strings, one char per byte). Folding differences above U+00FF (ſ/s, K/k) are possible.
 *
 * Globs (`globMatch`) never become a RegExp: a two-pointer matcher with one remembered `*` per path
 * segment, O(pattern × text) in the worst case.
 */
import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';

// re2js costs ~100 ms to load: loaded on the first regex, not at startup (a lint of a config without
// regexes never pays for it; globs never need it).
let re2Module: typeof import('re2js') | null = null;
function re2js(): typeof RE2JS {
  re2Module ??= createRequire(import.meta.url)('re2js') as typeof import('re2js');
  return re2Module.RE2JS;
}

/** Rough number of backtracking steps we accept for one fallback match. */
const FALLBACK_STEPS = 2e7;
/** Below this subject length a fallback pattern is not worth running: the pattern is unknown. */
const MIN_FALLBACK_SUBJECT = 64;
/** RE2 program size estimate above which we refuse (re2js would allocate without bound). */
const MAX_PROGRAM = 200_000;

export type RegexMatch = { captures: (string | undefined)[]; named: Record<string, string | undefined>; index: number };
export type RegexUnknown = { unknown: string };
export type RegexOutcome = RegexMatch | null | RegexUnknown;

export function isUnknown<T>(r: T | RegexUnknown): r is RegexUnknown {
  return typeof r === 'object' && r !== null && 'unknown' in r;
}

export interface ConfigRegex {
  /** JavaScript source and flags as given. */
  readonly source: string;
  readonly flags: string;
  /** 're2' when every subject runs on RE2; 'backtrack' when the budgeted RegExp is (or may be) used. */
  readonly engine: 're2' | 'backtrack' | 're2+backtrack';
  /** The RE2 translation, when there is one. */
  readonly re2Source: string | null;
  /** Longest subject the fallback accepts (Infinity when there is no fallback or no risk). */
  readonly fallbackLimit: number;
  /** First match: captures like RegExp#exec, null for no match, `{ unknown }` when the budget refuses. */
  exec(subject: string): RegexOutcome;
  /** true / false, or `{ unknown }` (deliberately not called `test`: `if (re.test(s))` would read an unknown as a match). */
  matches(subject: string): boolean | RegexUnknown;
}

export type CompiledRegex = { ok: true; regex: ConfigRegex } | { ok: false; reason: string };

interface Analysis {
  re2: string | null; // null: RE2 cannot express it
  why: string; // why not (when re2 === null)
  dollarNl: boolean; // contains the `(?=\n?$)` token
  unsafe: string | null; // nested / alternated quantified group
  variable: number; // unbounded or wide quantifiers, back-references
  factor: number; // product of small bounded ranges and alternatives
  anchored: boolean;
  program: number; // estimated RE2 program size
  wide: boolean; // a literal or class member above U+00FF (case folding differs there)
}

const DOLLAR_NL = '(?=\\n?$)';
// eslint-disable-next-line no-control-regex
const WIDE = /[^\x00-\xff]/;
const DOLLAR_M = '(?=\\n|$)';

const JS_SPACE = '\\t\\n\\x{0b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}';

const hex = (c: number) => `\\x{${c.toString(16)}}`;

type Frame = {
  start: number; // output offset of the group's opening
  hasQuant: boolean;
  hasAlt: boolean;
  hasBackref: boolean;
  alts: number;
  size: number; // program size of this group so far
  lastAtomSize: number;
};

/** Read JavaScript (non-unicode) regex syntax; write RE2 syntax and collect the budget figures. */
function analyse(src: string, flags: string): Analysis {
  const dotAll = flags.includes('s');
  const multi = flags.includes('m');
  let out = '';
  let why = '';
  const fail = (w: string) => {
    if (!why) why = w;
  };
  let dollarNl = false;
  let wide = false;
  let unsafe: string | null = null;
  let variable = 0;
  let factor = 1;
  const named = /\(\?<[A-Za-z_$]/.test(src);
  const stack: Frame[] = [{ start: 0, hasQuant: false, hasAlt: false, hasBackref: false, alts: 1, size: 0, lastAtomSize: 0 }];
  const top = () => stack[stack.length - 1];
  // The atom just written: its kind (for quantifiers) and whether it was a group with risky content.
  let atom: { group: Frame | null; size: number } | null = null;
  const emitAtom = (s: string, size = 1) => {
    out += s;
    top().size += size;
    atom = { group: null, size };
  };
  let i = 0;
  const n = src.length;
  while (i < n) {
    if (src.startsWith(DOLLAR_NL, i) && !multi) {
      dollarNl = true;
      out += '$';
      i += DOLLAR_NL.length;
      atom = null;
      continue;
    }
    if (src.startsWith(DOLLAR_M, i) && multi) {
      fail('multi-line `$` before a newline');
      out += '$';
      i += DOLLAR_M.length;
      atom = null;
      continue;
    }
    const c = src[i];
    if (c === '\\') {
      const r = escape(src, i, named);
      if (r.code !== undefined && r.code > 0xff) wide = true;
      if (r.backref) {
        fail('back-reference');
        top().hasBackref = true;
        variable++;
      }
      if (r.assertion) {
        out += r.re2;
        atom = null;
      } else emitAtom(r.re2);
      i = r.next;
      continue;
    }
    if (c === '[') {
      const r = charClass(src, i);
      if (r.wide) wide = true;
      if (r.re2 === null) fail(r.why);
      emitAtom(r.re2 ?? '(?:)');
      i = r.next;
      continue;
    }
    if (c === '(') {
      let open = '(';
      let len = 1;
      if (src[i + 1] === '?') {
        if (src[i + 2] === ':') {
          open = '(?:';
          len = 3;
        } else if (src[i + 2] === '=' || src[i + 2] === '!') {
          fail('lookahead');
          open = '(?:';
          len = 3;
        } else if (src[i + 2] === '<' && (src[i + 3] === '=' || src[i + 3] === '!')) {
          fail('lookbehind');
          open = '(?:';
          len = 4;
        } else if (src[i + 2] === '<') {
          const m = /^\(\?<([A-Za-z_$][A-Za-z0-9_$]*)>/.exec(src.slice(i));
          if (!m) {
            fail('unsupported group');
            len = 3;
          } else {
            open = `(?P<${m[1]}>`;
            len = m[0].length;
          }
        } else {
          fail('unsupported group');
          len = 2;
        }
      }
      out += open;
      i += len;
      stack.push({ start: out.length, hasQuant: false, hasAlt: false, hasBackref: false, alts: 1, size: 0, lastAtomSize: 0 });
      atom = null;
      continue;
    }
    if (c === ')') {
      if (stack.length === 1) {
        fail('unbalanced parenthesis');
        i++;
        continue;
      }
      const g = stack.pop()!;
      out += ')';
      i++;
      factor *= g.alts;
      const p = top();
      p.size += g.size + 2;
      if (g.hasQuant) p.hasQuant = true;
      if (g.hasAlt) p.hasAlt = true;
      if (g.hasBackref) p.hasBackref = true;
      atom = { group: g, size: g.size + 2 };
      continue;
    }
    if (c === '|') {
      out += '|';
      top().hasAlt = true;
      top().alts++;
      i++;
      atom = null;
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || c === '{') {
      let min = 0;
      let max = Infinity;
      let len = 1;
      if (c === '+') min = 1;
      else if (c === '?') max = 1;
      else if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
        if (!m) {
          emitAtom('\\{');
          i++;
          continue;
        }
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        len = m[0].length;
      }
      const q = src.slice(i, i + len);
      i += len;
      let lazy = '';
      if (src[i] === '?') {
        lazy = '?';
        i++;
      }
      if (!atom) {
        fail('quantifier without an atom');
        out += q.replace(/[*+?{}]/g, (x) => '\\' + x) + lazy;
        continue;
      }
      const a = atom as { group: Frame | null; size: number };
      const g = a.group;
      if (max > 1 && g && (g.hasQuant || g.hasAlt || g.hasBackref) && !unsafe) {
        unsafe = 'a repeated group that contains another quantifier, an alternation or a back-reference';
      }
      if (max === Infinity || max - min > 16) variable++;
      else factor *= max - min + 1;
      const times = Math.max(1, max === Infinity ? Math.max(min, 1) : max);
      top().size += a.size * (times - 1) + 1;
      if (max !== min || max > 1) top().hasQuant = true;
      out += q + lazy;
      atom = null;
      continue;
    }
    if (c === '.') {
      emitAtom(dotAll ? '(?s:.)' : '[^\\n\\r\\x{2028}\\x{2029}]');
      i++;
      continue;
    }
    if (c === '^' || c === '$') {
      if (multi) fail('multi-line anchors');
      out += c;
      i++;
      atom = null;
      continue;
    }
    const code = src.charCodeAt(i);
    if (code > 0xff) wide = true;
    if (/[A-Za-z0-9_ ]/.test(c)) emitAtom(c);
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < n) {
      const cp = src.codePointAt(i)!;
      emitAtom(cp > 0xffff ? hex(cp) : hex(code));
      if (cp > 0xffff) i++;
    } else emitAtom(hex(code));
    i++;
  }
  if (stack.length !== 1) fail('unbalanced parenthesis');
  factor *= stack[0].alts;
  return {
    re2: why ? null : out,
    why,
    dollarNl,
    unsafe,
    variable,
    factor,
    anchored: src.startsWith('^') && !stack[0].hasAlt,
    program: stack[0].size,
    wide,
  };
}

function escape(
  src: string,
  i: number,
  named: boolean,
): { re2: string; next: number; backref?: boolean; assertion?: boolean; code?: number } {
  const d = src[i + 1];
  if (d === undefined) return { re2: '\\\\', next: i + 1 };
  switch (d) {
    case 'd':
    case 'D':
    case 'w':
    case 'W':
      return { re2: '\\' + d, next: i + 2 };
    case 'b':
    case 'B':
      return { re2: '\\' + d, next: i + 2, assertion: true };
    case 's':
      return { re2: `[${JS_SPACE}]`, next: i + 2 };
    case 'S':
      return { re2: `[^${JS_SPACE}]`, next: i + 2 };
    case 'n':
      return { re2: '\\n', next: i + 2 };
    case 'r':
      return { re2: '\\r', next: i + 2 };
    case 't':
      return { re2: '\\t', next: i + 2 };
    case 'f':
      return { re2: '\\f', next: i + 2 };
    case 'v':
      return { re2: hex(11), next: i + 2 };
    case 'x': {
      const m = /^[0-9A-Fa-f]{2}/.exec(src.slice(i + 2));
      return m ? { re2: hex(Number.parseInt(m[0], 16)), next: i + 4 } : { re2: 'x', next: i + 2 };
    }
    case 'u': {
      const m = /^[0-9A-Fa-f]{4}/.exec(src.slice(i + 2));
      return m ? { re2: hex(Number.parseInt(m[0], 16)), next: i + 6, code: Number.parseInt(m[0], 16) } : { re2: 'u', next: i + 2 };
    }
    case 'c': {
      const e = src[i + 2];
      if (e && /[A-Za-z]/.test(e)) return { re2: hex(e.charCodeAt(0) % 32), next: i + 3 };
      return { re2: '\\\\', next: i + 1 };
    }
    case 'k':
      if (named) {
        const m = /^\\k<([^>]+)>/.exec(src.slice(i));
        return { re2: '', next: i + (m ? m[0].length : 2), backref: true };
      }
      return { re2: 'k', next: i + 2 };
    default:
      break;
  }
  if (d >= '1' && d <= '9') {
    const m = /^\d+/.exec(src.slice(i + 1))!;
    return { re2: '', next: i + 1 + m[0].length, backref: true };
  }
  if (d === '0') {
    if (/[0-9]/.test(src[i + 2] ?? '')) return { re2: '', next: i + 2, backref: true }; // legacy octal: let RegExp read it
    return { re2: hex(0), next: i + 2 };
  }
  const cp = src.codePointAt(i + 1)!;
  return { re2: hex(d.charCodeAt(0)), next: i + 2 + (cp > 0xffff ? 0 : 0) };
}

/** A JavaScript character class to RE2: every member written as `\x{…}` or a Perl class. */
function charClass(src: string, start: number): { re2: string | null; why: string; next: number; wide?: boolean } {
  let i = start + 1;
  let neg = false;
  if (src[i] === '^') {
    neg = true;
    i++;
  }
  const items: string[] = [];
  let why = '';
  // One class member: a code unit, or a class escape (which cannot end a range).
  const member = (): { code: number } | { cls: string } | null => {
    const c = src[i];
    if (c === undefined) return null;
    if (c !== '\\') {
      i++;
      return { code: c.charCodeAt(0) };
    }
    const d = src[i + 1];
    if (d === undefined) {
      i++;
      return { code: 92 };
    }
    i += 2;
    switch (d) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return { cls: '\\' + d };
      case 's':
        return { cls: JS_SPACE };
      case 'S':
        why = 'negated \\S inside a class';
        return { cls: '' };
      case 'n':
        return { code: 10 };
      case 'r':
        return { code: 13 };
      case 't':
        return { code: 9 };
      case 'f':
        return { code: 12 };
      case 'v':
        return { code: 11 };
      case 'b':
        return { code: 8 };
      case '0':
        if (!/[0-9]/.test(src[i] ?? '')) return { code: 0 };
        why = 'octal escape in a class';
        return { code: 0 };
      case 'x': {
        const m = /^[0-9A-Fa-f]{2}/.exec(src.slice(i));
        if (!m) return { code: 120 };
        i += 2;
        return { code: Number.parseInt(m[0], 16) };
      }
      case 'u': {
        const m = /^[0-9A-Fa-f]{4}/.exec(src.slice(i));
        if (!m) return { code: 117 };
        i += 4;
        return { code: Number.parseInt(m[0], 16) };
      }
      case 'c': {
        const e = src[i];
        if (e && /[A-Za-z0-9_]/.test(e)) {
          i++;
          return { code: e.charCodeAt(0) % 32 };
        }
        i--;
        return { code: 92 };
      }
      default:
        if (d >= '1' && d <= '9') {
          why = 'octal escape in a class';
          return { code: 0 };
        }
        return { code: d.charCodeAt(0) };
    }
  };
  for (;;) {
    if (i >= src.length) return { re2: null, why: 'unterminated character class', next: src.length };
    if (src[i] === ']') {
      i++;
      break;
    }
    const a = member();
    if (!a) break;
    if (src[i] === '-' && src[i + 1] !== ']' && i + 1 < src.length && 'code' in a) {
      const save = i;
      i++;
      const b = member();
      if (b && 'code' in b) {
        if (b.code < a.code) return { re2: null, why: 'range out of order', next: i };
        items.push(`${hex(a.code)}-${hex(b.code)}`);
        continue;
      }
      // `[a-\d]`: Annex B reads the `-` literally.
      items.push(hex(a.code), hex(45));
      if (b && 'cls' in b) items.push(b.cls);
      if (save === i) break;
      continue;
    }
    items.push('code' in a ? hex(a.code) : a.cls);
  }
  const wide = items.some((x) => /\\x\{[0-9a-f]{3,}\}/.test(x) && x !== JS_SPACE);
  if (why) return { re2: null, why, next: i };
  if (items.length === 0) return neg ? { re2: '(?s:.)', why: '', next: i } : { re2: null, why: 'empty class', next: i };
  return { re2: `[${neg ? '^' : ''}${items.join('')}]`, why: '', next: i, wide };
}

/** Longest subject for which the fallback's estimate n^k × factor stays under FALLBACK_STEPS. */
function fallbackLimit(a: Analysis): number {
  return subjectLimit(a, FALLBACK_STEPS);
}

function re2Flags(flags: string): number {
  return flags.includes('i') ? re2js().CASE_INSENSITIVE : 0;
}

function toMatch(
  m: RegExpExecArray | ((string | null | undefined)[] & { index?: number; groups?: Record<string, string | undefined> }),
): RegexMatch {
  return {
    captures: Array.from(m, (x) => (x === null ? undefined : x)),
    named: { ...((m as { groups?: Record<string, string | undefined> }).groups ?? {}) },
    index: (m as { index?: number }).index ?? 0,
  };
}

const cache = new Map<string, CompiledRegex>();

/** Compile a config regex (JavaScript syntax, flags from "ims"). Never throws. */
export function compileConfigRegex(source: string, flags = ''): CompiledRegex {
  const key = flags + '/' + source;
  const hit = cache.get(key);
  if (hit) return hit;
  const v = compile(source, flags);
  if (cache.size > 5000) cache.clear();
  cache.set(key, v);
  return v;
}

/** Work counters (tests assert the shape: one RE2 program per distinct regex at most, none for the
 * regexes that every subject can run on the JavaScript engine within FAST_STEPS). */
export const regexStats = { compiled: 0, re2Programs: 0 };

/**
 * Below this estimated number of backtracking steps (n^k × factor × program size, the same worst-case
 * estimate as the fallback budget) a subject runs on the pattern's own JavaScript RegExp, which is
 * the reference meaning that the RE2 translation reproduces (test/regex-dos.test.ts compares them on
 * every corpus regex) and is much cheaper to build and run than re2js. The RE2 program is then
 * compiled on the first subject over that bound, or never (issue 12: eager RE2 programs were 7 % of
 * the nginx 1,000-server lint and 160 MB retained at 10,000 servers).
 */
const FAST_STEPS = 1e6;
let fastPath = true;
/** Tests only: run every subject as if the JavaScript fast path did not exist (RE2 wherever it can). */
export function setRegexFastPath(on: boolean): void {
  fastPath = on;
  generation++;
}
/** Bumped by setRegexFastPath: an answer remembered under the other mode is not reused. */
let generation = 0;

/** Longest subject whose worst-case estimate stays under `steps` (Infinity: any length). */
function subjectLimit(a: Analysis, steps: number): number {
  const k = a.variable + (a.anchored ? 0 : 1);
  const budget = steps / Math.max(1, a.factor) / Math.max(1, a.program);
  if (budget < 1) return 0;
  if (k === 0) return Infinity;
  return Math.floor(Math.pow(budget, 1 / k));
}

function compile(source: string, flags: string): CompiledRegex {
  let js: RegExp;
  try {
    js = new RegExp(source, flags.replace(/[^ims]/g, ''));
  } catch (e) {
    return { ok: false, reason: `not a valid regex: ${(e as Error).message}` };
  }
  regexStats.compiled++;
  const a = analyse(source, flags);
  if (a.program > MAX_PROGRAM) return { ok: false, reason: 'the regex repeats too much to be evaluated safely (program too large)' };
  const caseless = flags.includes('i');
  // Subjects up to `fast` characters run on the JavaScript RegExp. Only for patterns whose fallback
  // would be accepted anyway (no nested or alternated repeated group, a budget of at least
  // MIN_FALLBACK_SUBJECT): then whether RE2 accepts the translation changes nothing for those
  // subjects, and no repeated group can hold a capture that the engines would report differently.
  const fast = !a.unsafe && fallbackLimit(a) >= MIN_FALLBACK_SUBJECT ? subjectLimit(a, FAST_STEPS) : -1;

  type State = { re2: RE2JS | null; re2Why: string; needFallback: boolean; limit: number; fallbackWhy: string | null };
  let state: State | null = null;
  const settle = (): State => {
    if (state) return state;
    let re2: RE2JS | null = null;
    let re2Why = a.why ? `${a.why}, which RE2 lacks` : '';
    if (a.re2 !== null && caseless && a.wide) re2Why = 'case-insensitive letters above U+00FF, where RE2 folds case differently';
    else if (a.re2 !== null) {
      try {
        re2 = re2js().compile(a.re2, re2Flags(flags));
        regexStats.re2Programs++;
      } catch (e) {
        re2Why = `RE2 rejects it: ${(e as Error).message}`;
      }
    }
    // Subjects above U+00FF under `i` also take the fallback: RE2 folds ſ/s, K/k where JavaScript does not.
    const needFallback = re2 === null || a.dollarNl || caseless;
    let limit = Infinity;
    let fallbackWhy: string | null = null;
    if (needFallback) {
      if (a.unsafe) fallbackWhy = `${a.unsafe} can backtrack without end`;
      else {
        limit = fallbackLimit(a);
        if (limit < MIN_FALLBACK_SUBJECT) fallbackWhy = 'too many quantifiers to evaluate with a bounded backtracking budget';
      }
    }
    state = { re2, re2Why, needFallback, limit: fallbackWhy ? 0 : limit, fallbackWhy };
    return state;
  };
  if (fast < 0) {
    const st = settle();
    if (st.re2 === null && st.fallbackWhy)
      return { ok: false, reason: `it needs a backtracking engine (${st.re2Why}), and ${st.fallbackWhy}` };
  }
  const runJs = (st: State, s: string): RegexOutcome => {
    if (st.fallbackWhy)
      return {
        unknown: `this subject (${st.re2 === null ? st.re2Why : 'a final newline, or characters above U+00FF under case-insensitivity'}) needs a backtracking engine, and ${st.fallbackWhy}`,
      };
    if (s.length > st.limit)
      return {
        unknown: `the regex needs a backtracking engine (${st.re2Why || '`$` before a final newline'}); subjects over ${st.limit} characters exceed its budget`,
      };
    js.lastIndex = 0;
    const m = js.exec(s);
    return m ? toMatch(m) : null;
  };
  const onRe2 = (st: State, s: string) => st.re2 !== null && !(a.dollarNl && s.endsWith('\n')) && !(caseless && WIDE.test(s));
  const run = (s: string): RegexOutcome => {
    if (s.length <= fast && fastPath) {
      const m = js.exec(s);
      return m ? toMatch(m) : null;
    }
    const st = settle();
    if (onRe2(st, s)) {
      const m = st.re2!.exec(s);
      return m ? toMatch(m as unknown as RegExpExecArray) : null;
    }
    return runJs(st, s);
  };
  // The last subject and its answer: a simulated request tests the same Host or URI against the same
  // regex again in every phase and internal redirect (and V8 compiles a RegExp on its first runs).
  let lastSubject: string | null = null;
  let lastOutcome: RegexOutcome = null;
  let lastGeneration = generation;
  const exec = (s: string): RegexOutcome => {
    if (s === lastSubject && lastGeneration === generation) {
      const o = lastOutcome;
      return o === null || isUnknown(o) ? o : { captures: o.captures.slice(), named: { ...o.named }, index: o.index };
    }
    const o = run(s);
    lastSubject = s;
    lastOutcome = o;
    lastGeneration = generation;
    return o;
  };
  const regex: ConfigRegex = {
    source,
    flags,
    get engine() {
      const st = settle();
      return st.re2 === null ? 'backtrack' : a.dollarNl || caseless ? 're2+backtrack' : 're2';
    },
    re2Source: a.re2,
    get fallbackLimit() {
      const st = settle();
      return st.needFallback ? st.limit : Infinity;
    },
    exec,
    matches(s: string) {
      if (s.length <= fast && fastPath) return js.test(s);
      const st = settle();
      if (onRe2(st, s)) return st.re2!.test(s);
      const m = runJs(st, s);
      return isUnknown(m) ? m : m !== null;
    },
  };
  return { ok: true, regex };
}

// ---------------------------------------------------------------------------------------------------
// Globs

export interface GlobOptions {
  /** `*`, `?` and classes do not match `/` (FNM_PATHNAME); default true. */
  slash?: boolean;
  /** A leading `.` (of the text, or of a segment with `slash`) only matches a literal `.` (FNM_PERIOD). */
  period?: boolean;
  /** `**` as a whole segment matches any number of segments (picomatch / gitignore); needs `slash`. */
  globstar?: boolean;
  /** `\` escapes the next character (default true). */
  escape?: boolean;
  nocase?: boolean;
  /** `[!…]` negates; with `caret`, `[^…]` too (default true). */
  caret?: boolean;
}

type GTok = { t: 'lit'; c: string } | { t: 'any' } | { t: 'star' } | { t: 'class'; neg: boolean; set: [number, number][] };

function globTokens(p: string, o: GlobOptions): GTok[] {
  const out: GTok[] = [];
  const esc = o.escape !== false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\' && esc && i + 1 < p.length) out.push({ t: 'lit', c: p[++i] });
    else if (c === '*') {
      if (out.length === 0 || out[out.length - 1].t !== 'star') out.push({ t: 'star' });
    } else if (c === '?') out.push({ t: 'any' });
    else if (c === '[') {
      let j = i + 1;
      let neg = false;
      if (p[j] === '!' || (p[j] === '^' && o.caret !== false)) {
        neg = true;
        j++;
      }
      const set: [number, number][] = [];
      let first = true;
      let closed = false;
      while (j < p.length) {
        let ch = p[j];
        if (ch === ']' && !first) {
          closed = true;
          break;
        }
        first = false;
        if (ch === '\\' && esc && j + 1 < p.length) ch = p[++j];
        let lo = ch.charCodeAt(0);
        let hi = lo;
        if (p[j + 1] === '-' && j + 2 < p.length && p[j + 2] !== ']') {
          let e = p[j + 2];
          j += 2;
          if (e === '\\' && esc && j + 1 < p.length) e = p[++j];
          hi = e.charCodeAt(0);
          if (hi < lo) [lo, hi] = [hi, lo];
        }
        set.push([lo, hi]);
        j++;
      }
      if (!closed) out.push({ t: 'lit', c: '[' });
      else {
        out.push({ t: 'class', neg, set });
        i = j;
      }
    } else out.push({ t: 'lit', c });
  }
  return out;
}

const lower = (s: string) => s.toLowerCase();

function tokMatches(t: GTok, ch: string, o: GlobOptions): boolean {
  if (t.t === 'lit') return o.nocase ? lower(t.c) === lower(ch) : t.c === ch;
  if (o.slash !== false && ch === '/') return false;
  if (t.t === 'any') return true;
  if (t.t === 'class') {
    const codes = o.nocase ? [lower(ch).charCodeAt(0), ch.toUpperCase().charCodeAt(0)] : [ch.charCodeAt(0)];
    const hit = codes.some((c) => t.set.some(([lo, hi]) => c >= lo && c <= hi));
    return hit !== t.neg;
  }
  return false;
}

/** Two-pointer match of a token list against a string (one remembered star): O(|p| × |s|). */
function matchTokens(p: GTok[], s: string, o: GlobOptions): boolean {
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  const period = o.period === true;
  while (si < s.length) {
    const t = p[pi];
    // A leading `.` is only matched by a literal `.`.
    const guarded = period && si === 0 && s[0] === '.';
    if (t && t.t === 'star' && !guarded) {
      starP = pi++;
      starS = si;
      continue;
    }
    if (t && t.t !== 'star' && (!guarded || t.t === 'lit') && tokMatches(t, s[si], o)) {
      pi++;
      si++;
      continue;
    }
    if (starP >= 0 && !(o.slash !== false && s[starS] === '/')) {
      pi = starP + 1;
      si = ++starS;
      continue;
    }
    return false;
  }
  while (pi < p.length && p[pi].t === 'star') pi++;
  return pi === p.length;
}

/** Split at `/` that is not escaped and not inside a class. */
function splitSegments(p: string, escape: boolean): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\' && escape && i + 1 < p.length) {
      cur += c + p[++i];
    } else if (c === '/') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

const globCache = new Map<string, (s: string) => boolean>();

/**
 * Compile a glob to a linear matcher. With `slash` (the default) the pattern and the text are matched
 * segment by segment; `**` segments (with `globstar`) are stars over whole segments.
 */
export function compileGlob(pattern: string, o: GlobOptions = {}): (s: string) => boolean {
  const key = JSON.stringify(o) + '\0' + pattern;
  const hit = globCache.get(key);
  if (hit) return hit;
  let fn: (s: string) => boolean;
  if (o.slash === false) {
    const toks = globTokens(pattern, o);
    fn = (s) => matchTokens(toks, s, o);
  } else {
    const segs = splitSegments(pattern, o.escape !== false).map((seg) => (o.globstar && seg === '**' ? null : globTokens(seg, o)));
    fn = (s) => matchSegments(segs, s.split('/'), o);
  }
  if (globCache.size > 2000) globCache.clear();
  globCache.set(key, fn);
  return fn;
}

/** Segments with `**` (null) as a star over segments; the same two-pointer scheme one level up. */
function matchSegments(p: (GTok[] | null)[], s: string[], o: GlobOptions): boolean {
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    const t = p[pi];
    if (pi < p.length && t === null && !(o.period && s[si].startsWith('.'))) {
      starP = pi++;
      starS = si;
      continue;
    }
    if (pi < p.length && t !== null && matchTokens(t, s[si], o)) {
      pi++;
      si++;
      continue;
    }
    if (starP >= 0 && !(o.period && s[starS].startsWith('.'))) {
      pi = starP + 1;
      si = ++starS;
      continue;
    }
    return false;
  }
  while (pi < p.length && p[pi] === null) pi++;
  return pi === p.length;
}

export function globMatch(pattern: string, text: string, o: GlobOptions = {}): boolean {
  return compileGlob(pattern, o)(text);
}

/** `{a,b}` alternatives of a picomatch-style pattern (nested braces, at most `limit` results). */
export function expandBraces(p: string, limit = 256): string[] {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') {
      if (depth === 0) open = i;
      depth++;
    } else if (c === '}' && depth > 0) {
      depth--;
      if (depth === 0) {
        const body = p.slice(open + 1, i);
        const parts: string[] = [];
        let d = 0;
        let last = 0;
        for (let j = 0; j < body.length; j++) {
          if (body[j] === '\\') j++;
          else if (body[j] === '{') d++;
          else if (body[j] === '}') d--;
          else if (body[j] === ',' && d === 0) {
            parts.push(body.slice(last, j));
            last = j + 1;
          }
        }
        parts.push(body.slice(last));
        if (parts.length < 2) continue;
        const head = p.slice(0, open);
        const tails = expandBraces(p.slice(i + 1), limit);
        const out: string[] = [];
        for (const part of parts)
          for (const mid of expandBraces(part, limit))
            for (const t of tails) {
              if (out.length >= limit) return out;
              out.push(head + mid + t);
            }
        return out;
      }
    }
  }
  return [p];
}

/**
 * The `ignores` matcher (.why403.json): picomatch-style globs with `dot: true` — `**` segments,
 * `{a,b}`, a leading `!` negates, a trailing `/**` also matches the folder itself. Linear per pattern.
 */
export function compileIgnores(globs: string[]): (path: string) => boolean {
  const fns = globs.map((g) => {
    let neg = false;
    let p = g;
    while (p.startsWith('!')) {
      neg = !neg;
      p = p.slice(1);
    }
    p = p.replace(/^(\.\/)+/, '');
    const alts = expandBraces(p).flatMap((x) => (x.endsWith('/**') ? [x, x.slice(0, -3)] : [x]));
    const ms = alts.map((x) => compileGlob(x, { slash: true, globstar: true }));
    return (s: string) => ms.some((m) => m(s)) !== neg;
  });
  return (path) => fns.some((f) => f(path));
}
