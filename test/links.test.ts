/**
 * Every Markdown link in README.md, rules/*.md and docs/*.md resolves: a relative link names a file
 * or directory of the repository, its #anchor (into a Markdown file) names a heading there, and when
 * the linking file is in the npm package (package.json `files`) so is the target. Links into
 * ../shared (the team's workspace, which users do not have) and absolute file paths fail.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import picomatch from 'picomatch';
import { describe, expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };
// npm always packs package.json, README and LICENSE; a `files` entry that is a directory takes all below it.
const inPackage = picomatch(['package.json', 'README.md', 'LICENSE', ...pkg.files.flatMap((f) => [f, `${f}/**`])], { dot: true });

const sources = [
  'README.md',
  ...readdirSync(join(root, 'rules'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `rules/${f}`),
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Link targets of a Markdown text: inline `[x](t)` / `![x](t)`, reference definitions `[x]: t` and
 * `<a href="t">`, outside fenced code blocks and code spans. */
export function markdownLinks(text: string): Array<{ line: number; target: string }> {
  const out: Array<{ line: number; target: string }> = [];
  let fence: string | null = null;
  text.split('\n').forEach((raw, i) => {
    const f = /^\s*(`{3,}|~{3,})/.exec(raw);
    if (f) {
      if (fence === null) fence = f[1][0];
      else if (f[1][0] === fence) fence = null;
      return;
    }
    if (fence !== null) return;
    const line = raw.replace(/`+[^`]*`+/g, (m) => ' '.repeat(m.length));
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ line: i + 1, target: m[1] });
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
    if (def) out.push({ line: i + 1, target: def[1] });
    for (const m of line.matchAll(/<a\s[^>]*href="([^"]+)"/gi)) out.push({ line: i + 1, target: m[1] });
  });
  return out;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -N for repeats. */
export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(`{3,}|~{3,})/.test(line)) fence = !fence;
    if (fence) continue;
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const slug = h[1]
      .replace(/<[^>]+>/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  for (const m of markdown.matchAll(/<a\s[^>]*(?:name|id)="([^"]+)"/gi)) out.add(m[1]);
  return out;
}

describe('the link extractor', () => {
  test('finds inline, image, reference and HTML links; skips code', () => {
    const md = [
      '[a](x.md) ![i](img.png "t") `[no](code.md)`',
      '[ref]: docs/y.md',
      '```',
      '[no](fenced.md)',
      '```',
      '<a href="z.md#q">z</a>',
    ].join('\n');
    expect(markdownLinks(md).map((l) => l.target)).toEqual(['x.md', 'img.png', 'docs/y.md', 'z.md#q']);
  });
  test("GitHub's anchors", () => {
    expect([...anchorsOf('# The 403 catalog\n## In pre-commit, husky and CI\n## Usage\n## Usage\n')]).toEqual([
      'the-403-catalog',
      'in-pre-commit-husky-and-ci',
      'usage',
      'usage-1',
    ]);
  });
});

describe.each(sources)('%s', (source) => {
  test('every link resolves in the repository and, from a packaged file, in the package', () => {
    const text = readFileSync(join(root, source), 'utf8');
    const problems: string[] = [];
    for (const { line, target } of markdownLinks(text)) {
      const at = `${source}:${line}: ${target}`;
      if (/^(https?:|mailto:)/i.test(target)) continue;
      if (/^(file:|\/|[A-Za-z]:[\\/])/.test(target)) {
        problems.push(`${at}: an absolute file path (users do not have it)`);
        continue;
      }
      if (/(^|\/)\.\.\/shared(\/|$)/.test(target) || target.includes('/shared/design/')) {
        problems.push(`${at}: a link into ../shared (the team workspace, not in the repository)`);
        continue;
      }
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
        problems.push(`${at}: an unexpected scheme`);
        continue;
      }
      const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
      const file = pathPart === '' ? join(root, source) : resolve(dirname(join(root, source)), decodeURIComponent(pathPart));
      const rel = relative(root, file);
      if (rel.startsWith('..')) {
        problems.push(`${at}: points outside the repository`);
        continue;
      }
      if (!existsSync(file)) {
        problems.push(`${at}: no such file`);
        continue;
      }
      if (inPackage(source) && !inPackage(statSync(file).isDirectory() ? `${rel}/x` : rel))
        problems.push(`${at}: ${source} is in the npm package but ${rel} is not (package.json "files")`);
      if (anchor && file.endsWith('.md') && !anchorsOf(readFileSync(file, 'utf8')).has(anchor))
        problems.push(`${at}: no heading with the anchor #${anchor} in ${rel}`);
    }
    expect(problems).toEqual([]);
  });
});
