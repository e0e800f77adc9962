/**
 * A root or alias directory that does not exist on disk (--fs): nothing it should serve is found.
 * The candidates come from the model's bounded disk scan (src/model/disk.ts); each group is proven with
 * `explain --fs` before it is reported (src/model/disk-rule.ts). Only with `--fs`.
 */
import { defineRule } from '../src/rule.js';
import { quote, reportDisk } from '../src/model/disk-rule.js';

export default defineRule({
  id: 'nginx-fs-root-missing',
  servers: ['nginx'],
  severity: 'error',
  description: 'A root or alias directory that does not exist on disk (--fs): nothing it should serve is found.',
  category: 'filesystem',
  fixable: false,
  proof: 'request',
  messages: {
    disk: '`{{served}}` points at {{dir}}, but {{path}} does not exist{{note}}: {{url}} gets {{status}}, not the site. Fix: create it (`{{fix}}`) or correct the path.{{skipped}}',
  },
  check(ctx) {
    reportDisk(ctx, 'disk', {
      kind: 'root-missing',
      status: 404,
      causes: undefined,
      fix: (g) => `mkdir -p ${quote(g.root.dir)}`,
    });
  },
});
