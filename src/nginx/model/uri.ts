/**
 * The request URI as nginx stores it in `$uri` (r->uri): the state machine of ngx_http_parse_complex_uri
 * (src/http/ngx_http_parse.c), re-implemented from its documented behaviour:
 *
 * - every `%XX` is decoded (not only unreserved characters); a decoded byte is then read as if it had been
 *   written literally (so `%2F` separates segments and `%2E%2E` climbs), except that a decoded `%`, `#` or
 *   `?` is kept as a plain character; `%00` and malformed escapes are 400 Bad Request;
 * - `//` collapses to `/` when merge_slashes is on (the default);
 * - `/./` is dropped and `/../` removes the previous segment; climbing above `/` is 400;
 * - `?` starts the arguments (not part of `$uri`), `#` ends the URI.
 *
 * Strings are binary strings (one char per byte), as nginx compares bytes.
 */

export type NormalizedUri = { ok: true; uri: string; args: string | null } | { ok: false; status: 400; reason: string };

type State = 'usual' | 'slash' | 'dot' | 'dotdot' | 'quoted' | 'quoted2';

const hex = (c: string) => /^[0-9A-Fa-f]$/.test(c);

export function normalizeUri(raw: string, mergeSlashes = true): NormalizedUri {
  if (!raw.startsWith('/')) return { ok: false, status: 400, reason: `request target "${raw}" does not start with "/"` };
  // Fast path: nothing for the state machine to do (nginx also parses such URIs without it).
  if (!/[%?#]|\/\.|\/\//.test(raw)) return { ok: true, uri: raw, args: null };
  const out: string[] = [];
  let state: State = 'usual';
  let qstate: State = 'usual';
  let decoded = 0;
  let args: string | null = null;
  const climb = (): boolean => {
    // out ends with "/.." (or "/." when called at a dot-dot end); drop it and the segment before it.
    out.length -= 3;
    while (out.length > 0 && out[out.length - 1] !== '/') out.length--;
    if (out.length === 0) return false;
    return true;
  };
  let i = 0;
  let pending: string | null = null;
  const n = raw.length;
  for (;;) {
    let ch: string;
    if (pending !== null) {
      ch = pending;
      pending = null;
    } else {
      if (i >= n) break;
      ch = raw[i++];
    }
    switch (state) {
      case 'usual':
        if (ch === '/') {
          out.push(ch);
          state = 'slash';
        } else if (ch === '%') {
          qstate = 'usual';
          state = 'quoted';
        } else if (ch === '?') {
          args = raw.slice(i);
          i = n;
        } else if (ch === '#') {
          i = n;
        } else out.push(ch);
        break;
      case 'slash':
        if (ch === '/') {
          if (!mergeSlashes) out.push(ch);
        } else if (ch === '.') {
          out.push(ch);
          state = 'dot';
        } else if (ch === '%') {
          qstate = 'slash';
          state = 'quoted';
        } else if (ch === '?') {
          args = raw.slice(i);
          i = n;
        } else if (ch === '#') {
          i = n;
        } else {
          out.push(ch);
          state = 'usual';
        }
        break;
      case 'dot':
        if (ch === '/') {
          out.pop();
          state = 'slash';
        } else if (ch === '.') {
          out.push(ch);
          state = 'dotdot';
        } else if (ch === '%') {
          qstate = 'dot';
          state = 'quoted';
        } else if (ch === '?') {
          out.pop();
          args = raw.slice(i);
          i = n;
          state = 'usual';
        } else if (ch === '#') {
          out.pop();
          i = n;
          state = 'usual';
        } else {
          out.push(ch);
          state = 'usual';
        }
        break;
      case 'dotdot':
        if (ch === '/' || ch === '?' || ch === '#') {
          if (!climb()) return { ok: false, status: 400, reason: `"${raw}" climbs above the root with ".."` };
          if (ch === '?') {
            args = raw.slice(i);
            i = n;
            state = 'usual';
          } else if (ch === '#') {
            i = n;
            state = 'usual';
          } else state = 'slash';
        } else if (ch === '%') {
          qstate = 'dotdot';
          state = 'quoted';
        } else {
          out.push(ch);
          state = 'usual';
        }
        break;
      case 'quoted':
        if (!hex(ch)) return { ok: false, status: 400, reason: `malformed percent-escape in "${raw}"` };
        decoded = Number.parseInt(ch, 16);
        state = 'quoted2';
        break;
      case 'quoted2': {
        if (!hex(ch)) return { ok: false, status: 400, reason: `malformed percent-escape in "${raw}"` };
        const b = decoded * 16 + Number.parseInt(ch, 16);
        const c = String.fromCharCode(b);
        if (b === 0) return { ok: false, status: 400, reason: `"%00" in "${raw}"` };
        if (c === '%' || c === '#' || c === '?') {
          out.push(c);
          state = 'usual';
        } else {
          state = qstate;
          pending = c;
        }
        break;
      }
    }
  }
  if (state === 'quoted' || state === 'quoted2') return { ok: false, status: 400, reason: `malformed percent-escape in "${raw}"` };
  if (state === 'dot') out.pop();
  else if (state === 'dotdot') {
    if (!climb()) return { ok: false, status: 400, reason: `"${raw}" climbs above the root with ".."` };
  }
  return { ok: true, uri: out.join(''), args };
}
