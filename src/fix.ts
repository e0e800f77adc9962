/**
 * Applying fixes and writing files. Fixes are ranges of `SourceFile.text`; they are applied left to
 * right and a fix that overlaps an earlier one is skipped (its finding stays reported and a later
 * pass may apply it). `SourceFile.encode` restores the BOM and any invalid UTF-8 bytes, so bytes
 * outside the fixed ranges are unchanged.
 *
 * Two guards keep `--fix` from changing what the server does or what the user may write:
 *
 * - `fixGuard`: the fixed text is parsed again (same server, same context) and its directives
 *   outside the fixed ranges (names, argument values, nesting) must be the ones of the original,
 *   with no new syntax error. Otherwise the fix is withheld (run.ts keeps the finding with a note).
 * - `writeFixed`: a file is rewritten only when the user may write it (access(W_OK) on the file, and
 *   even as root a file with no write bit is left alone), its owner and group are kept (or it is
 *   not written), a file with other hard links is written in place (the links stay one file), and
 *   otherwise atomically: a temporary file in the same directory, owner, group and mode copied,
 *   fsync, rename. A symlink is written through to its target.
 */
import {
  accessSync,
  closeSync,
  constants as fsc,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Diagnostic, Directive, Node, ParsedFile } from './ast.js';
import type { FileEntry } from './linter.js';
import type { Fix } from './rule.js';
import { SourceFile } from './source.js';

/** Maximum lint → fix passes, as ESLint does. */
export const MAX_FIX_PASSES = 10;

export interface FixResult {
  output: string;
  applied: number;
  skipped: number;
}

/** The fixes that apply together, in text order: overlapping and malformed ones are left out. */
export function selectFixes(text: string, fixes: readonly Fix[]): { fixes: Fix[]; skipped: number } {
  const sorted = [...fixes].sort((a, b) => a.range[0] - b.range[0] || a.range[1] - b.range[1]);
  const out: Fix[] = [];
  let at = 0;
  let skipped = 0;
  for (const f of sorted) {
    const [s, e] = f.range;
    if (s < at || s > e || e > text.length) {
      skipped++;
      continue;
    }
    out.push(f);
    at = e;
  }
  return { fixes: out, skipped };
}

/** Apply fixes that `selectFixes` returned (sorted, not overlapping). */
export function applySelected(text: string, fixes: readonly Fix[]): string {
  let out = '';
  let at = 0;
  for (const f of fixes) {
    out += text.slice(at, f.range[0]) + f.text;
    at = f.range[1];
  }
  return out + text.slice(at);
}

export function applyFixes(text: string, fixes: readonly Fix[]): FixResult {
  const sel = selectFixes(text, fixes);
  return { output: applySelected(text, sel.fixes), applied: sel.fixes.length, skipped: sel.skipped };
}

// ---------------------------------------------------------------------------------------------
// The re-parse guard

/** One directive as the comparison sees it. */
export interface FlatDirective {
  depth: number;
  /** Name, argument values (and the raw body of an nginx `*_by_lua_block`), whether it has a block. */
  key: string;
  /** From the start of the name to the end of the last argument: the directive's own text. */
  head: [number, number];
  line: number;
  shown: string;
}

/** Every directive of a file in reading order with its depth (an explicit stack: nesting is unbounded). */
export function flattenDirectives(nodes: readonly Node[]): FlatDirective[] {
  const out: FlatDirective[] = [];
  const stack: Array<{ nodes: readonly Node[]; i: number; depth: number }> = [{ nodes, i: 0, depth: 0 }];
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (f.i >= f.nodes.length) {
      stack.pop();
      continue;
    }
    const n = f.nodes[f.i++];
    if (n.type !== 'directive') continue;
    out.push(flat(n, f.depth));
    if (n.block) stack.push({ nodes: n.block, i: 0, depth: f.depth + 1 });
  }
  return out;
}

