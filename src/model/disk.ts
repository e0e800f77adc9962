/**
 * The disk as the worker user sees it (`--fs`): a bounded scan of every directory the config serves
 * (nginx `root`/`alias` of the server and of each prefix location; Apache DocumentRoot, Alias and
 * ScriptAlias targets), checked with the worker's uid and gids (`settings.user`, i.e. `--user`, else
 * the config's `user` / `User`+`Group`, else the servers' defaults nobody / www-data).
 *
 * What it collects, per served directory, are *candidates*: paths whose mode, owner or kind may make
 * the server answer 403 (or 404 for a missing root). Whether a candidate really gets 403 is not
 * decided here: the disk rules (rules/*-fs-*.ts) ask `explain` on the disk (`ctx.prove`) for the URL
 * of a candidate, so `explain --fs` agrees with each finding by construction, and the policy logic
 * (disable_symlinks, Options FollowSymLinks/SymLinksIfOwnerMatch, index and autoindex, AllowOverride)
 * stays in the simulators.
 *
 * Bounded: at most MAX_ENTRIES lstat calls per model, MAX_DIR_ENTRIES names per directory, MAX_DEPTH
 * levels; symlinks are never followed while walking; files are never opened (a FIFO, a device or
 * /dev/zero costs one lstat). `skipped` says what was left out.
 */
import { readFileSync } from 'node:fs';
import type { Directive } from '../ast.js';
import type { FileSystemView, FsEntry } from '../nginx/model/fs.js';
import { resolveWorker as nginxWorker } from '../nginx/model/fs.js';
import { effectiveSettings } from '../nginx/model/settings.js';
import type { Location, Scope } from '../nginx/model/tree.js';
import { resolveWorker as apacheWorker } from '../apache/model/fs.js';
import { dirConfAt, readsHtaccess } from '../apache/model/htaccess-link.js';
import { servingServer } from '../apache/model/cache.js';
import type { ServerModel } from '../apache/model/sections.js';
import { registerDiskScanner, type ApacheView, type Model, type NginxView } from './index.js';
import type { SampleInput } from './types.js';

/** lstat calls per model. */
export const MAX_ENTRIES = 20_000;
/** Names read from one directory. */
export const MAX_DIR_ENTRIES = 2_000;
/** Directory levels below a served root. */
export const MAX_DEPTH = 24;
/** Candidates kept per group (the rest are counted). */
export const MAX_KEPT = 20;

export type DiskKind = 'root-missing' | 'no-search' | 'unreadable' | 'no-index' | 'symlink' | 'htaccess-unreadable';

export interface DiskWorker {
  user: string;
  uid: number;
  gids: number[];
  /** Where the user comes from: "the user directive", "--user / settings.user", "nginx's default". */
  from: string;
}

/** A directory the config serves. */
export interface ServedDir {
  /** The directive that serves it (root, alias, DocumentRoot, Alias…); null for nginx's default root. */
  directive: Directive | null;
  /** The block to report at when there is no directive (the server or location). */
  node: Directive;
  /** The directive as text, e.g. `root /srv/www`. */
  label: string;
  /** The directory on disk (config path, no trailing slash except `/`). */
  dir: string;
  /** The URL prefix that maps onto it (ends in `/`). */
  url: string;
  /** A request for `uri` that this server and URL prefix answer (null: no request reaches it). */
  sample(uri: string): SampleInput | null;
  /** Index file names (nginx `index`, Apache DirectoryIndex at the root), null when not plain names. */
  index: string[] | null;
}

export interface DiskEntry {
  /** Config path (what the server sees, before the path map). */
  path: string;
  /** The URL that reaches it. */
  url: string;
  type: FsEntry['type'];
  mode: number;
  uid: number;
  gid: number;
  /** A hint for the message (e.g. "public/ has index.php: the root may be one level too high"). */
  note?: string;
}

export interface DiskGroup {
  kind: DiskKind;
  root: ServedDir;
  /** The first candidates (at most MAX_KEPT), in walk order (shallow first). */
  entries: DiskEntry[];
  /** How many candidates of this kind were found under the root. */
  count: number;
}

export interface HtaccessFound {
  /** Config path of the access file. */
  path: string;
  /** Its directory, the URL of the directory, and the served root it is under. */
  dir: string;
  url: string;
  root: ServedDir;
  readable: boolean;
}

export interface DiskScan {
  worker: DiskWorker;
  roots: ServedDir[];
  groups: DiskGroup[];
  /** Access files under served directories whose AllowOverride lets Apache read them. */
  htaccess: HtaccessFound[];
  /** Entries looked at (lstat calls). */
  scanned: number;
  /** What the scan left out, one line each. */
  skipped: string[];
}

