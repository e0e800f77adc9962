/**
 * The language server's view of the files: the open documents (their unsaved text replaces the disk
 * for every read, src/read.ts `overlayReads`), the main configs around them (found as `why403 <dir>`
 * finds them: by name in the workspace folders, and in the folders above a document), lint runs over
 * those trees (src/run.ts `lint`, the same pipeline as the CLI, with the caches of set-cache.ts), and
 * the trees hover, symbols and explain read: those the last lint linted while the buffers are what it
 * read, else loaded with the same loader and settings as `explain` (src/command-load.ts's steps).
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ConfigSet } from '../ast.js';
import type { LoadedConfig } from '../config.js';
import type { LintRun } from '../results.js';
import type { Settings } from '../rule.js';
import type { ModelOptions } from '../model/index.js';
import type { LoadOptions } from '../load-options.js';
import { isMainConfig, realOrSelf } from '../files.js';
import { fileInSet, mainCandidates, pathInSet } from '../load.js';
import type { LintedSet, RunParseCache, SetCache } from './set-cache.js';

/** An open document as the server keeps it. */
export interface OpenDoc {
  uri: string;
  /** Absolute path for a file: URI, null otherwise (untitled buffers). */
  path: string | null;
  text: string;
  version: number;
}

/** A loaded tree with what its model is built from. */
export interface Tree {
  set: ConfigSet;
  settings: Settings;
  modelOptions: Omit<ModelOptions, 'settings'>;
  lo: LoadOptions;
}

export function uriToPath(uri: string): string | null {
  if (!uri.startsWith('file:')) return null;
  try {
    return fileURLToPath(uri);
  } catch {
    return null;
  }
}

export function pathToUri(path: string): string {
  return pathToFileURL(path).href;
}

export class Workspace {
  readonly docs = new Map<string, OpenDoc>();
  /** Open documents by real path too (the loader may reach a file through a symbolic link). */
  private byPath = new Map<string, OpenDoc>();
  private folders: string[] = [];
  private folderMains = new Map<string, string[]>();
  /** Bumped on every change of an open document: loaded trees are kept for one version. */
  private version = 0;
  private trees: { version: number; mains: Map<string, Tree | null> } = { version: -1, mains: new Map() };
  /** Bumped when files change on disk (saved, or reported by the client's file watcher). */
  private diskEpoch = 0;
  /** Findings of unchanged sets, kept between lint runs (set-cache.ts). */
  private setCache: SetCache | null = null;
  /** Parsed files kept between runs: only an edited buffer (or a file changed on disk) is parsed again. */
  private parseCache: RunParseCache | null = null;
  /** The sets the last lint run linted (their models are what hover reads), and the disk epoch it began in. */
  private linted: { epoch: number; sets: LintedSet[] } = { epoch: -1, sets: [] };

  setFolders(folders: string[]): void {
    this.folders = folders.map((f) => resolve(f));
    this.folderMains.clear();
  }

  /** The working directory of runs: the first workspace folder, else the folder of the document. */
  cwdFor(path: string | null): string {
    if (path) {
      const f = this.folders.find((d) => path === d || path.startsWith(d.endsWith('/') ? d : d + '/'));
      if (f) return f;
      return dirname(path);
    }
    return this.folders[0] ?? process.cwd();
  }

  open(uri: string, text: string, version: number): OpenDoc {
    const path = uriToPath(uri);
    const doc: OpenDoc = { uri, path, text, version };
    this.docs.set(uri, doc);
    if (path) {
      this.byPath.set(path, doc);
      this.byPath.set(realOrSelf(path), doc);
      if (isMainConfig(path)) this.folderMains.clear();
    }
    this.version++;
    return doc;
  }

  change(uri: string, text: string, version: number): void {
    const doc = this.docs.get(uri);
    if (!doc) {
      this.open(uri, text, version);
      return;
    }
    doc.text = text;
    doc.version = version;
    this.version++;
  }

  close(uri: string): void {
    const doc = this.docs.get(uri);
    if (!doc) return;
    this.docs.delete(uri);
    if (doc.path) {
      for (const [k, v] of this.byPath) if (v === doc) this.byPath.delete(k);
    }
    this.version++;
    // the last run read its buffer, the next reads the disk
    this.linted = { epoch: -1, sets: [] };
  }

  /** Files saved or changed on disk: the mains found may have changed. */
  diskChanged(): void {
    this.folderMains.clear();
    this.version++;
    this.diskEpoch++;
  }

