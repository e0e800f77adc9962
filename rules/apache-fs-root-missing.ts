/**
 * A DocumentRoot or Alias directory that does not exist on disk (--fs): nothing it should serve is found.
 * The candidates come from the model's bounded disk scan (src/model/disk.ts); each group is proven with
 * `explain --fs` before it is reported (src/model/disk-rule.ts). Only with `--fs`.
 */
import { defineRule } from '../src/rule.js';
import { quote, reportDisk } from '../src/model/disk-rule.js';
import { diskGroups, type DiskGroup } from '../src/model/disk.js';

export default defineRule({
  id: 'apache-fs-root-missing',
  servers: ['apache'],
  severity: 'error',
  description:
    "A DocumentRoot or Alias directory that does not exist on disk (--fs): Apache does not start (the main server's DocumentRoot), or answers 404 (an Alias, a virtual host's DocumentRoot).",
  category: 'filesystem',
  fixable: false,
  proof: 'request',
  messages: {
    startup:
      '`{{served}}` points at {{dir}}, but {{path}} does not exist{{note}}: Apache refuses to start ("AH00526: … DocumentRoot … is not a directory, or is not readable"). Fix: create it (`{{fix}}`) or correct the path.',
    disk: '`{{served}}` points at {{dir}}, but {{path}} does not exist{{note}}: {{url}} gets {{status}}, not the site. Fix: create it (`{{fix}}`) or correct the path.{{skipped}}',
  },
  check(ctx) {
    const m = ctx.model;
    // A DocumentRoot or Alias in a .htaccess is never read (not allowed there: Apache answers 500 below
    // the directory, apache-htaccess-directive-not-allowed reports it), so it serves nothing.
    if (m.server !== 'apache' || ctx.set.root.context === 'htaccess') return;
    // A missing DocumentRoot of the main server stops httpd at start (core.c set_document_root): no
    // request is answered, so there is no request to prove. In a <VirtualHost> it is only a warning
    // (AH00112) and the vhost answers 404, like an Alias to a missing directory: proved like those.
    // Which server a root serves is the model's.
    const startup = (g: DiskGroup) =>
      g.root.node.name.toLowerCase() === 'documentroot' && !m.servedRoots().find((r) => r.by === g.root.directive)?.server.directive;
    for (const g of diskGroups(ctx.model, 'root-missing')) {
      if (!startup(g)) continue;
      const e = g.entries[0];
      ctx.report({
        node: g.root.node,
        messageId: 'startup',
        data: {
          served: g.root.label,
          dir: g.root.dir,
          path: e.path,
          note: e.note ? ` (${e.note})` : '',
          fix: `mkdir -p ${quote(g.root.dir)}`,
        },
      });
    }
    reportDisk(ctx, 'disk', {
      filter: (g) => !startup(g),
      kind: 'root-missing',
      status: 404,
      causes: undefined,
      fix: (g) => `mkdir -p ${quote(g.root.dir)}`,
    });
  },
});
