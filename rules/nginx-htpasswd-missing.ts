/**
 * N04: `auth_basic_user_file` names a file that does not exist. nginx opens it only when a client
 * sends credentials, and ENOENT gives 403 (ngx_http_auth_basic_handler; EACCES gives 500, no
 * credentials 401). A relative path is relative to the conf prefix (the directory of the main
 * config; for a fragment read alone, the loader's guess: the parent of conf.d/, sites-enabled/ …),
 * the one the model's `configPath` and the simulator use. Reported only when the file's directory exists on this machine (after the path map), so
 * a checkout without the deployed secrets is not reported.
 */
import { dirname } from 'node:path';
import { defineRule } from '../src/rule.js';
import { directiveText } from '../src/nginx/model/cache.js';
import type { Directive } from '../src/ast.js';

/** What the sample request sends: any user and password (the file is never opened, so never checked). */
const CREDENTIALS = `Basic ${Buffer.from('why403:why403').toString('base64')}`;

export default defineRule({
  id: 'nginx-htpasswd-missing',
  servers: ['nginx'],
  severity: 'warning',
  description: 'An `auth_basic_user_file` that does not exist, so every client that sends credentials gets 403.',
  category: 'auth',
  fixable: false,
  proof: 'request',
  messages: {
    missing:
      '`{{directive}}`: {{path}} does not exist, so every client that sends credentials gets 403 (nginx logs "open() … failed (2: No such file or directory)"); clients without credentials get 401',
  },
  check(ctx) {
    const m = ctx.model;
    if (m.server !== 'nginx') return;
    // the password file as the model reads it: through the path map (--path-map and settings), the
    // worker's view with --fs
    const files = m.configFiles();
    const stat = (p: string) => (files.statFollow ? files.statFollow(p) : files.stat(p));
    const done = new Set<Directive>();
    for (const scope of m.scopes()) {
      const st = m.settingsAt(scope);
      const d = st.authBasicUserFile.directive;
      const file = st.authBasicUserFile.value;
      if (st.authBasic.value === null || !d || done.has(d) || !file || file.includes('$')) continue;
      const path = m.configPath(file);
      if (stat(path).type !== 'none' || stat(dirname(path)).type !== 'dir') continue;
      // A request with credentials to a place the file is in force, shown by explain to get 403
      // decided by this directive; refuted here (something else decides), another scope may show it.
      const sample = m.requestTo(scope);
      const proof = ctx.prove(sample && { ...sample, headers: { ...sample.headers, Authorization: CREDENTIALS } }, {
        status: 403,
        decidedBy: d,
      });
      if (proof === false) continue;
      done.add(d);
      ctx.report({ node: d, arg: 0, messageId: 'missing', data: { directive: directiveText(d), path }, proof });
    }
  },
});
