/**
 * The file system as nginx's worker sees it.
 *
 * `FileSystemView` is what the simulator asks; `DiskFs` answers from the real disk (through the path
 * map, so a checkout can stand in for /etc/nginx or /var/www), and `openAs` turns the answers into the
 * errno nginx would get: ENOENT, ENOTDIR, EACCES (no search permission on an ancestor, or no read
 * permission on the file), ELOOP (disable_symlinks, ngx_open_file_wrapper in src/core/ngx_open_file_cache.c).
 */
import { lstatSync, opendirSync, readFileSync, statSync, readdirSync } from 'node:fs';
import type { PathMapping } from '../../ast.js';
import { mapPath } from '../../load-options.js';

export interface FsEntry {
  type: 'file' | 'dir' | 'symlink' | 'other' | 'none';
  mode: number;
  uid: number;
  gid: number;
}

export interface FileSystemView {
  /** Like lstat(2): a symlink is reported as `symlink`. */
  stat(path: string): FsEntry;
  /** Like stat(2): follows symlinks. Defaults to `stat` when absent. */
  statFollow?(path: string): FsEntry;
  /** Entries of a directory, or null when it cannot be listed. */
  readdir?(path: string): string[] | null;
  /** A short description for traces (e.g. "disk"). */
  label?: string;
}

export interface Worker {
  user: string;
  uid: number;
  gids: number[];
}

const NONE: FsEntry = { type: 'none', mode: 0, uid: 0, gid: 0 };

function entryOf(st: import('node:fs').Stats): FsEntry {
  const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  return { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/** The real disk, seen through a path map (config path → checkout path). */
export class DiskFs implements FileSystemView {
  readonly label = 'disk';
  constructor(private readonly pathMap: PathMapping[] = []) {}
  private real(p: string): string {
    return mapPath(p, this.pathMap);
  }
  stat(path: string): FsEntry {
    try {
      return entryOf(lstatSync(this.real(path)));
    } catch {
      return NONE;
    }
  }
  statFollow(path: string): FsEntry {
    try {
      return entryOf(statSync(this.real(path)));
    } catch {
      return NONE;
    }
  }
  readdir(path: string): string[] | null {
    try {
      return readdirSync(this.real(path));
    } catch {
      return null;
    }
  }
  /** At most `max` entries of a directory (a directory of a million files is not read whole), and
   * whether there were more; null when it cannot be listed. */
  readdirBounded(path: string, max: number): { names: string[]; more: boolean } | null {
    let dir;
    try {
      dir = opendirSync(this.real(path));
    } catch {
      return null;
    }
    const names: string[] = [];
    let more = false;
    try {
      for (;;) {
        const e = dir.readSync();
        if (!e) break;
        if (names.length >= max) {
          more = true;
          break;
        }
        names.push(e.name);
      }
    } catch {
      /* an entry that cannot be read ends the listing */
    } finally {
      dir.closeSync();
    }
    return { names, more };
  }
}

/** An in-memory file system for tests and "what if" questions: path → entry (parents implied as dirs). */
export class MemoryFs implements FileSystemView {
  readonly label = 'memory';
  private readonly entries = new Map<string, FsEntry & { target?: string }>();
  constructor(files: Record<string, Partial<FsEntry> & { target?: string }> = {}) {
    for (const [p, e] of Object.entries(files)) this.add(p, e);
  }
  add(path: string, e: Partial<FsEntry> & { target?: string }): this {
    const p = path.replace(/\/+$/, '') || '/';
    const type = e.type ?? (e.target ? 'symlink' : 'file');
    this.entries.set(p, { type, mode: e.mode ?? (type === 'dir' ? 0o755 : 0o644), uid: e.uid ?? 0, gid: e.gid ?? 0, target: e.target });
    for (let d = p.slice(0, p.lastIndexOf('/')); d; d = d.slice(0, d.lastIndexOf('/'))) {
      if (!this.entries.has(d)) this.entries.set(d, { type: 'dir', mode: 0o755, uid: 0, gid: 0 });
    }
    return this;
  }
  stat(path: string): FsEntry {
    const p = path.replace(/\/+$/, '') || '/';
    if (p === '/') return { type: 'dir', mode: 0o755, uid: 0, gid: 0 };
    const e = this.entries.get(p);
    return e ? { type: e.type, mode: e.mode, uid: e.uid, gid: e.gid } : NONE;
  }
  statFollow(path: string): FsEntry {
    let p = path.replace(/\/+$/, '') || '/';
    for (let i = 0; i < 40; i++) {
      const e = this.entries.get(p);
      if (!e || e.type !== 'symlink') return this.stat(p);
      p = e.target!.startsWith('/') ? e.target! : p.slice(0, p.lastIndexOf('/') + 1) + e.target!;
    }
    return NONE;
  }
  readdir(path: string): string[] | null {
    const p = (path.replace(/\/+$/, '') || '') + '/';
    const out = new Set<string>();
    for (const k of this.entries.keys()) if (k.startsWith(p) && k.length > p.length) out.add(k.slice(p.length).split('/')[0]);
    return [...out];
  }
}

/** Resolve the worker identity from `user name [group]` (default nobody/nogroup, as Debian's nginx). */
export function resolveWorker(user = 'nobody', group?: string): Worker {
  let passwd = '';
  let groups = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
    groups = readFileSync('/etc/group', 'utf8');
  } catch {
    /* not a Unix system: fall through to unknown ids */
  }
  const pw = passwd
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === user);
  const uid = pw ? Number(pw[2]) : 65534;
  const gname = group ?? (user === 'nobody' ? 'nogroup' : user);
  const gr = groups.split('\n').map((l) => l.split(':'));
  const primary = gr.find((f) => f[0] === gname);
  const gids = new Set<number>();
  if (primary) gids.add(Number(primary[2]));
  else if (pw) gids.add(Number(pw[3]));
  for (const f of gr) if ((f[3] ?? '').split(',').includes(user)) gids.add(Number(f[2]));
  return { user, uid, gids: [...gids] };
}

