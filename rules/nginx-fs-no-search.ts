/**
 * Directories on the way to a root or alias that the nginx worker user cannot search (no x permission, --fs): everything below gets 403.
 * The candidates come from the model's bounded disk scan (src/model/disk.ts); each group is proven with
 * `explain --fs` before it is reported (src/model/disk-rule.ts). Only with `--fs`.
 */
import { defineRule } from '../src/rule.js';
import { reportDisk, searchableFix } from '../src/model/disk-rule.js';

export default defineRule({
  id: 'nginx-fs-no-search',
  servers: ['nginx'],
  severity: 'error',
  description:
    'Directories on the way to a root or alias that the nginx worker user cannot search (no x permission, --fs): everything below gets 403.',
  category: 'filesystem',
  fixable: false,
  proof: 'request',
  messages: {
    disk: '{{user}} cannot search {{path}}{{note}} ({{mode}}), so nothing below it can be opened{{others}}: {{url}} gets {{status}} ({{cause}}) although `{{served}}` serves it. Fix: `{{fix}}`.{{skipped}}',
  },
  check(ctx) {
    reportDisk(ctx, 'disk', {
      kind: 'no-search',
      status: 403,
      causes: ['N10', 'N13'],
      fix: searchableFix,
    });
  },
});
