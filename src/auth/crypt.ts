/**
 * The password hashes an htpasswd file holds, computed the way the servers compute them, so that a
 * password can be checked against a hash without the C library:
 *
 * - `$apr1$` (Apache's MD5) and `$1$` (glibc's MD5-crypt): the same algorithm with a different magic.
 * - `$5$` / `$6$`: SHA-256-crypt / SHA-512-crypt (glibc, libxcrypt), with `rounds=N$`.
 * - traditional DES crypt (13 characters: a 2-character salt and 11 characters of hash).
 * - `{SHA}` (base64 SHA-1) and `{SSHA}` (salted; nginx only).
 *
 * bcrypt is left to `bcryptjs` (src/auth/htpasswd.ts). Everything here works on bytes (the password
 * as the client sends it, UTF-8 from the command line) and never throws on bad input: a hash that
 * does not parse gives null.
 */
import { createHash } from 'node:crypto';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function to64(v: number, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) {
    out += ITOA64[v & 0x3f];
    v >>>= 6;
  }
  return out;
}

const md5 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** MD5-crypt for `$1$` and `$apr1$` hashes; `setting` is the stored hash (its salt is used). */
export function md5Crypt(password: Uint8Array, setting: string): string | null {
  const magic = setting.startsWith('$apr1$') ? '$apr1$' : setting.startsWith('$1$') ? '$1$' : null;
  if (!magic) return null;
  const rest = setting.slice(magic.length);
  const end = rest.indexOf('$');
  const salt = Buffer.from((end === -1 ? rest : rest.slice(0, end)).slice(0, 8), 'latin1');
  const pw = Buffer.from(password);
  const alt = md5(pw, salt, pw);
  const ctx = createHash('md5');
  ctx.update(pw);
  ctx.update(magic);
  ctx.update(salt);
  for (let n = pw.length; n > 0; n -= 16) ctx.update(alt.subarray(0, Math.min(n, 16)));
  for (let i = pw.length; i; i >>>= 1) ctx.update(i & 1 ? Buffer.of(0) : pw.subarray(0, 1));
  let fin = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const c = createHash('md5');
    c.update(i & 1 ? pw : fin);
    if (i % 3) c.update(salt);
    if (i % 7) c.update(pw);
    c.update(i & 1 ? fin : pw);
    fin = c.digest();
  }
  let out = magic + salt.toString('latin1') + '$';
  for (const [a, b, c] of [
    [0, 6, 12],
    [1, 7, 13],
    [2, 8, 14],
    [3, 9, 15],
    [4, 10, 5],
  ])
    out += to64((fin[a] << 16) | (fin[b] << 8) | fin[c], 4);
  out += to64(fin[11], 2);
  return out;
}

/** SHA-crypt rounds above this are not computed (a hostile file must not stall explain). */
export const MAX_SHA_ROUNDS = 2_000_000;

/** SHA-256-crypt (`$5$`) / SHA-512-crypt (`$6$`); null for a setting that does not parse or has more
 * rounds than MAX_SHA_ROUNDS (`tooCostly` is then set). */