function flat(d: Directive, depth: number): FlatDirective {
  const last = d.args.length ? d.args[d.args.length - 1].span.end.offset : d.nameSpan.end.offset;
  const key = [d.name, ...d.args.map((a) => a.value)].join('\u0000') + (d.block ? '\u0000{' : '') + (d.rawBody ?? '');
  const shown = [d.name, ...d.args.map((a) => a.raw)].join(' ');
  return { depth, key, head: [d.nameSpan.start.offset, Math.max(last, d.nameSpan.end.offset)], line: d.span.start.line, shown };
}

/** Does a directive's own text [a, b) meet the range [s, e)? An empty range meets what it touches
 * when `touching` (an insertion at the end of a directive changes it). */
function meets(head: [number, number], s: number, e: number, touching: boolean): boolean {
  const [a, b] = head;
  if (touching) return a <= e && s <= b;
  return s < e && a < e && s < b;
}

/** Parse a text as the file `parsed` was read: same server, same context (same options for both
 * texts, so parser options cannot make a difference). */
async function reparser(parsed: ParsedFile): Promise<(text: string) => ParsedFile> {
  const src = parsed.source;
  const make = (text: string) => new SourceFile(src.path, text, { bom: src.bom, invalidUtf8: src.invalidUtf8 });
  if (parsed.server === 'nginx') {
    const { parseNginx } = await import('./nginx/parser.js');
    return (text) => parseNginx(make(text), { context: parsed.context, pathHint: src.path });
  }
  const { parseApache } = await import('./apache/parser.js');
  const context = parsed.context as 'server' | 'directory' | 'htaccess';
  return (text) => parseApache(make(text), { context, htaccessDir: parsed.htaccessDir });
}

function errorCounts(errors: readonly Diagnostic[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const d of errors) m.set(d.code, (m.get(d.code) ?? 0) + 1);
  return m;
}

/**
 * Why applying `fixes` (from `selectFixes`) to the file would change what the server reads outside
 * the fixed ranges, or null when it would not. Compared: the directives outside every fixed range
 * (in reading order, with their depth, names and argument values) of the original and of the fixed
 * text, and the syntax errors (a kind the original does not have as often is a new one).
 */
export async function fixGuard(parsed: ParsedFile, fixes: readonly Fix[], output?: string): Promise<string | null> {
  const parse = await reparser(parsed);
  const text = parsed.source.text;
  return guardWith(parse, text, fixes, output ?? applySelected(text, fixes));
}

/** `fixGuard` with a parse function (for callers that hold one). */
export function guardWith(parse: (text: string) => ParsedFile, text: string, fixes: readonly Fix[], output: string): string | null {
  const before = parse(text);
  const after = parse(output);
  const old = flattenDirectives(before.nodes);
  const neu = flattenDirectives(after.nodes);
  // Each fix's range in the original and in the output.
  const ranges: Array<{ s: number; e: number; ns: number; ne: number; touches: boolean }> = [];
  let delta = 0;
  for (const f of fixes) {
    const [s, e] = f.range;
    const ns = s + delta;
    delta += f.text.length - (e - s);
    ranges.push({ s, e, ns, ne: ns + f.text.length, touches: false });
  }
  const keptOld = old.filter((d) => {
    let inside = false;
    for (const r of ranges) {
      if (meets(d.head, r.s, r.e, r.s === r.e)) {
        r.touches = true;
        inside = true;
      }
    }
    return !inside;
  });
  // A fix that changed no directive of the original may only create directives inside its new text;
  // one that did may also have changed the directive its (now empty) range touches.
  const keptNew = neu.filter((d) => !ranges.some((r) => meets(d.head, r.ns, r.ne, r.touches)));
  const n = Math.min(keptOld.length, keptNew.length);
  const same = (a: FlatDirective | undefined, b: FlatDirective | undefined) => !!a && !!b && a.key === b.key && a.depth === b.depth;
  for (let i = 0; i < n; i++) {
    const a = keptOld[i];
    const b = keptNew[i];
    if (same(a, b)) continue;
    // Say what happened at the first difference: a directive appears, goes, moves or changes.
    if (same(a, keptNew[i + 1])) return `\`${b.shown}\` would become a directive (line ${b.line} of the fixed text)`;
    if (same(keptOld[i + 1], b)) return `\`${a.shown}\` (line ${a.line}) would no longer be read`;
    if (a.key === b.key) return `\`${a.shown}\` (line ${a.line}) would move to nesting depth ${b.depth}`;
    return `\`${a.shown}\` (line ${a.line}) would be read as \`${b.shown}\``;
  }
  if (keptNew.length > n) return `\`${keptNew[n].shown}\` would become a directive (line ${keptNew[n].line} of the fixed text)`;
  if (keptOld.length > n) return `\`${keptOld[n].shown}\` (line ${keptOld[n].line}) would no longer be read`;
  const had = errorCounts(before.errors);
  for (const d of after.errors) {
    const c = had.get(d.code) ?? 0;
    if (c === 0) return `the fixed text would have a syntax error: ${d.message}`;
    had.set(d.code, c - 1);
  }
  return null;
}

