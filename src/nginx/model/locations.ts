/**
 * Location choice as nginx makes it (ngx_http_core_find_location and ngx_http_core_find_static_location
 * in src/http/ngx_http_core_module.c):
 *
 * 1. Among the prefix locations of one level (`=`, plain, `^~`), an `=` whose name equals the URI ends
 *    the search. Otherwise the longest plain or `^~` prefix is remembered, and when the URI is exactly a
 *    location name minus its trailing `/` and that location passes requests to an upstream
 *    (proxy_pass, fastcgi_pass, uwsgi_pass, scgi_pass, memcached_pass, grpc_pass), nginx answers 301 to
 *    the name with the slash (auto_redirect) unless a location named exactly like the URI exists.
 * 2. The search recurses into the locations nested in the remembered prefix (the same steps, one level
 *    down; a nested `=` or auto-redirect also ends it).
 * 3. Unless the remembered prefix at this level is `^~`, the regex locations of this level (`~`, `~*`)
 *    are tried in config order; the first match wins and its own nested regexes are tried in turn.
 *    Because the recursion tries the nested level first, regexes nested in the chosen prefix are tried
 *    before the enclosing level's regexes — and a `^~` only suppresses the regexes of the level where it
 *    is the longest prefix and of the levels above it.
 * 4. Otherwise the remembered prefix is used; with no match at all, the server's own configuration is.
 *
 * Named locations (`@name`) take part only in internal redirects. A regex whose meaning JavaScript cannot
 * reproduce (see regex.ts) makes the answer `unknown` instead of a guess.
 */
import { MAX_NESTING } from '../../walk.js';
import { isUnknown, matchRegex } from './regex.js';
import type { Location, Scope, Server } from './tree.js';
import { scopeLabel } from './tree.js';

export type CandidateResult =
  | 'exact-match'
  | 'longest-prefix'
  | 'shorter-prefix'
  | 'not-a-prefix'
  | 'exact-mismatch'
  | 'regex-match'
  | 'regex-no-match'
  | 'regex-unknown'
  | 'regex-skipped-noregex'
  | 'regex-not-tried'
  | 'auto-redirect';

export interface Candidate {
  location: Location;
  result: CandidateResult;
  reason: string;
}

export interface LocationMatch {
  /** The chosen location; null means the server's own configuration (no location matched). */
  location: Location | null;
  /** How the decision was made. `redirect` = the auto_redirect 301 to `uri + "/"`. */
  via: 'exact' | 'prefix' | 'prefix-noregex' | 'regex' | 'none' | 'redirect' | 'unknown';
  candidates: Candidate[];
  /** Regex captures of the deciding regex location ($1…, named). */
  captures: (string | undefined)[];
  named: Record<string, string | undefined>;
  /** Set when the answer could not be computed (a regex JavaScript cannot reproduce was reached). */
  unknown?: string;
}

const UPSTREAM = ['proxy_pass', 'fastcgi_pass', 'uwsgi_pass', 'scgi_pass', 'memcached_pass', 'grpc_pass'];

function autoRedirect(l: Location): boolean {
  return l.bin.endsWith('/') && UPSTREAM.some((n) => l.byName.has(n));
}

const label = (l: Location) => scopeLabel(l);

/** The prefix (`=`, plain, `^~`) and regex locations of a scope, split once per scope. */
const levels = new WeakMap<Scope, { statics: Location[]; regexes: Location[] }>();
function levelOf(scope: Scope): { statics: Location[]; regexes: Location[] } {
  let v = levels.get(scope);
  if (!v) {
    v = {
      statics: scope.locations.filter((l) => l.modifier === '' || l.modifier === '=' || l.modifier === '^~'),
      regexes: scope.locations.filter((l) => l.modifier === '~' || l.modifier === '~*'),
    };
    levels.set(scope, v);
  }
  return v;
}

/** The reasons that depend on the location alone, written only when read (issue 12: a lint runs the
 * search for every proof, and the simulator shows only some candidates; most are `not-a-prefix`). */
const REASON: Partial<Record<CandidateResult, string>> = {
  'exact-match': ' equals the URI: the search stops here',
  'exact-mismatch': ' is an exact match and the URI differs',
  'longest-prefix': ' is the longest matching prefix at its level',
  'shorter-prefix': ' matches but a longer prefix does too',
  'not-a-prefix': ' is not a prefix of the URI',
  'regex-match': ' is the first regex that matches (regexes are tried in config order)',
  'regex-no-match': ' does not match the URI',
  'regex-not-tried': ' comes after an undecidable regex',
};
class LazyCandidate implements Candidate {
  constructor(
    readonly location: Location,
    readonly result: CandidateResult,
  ) {}
  get reason(): string {
    return label(this.location) + REASON[this.result]!;
  }
}
const cand = (l: Location, result: CandidateResult): Candidate => new LazyCandidate(l, result);

/**
 * Deepest location nesting the search follows. The parsers keep MAX_NESTING levels per file;
 * includes can stack files deeper, and past this the result is `unknown` (with its reason).
 */
export const MAX_LOCATION_DEPTH = MAX_NESTING;

