/**
 * The real-world corpus (/work/shared/corpus, read in place) against what nginx 1.22 said about
 * each file (INDEX.tsv): files nginx accepted parse with zero errors, loaded as nginx loaded them;
 * files nginx rejected as `syntax` get an error on the line nginx named.
 */
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ConfigSet, Diagnostic } from '../src/ast.js';
import type { PathMapping } from '../src/ast.js';
import { loadNginx } from '../src/nginx/load.js';
import { CORPUS, corpusLinks, corpusOrSkip, corpusRows, type CorpusRow } from './harness/corpus.js';

const present = corpusOrSkip('nginx corpus tests');

type Row = CorpusRow;
const rows = () => corpusRows('nginx');

const abs = (p: string) => join(CORPUS, p);
const DEBIAN = abs('nginx/debian-nginx-common/etc/nginx');
const H5BP = abs('nginx/h5bp-server-configs-nginx');

const LINKS = corpusLinks('nginx/');
/** Debian's modules-enabled/ links to the libnginx-mod stubs on an nginx-full install. */
const MODULES_TO = abs('nginx/debian-libnginx-mod/usr/share/nginx/modules-available');
const MODULES: PathMapping[] = [
  { from: join(DEBIAN, 'modules-enabled'), to: MODULES_TO },
  { from: '/etc/nginx/modules-enabled', to: MODULES_TO },
];

/** How nginx was made to read the file (INDEX `method`/`detail`), as a load of ours. */
function loadAsServer(r: Row): { set: ConfigSet; file: string } {
  const file = abs(r.path);
  const map: PathMapping[] = [...LINKS, ...MODULES];
  if (r.method.startsWith('via-main')) {
    const m = /included by (\S+)/.exec(r.detail);
    const main = abs(m![1]);
    map.push({ from: '/etc/nginx', to: dirname(main) });
    return { set: loadNginx(main, { pathMap: map }), file };
  }
  if (r.method.startsWith('layout')) {
    if (file.startsWith(join(H5BP, 'test/vhosts'))) {
      return {
        set: loadNginx(join(H5BP, 'nginx.conf'), { pathMap: [...map, { from: join(H5BP, 'conf.d'), to: join(H5BP, 'test/vhosts') }] }),
        file,
      };
    }
    return { set: loadNginx(file, { pathMap: [...map, { from: '/etc/nginx', to: dirname(file) }] }), file };
  }
  if (r.method.startsWith('as-is')) {
    if (r.detail.includes("Debian's stock /etc/nginx")) map.push({ from: '/etc/nginx', to: DEBIAN });
    return { set: loadNginx(file, { context: 'main', pathMap: map }), file };
  }
  // wrapped: "wrapped in <ctx> context of …"
  const m = /wrapped in (\w+) context/.exec(r.detail);
  const context = m ? m[1] : undefined;
  const h5bp = file.startsWith(H5BP);
  return { set: loadNginx(file, { context, pathMap: [...map, { from: '/etc/nginx', to: h5bp ? H5BP : DEBIAN }] }), file };
}

const fmt = (d: Diagnostic) => `${d.file.slice(CORPUS.length + 1)}:${d.span.start.line}:${d.span.start.column} ${d.code} ${d.message}`;

describe.skipIf(!present)('nginx corpus', () => {
  const all = present ? rows() : [];
  const ok = all.filter((r) => r.result === 'ok');
  const syntax = all.filter((r) => r.result === 'fails' && r.rejectClass === 'syntax');

  it('has the files INDEX.tsv lists', () => {
    expect(ok.length).toBeGreaterThan(250);
    expect(syntax.length).toBeGreaterThan(10);
  });

  it.each(ok.map((r) => [r.path, r] as const))('accepted by nginx, parses without errors: %s', (_p, r) => {
    const { set, file } = loadAsServer(r);
    const links = new Map(LINKS.map((l) => [l.from, l.to]));
    const read = [...set.files.keys()].map((k) => links.get(k) ?? k);
    expect(read, `${file} was not read`).toContain(file);
    // syntax and directive-table errors in every file read (a via-main load checks the whole tree)
    const errs = [...set.files.values()].flatMap((f) => f.errors.filter((e) => e.severity === 'error'));
    // include problems: only as-is/layout/via-main loads are the whole picture nginx saw
    if (!r.method.startsWith('wrapped')) errs.push(...set.errors);
    else errs.push(...set.errors.filter((e) => e.code === 'include-cycle'));
    expect(errs.map(fmt)).toEqual([]);
  });

  it.each(syntax.map((r) => [r.path, r] as const))('rejected by nginx as syntax, error on its line: %s', (_p, r) => {
    const m = /^(.*) in (\S+):(\d+)/.exec(r.detail)!;
    const [, message, where, line] = m;
    const { set } = loadAsServer(r);
    const target = abs(where);
    const errs = [...set.files.values()]
      .flatMap((f) => f.errors)
      .concat(set.errors)
      .filter((e) => e.file === target);
    // nginx names the line where it stopped (for a directive: where its `;` or `{` is); our span
    // of the problem must cover it
    const onLine = errs.filter((e) => e.span.start.line <= Number(line) && Number(line) <= e.span.end.line);
    expect(onLine.map(fmt), `nginx: ${message} at line ${line}; ours: ${errs.map(fmt).join('; ')}`).not.toEqual([]);
    // the message is nginx's own
    expect(onLine.some((e) => e.message.startsWith(message))).toBe(true);
  });
});
