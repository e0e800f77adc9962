/**
 * Symlinks under a root or alias that disable_symlinks refuses (--fs): requests for them get 403.
 * The candidates come from the model's bounded disk scan (src/model/disk.ts); each group is proven with
 * `explain --fs` before it is reported (src/model/disk-rule.ts). Only with `--fs`.
 */
import { defineRule } from '../src/rule.js';
import { quote, reportDisk } from '../src/model/disk-rule.js';

export default defineRule({
  id: 'nginx-fs-symlink',
  servers: ['nginx'],
  severity: 'error',
  description: 'Symlinks under a root or alias that disable_symlinks refuses (--fs): requests for them get 403.',
  category: 'filesystem',
  fixable: false,
  proof: 'request',
  messages: {
    disk: '{{path}} is a symlink ({{mode}}) and disable_symlinks refuses it{{others}}: {{url}} gets {{status}} ({{cause}}) under `{{served}}`. Fix: {{fix}}.{{skipped}}',
  },
  check(ctx) {
    reportDisk(ctx, 'disk', {
      kind: 'symlink',
      status: 403,
      causes: ['N11', 'N14'],
      fix: (_g, e) =>
        `replace the link with its target (\`cp --remove-destination "$(readlink -f ${quote(e.path)})" ${quote(e.path)}\`), give the link the target's owner with disable_symlinks if_not_owner (\`chown -h --reference=${quote(e.path)}/. …\`), or \`disable_symlinks off;\``,
    });
  },
});
