/**
 * The filesystem as the simulator sees it. `diskFs` reads the real disk through the path map
 * (config paths → checked-out paths); tests may pass any object with the same shape.
 * Permission checks are done by the simulator against the worker's uid/gid, not by the process
 * running why403 (which may be root).
 */
import { lstatSync, readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import type { PathMapping } from '../../ast.js';
import { mapPath } from '../../load-options.js';
import { readBytes } from '../../read.js';

export type FileType = 'file' | 'dir' | 'symlink' | 'other';

export interface FsStat {
  type: FileType;
  mode: number;
  uid: number;
  gid: number;
}

export interface ModelFs {
  /** Without following a final symlink; null when it does not exist. */
  lstat(path: string): FsStat | null;
  /** Following symlinks; null when it does not exist (or dangles). */
  stat(path: string): FsStat | null;
  readdir(path: string): string[] | null;
  /** null when missing or unreadable by us. */
  readFile(path: string): string | null;
  /** Why the last `readFile(path)` gave null (e.g. "… is a FIFO, not a regular file"), when known. */
  readError?(path: string): string | null;
}

function toStat(s: Stats): FsStat {
  const type: FileType = s.isSymbolicLink() ? 'symlink' : s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
  return { type, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
}

export function diskFs(pathMap?: PathMapping[]): ModelFs {
  const m = (p: string) => mapPath(p, pathMap);
  const readErrors = new Map<string, string>();
  return {
    lstat(p) {
      try {
        return toStat(lstatSync(m(p)));
      } catch {
        return null;
      }
    },
    stat(p) {
      try {
        return toStat(statSync(m(p)));
      } catch {
        return null;
      }
    },
    readdir(p) {
      try {
        return readdirSync(m(p));
      } catch {
        return null;
      }
    },
    readFile(p) {
      // the one safe reader: regular files only (a FIFO or /dev/zero never blocks or fills memory)
      const r = readBytes(m(p));
      if (!r.ok) {
        readErrors.set(p, r.message);
        return null;
      }
      readErrors.delete(p);
      return r.bytes.toString('utf8');
    },
    readError(p) {
      return readErrors.get(p) ?? null;
    },
  };
}

export interface Worker {
  user: string;
  group: string;
  uid: number;
  /** Primary and supplementary gids. */
  gids: number[];
}

/** Resolve the worker's ids from /etc/passwd and /etc/group (www-data is 33/33 on Debian). */
export function resolveWorker(user: string, group: string, uid?: number, gid?: number): Worker {
  let u = uid;
  let g = gid;
  const gids = new Set<number>();
  try {
    if (u === undefined) {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f[0] === user) u = Number(f[2]);
      }
    }
    const groups = readFileSync('/etc/group', 'utf8').split('\n');
    for (const line of groups) {
      const f = line.split(':');
      if (g === undefined && f[0] === group) g = Number(f[2]);
      if ((f[3] ?? '').split(',').includes(user)) gids.add(Number(f[2]));
    }
  } catch {
    /* no passwd: fall back below */
  }
  u ??= user === 'www-data' ? 33 : 65534;
  g ??= group === 'www-data' ? 33 : 65534;
  gids.add(g);
  return { user, group, uid: u, gids: [...gids] };
}

/** May the worker do `want` (4 = r, 1 = x) on a node with this stat? */
export function permits(st: FsStat, w: Worker, want: 4 | 1 | 2): boolean {
  if (w.uid === 0) return want !== 1 || st.type === 'dir' || (st.mode & 0o111) !== 0;
  if (st.uid === w.uid) return ((st.mode >> 6) & want) === want;
  if (w.gids.includes(st.gid)) return ((st.mode >> 3) & want) === want;
  return (st.mode & want) === want;
}
