/**
 * Served directories with no DirectoryIndex file while Options lacks Indexes (--fs): their directory URL gets 403.
 * The candidates come from the model's bounded disk scan (src/model/disk.ts); each group is proven with
 * `explain --fs` before it is reported (src/model/disk-rule.ts). Only with `--fs`.
 */
import { defineRule } from '../src/rule.js';
import { quote, reportDisk } from '../src/model/disk-rule.js';

export default defineRule({
  id: 'apache-fs-no-index',
  servers: ['apache'],
  severity: 'warning',
  description: 'Served directories with no DirectoryIndex file while Options lacks Indexes (--fs): their directory URL gets 403.',
  category: 'index',
  fixable: false,
  proof: 'request',
  messages: {
    disk: '{{path}} has no DirectoryIndex file{{note}} and Options has no Indexes{{others}}: {{url}} gets {{status}} ({{cause}}, AH01276) under `{{served}}`. Fix: {{fix}}.{{skipped}}',
  },
  check(ctx) {
    reportDisk(ctx, 'disk', {
      kind: 'no-index',
      status: 403,
      causes: ['A18'],
      fix: (g, e) =>
        `add ${quote(`${e.path === '/' ? '' : e.path}/${g.root.index?.[0] ?? 'index.html'}`)}, name the file the directory has in \`DirectoryIndex\`, or allow listings with \`Options +Indexes\``,
    });
  },
});
