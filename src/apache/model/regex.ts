/**
 * httpd regexes are PCRE2 (server/util_pcre.c). We hand them to JavaScript's RegExp only when the
 * syntax means the same thing there; anything else is reported as unknown with the reason, never
 * guessed.
 */

export type Compiled = { ok: true; re: RegExp } | { ok: false; reason: string };

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
    try {
      // `$` in PCRE also matches before a final newline; request paths never end in one.
      out = { ok: true, re: new RegExp(pattern, nocase ? 'i' : '') };
    } catch (e) {
      out = { ok: false, reason: `regex "${pattern}" is not valid JavaScript: ${(e as Error).message}` };
    }
  }
  cache.set(key, out);
  return out;
}

/**
 * apr_fnmatch with APR_FNM_PATHNAME (wildcard `<Directory>`/`<Location>`/`<Files>`): `*` and `?`
 * do not cross `/`, `[...]` classes, `\` escapes.
 */
export function fnmatch(pattern: string, text: string, pathname = true): boolean {
  let src = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') src += pathname ? '[^/]*' : '.*';
    else if (c === '?') src += pathname ? '[^/]' : '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) src += '\\[';
      else {
        let body = pattern.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        src += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else if (c === '\\' && i + 1 < pattern.length) {
      src += '\\' + pattern[++i];
    } else src += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  try {
    return new RegExp(src + '$').test(text);
  } catch {
    return false;
  }
}

export function isFnmatchPattern(s: string): boolean {
  return /[*?[]/.test(s);
}
