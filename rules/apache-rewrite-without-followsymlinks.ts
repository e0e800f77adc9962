/**
 * Per-directory mod_rewrite (`RewriteEngine On` in `<Directory>` or .htaccess, inherited by
 * subdirectories) where the effective Options have neither FollowSymLinks nor SymLinksIfOwnerMatch:
 * mod_rewrite refuses every request there with 403, even when no RewriteRule matches
 * (docs/403-causes.md A25, AH00670). Server config: read from the model's probes. A .htaccess linted on
 * its own: its own `Options` line drops both symlink options while it turns the engine on.
 */
import { directiveText, type Directive } from '../src/ast.js';
import { applyOptions, describeOptions, effectiveOptions, newOptions } from '../src/apache/model/options.js';
import { linkedRequest } from '../src/model/apache-samples.js';
import { OPT_SYM_LINKS, OPT_SYM_OWNER } from '../src/apache/model/options.js';
import { defineRule } from '../src/rule.js';

export default defineRule({
  id: 'apache-rewrite-without-followsymlinks',
  servers: ['apache'],
  severity: 'error',
  description: 'Per-directory RewriteEngine On where Options allow neither FollowSymLinks nor SymLinksIfOwnerMatch.',
  category: 'rewrite',
  fixable: false,
  proof: 'request',
  messages: {
    probe:
      '`{{engine}}` applies to {{url}} while Options ({{options}}) lack FollowSymLinks and SymLinksIfOwnerMatch, so mod_rewrite answers 403 to every request there (AH00670)',
    htaccess:
      '`{{engine}}` with `{{options}}` on line {{line}} of this .htaccess: neither FollowSymLinks nor SymLinksIfOwnerMatch is left, so mod_rewrite answers 403 to every request here (AH00670)',
    inherited:
      '`{{engine}}` in this .htaccess, while the Options in force for {{dir}} ({{options}}, `{{by}}` in {{where}}) allow neither FollowSymLinks nor SymLinksIfOwnerMatch: mod_rewrite answers 403 to every request here (AH00670)',
  },
  check(ctx) {
    if (ctx.set.root.context === 'htaccess') {
      // Inherited Options are unknown here; start from Debian's (FollowSymLinks) and apply this file's.
      // at the top of the file, or inside <IfModule mod_rewrite.c> (WordPress) and other conditionals
      const topLevel = (parents: readonly Directive[]) => parents.every((p) => /^if(module|define|version)$/i.test(p.name));
      const engine = ctx.directives('rewriteengine').find((x) => topLevel(x.ctx.parents) && /^on$/i.test(x.node.args[0]?.value ?? ''));
      if (!engine) return;
      // Tied to a main config of the run (or found by lint --fs): the Options that config gives the
      // directory, then this file's own Options lines, as Apache merges them.
      const m = ctx.model;
      const hc = m.server === 'apache' ? m.htaccess() : null;
      if (m.server === 'apache' && hc?.links.length) {
        for (const link of hc.links) {
          const { bits, by } = m.htaccessOptions(link);
          if (bits & (OPT_SYM_LINKS | OPT_SYM_OWNER)) continue;
          // explained on the main config with this file in place (from disk with --fs)
          const proof = link.url ? ctx.prove(linkedRequest(m, link, link.url), { status: 403 }) : null;
          ctx.report({
            node: engine.node,
            messageId: 'inherited',
            data: {
              engine: directiveText(engine.node),
              dir: hc.dir,
              options: describeOptions(bits),
              by: by ? directiveText(by) : 'the default',
              where: by ? `${by.source.path}:${by.span.start.line}` : 'httpd',
            },
            ...(proof ? { proof } : {}),
          });
          return;
        }
        return;
      }
      const opts = newOptions(true);
      applyOptions(opts, ['FollowSymLinks']);
      let last: Directive | null = null;
      for (const { node, ctx: w } of ctx.directives('options')) {
        if (w.parents.length > 0) continue;
        if (
          !applyOptions(
            opts,
            node.args.map((a) => a.value),
          )
        )
          last = node;
      }
      if (last && !(effectiveOptions(opts) & (OPT_SYM_LINKS | OPT_SYM_OWNER))) {
        ctx.report({
          node: engine.node,
          messageId: 'htaccess',
          data: { engine: directiveText(engine.node), options: directiveText(last), line: last.span.start.line },
        });
      }
      return;
    }
    const m = ctx.model;
    if (m.server !== 'apache') return;
    const done = new Set<Directive>();
    for (const p of m.probes()) {
      for (const r of [p.file, p.result]) {
        if (r.status !== 403 || r.cause !== 'A25' || !r.decidedBy || done.has(r.decidedBy)) continue;
        const proof = ctx.prove(m.requestTo(p.root.server, r === p.result ? p.url : `${p.url}index.html`), {
          status: 403,
          decidedBy: r.decidedBy,
        });
        if (!proof) continue;
        done.add(r.decidedBy);
        const options = r.options === null ? 'none' : describeOptions(r.options);
        ctx.report({ node: r.decidedBy, messageId: 'probe', data: { engine: directiveText(r.decidedBy), url: p.url, options }, proof });
      }
    }
  },
});