/** Take the fix off a file's findings (all, or those of `only`), noting why in their message. */
export function withholdFixes(entry: FileEntry, note: string, only?: ReadonlySet<Fix>): void {
  for (const m of entry.messages) {
    if (!m.fix || (only && !only.has(m.fix))) continue;
    delete m.fix;
    m.message += ` (${note})`;
  }
}

/** Fixes of one file checked one by one when they fail together (see planFixes). */
export const MAX_SEPARATE_CHECKS = 100;

/**
 * The fixed text of a file, or null when nothing is to change. Fixes that `fixGuard` rejects are
 * withheld (taken off their findings, with a note): all together first; when that fails, each one
 * alone, and the ones that pass alone are applied if they pass together.
 */
export async function planFixes(entry: FileEntry): Promise<string | null> {
  const fixes = entry.messages.filter((m) => m.fix).map((m) => m.fix!);
  if (fixes.length === 0 || !entry.source) return null;
  const text = entry.source.text;
  if (!entry.parsed) {
    withholdFixes(entry, 'fix withheld: the file could not be parsed to check it');
    return null;
  }
  const sel = selectFixes(text, fixes);
  if (sel.fixes.length === 0) return null;
  const reparse = await reparser(entry.parsed);
  let original: ParsedFile | undefined;
  const parse = (t: string) => (t === text ? (original ??= reparse(t)) : reparse(t));
  let output = applySelected(text, sel.fixes);
  const why = guardWith(parse, text, sel.fixes, output);
  if (why !== null) {
    // Each fix alone costs two parses: beyond a bound, the file's fixes are withheld together.
    if (sel.fixes.length > MAX_SEPARATE_CHECKS) {
      withholdFixes(entry, `fix withheld: applying the fixes of this file would change what the server reads: ${why}`, new Set(sel.fixes));
      return null;
    }
    const good: Fix[] = [];
    for (const f of sel.fixes) {
      const alone = guardWith(parse, text, [f], applySelected(text, [f]));
      if (alone === null) good.push(f);
      else withholdFixes(entry, `fix withheld: applying it would change what the server reads: ${alone}`, new Set([f]));
    }
    output = applySelected(text, good);
    const together = good.length ? guardWith(parse, text, good, output) : null;
    if (together !== null) {
      withholdFixes(entry, `fix withheld: applying it with the other fixes would change what the server reads: ${together}`, new Set(good));
      return null;
    }
    if (good.length === 0) return null;
  }
  return output === text ? null : output;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** `retry`: the file changed since it was read (e.g. another hard-linked name of it was just fixed):
 * not an error, the next pass reads it again. */
export type WriteOutcome = { written: true; inPlace: boolean } | { written: false; reason: string; retry?: boolean };

function osError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string') {
    const m = /^[A-Z0-9_]+: ([^,]+)/.exec(err.message);
    return `${err.code}: ${m ? m[1] : err.message}`;
  }
  return e instanceof Error ? e.message : String(e);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off, off);
}

