/**
 * Reading a config file from disk without ever throwing or blocking: every failure becomes a
 * Diagnostic that the engine reports as `syntax-error` at line 1 of the file (or at the include line
 * that asked for it).
 *
 * Every file why403 reads from disk (configs, includes, .htaccess files read by `explain --fs`, the
 * head read for server detection) goes through `readBytes`: the file is opened with O_NONBLOCK (so
 * opening a FIFO cannot block), its type is checked on the open descriptor (fstat), and only a
 * regular file is read, in chunks, never more than MAX_FILE_BYTES + 1 bytes (a file that grows, or a
 * /proc file whose size says 0, cannot make us read without end).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import type { Diagnostic } from './ast.js';
import { SourceFile } from './source.js';

/**
 * The most configuration why403 analyses at once: one file (8 MiB), and one configuration (entry file
 * and everything it includes) in total. Analysing a configuration needs up to about 100 bytes of memory
 * per byte of config (syntax tree, server model, findings; measured: nginx 10,000 servers ≈ 50, Apache
 * 10,000 vhosts with their .htaccess files ≈ 95, docs/performance.md), so the total follows node's heap
 * limit: 1/128 of it, between 8 MiB and 32 MiB (a 4 GiB heap, node's default on a machine with 16 GiB
 * or more, gives 32 MiB: 10,000 nginx servers are 26 MB). The largest real-world config we know
 * (crossplane's large-config test) is 1.3 MB.
 */
export const MAX_FILE_BYTES = 8 * 1024 * 1024;
const MAX_CONFIG_CAP = 32 * 1024 * 1024;
const BYTES_OF_HEAP_PER_BYTE = 128;
const WHY_LIMIT = 'why403 needs up to about 100 bytes of memory per byte of configuration';

let configBytes: number | undefined;
/** The configuration budget of this process (node's heap limit / 128, 8–32 MiB). Asks node:v8 for the
 * heap limit the first time; node:v8 loads node's stream modules (4–6 % of a small run), so a budget
 * asks only once a configuration has read more than the 8 MiB floor (ReadBudget). */
export function maxConfigBytes(): number {
  if (configBytes === undefined) {
    let heap = 0;
    try {
      const v8 = createRequire(import.meta.url)('node:v8') as typeof import('node:v8');
      heap = v8.getHeapStatistics().heap_size_limit;
    } catch {
      // no heap figure: the floor
    }
    const bytes = Math.floor(heap / BYTES_OF_HEAP_PER_BYTE / (1024 * 1024)) * 1024 * 1024;
    configBytes = Math.min(MAX_CONFIG_CAP, Math.max(MAX_FILE_BYTES, bytes));
  }
  return configBytes;
}

/**
 * What is left of maxConfigBytes() for one configuration (an entry file and its includes). `left`
 * reads (and a write sets) the exact figure, which asks for the heap limit; readSource first checks a
 * file against the floor (maxConfigBytes() is never below MAX_FILE_BYTES), so a configuration that
 * stays under 8 MiB never needs node:v8.
 */
export class ReadBudget {
  /** Bytes read (or expanded) so far. */
  spent = 0;
  get left(): number {
    return maxConfigBytes() - this.spent;
  }
  set left(v: number) {
    this.spent = maxConfigBytes() - v;
  }
  /** What is surely left whatever the heap limit: the floor minus what was spent. */
  get leftAtLeast(): number {
    return (configBytes ?? MAX_FILE_BYTES) - this.spent;
  }
}

export function newBudget(): ReadBudget {
  return new ReadBudget();
}

const ZERO = { start: { offset: 0, line: 1, column: 1 }, end: { offset: 0, line: 1, column: 1 } };

export function fileDiagnostic(file: string, code: string, message: string): Diagnostic {
  return { code, message, file, span: ZERO, severity: 'error' };
}

export type ReadResult = { ok: true; source: SourceFile } | { ok: false; error: Diagnostic };

