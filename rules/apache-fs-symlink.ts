/**
 * Symlinks under a DocumentRoot or Alias that Options refuses (no FollowSymLinks, or SymLinksIfOwnerMatch with another owner; --fs): requests for them get 403.
 * The candidates come from the model's bounded disk scan (src/model/disk.ts); each group is proven with
 * `explain --fs` before it is reported (src/model/disk-rule.ts). Only with `--fs`.
 */
import { defineRule } from '../src/rule.js';
import { quote, reportDisk } from '../src/model/disk-rule.js';

export default defineRule({
  id: 'apache-fs-symlink',
  servers: ['apache'],
  severity: 'error',
  description:
    'Symlinks under a DocumentRoot or Alias that Options refuses (no FollowSymLinks, or SymLinksIfOwnerMatch with another owner; --fs): requests for them get 403.',
  category: 'filesystem',
  fixable: false,
  proof: 'request',
  messages: {
    disk: '{{path}} is a symlink ({{mode}}) that Apache refuses to follow{{others}}: {{url}} gets {{status}} ({{cause}}, AH00037) under `{{served}}`. Fix: {{fix}}.{{skipped}}',
  },
  check(ctx) {
    reportDisk(ctx, 'disk', {
      kind: 'symlink',
      status: 403,
      causes: ['A11'],
      fix: (_g, e) =>
        `\`Options +FollowSymLinks\` in the <Directory> of ${quote(e.path.slice(0, e.path.lastIndexOf('/')) || '/')}, or with SymLinksIfOwnerMatch give the link its target's owner (\`chown -h --reference="$(readlink -f ${quote(e.path)})" ${quote(e.path)}\`)`,
    });
  },
});
