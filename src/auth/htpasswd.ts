/**
 * `--auth user:password`: check a password against an htpasswd file (`auth_basic_user_file`,
 * `AuthUserFile`) the way each server does, so that 401-or-not is decided instead of assumed.
 *
 * What each server accepts (nginx 1.22 src/http/modules/ngx_http_auth_basic_module.c and
 * src/core/ngx_crypt.c; httpd 2.4 modules/aaa/mod_authn_file.c and apr-util's apr_password_validate):
 *
 * | hash            | nginx                              | Apache (Linux)                              |
 * | --------------- | ---------------------------------- | ------------------------------------------- |
 * | `$apr1$`        | ngx_crypt_apr1                     | apr's MD5                                   |
 * | `$2y$` `$2a$`   | libc crypt() (libxcrypt: bcrypt)   | apr's bcrypt                                |
 * | `$2b$`          | libc crypt() (libxcrypt: bcrypt)   | libc crypt_r() (libxcrypt: bcrypt)          |
 * | `{SHA}`         | ngx_crypt_sha                      | apr's SHA-1                                 |
 * | `{SSHA}`        | ngx_crypt_ssha                     | crypt_r() fails: never matches              |
 * | `{PLAIN}`       | ngx_crypt_plain                    | crypt_r() fails: never matches              |
 * | `$1$` `$5$` `$6$`, 13-char DES | libc crypt()        | libc crypt_r()                              |
 * | plain text      | crypt() of it: never matches       | crypt_r(): never matches (plain is Windows/NetWare only) |
 * | `$y$` `$7$` `$gy$` … | libc crypt(): not computed here → unknown | the same                         |
 *
 * Reading the file: nginx takes each line as `user:password`, the password ending at `:`, CR, LF or
 * the end of the file, with lines starting with `#` skipped and no trimming; Apache reads lines with
 * ap_cfg_getline (leading and trailing white space removed), skips empty lines and `#` lines, and the
 * hash ends at the next `:`. Both take the first line naming the user.
 */
import type { PathMapping } from '../ast.js';
import { mapPath } from '../load-options.js';
import { readBytes } from '../read.js';
import { lazy } from '../lazy.js';
import { desCrypt, isDesHash, md5Crypt, shaCrypt, shaLdap, sshaLdap } from './crypt.js';

const bcrypt = lazy<typeof import('bcryptjs')>('bcryptjs');

export type ServerKind = 'nginx' | 'apache';

/** The answer: the password matches, does not, the user is not in the file, or why we cannot tell
 * (`missing`: the file does not exist — nginx then answers 403, Apache 500). */
export type CredentialResult = 'valid' | 'invalid' | 'unknown-user' | { unknown: string; missing?: boolean };

/** Where the user file is read from: the model's file system view (a path map, a test double), or the
 * disk through the safe reader. `readFile` gives the bytes (or text), null when it cannot be read. */
export interface CredentialFs {
  readFile(path: string): string | Uint8Array | null;
  /** Why the last readFile(path) gave null, when known. */
  readError?(path: string): string | null;
  /** Whether the path exists at all (to tell a missing file from an unreadable one). */
  exists?(path: string): boolean;
}

/** bcrypt costs above this are not computed (2^cost rounds: a hostile file must not stall explain). */
export const MAX_BCRYPT_COST = 14;

/** The stored hash of `user` in an htpasswd file's bytes, as `server` reads it; null when absent. */
export function findUser(bytes: Uint8Array, user: string, server: ServerKind): string | null {
  const text = Buffer.from(bytes).toString('latin1');
  const name = Buffer.from(user, 'utf8').toString('latin1');
  if (server === 'nginx') {
    for (const line of text.split('\n')) {
      if (line === '' || line[0] === '#' || line[0] === '\r') continue;
      if (!line.startsWith(name + ':')) continue;
      const rest = line.slice(name.length + 1);
      const end = rest.search(/[:\r]/);
      return end === -1 ? rest : rest.slice(0, end);
    }
    return null;
  }
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^[ \t\r\f\v]+|[ \t\r\f\v]+$/g, '');
    if (line === '' || line[0] === '#') continue;
    const i = line.indexOf(':');
    const w = i === -1 ? line : line.slice(0, i);
    if (w !== name) continue;
    const rest = i === -1 ? '' : line.slice(i + 1);
    const end = rest.indexOf(':');
    return end === -1 ? rest : rest.slice(0, end);
  }
  return null;
}

