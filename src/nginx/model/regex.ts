/**
 * PCRE (as nginx uses it: ngx_regex_compile in src/core/ngx_regex.c, no UTF mode, `~*` adds CASELESS)
 * translated to a JavaScript RegExp, but only where both engines mean the same thing.
 *
 * Subjects are matched as "binary strings" (one char per byte, see `toBinary`), which is how PCRE sees
 * nginx's byte strings without the UTF option. Constructs that JavaScript reads differently are either
 * rewritten to an exact equivalent (`.` → `[^\n]`, `$` → `(?=\n?$)`, `\s`, `\A`, `\z`, `\Z`, `\h`, `\R`,
 * `(?P<n>`, `[]…]`, POSIX classes, leading `(?i)`) or give an `unknown` verdict with the reason
 * (possessive quantifiers, atomic groups, inline options anywhere but the start, recursion, conditionals,
 * backtracking verbs, \Q…\E inside a class, unicode properties, …). Never a guess.
 *
 * The translation is run by src/regex-engine.ts (RE2, linear time; a budgeted backtracking fallback only
 * for lookaround / back-references), so hostile patterns such as `^/(a|aa)+$` cannot hang the model.
 */
import { compileConfigRegex, isUnknown, type ConfigRegex, type RegexUnknown } from '../../regex-engine.js';

export type RegexVerdict =
  | { ok: true; source: string; flags: string; regex: ConfigRegex; pattern: string; caseless: boolean }
  | { ok: false; pattern: string; reason: string };

const cache = new Map<string, RegexVerdict>();

/** UTF-8 bytes of a JS string as a string of chars U+0000..U+00FF. Lone surrogates U+DC80..U+DCFF
 * (raw bytes kept by SourceFile) become those bytes again. */
export function toBinary(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc80 && c <= 0xdcff && !(i > 0 && s.charCodeAt(i - 1) >= 0xd800 && s.charCodeAt(i - 1) <= 0xdbff)) {
      out += String.fromCharCode(c - 0xdc00);
      continue;
    }
    const cp = s.codePointAt(i)!;
    if (cp > 0xffff) i++;
    for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += String.fromCharCode(b);
  }
  return out;
}

/** Inverse of toBinary for display and file system paths (invalid UTF-8 is replaced). */
export function fromBinary(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  return Buffer.from(s, 'latin1').toString('utf8');
}

const POSIX: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: 'A-Za-z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\t\\n\\x0b\\f\\r ',
  blank: ' \\t',
  xdigit: '0-9A-Fa-f',
  word: 'A-Za-z0-9_',
  punct: '!-\\/:-@\\[-`{-~',
  cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~',
  graph: '!-~',
};

const escRe = (s: string) => s.replace(/[\\^$.*+?()[\]{}|\/-]/g, (c) => '\\' + c);

const unknown = (pattern: string, reason: string): RegexVerdict => ({ ok: false, pattern, reason });

/** The verdict of the regex a directive evaluates per request (`if`, `rewrite`, a `map` entry), kept as
 * long as the directive: the shared cache below holds 5,000 patterns and is emptied when full, so with
 * more servers than that (an `if ($host …)` each) every simulated request through a server compiled
 * its regex again, and each of those compilations lived long enough to reach the old generation
 * (≈ 90 MB of dead regexes at 10,000 servers; docs/performance.md, eighth session). */
const owned = new WeakMap<object, { key: string; v: RegexVerdict }>();

/** Translate an nginx regex (`~` / `~*` argument) to a JavaScript RegExp, or say why not. `owner`: the
 * directive the pattern belongs to, when it has one pattern (its verdict is kept with it). */
export function translatePcre(pattern: string, caseless: boolean, owner?: object): RegexVerdict {
  const key = (caseless ? 'i:' : 's:') + pattern;
  if (owner) {
    const mine = owned.get(owner);
    if (mine && mine.key === key) return mine.v;
  }
  let v = cache.get(key);
  if (!v) {
    v = translate(pattern, caseless);
    if (cache.size > 5000) cache.clear();
    cache.set(key, v);
  }
  if (owner) owned.set(owner, { key, v });
  return v;
}

