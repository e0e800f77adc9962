/**
 * What the disk rules (rules/*-fs-*.ts) share: each takes the groups of one kind from the model's
 * disk scan (src/model/disk.ts), proves the first candidates of a group with `explain --fs`
 * (`ctx.prove`), and reports the group once, at the directive that serves it: the path, its mode and
 * owner, the worker user, how many paths of the root have the same problem (the first few named),
 * the URL that gets the status, and the command that fixes it. A docroot with 10,000 unreadable files
 * is one finding per serving directive, not 10,000.
 */
import type { CauseId } from '../causes.js';
import type { RuleContext } from '../rule.js';
import { diskGroups, modeText, pathList, type DiskEntry, type DiskGroup, type DiskKind, type DiskScan } from './disk.js';
import type { Proof } from './types.js';

/** Candidates of one group tried with explain before the group is given up. */
export const MAX_PROVES = 5;

export interface DiskRuleSpec {
  kind: DiskKind;
  /** The status the finding claims. */
  status: number;
  /** The catalog causes a proof must show (another cause means something else decides). */
  causes?: readonly CauseId[];
  /** The command (or change) that fixes it. */
  fix(g: DiskGroup, e: DiskEntry, scan: DiskScan): string;
  /** Only the groups this accepts (default: all). */
  filter?(g: DiskGroup): boolean;
}

/** Every group of `spec.kind` that explain confirms, reported once with message `messageId`. The
 * message data: path, mode (mode and owner), user, count, paths, url, served (the serving directive as
 * text), dir, cause, fix, note, skipped. */
export function reportDisk<M extends string>(ctx: RuleContext<M, object>, messageId: M, spec: DiskRuleSpec): void {
  const scan = ctx.model.disk();
  if (!scan) return;
  for (const g of diskGroups(ctx.model, spec.kind)) {
    if (spec.filter && !spec.filter(g)) continue;
    let hit: { entry: DiskEntry; proof: Proof } | null = null;
    for (const e of g.entries.slice(0, MAX_PROVES)) {
      const proof = ctx.prove(g.root.sample(e.url), { status: spec.status });
      if (!proof) continue;
      if (spec.causes && !(proof.cause && spec.causes.includes(proof.cause))) continue;
      hit = { entry: e, proof };
      break;
    }
    if (!hit) continue;
    const e = hit.entry;
    const others = g.count - 1;
    ctx.report({
      node: g.root.node,
      messageId,
      data: {
        path: e.path,
        mode: e.type === 'none' ? 'does not exist' : modeText(e),
        user: `${scan.worker.user} (uid ${scan.worker.uid}, from ${scan.worker.from})`,
        count: g.count,
        others: others > 0 ? ` (and ${others} more like it under ${g.root.dir}: ${otherPaths(g, e)})` : '',
        paths: pathList(g),
        url: `${hit.proof.request.method} ${hit.proof.request.url}`,
        status: hit.proof.status,
        served: g.root.label,
        dir: g.root.dir,
        cause: hit.proof.cause ?? '',
        fix: spec.fix(g, e, scan),
        note: e.note ? ` (${e.note})` : '',
        skipped: scan.skipped.length
          ? ` Not scanned: ${scan.skipped.slice(0, 2).join('; ')}${scan.skipped.length > 2 ? ` and ${scan.skipped.length - 2} more` : ''}.`
          : '',
      },
      proof: hit.proof,
    });
  }
}

/** The other paths of a group than `e`: the first three, then a count. */
function otherPaths(g: DiskGroup, e: DiskEntry): string {
  const rest = g.entries.filter((x) => x !== e);
  const shown = rest.slice(0, 3).map((x) => x.path);
  const more = g.count - 1 - shown.length;
  return more > 0 ? `${shown.join(', ')}, …` : shown.join(', ');
}

/** The chmod that gives "others" the bit, or, when the worker owns the path or is in its group, the
 * owner's or group's bit. */
export function chmodFor(e: DiskEntry, scan: DiskScan, bit: 'r' | 'x'): string {
  const who = e.uid === scan.worker.uid ? 'u' : scan.worker.gids.includes(e.gid) ? 'g' : 'o';
  return `chmod ${who}+${bit} ${quote(e.path)}`;
}

/** The fix of an unreadable file, or of a group of them (one `find … chmod o+r` for the root). */
export const readableFix: DiskRuleSpec['fix'] = (g, e, scan) =>
  g.count > 1 ? `find ${quote(g.root.dir)} -type f ! -perm -o=r -exec chmod o+r {} +` : chmodFor(e, scan, 'r');

/** The fix of a directory the worker cannot search. */
export const searchableFix: DiskRuleSpec['fix'] = (_g, e, scan) => chmodFor(e, scan, 'x');

export function quote(p: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}
