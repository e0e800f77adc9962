/**
 * A cgi-script handler (SetHandler / AddHandler cgi-script) applies to a served directory whose
 * Options lack ExecCGI, outside ScriptAlias: mod_cgi(d) answers 403 "Options ExecCGI is off in
 * this directory" (docs/403-causes.md A30, AH01262/AH01269) for every script there, found or not. Read
 * from the model: a neutral GET of a file per cgi-script extension (and of index.html, for
 * SetHandler) in every served root and `<Directory>` below one. Only when mod_cgi or mod_cgid is
 * loaded: without them the handler does not exist and the model does not claim A30.
 */
import { directiveText, type Directive } from '../src/ast.js';
import { defineRule } from '../src/rule.js';

export default defineRule({
  id: 'apache-cgi-without-execcgi',
  servers: ['apache'],
  severity: 'error',
  description: 'A cgi-script handler applies where Options lack ExecCGI, so every script there gets 403.',
  category: 'filesystem',
  fixable: false,
  proof: 'request',
  messages: {
    noExecCgi:
      '{{what}} for {{url}}, but Options there lack ExecCGI{{by}}, so Apache answers 403 "Options ExecCGI is off in this directory" to every script',
  },
  check(ctx) {
    if (ctx.set.root.context === 'htaccess') return;
    const m = ctx.model;
    if (m.server !== 'apache') return;
    const done = new Set<Directive>();
    for (const p of m.probes()) {
      const conf = p.section?.conf ?? p.root.server.base;
      // (probe, handler directive): SetHandler applies to any file, AddHandler by extension.
      const set = conf.handler && conf.handler.value.toLowerCase() === 'cgi-script' ? conf.handler.by : null;
      const cands: { uri: string; by: Directive | null; r?: typeof p.file }[] = [{ uri: `${p.url}index.html`, by: set, r: p.file }];
      for (const c of [p.root.server.base, conf]) {
        for (const [ext, h] of c.addHandlers)
          if (h.value.toLowerCase() === 'cgi-script') cands.push({ uri: `${p.url}script.${ext}`, by: h.by });
      }
      for (const c of cands) {
        const r = c.r ?? m.probeUrl(p.root.server, c.uri);
        if (r.status !== 403 || r.cause !== 'A30' || !r.decidedBy) continue;
        const handler =
          c.by ??
          [...r.trace].reverse().find((t) => t.directive && /^(sethandler|addhandler)$/.test(t.directive.key))?.directive ??
          (r.decidedBy.key === 'options' ? null : r.decidedBy);
        const node = handler ?? r.decidedBy;
        if (done.has(node)) continue;
        done.add(node);
        const proof = ctx.prove(m.requestTo(p.root.server, c.uri), { status: 403 });
        if (!proof) continue;
        const opts = r.decidedBy.key === 'options' ? ` (\`${directiveText(r.decidedBy)}\`, line ${r.decidedBy.span.start.line})` : '';
        ctx.report({
          node,
          messageId: 'noExecCgi',
          data: { what: handler ? `\`${directiveText(handler)}\` applies` : 'A cgi-script handler applies', url: c.uri, by: opts },
          proof,
        });
      }
    }
  },
});
