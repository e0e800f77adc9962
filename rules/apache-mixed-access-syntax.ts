/**
 * Old (mod_access_compat Order/Allow/Deny) and new (mod_authz_core Require) access control mixed so
 * that both must pass (Satisfy All, the default): the section's `Allow` lets the client through,
 * but a `Require` in the same or an inherited section still denies, so Apache answers 403
 * (docs/403-causes.md A05, AH01630). Read from the model's probes: a neutral GET of every served
 * directory and of a file in it whose 403 the model classifies as A05.
 */
import { directiveText, type Directive } from '../src/ast.js';
import { defineRule } from '../src/rule.js';

const where = (d: Directive) => `${d.source.path.split('/').pop()}:${d.span.start.line}`;
const kidsOf = (d: Directive | null) => (d?.block ?? []).filter((n): n is Directive => n.type === 'directive');

export default defineRule({
  id: 'apache-mixed-access-syntax',
  servers: ['apache'],
  severity: 'error',
  description: 'Allow lets a client in but a Require in the same or an inherited section still denies it.',
  category: 'access-control',
  fixable: false,
  proof: 'request',
  messages: {
    mixed:
      '`{{allow}}` passes mod_access_compat, but `{{require}}` ({{at}}) still applies and both must pass, so Apache answers 403 to {{url}} (AH01630)',
  },
  check(ctx) {
    const m = ctx.model;
    if (m.server !== 'apache') return;
    const done = new Set<Directive>();
    for (const p of m.probes()) {
      for (const r of [p.result, p.file]) {
        if (r.status !== 403 || r.cause !== 'A05' || !r.decidedBy) continue;
        // the Allow that let the client through: in the last merged section that has one
        let allow: Directive | undefined;
        for (const s of r.sections) allow = kidsOf(s.directive).find((d) => d.key === 'allow') ?? allow;
        if (!allow || done.has(allow)) continue;
        const proof = ctx.prove(m.requestTo(p.root.server, r === p.result ? p.url : `${p.url}index.html`), {
          status: 403,
          decidedBy: r.decidedBy,
        });
        if (!proof) continue;
        done.add(allow);
        ctx.report({
          node: allow,
          messageId: 'mixed',
          data: { allow: directiveText(allow), require: directiveText(r.decidedBy), at: where(r.decidedBy), url: p.url },
          related: [{ node: r.decidedBy, message: 'the Require that still denies' }],
          proof,
        });
      }
    }
  },
});
