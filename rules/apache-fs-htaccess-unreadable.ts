/**
 * An .htaccess file Apache must read (AllowOverride is not None) that the worker user cannot read (--fs): the whole directory gets 403.
 * The candidates come from the model's bounded disk scan (src/model/disk.ts); each group is proven with
 * `explain --fs` before it is reported (src/model/disk-rule.ts). Only with `--fs`.
 */
import { defineRule } from '../src/rule.js';
import { chmodFor, reportDisk } from '../src/model/disk-rule.js';

export default defineRule({
  id: 'apache-fs-htaccess-unreadable',
  servers: ['apache'],
  severity: 'error',
  description:
    'An .htaccess file Apache must read (AllowOverride is not None) that the worker user cannot read (--fs): the whole directory gets 403.',
  category: 'filesystem',
  fixable: false,
  proof: 'request',
  messages: {
    disk: '{{path}} cannot be read by {{user}} ({{mode}}){{note}}, and AllowOverride makes Apache read it{{others}}: every request under its directory gets 403; {{url}} gets {{status}} ({{cause}}, AH00529). Fix: `{{fix}}`.{{skipped}}',
  },
  check(ctx) {
    reportDisk(ctx, 'disk', {
      kind: 'htaccess-unreadable',
      status: 403,
      causes: ['A16'],
      fix: (_g, e, scan) => chmodFor(e, scan, 'r'),
    });
  },
});
