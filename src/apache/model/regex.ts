/**
 * httpd regexes are PCRE2 (server/util_pcre.c). We accept them only when the syntax means the same
 * thing in JavaScript; anything else is reported as unknown with the reason, never guessed. They run
 * on src/regex-engine.ts (RE2, linear time; a budgeted backtracking fallback for lookaround and
 * back-references), never on a bare RegExp: a config must not be able to hang the linter.
 */
import { compileConfigRegex, compileGlob, type ConfigRegex } from '../../regex-engine.js';

export type Compiled = { ok: true; re: ConfigRegex } | { ok: false; reason: string };

const UNSUPPORTED: [RegExp, string][] = [
  [/\\[AZzGhHvVRKXCQE]/, 'PCRE-only escape'],
  [/\(\?[a-zA-Z-]*[imsxXUJn][a-zA-Z-]*[:)]/, 'inline PCRE flags'],
  [/\(\?>/, 'atomic group'],
  [/\(\?(?:R|\d|[+-]\d|&|P>)/, 'recursion or subroutine call'],
  [/\(\?P</, 'Python-style named group'],
  [/\(\?\|/, 'branch reset group'],
  [/\(\?\(/, 'conditional group'],
  [/\(\*[A-Z]/, 'PCRE verb'],
  [/[*+?}]\+/, 'possessive quantifier'],
  [/\[\[:[a-z]+:\]\]|\[:[a-z]+:\]/, 'POSIX class'],
  [/\\[pP]\{/, 'Unicode property'],
  [/\\[0-9]{3}/, 'octal escape'],
  [/\\x\{/, 'braced hex escape'],
];

const cache = new Map<string, Compiled>();

/** Compile an httpd regex (`nocase` for `[NC]` / `~*`-style use). */
export function compilePcre(pattern: string, nocase = false): Compiled {
  const key = `${nocase ? 'i' : '-'}${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let out: Compiled;
  const bad = UNSUPPORTED.find(([re]) => re.test(pattern));
  if (bad) {
    out = { ok: false, reason: `regex "${pattern}" uses a ${bad[1]}; its PCRE meaning is not checked` };
  } else {
    // `$` in PCRE also matches before a final newline; request paths never end in one.
    const c = compileConfigRegex(pattern, nocase ? 'i' : '');
    out = c.ok ? { ok: true, re: c.regex } : { ok: false, reason: `regex "${pattern}" cannot be evaluated: ${c.reason}` };
  }
  cache.set(key, out);
  return out;
}

/**
 * apr_fnmatch with APR_FNM_PATHNAME (wildcard `<Directory>`/`<Location>`/`<Files>`): `*` and `?`
 * do not cross `/`, `[...]` classes, `\` escapes.
 */
export function fnmatch(pattern: string, text: string, pathname = true): boolean {
  // Linear (two-pointer) glob matcher, not a RegExp: `*a*a*a*a*b` against a long path must not backtrack.
  const cache = pathname ? pathGlobs : nameGlobs;
  let fn = cache.get(pattern);
  if (!fn) {
    fn = compileGlob(pattern, { slash: pathname });
    if (cache.size >= 2000) cache.clear();
    cache.set(pattern, fn);
  }
  return fn(text);
}

/** Compiled patterns by text (compileGlob keys its own cache by the options' JSON, a string made per
 * call: the walks test the same wildcard sections at every level of every simulated request). */
const pathGlobs = new Map<string, (s: string) => boolean>();
const nameGlobs = new Map<string, (s: string) => boolean>();

export function isFnmatchPattern(s: string): boolean {
  return /[*?[]/.test(s);
}