/** True when the bytes look binary: a NUL byte in the first 8 KiB (git's heuristic). */
export function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8192);
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true;
  return false;
}

let readObserver: ((path: string) => void) | null = null;

/** Calls `fn` with each path readSource is asked for (the CLI's progress while a tree loads);
 * null removes it. Returns the observer it replaces. */
export function observeReads(fn: ((path: string) => void) | null): ((path: string) => void) | null {
  const prev = readObserver;
  readObserver = fn;
  return prev;
}

/** What an errno means, in the words the messages use. */
export function errnoText(code: string | undefined, fallback = ''): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'symbolic link loop (too many levels of symbolic links)';
    case 'ENOTDIR':
      return 'a path component is not a directory';
    case 'ENAMETOOLONG':
      return 'file name too long';
    case 'ENXIO':
      return 'no such device or address';
    case 'EISDIR':
      return 'is a directory';
    default:
      return fallback || code || 'unknown error';
  }
}

/** "a FIFO", "a character device", … for a file that is not regular (null for a regular file). */
export function fileTypeName(st: Stats): string | null {
  if (st.isFile()) return null;
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

let bytesObserver: ((path: string) => void) | null = null;

/** Calls `fn` with the path of every file readBytes opens on disk (the shape test counts how often
 * each file of a run is read); null removes it. Returns the observer it replaces. */
export function observeByteReads(fn: ((path: string) => void) | null): ((path: string) => void) | null {
  const prev = bytesObserver;
  bytesObserver = fn;
  return prev;
}

let overlay: ((path: string) => string | undefined) | null = null;

/** Text that replaces a file's contents on disk for every read (an editor's unsaved buffers: the
 * language server, src/lsp/); null removes it. `fn` gets the path as the loaders ask for it and
 * returns undefined to read the disk. Returns the overlay it replaces. */
export function overlayReads(fn: ((path: string) => string | undefined) | null): ((path: string) => string | undefined) | null {
  const prev = overlay;
  overlay = fn;
  return prev;
}

const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);
const CHUNK = 64 * 1024;

let scratch: Buffer | null = null;
/** One CHUNK-sized buffer for every read past a file's first (what is read there is copied out). */
function scratchBuffer(): Buffer {
  return (scratch ??= Buffer.allocUnsafe(CHUNK));
}

export type BytesResult = { ok: true; bytes: Buffer } | { ok: false; code: string; message: string };

/**
 * The bytes of a regular file, at most `max` of them (more is an error: `too-large`), or why not.
 * Never throws, never blocks on a FIFO or device, never reads more than `max + 1` bytes.
 * With `truncate`, a longer file gives its first `max` bytes instead of an error.
 */
export function readBytes(path: string, max: number = MAX_FILE_BYTES, truncate = false): BytesResult {
  const text = overlay?.(path);
  if (text !== undefined) {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length <= max) return { ok: true, bytes };
    return truncate ? { ok: true, bytes: bytes.subarray(0, max) } : tooLarge(path, bytes.length, max);
  }
  bytesObserver?.(path);
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENXIO') {
      // open(2) of a Unix socket fails with ENXIO: say what it is
      try {
        const t = fileTypeName(lstatSync(path));
        if (t) return notRegular(path, t);
      } catch {
        /* fall through */
      }
    }
    const code = err.code === 'ENOENT' ? 'not-found' : err.code === 'ELOOP' ? 'symlink-loop' : 'unreadable';
    return { ok: false, code, message: `cannot read ${path}: ${errnoText(err.code, err.message || String(e))}` };
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return { ok: false, code: 'is-directory', message: `${path} is a directory, not a config file` };
    const t = fileTypeName(st);
    if (t) return notRegular(path, t);
    if (st.size > max && !truncate) return tooLarge(path, st.size, max);
    // read in chunks up to max + 1 bytes: the size limit holds while reading, whatever fstat said
    const chunks: Buffer[] = [];
    let total = 0;
    const limit = truncate ? max : max + 1;
    // the size fstat gave (plus one byte, to see the end) in one read into a buffer of that size, then
    // chunks while it grew, read into one scratch buffer and copied out: a config is mostly a few
    // hundred bytes, and a fresh 64 KiB buffer per read (two per file) was 200 MB of allocation for
    // 1,700 .htaccess files (docs/performance.md, third pass)
    let first = true;
    for (;;) {
      const want = Math.min(first ? st.size + 1 : CHUNK, limit - total);
      if (want <= 0) break;
      const buf = first ? Buffer.allocUnsafe(want) : scratchBuffer();
      let n: number;
      try {
        n = readSync(fd, buf, 0, want, null);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EAGAIN') break; // nothing more without waiting (cannot happen for a regular file)
        throw e;
      }
      if (n === 0) break;
      chunks.push(first ? (n === want ? buf : buf.subarray(0, n)) : Buffer.from(buf.subarray(0, n)));
      total += n;
      first = false;
    }
    if (total > max) return tooLarge(path, null, max);
    return { ok: true, bytes: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { ok: false, code: 'unreadable', message: `cannot read ${path}: ${errnoText(err.code, err.message || String(e))}` };
  } finally {
    try {
      closeSync(fd);
    } catch {
      /* ignore */
    }
  }
}

