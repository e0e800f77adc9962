/**
 * A `<Location>` grant that undoes the `.ht*` `<Files>` denial: Location sections merge after every
 * `<Directory>` and `<Files>`, so `<Location /> Require all granted` makes `/.htaccess` and
 * `/.htpasswd` readable (the hashes in .htpasswd included). Security, not a 403: the stock denial
 * (docs/403-causes.md A07) no longer answers 403. Read from the model: a neutral GET of `/.htaccess` and
 * `/.htpasswd` on every DocumentRoot, granted by a directive that sits in a Location section.
 */
import { directiveText, type Directive } from '../src/ast.js';
import { defineRule } from '../src/rule.js';

const kids = (d: Directive) => (d.block ?? []).filter((n): n is Directive => n.type === 'directive');

export default defineRule({
  id: 'apache-location-overrides-files-deny',
  servers: ['apache'],
  severity: 'warning',
  description: 'A <Location> grant overrides the .ht* <Files> denial, so .htaccess and .htpasswd are served.',
  category: 'access-control',
  fixable: false,
  // the file is served (200): without --fs that rests on the file existing, which the proof then
  // assumes (`assumes`: "… exists and is readable")
  proof: 'request',
  messages: {
    overrides: '`{{grant}}` in <{{location}}> merges after `{{files}}` ({{at}}), so {{url}} is served instead of answered 403',
  },
  check(ctx) {
    const m = ctx.model;
    if (m.server !== 'apache') return;
    const done = new Set<Directive>();
    for (const root of m.servedRoots()) {
      if (root.kind !== 'documentroot') continue;
      for (const name of ['.htpasswd', '.htaccess']) {
        // the stock denial this server has for the name
        const deny = m
          .filesSectionsFor(root.server, name)
          .find((f) => kids(f.directive).some((d) => d.key === 'require' && /^all denied$/i.test(d.args.map((a) => a.value).join(' '))));
        if (!deny) continue;
        const r = m.probeUrl(root.server, `${root.url}${name}`);
        if (r.status === 403 || r.possibleOutcomes.some((p) => p.cause === 'A07')) continue;
        const grant = r.grantedBy;
        const owner = grant ? m.ownerOf(grant) : undefined;
        if (!grant || !owner || (owner.kind !== 'location' && owner.kind !== 'locationmatch') || done.has(grant)) continue;
        const proof = ctx.prove(m.requestTo(root.server, `${root.url}${name}`), { status: 200 });
        if (proof === false) continue;
        done.add(grant);
        ctx.report({
          node: grant,
          messageId: 'overrides',
          data: {
            grant: directiveText(grant),
            location: `${owner.section?.name.replace(/^</, '') ?? 'Location'} ${owner.path ?? ''}`,
            files: `<${deny.directive.name.replace(/^</, '')} ${deny.directive.args.map((a) => a.raw).join(' ')}>`,
            at: `line ${deny.directive.span.start.line}`,
            url: `${root.url}${name}`,
          },
          related: [{ node: deny.directive, message: 'the denial that no longer applies' }],
          proof,
        });
      }
    }
  },
});