/** Check a password against one stored hash as `server` does. */
export function verifyHash(hash: string, password: string, server: ServerKind): Exclude<CredentialResult, 'unknown-user'> {
  const pw = Buffer.from(password, 'utf8');
  const same = (computed: string | null) => (computed !== null && computed === hash ? 'valid' : 'invalid');
  if (hash.startsWith('$apr1$')) return same(md5Crypt(pw, hash));
  if (/^\$2[aby]\$/.test(hash)) {
    const m = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/.exec(hash);
    if (!m) return 'invalid'; // crypt() and apr's bcrypt both refuse a malformed setting
    const cost = Number(m[1]);
    if (cost < 4 || cost > 31) return 'invalid';
    if (cost > MAX_BCRYPT_COST) return { unknown: `bcrypt cost ${cost} is above ${MAX_BCRYPT_COST}: not computed` };
    try {
      return bcrypt().compareSync(password, hash) ? 'valid' : 'invalid';
    } catch (e) {
      return { unknown: `bcrypt: ${(e as Error).message}` };
    }
  }
  if (hash.startsWith('{SHA}')) return same(shaLdap(pw));
  if (hash.startsWith('{SSHA}')) return server === 'nginx' ? same(sshaLdap(pw, hash)) : 'invalid';
  if (hash.startsWith('{PLAIN}')) return server === 'nginx' && hash.slice('{PLAIN}'.length) === password ? 'valid' : 'invalid';
  // everything else goes to the C library's crypt()
  if (hash.startsWith('$1$')) return same(md5Crypt(pw, hash));
  if (/^\$[56]\$/.test(hash)) {
    const cost: { tooCostly?: number } = {};
    const r = shaCrypt(pw, hash, cost);
    if (r === null && cost.tooCostly) return { unknown: `SHA-crypt with ${cost.tooCostly} rounds: not computed` };
    return same(r);
  }
  if (isDesHash(hash)) return same(desCrypt(pw, hash));
  const m = /^(\$[^$]+\$|_)/.exec(hash);
  if (m) return { unknown: `the hash scheme ${m[1]} is left to the system crypt() (libxcrypt), which why403 does not compute` };
  // A plain-text or otherwise malformed entry: crypt() treats its first two characters as a DES salt
  // (or refuses them) and the result never equals the stored text of another length.
  if (hash.length === 13 && /^[./0-9A-Za-z]{2}/.test(hash)) return same(desCrypt(pw, hash));
  return 'invalid';
}

/** The disk through a path map (installed path → checkout), read with the safe reader (src/read.ts).
 * `--auth` reads the user file this way with or without `--fs`: the password cannot be checked
 * otherwise. */
export function diskCredentialFs(pathMap: PathMapping[] = []): CredentialFs {
  const errors = new Map<string, string>();
  return {
    readFile(p) {
      const r = readBytes(mapPath(p, pathMap), 16 * 1024 * 1024);
      if (!r.ok) {
        errors.set(p, r.code === 'not-found' ? 'missing' : r.message);
        return null;
      }
      return r.bytes;
    },
    readError: (p) => errors.get(p) ?? null,
  };
}

/**
 * Verify `user`/`password` against the htpasswd file `userFile` as `server` would (default nginx).
 * `fs` reads the file (default: the disk through src/read.ts, no path map: see diskCredentialFs).
 * The simulators call it where they now assume "the credentials are valid" (nginx auth_basic,
 * Apache mod_authn_file) when the request carries a password (`ExplainRequest.password`). Never throws.
 */
export function checkCredentials(
  userFile: string,
  user: string,
  password: string,
  fs?: CredentialFs,
  server: ServerKind = 'nginx',
): CredentialResult {
  const view = fs ?? diskCredentialFs();
  let data: string | Uint8Array | null;
  try {
    data = view.readFile(userFile);
  } catch (e) {
    return { unknown: `cannot read ${userFile}: ${(e as Error).message}` };
  }
  if (data === null) {
    const why = view.readError?.(userFile) ?? null;
    const missing = why === 'missing' || (view.exists ? !view.exists(userFile) : false);
    return missing
      ? { unknown: `the user file ${userFile} does not exist`, missing: true }
      : { unknown: why ?? `cannot read the user file ${userFile}` };
  }
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const hash = findUser(bytes, user, server);
  if (hash === null) return 'unknown-user';
  return verifyHash(hash, password, server);
}

/** The result in words, for traces ("the password matches the $apr1$ hash of alice in …"). */
export function describeCredentials(r: CredentialResult, user: string, userFile: string): string {
  if (r === 'valid') return `the password of ${user} matches its hash in ${userFile}`;
  if (r === 'invalid') return `the password of ${user} does not match its hash in ${userFile}`;
  if (r === 'unknown-user') return `${userFile} has no user ${user}`;
  return r.unknown;
}
