/**
 * Turning command-line paths into the files to lint. A file path is taken as is (whatever its
 * name); a directory is searched for nginx and Apache configs; a glob is expanded (tinyglobby).
 * VCS folders and node_modules are skipped, symlinked directories are not followed, and a file
 * reached twice (e.g. sites-enabled/x → sites-available/x) is linted once. Main configs
 * (nginx.conf, httpd.conf, apache2.conf) come first, so the files they include can be linted in the
 * context the server reads them in (see run.ts).
 */
import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { basename, resolve, sep } from 'node:path';

/** A path's real path (the native realpath(3): one system call, where fs.realpathSync lstat()s every
 * component, 5 % of a 1,000-vhost Apache lint), or the path itself when it cannot be resolved. */
export function realOrSelf(p: string): string {
  try {
    return realpathSync.native(p);
  } catch {
    return p;
  }
}

export const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', '.jj', '.bzr', '_darcs', 'CVS']);
export const MAIN_CONFIGS = new Set(['nginx.conf', 'httpd.conf', 'apache2.conf']);
/** Directories whose `*.conf` files are server configs. */
const CONF_DIRS = new Set([
  'nginx',
  'apache',
  'apache2',
  'httpd',
  'conf.d',
  'conf-available',
  'conf-enabled',
  'sites-available',
  'sites-enabled',
  'mods-available',
  'mods-enabled',
  'snippets',
  'vhosts.d',
  'extra',
  'http.d',
  'stream.d',
]);
/** Directories in which every file is a config, whatever its name (Debian's sites-*). */
const ALL_FILES_DIRS = new Set(['sites-available', 'sites-enabled']);
const NOT_CONFIG = /(\.(bak|orig|rej|swp|swo|dpkg-(old|new|dist|bak)|ucf-(old|new|dist)|md|txt|json|ya?ml|sh|gz|zip|pem|key|crt)|~)$/i;

/** Whether a file found while searching a directory is a config to lint. */
export function isConfigCandidate(absPath: string): boolean {
  const name = basename(absPath);
  if (MAIN_CONFIGS.has(name) || name === '.htaccess' || name.endsWith('.htaccess')) return true;
  if (NOT_CONFIG.test(name) || name.startsWith('.')) return false;
  const dirs = absPath.split(sep).slice(0, -1);
  const parent = dirs[dirs.length - 1] ?? '';
  if (ALL_FILES_DIRS.has(parent)) return true;
  return name.endsWith('.conf') && dirs.some((d) => CONF_DIRS.has(d));
}

export function isMainConfig(path: string): boolean {
  return MAIN_CONFIGS.has(basename(path));
}

export interface ExpandResult {
  /** Absolute paths (or '-' for stdin), mains first, each file once. */
  files: string[];
  /** Paths given on the command line that do not exist. */
  missing: string[];
  /** Globs that matched nothing, and directories holding no nginx or Apache config. */
  unmatched: string[];
  /** The real path (symbolic links resolved) of each file in `files`, as found while expanding, so
   * that the run does not ask the kernel again (run.ts). */
  real: Map<string, string>;
}

const GLOB_CHARS = /[*?[\]{}!]/;

/**
 * Search a directory depth-first in name order, iteratively (no recursion limit). Symlinked
 * directories are not followed; a directory whose device and inode is already being read above
 * (a bind mount of an ancestor, a loop in a network file system) is not read again.
 *
 * `real` gets the real path of every file found that is not a symbolic link: the walk enters only
 * directories that are not links, so such a file's real path is the real path of `top` followed by
 * the names walked (one realpath(3) per search instead of one per file: 1,700 .htaccess files).
 */
function walkDir(top: string, out: string[], real: Map<string, string>): void {
  let realTop: string | null = null;
  try {
    // (not for `/`: the walk's paths start with `//` there)
    if (top !== sep) realTop = realpathSync.native(top);
  } catch {
    realTop = null;
  }
  const onPath = new Set<string>();
  const stack: { dir: string; id: string; entries: Dirent[]; i: number }[] = [];
  const enter = (dir: string) => {
    let id: string;
    try {
      const st = statSync(dir);
      id = `${st.dev}:${st.ino}`;
    } catch {
      return;
    }
    if (onPath.has(id)) return; // a loop: this directory is being read already
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // an unreadable directory below the one given: nothing to lint there
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    onPath.add(id);
    stack.push({ dir, id, entries, i: 0 });
  };
  enter(top);
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (f.i >= f.entries.length) {
      onPath.delete(f.id);
      stack.pop();
      continue;
    }
    const e = f.entries[f.i++];
    const p = f.dir + sep + e.name;
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) enter(p);
    } else if (e.isFile() || e.isSymbolicLink()) {
      if (!isConfigCandidate(p)) continue;
      if (e.isSymbolicLink()) {
        try {
          if (!statSync(p).isFile()) continue;
        } catch {
          // a dangling link (or a link loop) is still reported: the user keeps it among the configs
        }
      }
      out.push(p);
      if (realTop !== null && !e.isSymbolicLink()) real.set(p, realTop === top ? p : realTop + p.slice(top.length));
    }
  }
}

export async function expandPaths(args: readonly string[], cwd: string = process.cwd()): Promise<ExpandResult> {
  const found: string[] = [];
  const missing: string[] = [];
  const unmatched: string[] = [];
  const real = new Map<string, string>();
  for (const arg of args) {
    if (arg === '-') {
      found.push('-');
      continue;
    }
    const abs = resolve(cwd, arg);
    let st: ReturnType<typeof statSync> | null = null;
    let errno: string | undefined;
    try {
      st = statSync(abs);
    } catch (e) {
      st = null;
      errno = (e as NodeJS.ErrnoException).code;
    }
    if (st?.isDirectory()) {
      const before = found.length;
      walkDir(abs.replace(/[/\\]+$/, '') || sep, found, real);
      if (found.length === before) unmatched.push(arg);
    } else if (st) {
      found.push(abs);
    } else if (errno !== undefined && errno !== 'ENOENT' && errno !== 'ENOTDIR') {
      // there but not readable as it is (a symbolic link loop, no permission on a parent): the
      // loader reads it and says why (read.ts), e.g. "symbolic link loop"
      found.push(abs);
    } else if (GLOB_CHARS.test(arg)) {
      const { glob } = await import('tinyglobby');
      const hits = await glob(arg, { cwd, absolute: true, dot: true, onlyFiles: true, ignore: [...SKIP_DIRS].map((d) => `**/${d}/**`) });
      if (hits.length === 0) unmatched.push(arg);
      found.push(...hits.map((h) => resolve(h)).sort());
    } else {
      // Possibly a dangling symlink or an unreadable parent: report it as a file problem.
      missing.push(abs);
    }
  }
  // Each file once (by real path), mains first, otherwise in the order found.
  const seen = new Set<string>();
  const unique: string[] = [];
  for (const f of found) {
    let key = real.get(f) ?? f;
    if (f !== '-' && !real.has(f)) {
      try {
        key = realpathSync.native(f);
        real.set(f, key);
      } catch {
        key = f;
      }
    }
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(f);
  }
  const mains = unique.filter((f) => f !== '-' && isMainConfig(f));
  const rest = unique.filter((f) => f === '-' || !isMainConfig(f));
  return { files: [...mains, ...rest], missing, unmatched, real };
}
