/**
 * Reading a config file from disk without ever throwing: every failure becomes a Diagnostic that the
 * engine reports as `syntax-error` at line 1 of the file (or at the include line that asked for it).
 */
import { readFileSync, statSync } from 'node:fs';
import type { Diagnostic } from './ast.js';
import { SourceFile } from './source.js';

/** Files larger than this are refused (a config this big is almost surely not a config). */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

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

export function readSource(path: string): ReadResult {
  readObserver?.(path);
  let bytes: Buffer;
  try {
    const st = statSync(path);
    if (st.isDirectory()) {
      return { ok: false, error: fileDiagnostic(path, 'is-directory', `${path} is a directory, not a config file`) };
    }
    if (st.size > MAX_FILE_BYTES) {
      return {
        ok: false,
        error: fileDiagnostic(path, 'too-large', `${path} is ${st.size} bytes; files over ${MAX_FILE_BYTES} bytes are not read`),
      };
    }
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message || String(e);
    return { ok: false, error: fileDiagnostic(path, err.code === 'ENOENT' ? 'not-found' : 'unreadable', `cannot read ${path}: ${why}`) };
  }
  return sourceFromBytes(path, bytes);
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
