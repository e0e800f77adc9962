/**
 * A43: `ProxyRequests On` makes the server a forward proxy — an absolute-URI request
 * (`GET http://example.test/ HTTP/1.1`) that does not name this server is handled by mod_proxy,
 * whose proxy_walk merges the `<Proxy>` sections matching `proxy:<url>` instead of the directory
 * walk. When what applies there refuses every client (`<Proxy "*"> Require all denied`, Debian's
 * proxy.conf template), every proxy request gets 403 (AH01630 … proxy:<url>) and the proxy the
 * author turned on serves nobody. Read from the model: a neutral forward-proxy GET on each server
 * with ProxyRequests On, reported when a blanket denial decides it. A grant to some clients only
 * (`Require ip 10.0.0.0/8`, `Require local`) is the intended lock-down and is not reported.
 */
import { directiveText, type Directive } from '../src/ast.js';
import { defineRule } from '../src/rule.js';
import type { ApacheView } from '../src/model/index.js';

const where = (m: ApacheView, d: Directive) => {
  const s = m.ownerOf(d)?.section;
  return `${s ? ` in <${directiveText(s)}>` : ''} (${d.source.path.split('/').pop()}:${d.span.start.line})`;
};
/** A target that is no server name: the probe is a forward-proxy request on every server. */
const PROBE = 'http://example.test/';

export default defineRule({
  id: 'apache-forward-proxy-denied',
  servers: ['apache'],
  severity: 'error',
  description: 'ProxyRequests On with a <Proxy> section that refuses every client: every forward-proxy request gets 403.',
  category: 'access-control',
  fixable: false,
  proof: 'request',
  messages: {
    denied:
      '`{{proxy}}` makes this server a forward proxy, but `{{by}}`{{where}} refuses every client, so every proxy request gets 403 (AH01630: client denied by server configuration: proxy:{{url}})',
  },
  check(ctx) {
    if (ctx.set.root.context === 'htaccess') return;
    const m = ctx.model;
    if (m.server !== 'apache') return;
    const model = m.tree;
    if (!model.modules.has('mod_proxy')) return;
    const done = new Set<Directive>();
    for (const server of [model.main, ...model.vhosts]) {
      const pr = server.proxyRequests;
      if (!pr?.value || done.has(pr.by)) continue;
      const r = m.probeUrl(server, PROBE);
      if (r.server !== server || r.status !== 403 || r.cause !== 'A43' || !r.decidedBy || !m.isBlanketDenial(r.decidedBy)) continue;
      done.add(pr.by);
      // the same request sent as a forward proxy's client sends it, to a port the server listens on
      const proof = ctx.prove({ ...m.requestTo(server, '/'), proxyUrl: PROBE }, { status: 403, decidedBy: r.decidedBy });
      if (proof === false) continue;
      ctx.report({
        proof,
        node: pr.by,
        messageId: 'denied',
        data: { proxy: directiveText(pr.by), by: directiveText(r.decidedBy), where: where(m, r.decidedBy), url: PROBE },
        related: [{ node: r.decidedBy, message: 'the denial every proxy request meets' }],
      });
    }
  },
});