function allowed(e: FsEntry, w: Worker, bit: 4 | 1): boolean {
  if (w.uid === 0) return bit === 4 || e.type === 'dir' || (e.mode & 0o111) !== 0;
  if (e.uid === w.uid) return ((e.mode >> 6) & bit) !== 0;
  if (w.gids.includes(e.gid)) return ((e.mode >> 3) & bit) !== 0;
  return (e.mode & bit) !== 0;
}

export type OpenErrno = 'ENOENT' | 'ENOTDIR' | 'EACCES' | 'ELOOP';

export interface OpenResult {
  ok: boolean;
  type?: 'file' | 'dir' | 'other';
  errno?: OpenErrno;
  /** The path component the error is about. */
  at?: string;
  why?: string;
}

/**
 * What open()/stat() of `path` gives the worker. `read` asks for read permission on the final file
 * (the static handler opens it; index and try_files only stat). `disableSymlinks` follows
 * ngx_open_file_wrapper: `on` refuses a symlink anywhere after `from` (the last component gives ELOOP,
 * an intermediate one ENOTDIR on Linux), `if_not_owner` only when the link's owner differs from its target's.
 */
export function openAs(
  fs: FileSystemView,
  path: string,
  worker: Worker,
  opts: { read?: boolean; disableSymlinks?: { mode: 'off' | 'on' | 'if_not_owner'; from: string | null } } = {},
): OpenResult {
  const follow = (p: string) => (fs.statFollow ? fs.statFollow(p) : fs.stat(p));
  const parts = path.split('/').filter((x) => x.length > 0);
  let cur = '';
  const ds = opts.disableSymlinks;
  for (let i = 0; i < parts.length; i++) {
    const dir = cur || '/';
    const de = follow(dir);
    if (de.type === 'none') return { ok: false, errno: 'ENOENT', at: dir, why: `${dir} does not exist` };
    if (de.type !== 'dir') return { ok: false, errno: 'ENOTDIR', at: dir, why: `${dir} is not a directory` };
    if (!allowed(de, worker, 1))
      return {
        ok: false,
        errno: 'EACCES',
        at: dir,
        why: `${worker.user} cannot search ${dir} (mode ${de.mode.toString(8)}, owner ${de.uid}:${de.gid})`,
      };
    cur = cur + '/' + parts[i];
    if (ds && ds.mode !== 'off' && (!ds.from || !(ds.from + '/').startsWith(cur + '/'))) {
      const le = fs.stat(cur);
      if (le.type === 'symlink') {
        const te = follow(cur);
        if (ds.mode === 'on' || te.uid !== le.uid) {
          const last = i === parts.length - 1;
          return { ok: false, errno: last ? 'ELOOP' : 'ENOTDIR', at: cur, why: `${cur} is a symlink and disable_symlinks is ${ds.mode}` };
        }
      }
    }
  }
  const e = follow(cur || '/');
  if (e.type === 'none') return { ok: false, errno: 'ENOENT', at: cur, why: `${cur} does not exist` };
  // a trailing slash asks for a directory: open("file/") is ENOTDIR
  if (e.type !== 'dir' && parts.length > 0 && path.endsWith('/'))
    return { ok: false, errno: 'ENOTDIR', at: cur, why: `${cur} is not a directory` };
  if (opts.read && e.type === 'file' && !allowed(e, worker, 4)) {
    return {
      ok: false,
      errno: 'EACCES',
      at: cur,
      why: `${worker.user} cannot read ${cur} (mode ${e.mode.toString(8)}, owner ${e.uid}:${e.gid})`,
    };
  }
  return { ok: true, type: e.type === 'dir' ? 'dir' : e.type === 'file' ? 'file' : 'other' };
}

/** Whether the worker may list a directory (autoindex, random_index need r on it). */
export function canList(fs: FileSystemView, path: string, worker: Worker): boolean {
  const e = fs.statFollow ? fs.statFollow(path) : fs.stat(path);
  return e.type === 'dir' && allowed(e, worker, 4);
}
