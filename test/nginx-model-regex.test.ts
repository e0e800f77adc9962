import { describe, expect, it } from 'vitest';
import { execRegex, toBinary, translatePcre } from '../src/nginx/model/regex.js';

const ok = (p: string, ci = false) => {
  const v = translatePcre(p, ci);
  if (!v.ok) throw new Error(`expected ${p} to translate: ${v.reason}`);
  return v;
};
const m = (p: string, s: string, ci = false) => execRegex(ok(p, ci), toBinary(s)) !== null;

describe('PCRE → JavaScript translation', () => {
  it('keeps the meaning of ordinary patterns', () => {
    expect(m('\\.php$', '/a/b.php')).toBe(true);
    expect(m('\\.php$', '/a/b.php5')).toBe(false);
    expect(m('\\.(jpg|png)$', '/X.PNG', true)).toBe(true);
    expect(m('\\.(jpg|png)$', '/X.PNG', false)).toBe(false);
    expect(m('/\\.', '/.git/config')).toBe(true);
    expect(m('^/(?P<id>[0-9]+)$', '/42')).toBe(true);
    expect(execRegex(ok('^/(?P<id>[0-9]+)$'), '/42')?.named.id).toBe('42');
    expect(m('^/a{2}$', '/aa')).toBe(true);
    expect(m('^/x{,3}$', '/x{,3}')).toBe(true); // not a quantifier in PCRE2 10.42: literal
  });
  it('rewrites constructs JavaScript reads differently to exact equivalents', () => {
    expect(m('^/a$', '/a\n')).toBe(true); // PCRE $ matches before a final newline
    expect(m('^/a\\z', '/a\n')).toBe(false);
    expect(m('\\A/a', '/a')).toBe(true);
    expect(m('^/a.b$', '/a\rb')).toBe(true); // PCRE . matches CR
    expect(m('^/a\\sb$', '/a\u00a0b')).toBe(false); // \s is ASCII-only in PCRE
    expect(m('^/[]a]$', '/]')).toBe(true); // ] first in a class is literal
    expect(m('^/[[:digit:]]+$', '/123')).toBe(true);
    expect(m('(?i)^/admin', '/ADMIN')).toBe(true);
    expect(m('^/caf\u00e9$', '/caf\u00e9')).toBe(true); // bytes against bytes
  });
  it('answers unknown, with the reason, instead of guessing', () => {
    const cases: [string, RegExp][] = [
      ['^/a++b', /possessive/],
      ['^(?>a|ab)c', /atomic/],
      ['^/(?i)admin', /inline option/],
      ['^/(?i:admin)', /inline option/],
      // nested quantifiers run on RE2 (linear); only with lookaround / back-references (backtracking) are they refused
      ['^/(?!x)(a+)+$', /backtrack without end/],
      ['^(\\w)(\\w+\\s?)*\\1$', /backtrack without end/],
      ['^(?R)?$', /recursion/],
      ['^\\p{L}+$', /escape/],
      ['^(*UTF)x', /verbs/],
      ['(?|(a)|(b))', /branch reset/],
      ['^\\x{263a}', /above 0xff/],
    ];
    for (const [p, why] of cases) {
      const v = translatePcre(p, false);
      expect(v.ok, p).toBe(false);
      if (!v.ok) expect(v.reason, p).toMatch(why);
    }
    expect(translatePcre('caf\u00e9', true).ok).toBe(false);
  });
});
