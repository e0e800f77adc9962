/**
 * Include/IncludeOptional path expansion the way httpd 2.4 does it (server/config.c
 * ap_process_fnmatch_configs, server/util.c ap_dir_fnmatch / ap_dir_nofnmatch):
 * - the path is split at `/`; a component with a wildcard (`*`, `?`, `[…]` — apr_fnmatch_test)
 *   is matched against the directory's entries with apr_fnmatch(APR_FNM_PERIOD): a leading `.`
 *   must be matched literally; `{a,b}` is not special. Wildcards may appear in any component; an
 *   inner one only matches directories.
 * - matches are sorted with strcmp (byte order, not locale);
 * - a path (matched or literal) that is a directory is read recursively, every entry sorted, to a
 *   depth of AP_MAX_FNMATCH_DIR_DEPTH (128);
 * - a wildcard with no match fails for `Include` (`No matches for the wildcard …`) but not for
 *   `IncludeOptional`, and a missing literal file fails only for `Include`.
 * - a directory that is its own ancestor (a symlink loop such as `conf/a -> .`; compared by
 *   device and inode) is reported, never walked: httpd fails on it too (the path grows until
 *   open() gives ELOOP), after an exponential walk when two such links sit in one directory.
 * Its own code because no npm glob library has these rules (brace expansion, dot handling and
 * sort order all differ) and the whole thing is small.
 */
import { readdirSync, statSync } from 'node:fs';
import { compileGlob } from '../regex-engine.js';

export const AP_MAX_FNMATCH_DIR_DEPTH = 128;
/** Directory entries one include may visit before why403 gives up (a guard, far above real configs). */
export const MAX_INCLUDE_ENTRIES = 100_000;

export interface GlobResult {
  files: string[];
  /** httpd's error message when `Include` would fail; null when fine. */
  error: string | null;
  /** the error is "not found" (file, directory or wildcard) rather than unreadable/too deep */
  notFound: boolean;
}

/** apr_fnmatch_test: `*` or `?` (not escaped by `\`), or a `[` with a later `]`. */
export function hasWildcard(s: string): boolean {
  let nesting = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '*' || c === '?') return true;
    if (c === '\\') {
      if (i + 1 >= s.length) return false;
      i++;
    } else if (c === '[') nesting++;
    else if (c === ']' && nesting > 0) return true;
  }
  return false;
}

/** apr_fnmatch(pattern, name, APR_FNM_PERIOD) for one path component (linear matcher, no RegExp). */
export function fnmatch(pattern: string, name: string): boolean {
  if (name.startsWith('.') && !pattern.startsWith('.')) return false;
  return compileGlob(pattern, { slash: true })(name);
}

function byteCompare(a: string, b: string): number {
  // strcmp on UTF-8 bytes; code-unit order equals byte order except for astral vs BMP>U+E000,
  // which does not matter for config file names but is handled anyway.
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function join(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : dir + '/' + name;
}

/**
 * Expand an absolute include path. `optional` is IncludeOptional. Never throws.
 * `prefix` names the directive for messages (`Include/IncludeOptional: ` as httpd prints it).
 */
export function expandInclude(path: string, optional: boolean): GlobResult {
  const files: string[] = [];
  const prefix = 'Include/IncludeOptional: ';
  const fail = (error: string, notFound: boolean): GlobResult => ({ files, error, notFound });

  // ap_dir_nofnmatch; `ancestors` holds the device:inode of every directory being read above
  let entriesSeen = 0;
  const ancestors = new Map<string, string>();
  const noMatch = (fname: string, depth: number): GlobResult | null => {
    let st: ReturnType<typeof statSync> | null = null;
    try {
      st = statSync(fname);
    } catch {
      st = null; // missing, dangling or a link loop: the loader says which when it reads it
    }
    if (st?.isDirectory()) {
      if (depth + 1 > AP_MAX_FNMATCH_DIR_DEPTH) {
        return fail(
          `${prefix}Directory '${fname}' exceeds the maximum include directory nesting level of ${AP_MAX_FNMATCH_DIR_DEPTH}. You have probably a recursion somewhere.`,
          false,
        );
      }
      const id = `${st.dev}:${st.ino}`;
      const first = ancestors.get(id);
      if (first !== undefined) {
        return fail(
          `${prefix}Directory '${fname}' is '${first}' again (a symbolic link loop); it is reported, not read. httpd fails on it too (Too many levels of symbolic links).`,
          false,
        );
      }
      let names: string[];
      try {
        names = readdirSync(fname);
      } catch (e) {
        return fail(`${prefix}Could not open directory ${fname}: ${errText(e)}`, false);
      }
      entriesSeen += names.length;
      if (entriesSeen > MAX_INCLUDE_ENTRIES) {
        return fail(
          `${prefix}more than ${MAX_INCLUDE_ENTRIES} directory entries below the include path; why403 stops reading at '${fname}'`,
          false,
        );
      }
      names.sort(byteCompare);
      ancestors.set(id, fname);
      try {
        for (const nm of names) {
          const r = noMatch(join(fname, nm), depth + 1);
          if (r) return r;
        }
      } finally {
        ancestors.delete(id);
      }
      return null;
    }
    if (optional && st === null) return null;
    files.push(fname);
    return null;
  };

  // ap_dir_fnmatch, iterative over components
  const match = (dir: string, rest: string, depth: number): GlobResult | null => {
    const slash = rest.indexOf('/');
    const part = slash === -1 ? rest : rest.slice(0, slash);
    const tail = slash === -1 ? null : rest.slice(slash + 1);
    if (!hasWildcard(part)) {
      const p = join(dir, part);
      return tail === null ? noMatch(p, depth) : match(p, tail, depth);
    }
    let entries: { name: string; dir: boolean }[];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).map((d) => ({
        name: d.name,
        dir: d.isDirectory() || (d.isSymbolicLink() && isDir(join(dir, d.name))),
      }));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && optional) return null;
      return fail(`${prefix}Could not open directory ${dir}: ${errText(e)}`, code === 'ENOENT' || code === 'ENOTDIR');
    }
    const cands = entries
      .filter((d) => fnmatch(part, d.name) && (tail === null || d.dir))
      .map((d) => d.name)
      .sort(byteCompare);
    if (cands.length === 0) {
      if (!optional) return fail(`${prefix}No matches for the wildcard '${part}' in '${dir}', failing`, true);
      return null;
    }
    for (const c of cands) {
      const p = join(dir, c);
      const r = tail === null ? noMatch(p, depth) : match(p, tail, depth);
      if (r) return r;
    }
    return null;
  };

  try {
    if (!hasWildcard(path)) {
      if (!optional && !exists(path)) {
        return fail(`Could not open configuration file ${path}: No such file or directory`, true);
      }
      return noMatch(path, 0) ?? { files, error: null, notFound: false };
    }
    const body = path.replace(/^\/+/, '');
    return match('/', body, 0) ?? { files, error: null, notFound: false };
  } catch (e) {
    return fail(`${prefix}${errText(e)}`, false);
  }
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && err.code === 'ENOENT') return 'No such file or directory';
  if (err && err.code === 'EACCES') return 'Permission denied';
  if (err && err.code === 'ENOTDIR') return 'Not a directory';
  return err && err.message ? err.message : String(e);
}