function translate(pattern: string, caselessIn: boolean): RegexVerdict {
  let caseless = caselessIn;
  const p = toBinary(pattern);
  if (caseless && /[\x80-\xff]/.test(p)) {
    return unknown(pattern, 'a case-insensitive pattern with non-ASCII bytes: PCRE without UTF folds only ASCII, JavaScript folds more');
  }
  let i = 0;
  let out = '';
  // Leading option settings apply to the whole pattern; JavaScript has flags for i and s and m.
  let flags = '';
  const lead = /^\(\?([imsxnJU]*)\)/.exec(p);
  if (lead) {
    for (const f of lead[1]) {
      if (f === 'i') caseless = true;
      else if (f === 's') flags += 's';
      else if (f === 'm') flags += 'm';
      else return unknown(pattern, `inline option (?${f}) has no JavaScript equivalent`);
    }
    i = lead[0].length;
  }
  const dotAll = flags.includes('s');
  const multi = flags.includes('m');
  // Stack of open groups (for the balance check).
  const groups: { unbounded: boolean }[] = [{ unbounded: false }];
  const n = p.length;
  while (i < n) {
    const c = p[i];
    if (c === '\\') {
      const r = escapeOutside(p, i, pattern);
      if ('reason' in r) return unknown(pattern, r.reason);
      out += r.js;
      i = r.next;
      continue;
    }
    if (c === '[') {
      const r = charClass(p, i);
      if ('reason' in r) return unknown(pattern, r.reason);
      out += r.js;
      i = r.next;
      continue;
    }
    if (c === '(') {
      if (p[i + 1] === '*') return unknown(pattern, 'backtracking control verbs (*…) are PCRE-only');
      if (p[i + 1] === '?') {
        const rest = p.slice(i + 2);
        if (rest.startsWith('#')) {
          const end = p.indexOf(')', i);
          if (end === -1) return unknown(pattern, 'unterminated comment');
          i = end + 1;
          continue;
        }
        if (rest.startsWith(':') || rest.startsWith('=') || rest.startsWith('!') || rest.startsWith('<=') || rest.startsWith('<!')) {
          const len = rest.startsWith('<') ? 4 : 3;
          out += p.slice(i, i + len);
          i += len;
        } else if (rest.startsWith('P<') || rest.startsWith('<') || rest.startsWith("'")) {
          const m = /^(?:P<|<|')([A-Za-z_][A-Za-z0-9_]*)[>']/.exec(rest);
          if (!m) return unknown(pattern, 'malformed named group');
          out += `(?<${m[1]}>`;
          i += 2 + m[0].length;
        } else if (rest.startsWith('P=')) {
          const m = /^P=([A-Za-z_][A-Za-z0-9_]*)\)/.exec(rest);
          if (!m) return unknown(pattern, 'malformed (?P=name)');
          out += `\\k<${m[1]}>`;
          i += 2 + m[0].length;
          continue;
        } else if (rest.startsWith('>')) {
          return unknown(pattern, 'atomic group (?>…) is PCRE-only');
        } else if (rest.startsWith('|')) {
          return unknown(pattern, 'branch reset (?|…) is PCRE-only');
        } else if (rest.startsWith('(')) {
          return unknown(pattern, 'conditional group (?(…)…) is PCRE-only');
        } else if (/^(?:R|[0-9+-]|&|P>)/.test(rest)) {
          return unknown(pattern, 'recursion / subroutine call is PCRE-only');
        } else if (/^[a-zA-Z^-]/.test(rest)) {
          return unknown(pattern, 'inline option setting (?…) after the start of the pattern: JavaScript (Node 20) cannot scope flags');
        } else {
          return unknown(pattern, `unsupported group syntax (?${rest.slice(0, 2)}`);
        }
      } else {
        out += '(';
        i++;
      }
      groups.push({ unbounded: false });
      continue;
    }
    if (c === ')') {
      const g = groups.pop();
      if (!g || groups.length === 0) return unknown(pattern, 'unbalanced parenthesis');
      out += ')';
      i++;
      if (g.unbounded) groups[groups.length - 1].unbounded = true;
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || c === '{') {
      let q = c;
      let unbounded = c === '*' || c === '+';
      if (c === '{') {
        const m = /^\{([0-9]+)(,([0-9]*))?\}/.exec(p.slice(i));
        if (!m) {
          out += '\\{'; // not a quantifier: a literal brace in PCRE (and in JavaScript's Annex B)
          i++;
          continue;
        }
        q = m[0];
        unbounded = m[2] !== undefined && m[3] === '';
      }
      i += q.length;
      if (p[i] === '+') return unknown(pattern, `possessive quantifier ${q}+ is PCRE-only`);
      let lazy = '';
      if (p[i] === '?') {
        lazy = '?';
        i++;
      }
      if (unbounded) groups[groups.length - 1].unbounded = true;
      out += q + lazy;
      continue;
    }
    if (c === '.') {
      out += dotAll ? '[\\s\\S]' : '[^\\n]';
    } else if (c === '$') {
      out += multi ? '(?=\\n|$)' : '(?=\\n?$)';
    } else if (c === '^' || c === '|') {
      out += c;
    } else if (c === '/' || c === ']' || c === '}') {
      out += '\\' + c;
    } else {
      out += c;
    }
    i++;
  }
  if (groups.length !== 1) return unknown(pattern, 'unbalanced parenthesis');
  const jsFlags = (caseless ? 'i' : '') + (multi ? 'm' : '');
  const c = compileConfigRegex(out, jsFlags);
  if (!c.ok) return unknown(pattern, c.reason);
  return { ok: true, source: out, flags: jsFlags, regex: c.regex, pattern, caseless };
}