export function shaCrypt(password: Uint8Array, setting: string, out?: { tooCostly?: number }): string | null {
  const m = /^\$([56])\$(?:rounds=(\d+)\$)?([^$]*)/.exec(setting);
  if (!m) return null;
  const alg = m[1] === '5' ? 'sha256' : 'sha512';
  const hl = m[1] === '5' ? 32 : 64;
  let rounds = 5000;
  const custom = m[2] !== undefined;
  if (custom) {
    const r = Number(m[2]);
    if (!Number.isFinite(r)) return null;
    rounds = Math.min(Math.max(r, 1000), 999_999_999);
  }
  if (rounds > MAX_SHA_ROUNDS) {
    if (out) out.tooCostly = rounds;
    return null;
  }
  const salt = Buffer.from(m[3].slice(0, 16), 'latin1');
  const P = Buffer.from(password);
  const H = (...parts: Uint8Array[]) => {
    const h = createHash(alg);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  const B = H(P, salt, P);
  const a = createHash(alg);
  a.update(P);
  a.update(salt);
  let n = P.length;
  for (; n > hl; n -= hl) a.update(B);
  a.update(B.subarray(0, n));
  for (let c = P.length; c > 0; c >>>= 1) a.update(c & 1 ? B : P);
  const A = a.digest();
  const dp = createHash(alg);
  for (let i = 0; i < P.length; i++) dp.update(P);
  const DP = dp.digest();
  const Pp = Buffer.alloc(P.length);
  for (let i = 0; i < P.length; i++) Pp[i] = DP[i % hl];
  const ds = createHash(alg);
  for (let i = 0; i < 16 + A[0]; i++) ds.update(salt);
  const DS = ds.digest();
  const Sp = Buffer.alloc(salt.length);
  for (let i = 0; i < salt.length; i++) Sp[i] = DS[i % hl];
  let C = A;
  for (let i = 0; i < rounds; i++) {
    const c = createHash(alg);
    c.update(i & 1 ? Pp : C);
    if (i % 3) c.update(Sp);
    if (i % 7) c.update(Pp);
    c.update(i & 1 ? C : Pp);
    C = c.digest();
  }
  let res = `$${m[1]}$${custom ? `rounds=${rounds}$` : ''}${salt.toString('latin1')}$`;
  const third = hl / 32 === 1 ? 10 : 21; // 256: triples (k, k+10, k+20); 512: (k, k+21, k+42)
  const groups = hl === 32 ? 10 : 21;
  for (let k = 0; k < groups; k++) {
    const x = k;
    const y = k + third;
    const z = k + 2 * third;
    // the byte order of each group rotates with k (glibc's sha256-crypt.c / sha512-crypt.c tables)
    const r = k % 3;
    const [b2, b1, b0] =
      hl === 32 ? (r === 0 ? [x, y, z] : r === 1 ? [z, x, y] : [y, z, x]) : r === 0 ? [x, y, z] : r === 1 ? [y, z, x] : [z, x, y];
    res += to64((C[b2] << 16) | (C[b1] << 8) | C[b0], 4);
  }
  res += hl === 32 ? to64((C[31] << 8) | C[30], 3) : to64(C[63], 2);
  return res;
}

// ---------------------------------------------------------------------------------------------
// Traditional DES crypt(3): 25 DES encryptions of a zero block, the key from the first 8 characters
// (7 bits each), the E expansion perturbed by a 12-bit salt. Written from the DES standard (FIPS 46).

const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36, 63, 55, 47, 39, 31, 23, 15, 7,
  62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, 41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48,
  44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];
const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8, 57, 49, 41,
  33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, 61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
];
const FP = [
  40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31, 38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29, 36, 4, 44, 12,
  52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27, 34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25,
];
const E = [
  32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17, 16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25, 24, 25,
  26, 27, 28, 29, 28, 29, 30, 31, 32, 1,
];
const P = [16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25];
const S = [
  [
    14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8, 4, 1, 14, 8, 13, 6, 2, 11,
    15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13,
  ],
  [
    15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5, 0, 14, 7, 11, 10, 4, 13, 1,
    5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9,
  ],
  [
    10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1, 13, 6, 4, 9, 8, 15, 3, 0,
    11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12,
  ],
  [
    7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9, 10, 6, 9, 0, 12, 11, 7, 13,
    15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14,
  ],
  [
    2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6, 4, 2, 1, 11, 10, 13, 7, 8,
    15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3,
  ],
  [
    12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8, 9, 14, 15, 5, 2, 8, 12, 3,
    7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13,
  ],
  [
    4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6, 1, 4, 11, 13, 12, 3, 7, 14,
    10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12,
  ],
  [
    13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2, 7, 11, 4, 1, 9, 12, 14, 2,
    0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11,
  ],
];

