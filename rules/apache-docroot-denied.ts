/**
 * A DocumentRoot or Alias/ScriptAlias target that every request is refused in (docs/403-causes.md A01,
 * A04, A06): `Require all denied` / `Deny from all` decides at the served directory with nothing
 * granting later in merge order, or no section grants it while `<Directory />` denies (Debian's
 * default). Read from the model: a neutral GET of the root's URL and of a file in it, and the
 * directive that decided. The stock `.ht*` and `<Directory />` denials themselves are not reported.
 */
import { directiveText, type Directive } from '../src/ast.js';
import { type Probe } from '../src/apache/model/index.js';
import { defineRule } from '../src/rule.js';

const where = (d: Directive) => `${d.source.path.split('/').pop()}:${d.span.start.line}`;
const what = (p: Probe) =>
  `${p.root.kind === 'documentroot' ? 'DocumentRoot' : p.root.kind === 'alias' ? 'Alias' : 'ScriptAlias'} ${p.root.dir}`;

export default defineRule({
  id: 'apache-docroot-denied',
  servers: ['apache'],
  severity: 'error',
  description: 'A DocumentRoot or Alias target is denied to everyone, or never granted while <Directory /> denies.',
  category: 'access-control',
  fixable: false,
  proof: 'request',
  messages: {
    denied: '`{{directive}}` covers {{what}} and nothing grants access later in merge order, so every request to {{url}} is answered 403',
    notGranted:
      'no section grants {{what}}: `{{directive}}` in <Directory /> ({{at}}) applies, so every request to {{url}} is answered 403 (AH01630)',
  },
  check(ctx) {
    const m = ctx.model;
    if (m.server !== 'apache') return;
    const done = new Set<Directive>();
    for (const p of m.probes()) {
      if (!p.atRoot) continue;
      const r = [p.result, p.file].find((x) => x.status === 403 && x.decidedBy);
      if (!r || !r.decidedBy) continue;
      const by = r.decidedBy;
      const proof = ctx.prove(m.requestTo(p.root.server, r === p.result ? p.url : `${p.url}index.html`), { status: 403, decidedBy: by });
      if (!proof) continue;
      if (r.cause === 'A06') {
        if (done.has(p.root.by)) continue;
        done.add(p.root.by);
        ctx.report({
          node: p.root.by,
          messageId: 'notGranted',
          data: { what: what(p), directive: directiveText(by), at: where(by), url: p.url },
          related: [{ node: by, message: 'the default denial that still applies' }],
          proof,
        });
      } else if ((r.cause === 'A01' || r.cause === 'A04') && m.isBlanketDenial(by)) {
        if (done.has(by)) continue;
        done.add(by);
        ctx.report({
          node: by,
          messageId: 'denied',
          data: { directive: directiveText(by), what: what(p), url: p.url },
          related: [{ node: p.root.by, message: `the ${what(p)} it covers` }],
          proof,
        });
      }
    }
  },
});