type Piece = { js: string; next: number } | { reason: string };

function escapeOutside(p: string, i: number, _pattern: string): Piece {
  const d = p[i + 1];
  if (d === undefined) return { reason: 'pattern ends with a backslash' };
  switch (d) {
    case 'A':
      return { js: '^', next: i + 2 };
    case 'z':
      return { js: '$', next: i + 2 };
    case 'Z':
      return { js: '(?=\\n?$)', next: i + 2 };
    case 's':
      return { js: '[\\t\\n\\x0b\\f\\r ]', next: i + 2 };
    case 'S':
      return { js: '[^\\t\\n\\x0b\\f\\r ]', next: i + 2 };
    case 'h':
      return { js: '[\\t \\xa0]', next: i + 2 };
    case 'H':
      return { js: '[^\\t \\xa0]', next: i + 2 };
    case 'v':
      return { js: '[\\n\\x0b\\f\\r\\x85]', next: i + 2 };
    case 'V':
      return { js: '[^\\n\\x0b\\f\\r\\x85]', next: i + 2 };
    case 'R':
      return { js: '(?:\\r\\n|[\\n\\x0b\\f\\r\\x85])', next: i + 2 };
    case 'N':
      return { js: '[^\\n]', next: i + 2 };
    case 'e':
      return { js: '\\x1b', next: i + 2 };
    case 'a':
      return { js: '\\x07', next: i + 2 };
    case 'd':
    case 'D':
    case 'w':
    case 'W':
    case 'b':
    case 'B':
    case 'n':
    case 't':
    case 'r':
    case 'f':
      return { js: '\\' + d, next: i + 2 };
    case 'Q': {
      const end = p.indexOf('\\E', i + 2);
      const lit = end === -1 ? p.slice(i + 2) : p.slice(i + 2, end);
      return { js: lit.length ? `(?:${escRe(lit)})` : '', next: end === -1 ? p.length : end + 2 };
    }
    case 'E':
      return { js: '', next: i + 2 };
    case 'x': {
      const m = /^\\x(\{([0-9A-Fa-f]+)\}|[0-9A-Fa-f]{0,2})/.exec(p.slice(i));
      const hex = m![2] ?? m![1];
      const v = hex === '' ? 0 : Number.parseInt(hex, 16);
      if (v > 0xff) return { reason: `\\x{${hex}} is above 0xff; nginx's PCRE runs without UTF` };
      return { js: '\\x' + v.toString(16).padStart(2, '0'), next: i + m![0].length };
    }
    case '0': {
      const m = /^\\0[0-7]{0,2}/.exec(p.slice(i))!;
      const v = Number.parseInt(m[0].slice(1), 8);
      return { js: '\\x' + v.toString(16).padStart(2, '0'), next: i + m[0].length };
    }
    default:
      break;
  }
  if (/[1-9]/.test(d)) {
    if (/[0-9]/.test(p[i + 2] ?? '')) return { reason: `\\${d}${p[i + 2]}: multi-digit back-references / octal escapes read differently` };
    return { js: '\\' + d, next: i + 2 };
  }
  if (/[A-Za-z]/.test(d)) return { reason: `escape \\${d} (PCRE) has no exact JavaScript equivalent` };
  return { js: /[\x00-\x7f]/.test(d) ? '\\' + d : d, next: i + 2 };
}