/** Find the location for a (normalised, binary-string) URI in a server. */
export function findLocation(server: Server, uri: string): LocationMatch {
  const out: LocationMatch = { location: null, via: 'none', candidates: [], captures: [], named: {} };
  let current: Location | null = null;

  type Rc = 'OK' | 'DONE' | 'AGAIN' | 'DECLINED' | 'UNKNOWN';

  const staticLookup = (scope: Scope): Rc => {
    const { statics } = levelOf(scope);
    const exact = statics.find((l) => l.modifier === '=' && l.bin === uri);
    let best: Location | null = null;
    for (const l of statics) {
      if (l.modifier === '=') continue;
      if (uri.startsWith(l.bin) && (!best || l.bin.length > best.bin.length)) best = l;
    }
    for (const l of statics) {
      if (l === exact) out.candidates.push(cand(l, 'exact-match'));
      else if (l.modifier === '=') out.candidates.push(cand(l, 'exact-mismatch'));
      else if (l === best) out.candidates.push(cand(l, 'longest-prefix'));
      else if (uri.startsWith(l.bin)) out.candidates.push(cand(l, 'shorter-prefix'));
      else out.candidates.push(cand(l, 'not-a-prefix'));
    }
    if (exact) {
      current = exact;
      return 'OK';
    }
    const sameName = statics.some((l) => l.bin === uri);
    const redirect = sameName ? undefined : statics.find((l) => l.bin === uri + '/' && autoRedirect(l));
    if (redirect) {
      current = redirect;
      out.candidates.push({
        location: redirect,
        result: 'auto-redirect',
        reason: `${label(redirect)} passes to an upstream and the URI lacks only its trailing slash: nginx answers 301 to "${uri}/"`,
      });
      return 'DONE';
    }
    if (best) {
      current = best;
      return 'AGAIN';
    }
    return 'DECLINED';
  };

  const find = (scope: Scope, depth: number): Rc => {
    if (depth > MAX_LOCATION_DEPTH) {
      // never a silent truncation: nginx would go on searching, so the answer is not known
      out.unknown = `locations are nested more than ${MAX_LOCATION_DEPTH} levels deep at ${scopeLabel(scope)}; the search below is not analysed`;
      return 'UNKNOWN';
    }
    let rc = staticLookup(scope);
    let noregex = false;
    if (rc === 'AGAIN') {
      const chosen = current!;
      noregex = chosen.modifier === '^~';
      rc = find(chosen, depth + 1);
    }
    if (rc === 'OK' || rc === 'DONE' || rc === 'UNKNOWN') return rc;
    const { regexes } = levelOf(scope);
    if (noregex) {
      for (const l of regexes) {
        out.candidates.push({
          location: l,
          result: 'regex-skipped-noregex',
          reason: `${label(l)} is not tried: the longest prefix here is "^~ ${current?.name ?? ''}"`,
        });
      }
      return rc;
    }
    for (let i = 0; i < regexes.length; i++) {
      const l = regexes[i];
      const v = l.regex!;
      if (!v.ok) {
        out.candidates.push({ location: l, result: 'regex-unknown', reason: `${label(l)}: cannot evaluate the regex (${v.reason})` });
        out.unknown = `regex of ${label(l)} cannot be evaluated: ${v.reason}`;
        for (const r of regexes.slice(i + 1)) out.candidates.push(cand(r, 'regex-not-tried'));
        return 'UNKNOWN';
      }
      const m = matchRegex(v, uri);
      if (m && isUnknown(m)) {
        out.candidates.push({ location: l, result: 'regex-unknown', reason: `${label(l)}: cannot evaluate the regex (${m.unknown})` });
        out.unknown = `regex of ${label(l)} cannot be evaluated: ${m.unknown}`;
        for (const r of regexes.slice(i + 1))
          out.candidates.push({ location: r, result: 'regex-not-tried', reason: `${label(r)} comes after an undecidable regex` });
        return 'UNKNOWN';
      }
      if (m) {
        out.candidates.push(cand(l, 'regex-match'));
        for (const r of regexes.slice(i + 1))
          out.candidates.push({
            location: r,
            result: 'regex-not-tried',
            reason: `${label(r)} comes after ${label(l)}, which matched first`,
          });
        current = l;
        out.captures = m.captures;
        out.named = m.named;
        const sub = find(l, depth + 1);
        return sub === 'UNKNOWN' ? 'UNKNOWN' : 'OK';
      }
      out.candidates.push(cand(l, 'regex-no-match'));
    }
    return rc;
  };

  const rc = find(server, 0);
  out.location = current;
  if (rc === 'UNKNOWN') out.via = 'unknown';
  else if (rc === 'DONE') out.via = 'redirect';
  else if (!current) out.via = 'none';
  else {
    const c = current as Location;
    out.via =
      c.modifier === '='
        ? 'exact'
        : c.modifier === '~' || c.modifier === '~*'
          ? 'regex'
          : c.modifier === '^~'
            ? 'prefix-noregex'
            : 'prefix';
  }
  return out;
}

/** The named location `@name` of a server (named locations live at server level). */
export function findNamed(server: Server, name: string): Location | null {
  return server.locations.find((l) => l.modifier === '@' && l.name === name) ?? null;
}
