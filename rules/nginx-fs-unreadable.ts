/**
 * Files under a root or alias that the nginx worker user cannot read (--fs): requests for them get 403.
 * The candidates come from the model's bounded disk scan (src/model/disk.ts); each group is proven with
 * `explain --fs` before it is reported (src/model/disk-rule.ts). Only with `--fs`.
 */
import { defineRule } from '../src/rule.js';
import { readableFix, reportDisk } from '../src/model/disk-rule.js';

export default defineRule({
  id: 'nginx-fs-unreadable',
  servers: ['nginx'],
  severity: 'error',
  description: 'Files under a root or alias that the nginx worker user cannot read (--fs): requests for them get 403.',
  category: 'filesystem',
  fixable: false,
  proof: 'request',
  messages: {
    disk: '`{{served}}` serves {{path}}, which {{user}} cannot read ({{mode}}){{others}}: {{url}} gets {{status}} ({{cause}}). Fix: `{{fix}}`.{{skipped}}',
  },
  check(ctx) {
    reportDisk(ctx, 'disk', {
      kind: 'unreadable',
      status: 403,
      causes: ['N10'],
      fix: readableFix,
    });
  },
});