  /** Hits and misses of the set cache (tests, the server's log). */
  get cacheStats(): { hits: number; misses: number } {
    return { ...(this.setCache?.stats ?? { hits: 0, misses: 0 }) };
  }

  /** The unsaved text of a path, for src/read.ts's overlay. */
  overlay = (path: string): string | undefined => {
    if (this.byPath.size === 0) return undefined;
    const d = this.byPath.get(path);
    if (d) return d.text;
    // a path the loader builds through a symbolic link (sites-enabled/x → sites-available/x)
    const r = realOrSelf(path);
    return r !== path ? this.byPath.get(r)?.text : undefined;
  };

  /** The main configs a document may be read by: those of the workspace folders, and those in the
   * folders above it. */
  async mainsFor(path: string): Promise<string[]> {
    const out = new Set<string>();
    const { expandPaths } = await import('../files.js');
    for (const f of this.folders) {
      if (!(path === f || path.startsWith(f.endsWith('/') ? f : f + '/'))) continue;
      let mains = this.folderMains.get(f);
      if (!mains) {
        const found = await expandPaths([f], f);
        mains = found.files.filter((p) => p !== '-' && isMainConfig(p));
        this.folderMains.set(f, mains);
      }
      for (const m of mains) out.add(m);
    }
    // the main configs around it, as lint looks a fragment up (src/load.ts)
    for (const server of ['nginx', 'apache'] as const) for (const m of mainCandidates(path, server)) out.add(m);
    out.delete(path);
    return [...out];
  }

  private async caches(): Promise<SetCache> {
    if (!this.setCache) {
      const { SetCache, RunParseCache } = await import('./set-cache.js');
      const { lintSet } = await import('../linter.js');
      this.setCache = new SetCache(lintSet);
      this.parseCache = new RunParseCache();
    }
    return this.setCache;
  }

  /** Lint the trees of these documents as `why403 <mains…> <files…>` would, with unsaved buffers.
   * A settings file that does not validate (ConfigError) is reported for the documents it governs. */
  async lintDocs(
    docs: OpenDoc[],
  ): Promise<{ runs: LintRun[]; untitled: Array<{ doc: OpenDoc; run: LintRun }>; configErrors: Array<{ doc: OpenDoc; message: string }> }> {
    const { lint, lintText } = await import('../run.js');
    const { overlayReads } = await import('../read.js');
    const cache = await this.caches();
    const parseCache = this.parseCache!;
    const epoch = this.diskEpoch;
    cache.begin();
    parseCache.begin();
    const runs: LintRun[] = [];
    const untitled: Array<{ doc: OpenDoc; run: LintRun }> = [];
    const configErrors: Array<{ doc: OpenDoc; message: string }> = [];
    const onDisk = docs.filter((d) => d.path && existsSync(d.path));
    const byCwd = new Map<string, { paths: string[]; docs: OpenDoc[] }>();
    for (const d of onDisk) {
      const cwd = this.cwdFor(d.path);
      const g = byCwd.get(cwd) ?? { paths: [], docs: [] };
      for (const m of await this.mainsFor(d.path!)) if (!g.paths.includes(m)) g.paths.push(m);
      if (!g.paths.includes(d.path!)) g.paths.push(d.path!);
      g.docs.push(d);
      byCwd.set(cwd, g);
    }
    const isConfigError = (e: unknown) => e instanceof Error && e.name === 'ConfigError';
    const prev = overlayReads(this.overlay);
    try {
      for (const [cwd, g] of byCwd) {
        try {
          runs.push(await lint(g.paths, { cwd, lintSet: cache.lintSet, parseCache }));
        } catch (e) {
          if (!isConfigError(e)) throw e;
          // one bad settings file must not hide the findings of the other documents: each alone
          for (const d of g.docs) {
            try {
              runs.push(await lint([...(await this.mainsFor(d.path!)), d.path!], { cwd, lintSet: cache.lintSet, parseCache }));
            } catch (e2) {
              if (!isConfigError(e2)) throw e2;
              configErrors.push({ doc: d, message: (e2 as Error).message });
            }
          }
        }
      }
      for (const d of docs) {
        if (d.path && existsSync(d.path)) continue;
        // an untitled buffer or a file not saved yet: linted alone, under its name
        const cwd = this.cwdFor(d.path);
        try {
          untitled.push({ doc: d, run: await lintText(d.text, { cwd, filename: d.path ?? 'untitled.conf', noConfig: !d.path }) });
        } catch (e) {
          if (!isConfigError(e)) throw e;
          configErrors.push({ doc: d, message: (e as Error).message });
        }
      }
    } finally {
      overlayReads(prev);
      this.linted = { epoch, sets: cache.end() };
      parseCache.end();
    }
    return { runs, untitled, configErrors };
  }

