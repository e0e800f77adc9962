/**
 * A served directory where no DirectoryIndex file can match and Options lack Indexes: mod_autoindex
 * refuses the directory URL with 403 (docs/403-causes.md A18, AH01276). Without the filesystem this is
 * certain only when the config itself rules every index file out (`DirectoryIndex disabled`, or an
 * index list the model can decide), so the rule reads the model's neutral GET of each directory URL
 * and reports only a certain A18. Info: a directory that is never listed is often deliberate.
 */
import { directiveText, type Directive } from '../src/ast.js';
import { defineRule } from '../src/rule.js';

export default defineRule({
  id: 'apache-no-index-no-indexes',
  servers: ['apache'],
  severity: 'info',
  description: 'A served directory with no possible DirectoryIndex file and no Indexes option answers 403 to its URL.',
  category: 'index',
  fixable: false,
  proof: 'request',
  messages: {
    noIndex:
      '{{url}} has no DirectoryIndex file it could serve ({{index}}) and `{{by}}` leaves no Indexes, so Apache answers 403 to the directory URL (AH01276)',
  },
  check(ctx) {
    if (ctx.set.root.context === 'htaccess') return;
    const m = ctx.model;
    if (m.server !== 'apache') return;
    const done = new Set<Directive>();
    for (const p of m.probes()) {
      const r = p.result;
      if (r.status !== 403 || r.cause !== 'A18' || !r.decidedBy || done.has(r.decidedBy)) continue;
      const proof = ctx.prove(m.requestTo(p.root.server, p.url), { status: 403, decidedBy: r.decidedBy });
      if (!proof) continue;
      done.add(r.decidedBy);
      const index = r.indexNames ?? 'none';
      ctx.report({
        node: r.decidedBy,
        messageId: 'noIndex',
        data: { url: p.url, index: index === 'disabled' ? 'DirectoryIndex disabled' : index, by: directiveText(r.decidedBy) },
        proof,
      });
    }
  },
});
