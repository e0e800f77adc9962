/**
 * Turning command-line paths into the files to lint. A file path is taken as is (whatever its
 * name); a directory is searched for nginx and Apache configs; a glob is expanded (tinyglobby).
 * VCS folders and node_modules are skipped, symlinked directories are not followed, and a file
 * reached twice (e.g. sites-enabled/x → sites-available/x) is linted once. Main configs
 * (nginx.conf, httpd.conf, apache2.conf) come first, so the files they include can be linted in the
 * context the server reads them in (see run.ts).
 */
import { readFileSync, readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
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

/** True for an absolute POSIX path that `path.resolve` gives back unchanged (no empty, `.` or `..`
 * component, no trailing `/`): callers skip resolve(), which builds its result a character at a time
 * (≈ 800 bytes of garbage per call; 6–10 MB per 1,000-vhost run). */
export function isNormalAbsolute(p: string): boolean {
  if (sep !== '/' || p.charCodeAt(0) !== 47) return false;
  if (p.length === 1) return true;
  if (p.charCodeAt(p.length - 1) === 47) return false;
  if (p.includes('//') || p.includes('/./') || p.includes('/../')) return false;
  return !p.endsWith('/.') && !p.endsWith('/..');
}

/** For a normal absolute `dir` and `file` (`isNormalAbsolute`): the part of `file` below `dir` (''
 * for `dir` itself), or null when it is not below — what `path.relative(dir, file)` says when it does
 * not start with `..`, without resolving either. */
export function normalBelow(dir: string, file: string): string | null {
  if (file === dir) return '';
  const start = dir === '/' ? 1 : dir.length + 1;
  if (file.length <= start || !file.startsWith(dir) || file.charCodeAt(start - 1) !== 47) return null;
  return file.startsWith('..', start) ? null : file.slice(start);
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

/** Work counter for the shape tests (test/scale-shape.test.ts): directories read and stat() calls
 * made by the directory search. Only ever incremented. */
export const walkStats = { dirs: 0, stats: 0 };

/**
 * File systems on which a directory can be reached twice on one path only through a mount point
 * (Linux refuses hard links to directories, and the walk follows no symbolic link). On others
 * (NFS, CIFS, FUSE, 9p, …) the server decides, so every directory is checked there.
 */
const MOUNT_ONLY_LOOPS = new Set([
  'ext2',
  'ext3',
  'ext4',
  'xfs',
  'btrfs',
  'tmpfs',
  'ramfs',
  'overlay',
  'zfs',
  'f2fs',
  'vfat',
  'exfat',
  'squashfs',
  'iso9660',
  'erofs',
]);

/** The mount points of this process and their file system types (from /proc/self/mountinfo), or
 * null where that cannot be read (not Linux): then every directory is checked. */
export function readMounts(text: string | null): Map<string, string> | null {
  if (text === null) return null;
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (f.length < 5 || dash < 0) continue;
    // the kernel writes space, tab, newline and backslash in paths as \ooo
    out.set(
      f[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))),
      f[dash + 1] ?? '',
    );
  }
  return out.size > 0 ? out : null;
}

function mountTable(): Map<string, string> | null {
  try {
    return readMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return null;
  }
}

/** The type of the file system `path` (a real path) is on: its deepest mount point. */
function fsTypeOf(mounts: Map<string, string>, path: string): string {
  for (let p = path; ;) {
    const t = mounts.get(p);
    if (t !== undefined) return t;
    if (p === '/' || p === '') return '';
    const i = p.lastIndexOf('/');
    p = i <= 0 ? '/' : p.slice(0, i);
  }
}

interface WalkFrame {
  dir: string;
  /** device:inode, read when a loop check needs it (null: not read yet) */
  id: string | null;
  entries: Dirent[];
  i: number;
  /** Whether the directories below need a loop check each (a file system not in MOUNT_ONLY_LOOPS). */
  checkAll: boolean;
}

/**
 * Search a directory depth-first in name order, iteratively (no recursion limit). Symlinked
 * directories are not followed; a directory whose device and inode is already being read above
 * (a bind mount of an ancestor, a loop in a network file system) is not read again. That check
 * needs a stat() of the directory and of those above it, so it is made only where a loop can
 * start: at a mount point, or everywhere on a file system that is not known to refuse directory
 * loops (or when the mount table cannot be read); 4,013 stat() calls fewer for 1,000 vhosts.
 *
 * `real` gets the real path of every file found that is not a symbolic link: the walk enters only
 * directories that are not links, so such a file's real path is the real path of `top` followed by
 * the names walked (one realpath(3) per search instead of one per file: 1,700 .htaccess files).
 */
function walkDir(top: string, out: string[], real: Map<string, string>, mounts: Map<string, string> | null): void {
  let realTop: string | null = null;
  try {
    // (not for `/`: the walk's paths start with `//` there)
    if (top !== sep) realTop = realpathSync.native(top);
  } catch {
    realTop = null;
  }
  const onPath = new Set<string>();
  const stack: WalkFrame[] = [];
  /** The frame's device:inode (read once), also recorded as being on the path; null: it vanished. */
  const idOf = (f: WalkFrame): string | null => {
    if (f.id === null) {
      try {
        walkStats.stats++;
        const st = statSync(f.dir);
        f.id = `${st.dev}:${st.ino}`;
        onPath.add(f.id);
      } catch {
        return null;
      }
    }
    return f.id;
  };
  const realOf = (dir: string): string | null => (realTop === null ? null : realTop === top ? dir : realTop + dir.slice(top.length));
  const enter = (dir: string, parent: WalkFrame | null) => {
    let checkAll = parent ? parent.checkAll : true;
    let check = checkAll;
    if (mounts !== null) {
      const r = realOf(dir);
      if (r === null) check = checkAll = true;
      else if (parent === null || mounts.has(r)) {
        // the top, or a mount point: a loop can start here; what is below depends on its file system
        checkAll = !MOUNT_ONLY_LOOPS.has(fsTypeOf(mounts, r));
        check = parent !== null || checkAll;
      }
    }
    const frame: WalkFrame = { dir, id: null, entries: [], i: 0, checkAll };
    if (check) {
      // every directory on the path gets its id (once), then this one is compared with them
      for (const f of stack) idOf(f);
      let id: string;
      try {
        walkStats.stats++;
        const st = statSync(dir);
        id = `${st.dev}:${st.ino}`;
      } catch {
        return;
      }
      if (onPath.has(id)) return; // a loop: this directory is being read already
      frame.id = id;
      onPath.add(id);
    }
    let entries: Dirent[];
    try {
      walkStats.dirs++;
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      if (frame.id !== null) onPath.delete(frame.id);
      return; // an unreadable directory below the one given: nothing to lint there
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    frame.entries = entries;
    stack.push(frame);
  };
  enter(top, null);
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (f.i >= f.entries.length) {
      if (f.id !== null) onPath.delete(f.id);
      stack.pop();
      continue;
    }
    const e = f.entries[f.i++];
    const p = f.dir + sep + e.name;
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) enter(p, f);
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
      if (realTop !== null && !e.isSymbolicLink()) real.set(p, realOf(p)!);
    }
  }
}

export async function expandPaths(args: readonly string[], cwd: string = process.cwd()): Promise<ExpandResult> {
  const found: string[] = [];
  const missing: string[] = [];
  const unmatched: string[] = [];
  const real = new Map<string, string>();
  let mounts: Map<string, string> | null | undefined;
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
      walkDir(abs.replace(/[/\\]+$/, '') || sep, found, real, mounts === undefined ? (mounts = mountTable()) : mounts);
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
