/**
 * N04: `auth_basic_user_file` names a file that does not exist. nginx opens it only when a client
 * sends credentials, and ENOENT gives 403 (ngx_http_auth_basic_handler; EACCES gives 500, no
 * credentials 401). A relative path is relative to the conf prefix (the directory of the main
 * config). Reported only when the file's directory exists on this machine (after the path map), so
 * a checkout without the deployed secrets is not reported.
 */
import { dirname, isAbsolute, join } from 'node:path';
import { defineRule } from '../src/rule.js';
import { confPrefixFor } from '../src/nginx/load.js';
import { directiveText } from '../src/nginx/model/cache.js';
import { DiskFs } from '../src/nginx/model/fs.js';

export default defineRule({
  id: 'nginx-htpasswd-missing',
  servers: ['nginx'],
  severity: 'warning',
  description: 'An `auth_basic_user_file` that does not exist, so every client that sends credentials gets 403.',
  category: 'auth',
  fixable: false,
  messages: {
    missing:
      '`{{directive}}`: {{path}} does not exist, so every client that sends credentials gets 403 (nginx logs "open() … failed (2: No such file or directory)"); clients without credentials get 401',
  },
  check(ctx) {
    const fs = new DiskFs(Object.entries(ctx.settings.pathMap ?? {}).map(([from, to]) => ({ from, to })));
    const prefix = confPrefixFor(ctx.set.root.source.path);
    const m = ctx.model;
    if (m.server !== 'nginx') return;
    for (const scope of m.scopes()) {
      const st = m.settingsAt(scope);
      const d = st.authBasicUserFile.directive;
      const file = st.authBasicUserFile.value;
      if (st.authBasic.value === null || !d || !file || file.includes('$')) continue;
      const path = isAbsolute(file) ? file : join(prefix, file);
      if (fs.statFollow(path).type !== 'none' || fs.statFollow(dirname(path)).type !== 'dir') continue;
      ctx.report({ node: d, arg: 0, messageId: 'missing', data: { directive: directiveText(d), path } });
    }
  },
});