let names: { users: Map<number, string>; groups: Map<number, string> } | null = null;
/** A uid/gid as a name (`root`, `www-data`), else the number. */
export function idName(kind: 'user' | 'group', id: number): string {
  if (!names) {
    names = { users: new Map(), groups: new Map() };
    for (const [file, m] of [
      ['/etc/passwd', names.users],
      ['/etc/group', names.groups],
    ] as const) {
      try {
        for (const line of readFileSync(file, 'utf8').split('\n')) {
          const f = line.split(':');
          if (f.length > 2 && !m.has(Number(f[2]))) m.set(Number(f[2]), f[0]);
        }
      } catch {
        /* no such file: numbers */
      }
    }
  }
  return (kind === 'user' ? names.users : names.groups).get(id) ?? String(id);
}

/** `-rw------- root:root` style: the octal mode and the owner. */
export function modeText(e: { mode: number; uid: number; gid: number }): string {
  return `mode ${e.mode.toString(8).padStart(4, '0')}, owner ${idName('user', e.uid)}:${idName('group', e.gid)}`;
}

function permits(e: { type: string; mode: number; uid: number; gid: number }, w: DiskWorker, want: 4 | 1): boolean {
  if (w.uid === 0) return want === 4 || e.type === 'dir' || (e.mode & 0o111) !== 0;
  if (e.uid === w.uid) return ((e.mode >> 6) & want) !== 0;
  if (w.gids.includes(e.gid)) return ((e.mode >> 3) & want) !== 0;
  return (e.mode & want) !== 0;
}

const trimDir = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p) || '/';
const join = (dir: string, name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);
const encode = (name: string) => encodeURIComponent(name).replace(/%40/g, '@').replace(/%2B/g, '+').replace(/%3D/g, '=');

function nginxDirs(view: NginxView, skipped: string[]): ServedDir[] {
  const prefix = (() => {
    const p = view.options.prefix ?? '/usr/share/nginx/';
    return p.endsWith('/') ? p : `${p}/`;
  })();
  const out: ServedDir[] = [];
  for (const scope of view.scopes()) {
    if (scope.kind !== 'server' && scope.kind !== 'location') continue;
    let url = '/';
    if (scope.kind === 'location') {
      const loc = scope as Location;
      if (loc.modifier !== '' && loc.modifier !== '^~') continue;
      if (!loc.name.startsWith('/') || !loc.name.endsWith('/')) continue;
      url = loc.name;
    }
    const st = effectiveSettings(scope);
    const r = st.root;
    // a location's own root or alias (a server's root serves the locations that inherit it)
    if (scope.kind === 'location' && r.from !== scope && r.value.kind === 'root' && r.from?.kind !== 'server' && r.from !== null) continue;
    if (r.value.path.includes('$')) {
      if (r.directive) skipped.push(`${r.directive.source.path}:${r.directive.nameSpan.start.line}: ${r.value.path} has variables`);
      continue;
    }
    if (st.handler) continue; // proxy_pass, fastcgi_pass…: the files are not served from here
    const base = r.value.path.startsWith('/') ? r.value.path : prefix + r.value.path;
    const dir = trimDir(r.value.kind === 'alias' ? base : scope.kind === 'location' ? trimDir(base) + url : base);
    const req = view.requestTo(scope);
    if (!req) continue;
    const node = r.directive ?? scope.block;
    if (!node) continue;
    const index = st.index.value.some((n) => n.includes('$') || n.startsWith('/')) ? null : st.index.value;
    out.push({
      directive: r.directive,
      node,
      label: r.directive ? `${r.directive.name} ${r.directive.args.map((a) => a.raw).join(' ')}` : `root ${r.value.path} (nginx's default)`,
      dir,
      url,
      sample: (uri) => ({ ...req, path: uri }),
      index: st.autoindex.value || st.randomIndex.value ? [] : index,
    });
  }
  return out;
}

function apacheDirs(view: ApacheView, skipped: string[]): ServedDir[] {
  const out: ServedDir[] = [];
  const roots = view.servedRoots();
  for (const r of roots) {
    // the server whose requests show this root (a vhost that inherits it from an unreachable main server)
    const server = servingServer(view.tree, r, roots);
    const conf = dirConfAt(server ?? r.server, r.dir);
    const idx = conf.dirIndex?.value ?? ['index.html'];
    out.push({
      directive: r.by,
      node: r.by,
      label: `${r.by.name} ${r.by.args.map((a) => a.raw).join(' ')}`,
      dir: trimDir(r.dir),
      url: r.url,
      sample: (uri) => (server ? view.requestTo(server, uri) : null),
      index: idx.some((n) => n.startsWith('/') || n === 'disabled') ? null : idx,
    });
  }
  if (view.tree.top.some((d) => d.name.toLowerCase() === 'userdir'))
    skipped.push('UserDir directories (~user/public_html) are not scanned');
  return out;
}

