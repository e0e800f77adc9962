/**
 * `explain --htaccess` (Apache): the access files (AccessFileName, `.htaccess` by default) of the
 * directories a request walks, read from disk through the path map when the simulator asks for them,
 * and nothing else of the disk (no stat of the served files, no modes or owners: that is `--fs`).
 *
 * The simulator takes the .htaccess files it may read as `SimRequest.htaccess`, a map from installed
 * directory (no trailing slash) to the parsed file, where a directory without an entry has none (as
 * `why403 diff` hands them in). `HtaccessReader` is that map filled on demand: `get(dir)` reads
 * `<dir>/<name>` for each access file name, the first one that reads is parsed as Apache parses an
 * access file and kept. A file that cannot be read as a regular text file counts as absent (without
 * --fs explain does not know why: a missing file and one the worker cannot read look alike here).
 *
 * Proofs of findings in a .htaccess set linked to a main config (src/model/proof.ts) explain on the
 * main config with such a reader, the .htaccess files the run linted (linked to that config) standing
 * in for their directories, so that `why403 explain <main> <url> --htaccess` gives the same answer
 * from the same files.
 */
import { statSync } from 'node:fs';
import type { ParsedFile, PathMapping } from '../ast.js';
import { parseApache } from '../apache/parser.js';
import { mapPath } from '../load-options.js';
import { readSource } from '../read.js';

export class HtaccessReader extends Map<string, ParsedFile> {
  /** Directories read and found without an access file. */
  private readonly none = new Set<string>();
  /** Access files read from disk (work counts for the tests; a directory without one costs a stat). */
  reads = 0;
  constructor(
    private readonly names: readonly string[],
    private readonly pathMap: PathMapping[],
    /** Parsed files that stand in for the disk's in their directories (the linted text of a file). */
    private readonly own?: ReadonlyMap<string, ParsedFile>,
    /** The reader whose disk reads this one shares (`with`). */
    private readonly shared?: HtaccessReader,
  ) {
    super();
  }

  override get(dir: string): ParsedFile | undefined {
    const mine = this.own?.get(dir);
    if (mine) return mine;
    if (this.shared) return this.shared.get(dir);
    const had = super.get(dir);
    if (had !== undefined || this.none.has(dir)) return had;
    const base = dir === '/' ? '' : dir;
    for (const name of this.names) {
      if (name.includes('/')) continue;
      const path = mapPath(`${base}/${name}`, this.pathMap);
      // (most directories on a path have none: a stat, not a read that formats an error)
      if (!exists(path)) continue;
      this.reads++;
      const parsed = readAccessFile(path, dir);
      if (!parsed) continue;
      super.set(dir, parsed);
      return parsed;
    }
    this.none.add(dir);
    return undefined;
  }

  override has(dir: string): boolean {
    return this.get(dir) !== undefined;
  }

  /** This reader (and what it has read and will read) with `own` standing in for the disk in those
   * directories: one per proof, sharing the disk reads. */
  with(own: ReadonlyMap<string, ParsedFile>): HtaccessReader {
    return new HtaccessReader(this.names, this.pathMap, own, this.shared ?? this);
  }
}

/** The access file at `path` (on disk), parsed as Apache reads the one of installed directory `dir`;
 * null when it cannot be read. */
export function readAccessFile(path: string, dir: string): ParsedFile | null {
  const r = readSource(path);
  return r.ok ? parseApache(r.source, { context: 'htaccess', htaccessDir: dir }) : null;
}

/** Whether anything is at `path` (ENOENT, ENOTDIR: nothing; any other error: let the reader say). */
function exists(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOTDIR';
  }
}
