/**
 * Files outside the linted tree. A config may include any readable file (`include /etc/shadow;`),
 * and parse errors and findings quote source text, so a config in an untrusted pull request could
 * print the first line of a secret into a CI log. For a file that is not under the directory of a
 * path named on the command line nor under the working directory, why403 shows at most the name of
 * a directive the server knows, never arguments, comments or other text (README "Security").
 */
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { apacheDirective } from './apache/directives.js';
import { isNormalAbsolute, normalBelow } from './files.js';
import { isKnownDirective } from './nginx/directives.js';

export const WITHHELD = 'text from files outside the linted tree is not shown';

/** The directories a run may quote from: the working directory and, for each path given, the
 * directory it names (a file's directory; a glob's directory part before its first wildcard). */
export function treeRoots(cwd: string, paths: readonly string[], stdinFilename?: string): string[] {
  const roots = new Set<string>([resolve(cwd)]);
  for (const p of [...paths, ...(stdinFilename ? [stdinFilename] : [])]) {
    if (p === '-' || p === '') continue;
    const wild = p.search(/[*?[\]{}!]/);
    if (wild !== -1) {
      const cut = p.slice(0, wild);
      roots.add(resolve(cwd, cut.endsWith('/') ? cut : dirname(cut)));
      continue;
    }
    const abs = resolve(cwd, p);
    roots.add(abs);
    roots.add(dirname(abs));
  }
  return [...roots];
}

/** `(file) => true` when the file is under one of the roots. A root that is a file counts for that
 * file only (its directory is a root as well). */
export function insideTree(roots: readonly string[]): (file: string) => boolean {
  // asked once per trace step of every proof: each file's answer is computed once
  const known = new Map<string, boolean>();
  // normal absolute paths (every root, and the loader's file names) compare as strings: what
  // relative() would say, without its two resolve() calls per root
  const plain = roots.every(isNormalAbsolute);
  return (file) => {
    if (!isAbsolute(file)) return true; // relative names (stdin) are the user's own text
    let v = known.get(file);
    if (v === undefined) {
      v =
        plain && isNormalAbsolute(file)
          ? roots.some((r) => normalBelow(r, file) !== null)
          : roots.some((r) => {
              const rel = relative(r, file);
              return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`));
            });
      known.set(file, v);
    }
    return v;
  };
}

/** A directive name that may be shown: one the server knows. Anything else (an unknown first word
 * of a secret file) is not shown. */
export function knownName(name: string | undefined, server: 'nginx' | 'apache' | undefined): string | null {
  if (!name || name.length > 64) return null;
  const bare = name.replace(/^<\/?/, '').replace(/>$/, '');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(bare)) return null;
  const nginx = server !== 'apache' && isKnownDirective(bare);
  const apache =
    server !== 'nginx' && (apacheDirective(bare.toLowerCase()) !== undefined || apacheDirective(`<${bare.toLowerCase()}`) !== undefined);
  return nginx || apache ? bare : null;
}

/** The first word of a config line (a directive name or a section opener). */
export function firstWord(line: string): string | undefined {
  return /^\s*(<\/?[^\s>]+|[^\s;{}#"']+)/.exec(line)?.[1];
}

/** The message shown for a finding in a file outside the tree. */
export function withheldMessage(description: string, name: string | null): string {
  return `${description} (${name ? `at \`${name}\`; ` : ''}${WITHHELD})`;
}

interface PayloadLike {
  errors?: Array<{ file?: string; error?: string }>;
  config?: Array<{ file?: string; errors?: Array<{ error?: string }>; parsed?: unknown[] }>;
}

/** `why403 parse --format json` (crossplane and Apache payloads): for files outside the tree, the
 * directive names the server knows, no arguments, no comments, no error text. */
export function redactPayload<T>(payload: T, inside: (file: string) => boolean, cwd: string, server: 'nginx' | 'apache'): T {
  const p = payload as PayloadLike;
  const out = (f: string | undefined) => f !== undefined && !inside(resolve(cwd, f));
  for (const e of p.errors ?? []) if (out(e.file) && e.error !== undefined) e.error = WITHHELD;
  for (const c of p.config ?? []) {
    if (!out(c.file)) continue;
    for (const e of c.errors ?? []) if (e.error !== undefined) e.error = WITHHELD;
    const stack: unknown[][] = [c.parsed ?? []];
    while (stack.length) {
      for (const d of stack.pop()! as Array<Record<string, unknown>>) {
        d.directive = knownName(String(d.directive ?? ''), server) ?? '';
        if (Array.isArray(d.args)) d.args = [];
        delete d.comment;
        if (Array.isArray(d.block)) stack.push(d.block);
      }
    }
  }
  return payload;
}
