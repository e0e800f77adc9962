/**
 * Served directories with no index file while autoindex is off (--fs): their directory URL gets 403.
 * The candidates come from the model's bounded disk scan (src/model/disk.ts); each group is proven with
 * `explain --fs` before it is reported (src/model/disk-rule.ts). Only with `--fs`.
 */
import { defineRule } from '../src/rule.js';
import { quote, reportDisk } from '../src/model/disk-rule.js';

export default defineRule({
  id: 'nginx-fs-no-index',
  servers: ['nginx'],
  severity: 'warning',
  description: 'Served directories with no index file while autoindex is off (--fs): their directory URL gets 403.',
  category: 'index',
  fixable: false,
  proof: 'request',
  messages: {
    disk: '{{path}} has no index file{{note}} and autoindex is off{{others}}: {{url}} gets {{status}} ({{cause}}, "directory index … is forbidden") under `{{served}}`. Fix: {{fix}}.{{skipped}}',
  },
  check(ctx) {
    reportDisk(ctx, 'disk', {
      kind: 'no-index',
      status: 403,
      causes: ['N12'],
      fix: (g, e) =>
        `add ${quote(`${e.path === '/' ? '' : e.path}/${g.root.index?.[0] ?? 'index.html'}`)}, list the file the directory has in \`index\`, or turn \`autoindex on;\``,
    });
  },
});
