/**
 * A later-merging section's Require replaces a `<Directory>` restriction: `<Files>`/`<FilesMatch>`,
 * `<Location>`/`<LocationMatch>` and `<If>` merge after every `<Directory>`, and under
 * `AuthMerging Off` (the default) a section with its own Require drops the inherited ones. So
 * `<FilesMatch "\.php$"> Require all granted` opens /admin/*.php although `<Directory …/admin>`
 * says `Require ip 10.0.0.0/8` (security: the 403 that should happen does not). Read from the model:
 * a neutral GET of typical files in every `<Directory>` below a served root whose own Require does
 * not grant that client; reported when a directive of a later-merging section grants it.
 * (.ht* files: apache-location-overrides-files-deny.)
 */
import { directiveText, type Directive } from '../src/ast.js';
import { defineRule } from '../src/rule.js';

const kids = (d: Directive) => (d.block ?? []).filter((n): n is Directive => n.type === 'directive');
const LATER = new Set(['files', 'filesmatch', 'location', 'locationmatch', 'if']);
const FILES = ['index.php', 'index.html', 'admin.php', 'data.json'];

export default defineRule({
  id: 'apache-authmerging-off-drops-deny',
  servers: ['apache'],
  severity: 'warning',
  description: 'A later-merging section with its own Require drops a <Directory> restriction (AuthMerging Off).',
  category: 'access-control',
  fixable: false,
  // the file is served (200): without --fs that rests on the file existing, which the proof then
  // assumes (`assumes`: "… exists and is readable")
  proof: 'request',
  messages: {
    drops:
      '`{{grant}}` in {{section}} merges after <Directory {{dir}}> and, under {{merging}}, replaces its `{{deny}}`, so {{url}} is served to any client',
  },
  check(ctx) {
    if (ctx.set.root.context === 'htaccess') return;
    const m = ctx.model;
    if (m.server !== 'apache') return;
    const done = new Set<Directive>();
    for (const p of m.probes()) {
      if (!p.section) continue;
      const deny = kids(p.section.directive).find(
        (d) => d.key === 'require' && !/^all\s+granted$/i.test(d.args.map((a) => a.value).join(' ')),
      );
      if (!deny) continue;
      // The section alone must refuse the neutral client (the directory URL itself shows it).
      if (p.result.status !== 403 && p.result.status !== 401) continue;
      for (const name of FILES) {
        // the probe already has the neutral GET of index.html in this directory (the same request)
        const r = name === 'index.html' ? p.file : m.probeUrl(p.root.server, `${p.url}${name}`);
        if (r.status === 403 || r.status === 401) continue;
        const grant = r.grantedBy;
        const owner = grant ? m.ownerOf(grant) : undefined;
        if (!grant || !owner || !LATER.has(owner.kind) || done.has(grant)) continue;
        // the neutral client gets the file (explain says so, under the file existing without --fs)
        const proof = ctx.prove(m.requestTo(p.root.server, `${p.url}${name}`), { status: 200 });
        if (proof === false) continue;
        done.add(grant);
        const sec = owner.section;
        const merging = sec && kids(sec).find((d) => d.key === 'authmerging');
        ctx.report({
          node: grant,
          messageId: 'drops',
          data: {
            grant: directiveText(grant),
            section: sec ? `<${sec.name.replace(/^</, '')} ${sec.args.map((a) => a.raw).join(' ')}>` : 'a later section',
            dir: p.section.path,
            merging: merging ? `\`${directiveText(merging)}\`` : 'AuthMerging Off (the default)',
            deny: directiveText(deny),
            url: `${p.url}${name}`,
          },
          related: [{ node: deny, message: 'the restriction that no longer applies' }],
          proof,
        });
      }
    }
  },
});
