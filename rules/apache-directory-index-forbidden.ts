/**
 * A20: mod_dir looks up each DirectoryIndex candidate with a subrequest, and that subrequest goes
 * through the access checks of the candidate's own URL — whether or not the file exists. When a
 * candidate's subrequest is refused (`<FilesMatch "\.php$"> Require all denied` catching
 * `index.php`), fixup_dir remembers the 403 and, if no candidate is served, answers it instead of
 * letting mod_autoindex list the directory. Reported from the model's neutral GET of every served
 * directory URL (its `dirIndex` lookup) in two cases: every candidate is refused, so the directory
 * URL always answers 403; or Options Indexes asks for a listing that the refused candidate turns
 * into a 403 whenever no other index file exists. With Indexes off the 403 happens either way (A18).
 * Only blanket denials count: a candidate refused to some clients (`Require ip`) is a restriction.
 */
import { directiveText, type Directive } from '../src/ast.js';
import { defineRule } from '../src/rule.js';
import type { ApacheView } from '../src/model/index.js';

const where = (m: ApacheView, d: Directive) => {
  const s = m.ownerOf(d)?.section;
  return s ? ` in <${directiveText(s)}>` : '';
};

export default defineRule({
  id: 'apache-directory-index-forbidden',
  servers: ['apache'],
  severity: 'warning',
  description: 'A DirectoryIndex file that is itself refused makes Apache answer 403 to the directory URL.',
  category: 'index',
  fixable: false,
  proof: 'request',
  messages: {
    allRefused:
      '`{{by}}`{{where}} refuses {{refused}}, every DirectoryIndex file of {{url}} ({{index}}), so Apache answers 403 to {{url}} whether the file exists or not',
    listingRefused:
      '`{{by}}`{{where}} refuses the DirectoryIndex candidate {{refused}}, so Apache answers 403 to {{url}} instead of listing it whenever none of {{others}} exists, even when {{refused}} does not exist either',
  },
  check(ctx) {
    if (ctx.set.root.context === 'htaccess') return;
    const m = ctx.model;
    if (m.server !== 'apache') return;
    const done = new Set<string>();
    for (const p of m.probes()) {
      const d = p.result.dirIndex;
      if (!d || d.names.length === 0) continue;
      // a refusal for some clients only (`Require ip …`) is a deliberate restriction: not reported
      const refused = d.refused.filter((c) => c.status === 403 && c.by && m.isBlanketDenial(c.by));
      if (refused.length === 0) continue;
      const all = d.names.every((n) => d.refused.some((c) => c.name === n)) && p.result.status === 403;
      if (!all && d.listing !== 'listing') continue; // without Indexes the directory URL is refused anyway (A18)
      const by = refused[0].by!;
      const key = `${by.span.start.offset}|${by.source.path}|${all}`;
      if (done.has(key)) continue;
      done.add(key);
      // Every candidate refused: the directory URL itself gets 403 (otherwise it depends on the disk).
      const proof = all ? ctx.prove(m.requestTo(p.root.server, p.url), { status: 403 }) : null;
      if (all && !proof) continue;
      const names = refused.map((c) => c.target).join(', ');
      const others = d.names.filter((n) => !d.refused.some((c) => c.name === n));
      ctx.report({
        node: by,
        messageId: all ? 'allRefused' : 'listingRefused',
        data: {
          by: directiveText(by),
          where: where(m, by),
          refused: names,
          url: p.url,
          index: d.names.join(' '),
          others: others.join(', '),
        },
        related: d.by ? [{ node: d.by, message: 'the DirectoryIndex in force for this directory' }] : undefined,
        proof,
      });
    }
  },
});