  /** The loaded tree a document belongs to: a main config that includes it, else the document alone. */
  async treeFor(doc: OpenDoc): Promise<Tree | null> {
    const linted = await this.lintedTreeFor(doc);
    if (linted) return linted;
    if (this.trees.version !== this.version) this.trees = { version: this.version, mains: new Map() };
    const { overlayReads } = await import('../read.js');
    const prev = overlayReads(this.overlay);
    try {
      if (doc.path) {
        for (const m of await this.mainsFor(doc.path)) {
          const t = await this.loadTree(m, doc.path);
          if (t && pathInSet(t.set, doc.path) !== null) return t;
        }
      }
      const self = doc.path ?? resolve(this.cwdFor(null), 'untitled.conf');
      const t = await this.loadTree(self, doc.path, doc.path ? undefined : doc.text);
      if (t && t.set.server === 'apache' && t.set.root.context === 'htaccess' && doc.path) {
        // tied to the Apache main configs around it, as lint ties it (AllowOverride, the served URL)
        const { linkHtaccess } = await import('../apache/model/htaccess-link.js');
        const mains: Tree[] = [];
        for (const m of await this.mainsFor(doc.path)) {
          const mt = await this.loadTree(m, doc.path);
          if (mt && mt.set.server === 'apache' && mt.set.root.context !== 'htaccess') mains.push(mt);
        }
        linkHtaccess(t.set, mains);
      }
      return t;
    } finally {
      overlayReads(prev);
    }
  }

  /** The tree the last lint run linted the document in, when it is still what the editor has (the
   * text of every open document it read unchanged, no change on disk reported since): its model is
   * the one the lint built. The same choice as below: a main config around the document first. */
  private async lintedTreeFor(doc: OpenDoc): Promise<Tree | null> {
    if (!doc.path || this.linted.epoch !== this.diskEpoch) return null;
    const holding = this.linted.sets.filter((l) => fileInSet(l.set, doc.path!) !== null);
    if (!holding.length) return null;
    const mains = await this.mainsFor(doc.path);
    const rank = (l: LintedSet) => {
      const i = mains.indexOf(l.set.root.source.path);
      return i === -1 ? mains.length : i;
    };
    const best = holding.sort((a, b) => rank(a) - rank(b))[0];
    for (const d of this.docs.values()) {
      if (!d.path) continue;
      const f = fileInSet(best.set, d.path);
      if (f && f.source.text !== d.text) return null; // edited since: not linted yet
    }
    const m = best.modelOptions;
    const lo: LoadOptions = {
      ...(m.pathMap ? { pathMap: m.pathMap } : {}),
      ...(m.prefix ? { prefix: m.prefix } : {}),
      ...(m.serverRoot ? { serverRoot: m.serverRoot } : {}),
      ...(m.defines ? { defines: m.defines } : {}),
    };
    return { set: best.set, settings: best.settings, modelOptions: m, lo };
  }

  /** The tree of a main config (one load per version of the open documents). */
  async loadTree(path: string, forFile: string | null, text?: string): Promise<Tree | null> {
    const key = text === undefined ? path : `${path}\0text`;
    if (this.trees.mains.has(key)) return this.trees.mains.get(key) ?? null;
    let tree: Tree | null = null;
    try {
      const { ConfigResolver } = await import('../config.js');
      const { loadOptionsFor, settingsFor, validationRules, modelOptionsOf } = await import('../settings.js');
      const { loadConfig } = await import('../load.js');
      const cwd = this.cwdFor(forFile ?? path);
      let cfg: LoadedConfig = { file: null, dir: cwd, config: {} };
      try {
        cfg = new ConfigResolver(await validationRules(), { cwd }).forFile(path);
      } catch {
        // a bad .why403.json: lint reports it; the tree is read without settings
      }
      const lo = loadOptionsFor(cfg, {}, cwd);
      await this.caches();
      const parseCache = this.parseCache!;
      const set = loadConfig(path, text === undefined ? { ...lo, parseCache } : { ...lo, text, parseCache });
      tree = { set, settings: settingsFor(cfg), modelOptions: modelOptionsOf(lo), lo };
    } catch {
      tree = null;
    }
    this.trees.mains.set(key, tree);
    return tree;
  }
}
