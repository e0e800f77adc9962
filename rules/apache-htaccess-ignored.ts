/**
 * A .htaccess file Apache never reads: `AllowOverride None` (httpd's default since 2.3.9, and
 * Debian's for `/` and /var/www) is in force for its directory in every main config of the run that
 * serves it, so ap_directory_walk does not even open it. Its `Require all denied`, `Deny from all`,
 * `AuthType` + `Require valid-user` protect nothing: the files are served (security). Also access
 * controls that `AllowOverride Nonfatal=Override` makes Apache skip ("not allowed here", logged and
 * ignored). The config comes from htaccess-link.ts; for a .htaccess linted alone, only the
 * `apacheAllowOverride` setting can say it is ignored.
 */
import { directiveAt, directiveText, type Directive } from '../src/ast.js';
import { readsHtaccess, type OverrideAt } from '../src/apache/model/htaccess-link.js';
import { defineRule } from '../src/rule.js';

/** Directives that restrict access (a denial, authentication, a legacy deny). */
function restricts(d: Directive): boolean {
  const v = d.args.map((a) => a.value.toLowerCase()).join(' ');
  switch (d.key) {
    case 'require':
      return !/^all granted$/.test(v);
    case 'deny':
    case 'authtype':
      return true;
    case 'order':
      return v.replace(/\s/g, '') === 'allow,deny';
    case 'rewriterule':
      return /\[[^\]]*\b(f|forbidden|r=403)\b/i.test(v);
    default:
      return false;
  }
}

function firstRestriction(nodes: readonly Directive[]): Directive | null {
  for (const d of nodes) {
    if (restricts(d)) return d;
    const inner = d.block ? firstRestriction(d.block.filter((n): n is Directive => n.type === 'directive')) : null;
    if (inner) return inner;
  }
  return null;
}

export default defineRule({
  id: 'apache-htaccess-ignored',
  servers: ['apache'],
  severity: 'warning',
  description: 'A .htaccess file that AllowOverride None makes Apache ignore, so its access controls protect nothing.',
  category: 'access-control',
  fixable: false,
  proof: {
    none: 'It claims Apache never reads a .htaccess, so its lines protect nothing; what a request then gets depends on the rest of the configuration and the disk.',
  },
  messages: {
    deadDeny: '`{{directive}}` protects nothing: {{why}}, so Apache never reads this .htaccess and serves the files below it',
    ignored: 'Apache never reads this .htaccess: {{why}}, so none of its directives apply',
    skipped: '`{{directive}}` is skipped: {{why}} lets Apache log "{{message}}" and go on, so it protects nothing',
  },
  check(ctx) {
    const m = ctx.model;
    if (ctx.set.root.context !== 'htaccess' || m.server !== 'apache') return;
    const hc = m.htaccess();
    const top = ctx.set.root.nodes.filter((n): n is Directive => n.type === 'directive');
    if (top.length === 0) return;
    const states: { state: OverrideAt; why: string }[] = hc.links.map((l) => ({
      state: l.state,
      why: `${l.state.by ? `\`${directiveText(l.state.by)}\` (${directiveAt(l.state.by)})` : 'the default `AllowOverride None`'} applies to ${hc.dir}${l.url ? ` (${l.url})` : ''}`,
    }));
    if (hc.assumed)
      states.push({
        state: hc.assumed,
        why: `the setting apacheAllowOverride is \`${(ctx.settings.apacheAllowOverride ?? []).join(' ')}\``,
      });
    if (states.length === 0) return;
    if (states.every((s) => !readsHtaccess(s.state))) {
      const by = hc.links.map((l) => l.state.by).find((d): d is Directive => !!d);
      const deny = firstRestriction(top);
      ctx.report({
        node: deny ?? top[0],
        messageId: deny ? 'deadDeny' : 'ignored',
        data: { directive: deny ? directiveText(deny) : '', why: states[0].why },
        related: by ? [{ node: by, message: 'the AllowOverride in force for this directory' }] : undefined,
      });
      return;
    }
    // Read, but some access controls skipped under Nonfatal=Override.
    for (const { violation: v, link } of m.htaccessViolations()) {
      if (!v.nonfatal || !firstRestriction([v.directive])) continue;
      ctx.report({
        node: v.directive,
        messageId: 'skipped',
        data: {
          directive: directiveText(v.directive),
          why: link.state.by ? `\`${directiveText(link.state.by)}\` (${directiveAt(link.state.by)})` : 'AllowOverride',
          message: v.message,
        },
      });
    }
  },
});