function notRegular(path: string, type: string): BytesResult {
  return { ok: false, code: 'not-regular', message: `${path} is ${type}, not a regular file; only regular files are read` };
}

function tooLarge(path: string, size: number | null, max: number): BytesResult {
  const what = size === null ? `is larger than ${max} bytes` : `is ${size} bytes`;
  return { ok: false, code: 'too-large', message: `${path} ${what}; files over ${max} bytes are not read (${WHY_LIMIT})` };
}

/**
 * Read a config file as text. With a budget (the loaders pass one per configuration), the file
 * must also fit in what is left of maxConfigBytes(), which it then uses up.
 */
export function readSource(path: string, budget?: ReadBudget): ReadResult {
  readObserver?.(path);
  let max = budget ? Math.max(0, Math.min(MAX_FILE_BYTES, budget.leftAtLeast)) : MAX_FILE_BYTES;
  // under the floor, the file is read up to the per-file limit and then held against the exact budget
  // (node:v8 asked only now); the outcome is that of reading it with the exact limit
  const floorOnly = max < MAX_FILE_BYTES;
  let r = readBytes(path, floorOnly ? MAX_FILE_BYTES : max);
  if (floorOnly && ((r.ok && r.bytes.length > max) || (!r.ok && r.code === 'too-large'))) {
    max = Math.max(0, Math.min(MAX_FILE_BYTES, budget!.left));
    if (r.ok && r.bytes.length > max) r = tooLarge(path, null, max);
  }
  if (!r.ok) {
    if (r.code === 'too-large' && max < MAX_FILE_BYTES) {
      const message = `${path} would take the configuration (the entry file and its includes) over ${maxConfigBytes()} bytes in total, so it is not read (${WHY_LIMIT}; the limit is 1/${BYTES_OF_HEAP_PER_BYTE} of node's heap, up to ${MAX_CONFIG_CAP} bytes: NODE_OPTIONS=--max-old-space-size=4096 raises it)`;
      return { ok: false, error: fileDiagnostic(path, 'too-large', message) };
    }
    return { ok: false, error: fileDiagnostic(path, r.code, r.message) };
  }
  if (budget) budget.spent += r.bytes.length;
  return sourceFromBytes(path, r.bytes);
}

export function sourceFromBytes(path: string, bytes: Uint8Array): ReadResult {
  if (looksBinary(bytes)) {
    return {
      ok: false,
      error: fileDiagnostic(path, 'binary', `${path} looks like a binary file (it contains NUL bytes), not a config file`),
    };
  }
  return { ok: true, source: SourceFile.fromBytes(path, bytes) };
}

/** True when `p` is (or links to) a regular file; false on any error. */
export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** True when `p` is (or links to) a directory; false on any error. */
export function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
