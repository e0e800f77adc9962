/**
 * A37: `SSLRequireSSL` refuses every request that does not arrive over TLS (mod_ssl's
 * ssl_hook_Access: 403, AH02219 "SSL connection required"; `SSLEngine optional` gives 426
 * instead). Where the context is also served by a TLS host that is the point of the directive;
 * reported is the case where no TLS server serves it at all — the directive sits in a virtual host
 * without `SSLEngine on`, or in the main server's sections while no server has `SSLEngine on` — so
 * every request there gets 403. Read from the model: a neutral plain-HTTP GET of the section's URL
 * (a `<Location>` path, a `<Directory>` under a served root, or `/`) on each such server.
 */
import { directiveText, type Directive } from '../src/ast.js';
import type { ServerModel } from '../src/apache/model/index.js';
import { defineRule } from '../src/rule.js';
import type { ApacheView } from '../src/model/index.js';

const tls = (s: ServerModel) => s.sslEngine?.value === 'on' || s.sslEngine?.value === 'optional';

/** The URL that reaches the section holding `d` on `server` (null: not decidable from the config). */
function urlFor(m: ApacheView, server: ServerModel, d: Directive): string | null {
  const o = m.ownerOf(d);
  if (!o || !o.section) return o?.kind === 'server' ? '/' : null;
  if (o.kind === 'location' && o.section.key.replace(/^</, '') === 'location' && o.path && !/[*?[]/.test(o.path) && o.path.startsWith('/'))
    return o.path;
  if (o.kind !== 'directory' || !o.path || /[*?[]/.test(o.path)) return null;
  return m.urlOfDir(server, o.path);
}

export default defineRule({
  id: 'apache-sslrequiressl-plain-http',
  servers: ['apache'],
  severity: 'error',
  description: 'SSLRequireSSL where no server speaks TLS: every request to that context gets 403.',
  category: 'access-control',
  fixable: false,
  proof: 'request',
  messages: {
    plain:
      '`SSLRequireSSL`{{where}} applies to {{server}}, which has no `SSLEngine on`, and no TLS server serves it: every request to {{url}} arrives over plain HTTP and gets 403 (AH02219: SSL connection required)',
  },
  check(ctx) {
    if (ctx.set.root.context === 'htaccess') return;
    const m = ctx.model;
    if (m.server !== 'apache') return;
    const model = m.tree;
    if (!model.modules.has('mod_ssl')) return;
    const all = [model.main, ...model.vhosts];
    // The model's flattened tree (includes and conditionals resolved): the directives it compiled.
    const visit = (list: Directive[], vh: Directive | null): void => {
      for (const n of list) {
        if (n.block)
          visit(
            n.block.filter((x): x is Directive => x.type === 'directive'),
            n.key.replace(/^</, '') === 'virtualhost' ? n : vh,
          );
        if (n.key !== 'sslrequiressl' || !(m.ownerOf(n) !== null)) continue;
        let servers: ServerModel[];
        if (vh) servers = model.vhosts.filter((v) => v.directive === vh);
        else if (all.some(tls) || (model.vhosts.length === 0 && !model.main.sslEngine))
          continue; // a TLS host serves it, or we cannot tell
        else servers = all;
        for (const server of servers.filter((x) => !tls(x))) {
          const url = urlFor(m, server, n);
          if (!url) continue;
          const r = m.probeUrl(server, url);
          if (r.server !== server || r.status !== 403 || r.cause !== 'A37' || r.decidedBy !== n) continue;
          const proof = ctx.prove(m.requestTo(server, url), { status: 403, decidedBy: n });
          if (!proof) continue;
          const section = m.ownerOf(n)?.section;
          const name = server.directive ? `<${directiveText(server.directive)}>` : 'the main server';
          ctx.report({
            node: n,
            messageId: 'plain',
            data: { where: section ? ` in <${directiveText(section)}>` : '', server: name, url },
            proof,
          });
          break;
        }
      }
    };
    visit(model.top, null);
  },
});
