/**
 * mod_access_compat lines that can never change the outcome (docs/403-causes.md A04): under
 * `Order allow,deny` a `Deny from all` is applied last and refuses everyone, so every Allow is dead;
 * under `Order deny,allow` an `Allow from all` lets everyone in, so every Deny is dead; and
 * `Order deny,allow` without any Deny line admits every client, so its Allow lines restrict nothing.
 * Lines are grouped per section (and per `<Limit>`), as mod_access_compat keeps one list per section.
 */
import { directiveText, type Directive } from '../src/ast.js';
import { exampleClient, parseSubnet } from '../src/apache/model/net.js';
import { defineRule } from '../src/rule.js';

const fromAll = (d: Directive) => d.args.length === 2 && d.args[1].value.toLowerCase() === 'all';

export default defineRule({
  id: 'apache-dead-allow-deny',
  servers: ['apache'],
  severity: 'warning',
  description: 'Allow or Deny lines that can never change the outcome because of Order and an "all" line.',
  category: 'access-control',
  fixable: false,
  proof: 'request',
  messages: {
    deadAllow:
      '`{{all}}` on line {{line}} is applied after every Allow (Order allow,deny), so `{{directive}}` never lets a client in and Apache answers 403 (AH01797)',
    deadDeny: '`{{all}}` on line {{line}} is applied after every Deny (Order deny,allow), so `{{directive}}` never refuses anyone',
    noDeny: '`{{order}}` admits every client that no Deny line matches and there is none, so `{{directive}}` restricts nothing',
  },
  check(ctx) {
    const m = ctx.model;
    // the lines of each section (mod_access_compat keeps one list per section), with its parents
    const groups = new Map<Directive | null, { parents: readonly Directive[]; list: Directive[] }>();
    for (const { node, ctx: w } of ctx.directives('order', 'allow', 'deny')) {
      const parent = w.parents[w.parents.length - 1] ?? null;
      const g = groups.get(parent);
      if (g) g.list.push(node);
      else groups.set(parent, { parents: w.parents, list: [node] });
    }
    // A client the dead Allow names (its first address), shown by explain to get 403 from the
    // `Deny from all` on a URL of the section; none when the Allow names no address (a host name,
    // env=…) or no URL reaches the section.
    const deadAllowProof = (allow: Directive, all: Directive, parents: readonly Directive[]) => {
      if (m.server !== 'apache') return null;
      const sub = allow.args
        .slice(1)
        .map((x) => parseSubnet(x.value))
        .find((x) => x !== null);
      if (!sub) return null;
      const ip = exampleClient(sub);
      for (const sample of m.requestsFor(allow, parents)) {
        const proof = ctx.prove({ ...sample, ip }, { status: 403, decidedBy: all });
        if (proof) return proof;
      }
      return null;
    };
    for (const { parents, list } of groups.values()) {
      const orderDir = list.filter((d) => d.key === 'order').pop() ?? null;
      const order = (orderDir?.args[0]?.value ?? 'deny,allow').toLowerCase();
      const allows = list.filter((d) => d.key === 'allow' && d.args[0]?.value.toLowerCase() === 'from');
      const denies = list.filter((d) => d.key === 'deny' && d.args[0]?.value.toLowerCase() === 'from');
      if (order === 'allow,deny') {
        const all = denies.find(fromAll);
        if (all)
          for (const a of allows)
            ctx.report({
              proof: deadAllowProof(a, all, parents),
              node: a,
              messageId: 'deadAllow',
              data: { all: directiveText(all), line: all.span.start.line, directive: directiveText(a) },
            });
      } else if (order === 'deny,allow') {
        const all = allows.find(fromAll);
        if (all)
          for (const d of denies)
            ctx.report({
              node: d,
              messageId: 'deadDeny',
              data: { all: directiveText(all), line: all.span.start.line, directive: directiveText(d) },
            });
        else if (orderDir && denies.length === 0) {
          for (const a of allows)
            ctx.report({ node: a, messageId: 'noDeny', data: { order: directiveText(orderDir), directive: directiveText(a) } });
        }
      }
    }
  },
});