/**
 * Write `text` (encoded as `source` was) to `source.path`, keeping owner, group and mode, or say why
 * not. The file is left unchanged when it is not written. See the module comment for the rules.
 */
export function writeFixed(source: SourceFile, text: string): WriteOutcome {
  let path: string;
  let st: ReturnType<typeof statSync>;
  try {
    // Write through a symlink to its target (renaming over the link would replace it by a file).
    path = realpathSync(source.path);
    st = statSync(path);
  } catch (e) {
    return { written: false, reason: `cannot read it again (${osError(e)})` };
  }
  if (!st.isFile()) return { written: false, reason: 'it is not a regular file' };
  const mode = st.mode & 0o7777;
  // Checked before access(): root passes access(W_OK) whatever the mode.
  if ((mode & 0o222) === 0) {
    return {
      written: false,
      reason: `it is read-only (mode ${mode.toString(8).padStart(4, '0')}); make it writable to let --fix change it`,
    };
  }
  try {
    accessSync(path, fsc.W_OK);
  } catch (e) {
    return { written: false, reason: `it is not writable by this user (${osError(e)})` };
  }
  let current: Buffer;
  try {
    current = readFileSync(path);
  } catch (e) {
    return { written: false, reason: `cannot read it again (${osError(e)})` };
  }
  const bytes = source.encode(text);
  if (!current.equals(Buffer.from(source.encode(source.text)))) {
    // Already the fixed text (the same file under another name was fixed a moment ago): done.
    if (current.equals(Buffer.from(bytes))) return { written: true, inPlace: true };
    return { written: false, reason: 'it changed since it was read', retry: true };
  }
  return st.nlink > 1 ? writeInPlace(path, bytes, current) : writeByRename(path, bytes, st.uid, st.gid, mode);
}

/** Hard links: the file must stay the same inode. Write over it, then cut it to length; on failure,
 * put the original bytes back (held in memory: no backup file). */
function writeInPlace(path: string, bytes: Uint8Array, original: Uint8Array): WriteOutcome {
  let fd = -1;
  try {
    fd = openSync(path, fsc.O_WRONLY | (fsc.O_NOFOLLOW ?? 0));
  } catch (e) {
    return { written: false, reason: `cannot open it for writing (${osError(e)})` };
  }
  try {
    writeAll(fd, bytes);
    ftruncateSync(fd, bytes.length);
    fsyncSync(fd);
    return { written: true, inPlace: true };
  } catch (e) {
    let restored = true;
    try {
      writeAll(fd, original);
      ftruncateSync(fd, original.length);
      fsyncSync(fd);
    } catch {
      restored = false;
    }
    const reason = `writing it in place failed (${osError(e)})`;
    return { written: false, reason: restored ? reason : `${reason} and restoring its content failed too: check it` };
  } finally {
    closeSync(fd);
  }
}

function writeByRename(path: string, bytes: Uint8Array, uid: number, gid: number, mode: number): WriteOutcome {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.why403-${process.pid}-${Date.now()}.tmp`);
  let fd = -1;
  const fail = (reason: string): WriteOutcome => {
    if (fd !== -1) closeSync(fd);
    fd = -1;
    try {
      unlinkSync(tmp);
    } catch {
      /* never created, or already gone */
    }
    return { written: false, reason };
  };
  try {
    fd = openSync(tmp, 'wx', 0o600);
  } catch (e) {
    return { written: false, reason: `cannot create a temporary file in ${dir} (${osError(e)})` };
  }
  try {
    const t = fstatSync(fd);
    if (t.uid !== uid || t.gid !== gid) {
      try {
        fchownSync(fd, uid, gid);
      } catch (e) {
        return fail(`its owner (uid ${uid}) and group (gid ${gid}) could not be kept (${osError(e)})`);
      }
    }
    writeAll(fd, bytes);
    // After fchown, which clears set-id bits.
    fchmodSync(fd, mode);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    return fail(`writing it failed (${osError(e)})`);
  }
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* the rename is done; a directory that cannot be synced is no reason to report a failure */
  }
  return { written: true, inPlace: false };
}