function workerOf(view: Model): DiskWorker {
  const set = view.options.settings?.user;
  if (view.server === 'nginx') {
    const u = view.tree.user;
    if (set) return { ...nginxWorker(set), from: 'the user setting (--user)' };
    const w = nginxWorker(u?.args[0]?.value ?? 'nobody', u?.args[1]?.value);
    return { ...w, from: u ? `the user directive (${u.source.path}:${u.nameSpan.start.line})` : "nginx's default worker user" };
  }
  const t = view.tree;
  const w = apacheWorker(t.user, t.group, t.settings.uid, t.settings.gid);
  const from = set
    ? 'the user setting (--user)'
    : t.userDirective
      ? `the User directive (${t.userDirective.source.path}:${t.userDirective.nameSpan.start.line})`
      : "Debian's default User (www-data)";
  return { user: w.user, uid: w.uid, gids: w.gids, from };
}

/** Scan every served directory of the model (bounded). */
export function scanDisk(
  view: Model,
  fs: FileSystemView & { readdirBounded?(p: string, max: number): { names: string[]; more: boolean } | null },
): DiskScan {
  const skipped: string[] = [];
  const worker = workerOf(view);
  const roots = (view.server === 'nginx' ? nginxDirs(view, skipped) : apacheDirs(view, skipped)).sort(
    (a, b) => b.dir.length - a.dir.length,
  );
  const groups = new Map<string, DiskGroup>();
  const htaccess: HtaccessFound[] = [];
  const claimed = new Set(roots.map((r) => r.dir));
  const seen = new Set<string>();
  let scanned = 0;
  let budgetNoted = false;
  const accessNames = view.server === 'apache' ? view.tree.accessFileNames : [];
  const apacheServer = (r: ServedDir): ServerModel | null =>
    view.server === 'apache' ? (view.servedRoots().find((x) => x.by === r.directive)?.server ?? null) : null;

  const add = (kind: DiskKind, root: ServedDir, e: DiskEntry) => {
    const key = `${kind}\0${root.dir}\0${root.url}\0${root.node.source.path}:${root.node.span.start.offset}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { kind, root, entries: [], count: 0 }));
    g.count++;
    if (g.entries.length < MAX_KEPT) g.entries.push(e);
  };
  const stat = (p: string): FsEntry => {
    scanned++;
    return fs.stat(p);
  };
  const follow = (p: string): FsEntry => (fs.statFollow ? fs.statFollow(p) : fs.stat(p));
  const list = (p: string): { names: string[]; more: boolean } | null => {
    if (fs.readdirBounded) return fs.readdirBounded(p, MAX_DIR_ENTRIES);
    const all = fs.readdir?.(p) ?? null;
    return all ? { names: all.slice(0, MAX_DIR_ENTRIES), more: all.length > MAX_DIR_ENTRIES } : null;
  };
  /** A name inside a directory the worker cannot search, for a URL that needs the search: its first
   * entry when we can list it, else the first index name. */
  const inside = (dir: string): string => {
    const l = list(dir);
    const first = l?.names.sort().find((n) => !accessNames.includes(n));
    return encode(first ?? 'index.html');
  };
  const readsOverrides = (server: ServerModel | null, dir: string): boolean => {
    if (!server) return false;
    const c = dirConfAt(server, dir);
    return readsHtaccess({
      classes: c.override?.classes ?? new Set(),
      nonfatal: c.override?.nonfatal ?? new Set(),
      optsAllowed: c.overrideOpts ?? 0xff,
      list: c.overrideList?.value ?? new Set(),
    });
  };

  for (const root of roots) {
    const key = `${root.dir}\0${root.url}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const server = apacheServer(root);
    // the root itself and every directory above it
    const parts = root.dir.split('/').filter(Boolean);
    let cur = '';
    let blocked = false;
    for (let i = 0; i <= parts.length && !blocked; i++) {
      const dir = cur || '/';
      const e = follow(dir);
      scanned++;
      if (e.type === 'none' || (e.type !== 'dir' && i < parts.length) || (i === parts.length && e.type !== 'dir')) {
        add('root-missing', root, {
          path: dir,
          url: root.url,
          ...e,
          ...(e.type !== 'none' ? { note: `${dir} is not a directory` } : {}),
        });
        blocked = true;
        break;
      }
      if (!permits(e, worker, 1)) {
        add('no-search', root, {
          path: dir,
          url: root.url + inside(root.dir),
          ...e,
          note: i < parts.length ? `an ancestor of ${root.dir}` : undefined,
        });
        blocked = true;
        break;
      }
      // Apache reads access files from `/` down when AllowOverride allows it there
      if (server && i < parts.length && accessNames.length && readsOverrides(server, dir)) {
        for (const n of accessNames) {
          const p = join(dir, n);
          const he = stat(p);
          if (he.type === 'none') continue;
          const readable = he.type === 'file' && permits(he, worker, 4);
          htaccess.push({ path: p, dir, url: root.url, root, readable });
          if (!readable) add('htaccess-unreadable', root, { path: p, url: root.url, ...he, note: `above ${root.dir}` });
        }
      }
      if (i < parts.length) cur += `/${parts[i]}`;
    }
    if (blocked) continue;

    // breadth first below the root: shallow problems first
    const queue: Array<{ dir: string; url: string; depth: number }> = [{ dir: root.dir, url: root.url, depth: 0 }];
    while (queue.length) {
      const { dir, url, depth } = queue.shift()!;
      if (scanned >= MAX_ENTRIES) {
        if (!budgetNoted)
          skipped.push(`stopped after ${MAX_ENTRIES} entries: ${dir} and what remains below the served roots were not scanned`);
        budgetNoted = true;
        break;
      }
      const listing = list(dir);
      if (!listing) continue;
      if (listing.more) skipped.push(`${dir}: more than ${MAX_DIR_ENTRIES} entries, only the first ${MAX_DIR_ENTRIES} were looked at`);
      const here = new Set(listing.names);
      // no index file (and listing off, as far as the root's settings say): the rule's proof decides
      if (root.index && root.index.length > 0 && !root.index.some((n) => here.has(n))) {
        const sub = ['public', 'web', 'html', 'htdocs', 'www', 'public_html'].find((d) => {
          if (!here.has(d)) return false;
          const l = list(join(dir, d));
          return !!l && root.index!.some((n) => l.names.includes(n));
        });
        const de = follow(dir);
        add('no-index', root, {
          path: dir,
          url,
          ...de,
          ...(sub
            ? { note: `${sub}/ has ${root.index.find((n) => list(join(dir, sub))?.names.includes(n))}: the root may be one level too high` }
            : {}),
        });
      }
      const overrides = server && accessNames.length ? readsOverrides(server, dir) : false;
      for (const name of listing.names.sort()) {
        if (scanned >= MAX_ENTRIES) break;
        const p = join(dir, name);
        if (p !== root.dir && claimed.has(p)) continue; // another served root (scanned on its own)
        const e = stat(p);
        const u = url + encode(name);
        const entry: DiskEntry = { path: p, url: u, ...e };
        if (accessNames.includes(name)) {
          if (!overrides) continue;
          const readable = e.type === 'file' && permits(e, worker, 4);
          htaccess.push({ path: p, dir, url, root, readable });
          if (!readable) add('htaccess-unreadable', root, { ...entry, url });
          continue;
        }
        if (e.type === 'symlink') {
          add('symlink', root, entry);
        } else if (e.type === 'dir') {
          if (!permits(e, worker, 1)) add('no-search', root, { ...entry, url: `${u}/${inside(p)}` });
          else if (depth + 1 > MAX_DEPTH) {
            skipped.push(`${p}: deeper than ${MAX_DEPTH} levels below ${root.dir}, not scanned`);
          } else queue.push({ dir: p, url: `${u}/`, depth: depth + 1 });
        } else if (e.type === 'file') {
          if (!permits(e, worker, 4)) add('unreadable', root, entry);
        }
        // FIFOs, sockets, devices: never opened, not served as files
      }
    }
  }
  return { worker, roots, groups: [...groups.values()], htaccess, scanned, skipped: [...new Set(skipped)] };
}

/** The groups of one kind. */
export function diskGroups(view: Model, kind: DiskKind): DiskGroup[] {
  return view.disk()?.groups.filter((g) => g.kind === kind) ?? [];
}

/** "N paths (first: a, b, c)" for a message. */
export function pathList(g: DiskGroup, max = 3): string {
  const shown = g.entries.slice(0, max).map((e) => e.path);
  return g.count > shown.length ? `${shown.join(', ')} and ${g.count - shown.length} more` : shown.join(', ');
}

export type { Scope };

registerDiskScanner(scanDisk);