/** Whether `s` is a traditional DES crypt hash (2 salt + 11 hash characters from the crypt alphabet). */
export function isDesHash(s: string): boolean {
  return /^[./0-9A-Za-z]{13}$/.test(s);
}

/** Traditional DES crypt of `password` with the 2-character salt at the start of `setting`; null when
 * the salt has characters outside the crypt alphabet (libxcrypt refuses those). */
export function desCrypt(password: Uint8Array, setting: string): string | null {
  if (setting.length < 2) return null;
  const s0 = ITOA64.indexOf(setting[0]);
  const s1 = ITOA64.indexOf(setting[1]);
  if (s0 < 0 || s1 < 0) return null;
  // the key: 7 bits of each of the first 8 bytes, the parity bit 0
  const key = new Uint8Array(64);
  for (let i = 0; i < 8 && i < password.length && password[i] !== 0; i++)
    for (let j = 0; j < 7; j++) key[8 * i + j] = (password[i] >> (6 - j)) & 1;
  const cd = PC1.map((p) => key[p - 1]);
  const subkeys: number[][] = [];
  let c = cd.slice(0, 28);
  let d = cd.slice(28);
  for (let r = 0; r < 16; r++) {
    c = [...c.slice(SHIFTS[r]), ...c.slice(0, SHIFTS[r])];
    d = [...d.slice(SHIFTS[r]), ...d.slice(0, SHIFTS[r])];
    const both = [...c, ...d];
    subkeys.push(PC2.map((p) => both[p - 1]));
  }
  // the salt swaps E outputs i and i + 24 for each set bit
  const e = [...E];
  [s0, s1].forEach((v, i) => {
    for (let j = 0; j < 6; j++)
      if ((v >> j) & 1) {
        const t = e[6 * i + j];
        e[6 * i + j] = e[6 * i + j + 24];
        e[6 * i + j + 24] = t;
      }
  });
  let block = new Array<number>(64).fill(0);
  for (let n = 0; n < 25; n++) {
    const ip = IP.map((p) => block[p - 1]);
    let L = ip.slice(0, 32);
    let R = ip.slice(32);
    for (let r = 0; r < 16; r++) {
      const k = subkeys[r];
      const x = e.map((p, i) => R[p - 1] ^ k[i]);
      const f = new Array<number>(32);
      for (let j = 0; j < 8; j++) {
        const b = x.slice(6 * j, 6 * j + 6);
        const v = S[j][((b[0] << 1) | b[5]) * 16 + ((b[1] << 3) | (b[2] << 2) | (b[3] << 1) | b[4])];
        for (let t = 0; t < 4; t++) f[4 * j + t] = (v >> (3 - t)) & 1;
      }
      const nr = P.map((p, i) => L[i] ^ f[p - 1]);
      L = R;
      R = nr;
    }
    const pre = [...R, ...L];
    block = FP.map((p) => pre[p - 1]);
  }
  let out = setting.slice(0, 2);
  for (let i = 0; i < 11; i++) {
    let v = 0;
    for (let j = 0; j < 6; j++) v = (v << 1) | (block[6 * i + j] ?? 0);
    out += ITOA64[v];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// {SHA} and {SSHA}

/** `{SHA}` + base64(SHA-1(password)). */
export function shaLdap(password: Uint8Array): string {
  return '{SHA}' + createHash('sha1').update(password).digest('base64');
}

/** `{SSHA}` + base64(SHA-1(password + salt) + salt), with the salt taken from `setting` (nginx's
 * ngx_crypt_ssha: a salt that does not decode gives an empty salt). */
export function sshaLdap(password: Uint8Array, setting: string): string {
  const raw = Buffer.from(setting.slice('{SSHA}'.length), 'base64');
  const salt = raw.length > 20 ? raw.subarray(20) : Buffer.alloc(0);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return '{SSHA}' + Buffer.concat([digest, salt]).toString('base64');
}