function charClass(p: string, start: number): Piece {
  let i = start + 1;
  let out = '[';
  if (p[i] === '^') {
    out += '^';
    i++;
  }
  if (p[i] === ']') {
    out += '\\]';
    i++;
  }
  for (;;) {
    if (i >= p.length) return { reason: 'unterminated character class' };
    const c = p[i];
    if (c === ']') return { js: out + ']', next: i + 1 };
    if (c === '[' && p[i + 1] === ':') {
      const m = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(i));
      if (!m) {
        out += '\\[';
        i++;
        continue;
      }
      if (m[1] || !(m[2] in POSIX)) return { reason: `POSIX class [:${m[1]}${m[2]}:] has no exact JavaScript equivalent here` };
      out += POSIX[m[2]];
      i += m[0].length;
      continue;
    }
    if (c === '\\') {
      const d = p[i + 1];
      if (d === undefined) return { reason: 'unterminated character class' };
      if ('dwDW'.includes(d)) out += '\\' + d;
      else if (d === 's') out += '\\t\\n\\x0b\\f\\r ';
      else if (d === 'h') out += '\\t \\xa0';
      else if (d === 'v') out += '\\n\\x0b\\f\\r\\x85';
      else if ('nrtf'.includes(d)) out += '\\' + d;
      else if (d === 'b') out += '\\x08';
      else if (d === 'e') out += '\\x1b';
      else if (d === 'a') out += '\\x07';
      else if (d === 'x') {
        const m = /^\\x(\{([0-9A-Fa-f]+)\}|[0-9A-Fa-f]{0,2})/.exec(p.slice(i))!;
        const hex = m[2] ?? m[1];
        const v = hex === '' ? 0 : Number.parseInt(hex, 16);
        if (v > 0xff) return { reason: `\\x{${hex}} is above 0xff; nginx's PCRE runs without UTF` };
        out += '\\x' + v.toString(16).padStart(2, '0');
        i += m[0].length;
        continue;
      } else if (/[A-Za-z0-9]/.test(d)) return { reason: `escape \\${d} inside a character class has no exact JavaScript equivalent` };
      else out += '\\' + d;
      i += 2;
      continue;
    }
    if (c === '[' || c === '/') out += '\\' + c;
    else out += c;
    i++;
  }
}

export type RegexCaptures = { captures: (string | undefined)[]; named: Record<string, string | undefined> };

/** Run a translated regex on a binary-string subject: captures (numbered and named), null for no match,
 * or `{ unknown }` when the budget of the backtracking fallback refuses this subject. */
export function matchRegex(v: RegexVerdict & { ok: true }, subject: string): RegexCaptures | null | RegexUnknown {
  const m = v.regex.exec(subject);
  if (m === null || isUnknown(m)) return m;
  return { captures: m.captures, named: m.named };
}

export { isUnknown };

/** matchRegex for callers that have checked the subject is in budget (tests): an unknown is an error. */
export function execRegex(v: RegexVerdict & { ok: true }, subject: string): RegexCaptures | null {
  const m = matchRegex(v, subject);
  if (m !== null && isUnknown(m)) throw new Error(m.unknown);
  return m;
}
