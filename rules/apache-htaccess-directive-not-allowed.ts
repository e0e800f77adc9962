/**
 * A .htaccess directive that the AllowOverride in force does not allow (or that can never appear
 * in a .htaccess, such as `<Directory>` or `ServerName`): httpd stops reading the file and answers
 * 500 to every request below its directory ("… not allowed here", config.c invoke_cmd), unless
 * `AllowOverride Nonfatal=…` makes it a logged, ignored directive (apache-htaccess-ignored reports
 * ignored access controls). The AllowOverride comes from the main configs of the run that cover the
 * file's directory (src/apache/model/htaccess-link.ts); for a .htaccess linted alone, from the
 * `apacheAllowOverride` setting, else only directives that no AllowOverride allows are reported.
 */
import { directiveAt, directiveText, type Directive } from '../src/ast.js';
import { overrideViolations, readsHtaccess } from '../src/apache/model/htaccess-link.js';
import { OVERRIDE_CLASSES } from '../src/apache/model/overrides.js';
import { linkedRequest } from '../src/model/apache-samples.js';
import { defineRule } from '../src/rule.js';

const line = (d: Directive | null) => (d ? `\`${directiveText(d)}\` (${directiveAt(d)})` : 'the default `AllowOverride None`');

export default defineRule({
  id: 'apache-htaccess-directive-not-allowed',
  servers: ['apache'],
  severity: 'error',
  description: 'A .htaccess directive that AllowOverride does not allow makes Apache answer 500 for everything below the directory.',
  category: 'syntax',
  fixable: false,
  proof: 'request',
  messages: {
    linked: '{{message}}: under {{allow}} for {{where}}, Apache stops at this line and answers 500 to every request below this directory',
    never:
      '{{message}}: this directive is never allowed in .htaccess, so Apache answers 500 to every request below this directory whenever it reads this file',
    assumed:
      '{{message}}: under the assumed `AllowOverride {{allow}}` (setting apacheAllowOverride), Apache answers 500 to every request below this directory',
  },
  check(ctx) {
    const m = ctx.model;
    if (ctx.set.root.context !== 'htaccess' || m.server !== 'apache') return;
    const hc = m.htaccess();
    for (const { violation: v, link } of m.htaccessViolations()) {
      if (v.nonfatal) continue;
      const where = link.url ? `${link.url} (${link.server.serverName ?? 'main server'})` : hc.dir;
      // The directory's URL on the linked config's server, explained there with this file in place:
      // Apache stops at the first line it refuses, so the 500 is decided by this directive only when
      // it is the file's first refused line (and no .htaccess above answers 500 first). A proof that
      // shows another line or status leaves the finding without one: the line is refused all the same.
      const proof = link.url ? ctx.prove(linkedRequest(m, link, link.url), { status: 500, decidedBy: v.directive }) : null;
      ctx.report({
        ...(proof ? { proof } : {}),
        node: v.directive,
        messageId: 'linked',
        data: { message: v.message, allow: line(link.state.by), where },
        related: link.state.by ? [{ node: link.state.by, message: 'the AllowOverride in force for this directory' }] : undefined,
      });
    }
    if (hc.links.length) return;
    const assumed = hc.assumed;
    // Unknown AllowOverride: every class allowed, so only "never allowed in .htaccess" remains.
    const state = assumed ?? {
      classes: new Set<string>(OVERRIDE_CLASSES),
      nonfatal: new Set<'override' | 'unknown'>(),
      optsAllowed: 0xff,
      list: new Set<string>(),
    };
    if (!readsHtaccess(state)) return;
    for (const v of overrideViolations(ctx.set, state, null)) {
      if (v.nonfatal) continue;
      ctx.report({
        node: v.directive,
        messageId: assumed ? 'assumed' : 'never',
        data: { message: v.message, allow: (ctx.settings.apacheAllowOverride ?? []).join(' ') },
      });
    }
  },
});
