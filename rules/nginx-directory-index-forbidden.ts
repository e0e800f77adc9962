/**
 * N12: `try_files … $uri/ … /index.php?$args` tries the directory before the front controller. A
 * request for a directory that exists ends the try_files search there (ngx_http_try_files_handler,
 * test_dir), the content phase looks for the `index` files in it, and when none exists (and
 * autoindex is off) nginx answers 403 "directory index of … is forbidden" instead of running the
 * fallback. Reported when the fallback's file is not one of the location's `index` names and the
 * fallback's own directory is served by the same block, so the directory holding the front
 * controller itself (`/`) is refused unless it has one of the index files.
 */
import { defineRule } from '../src/rule.js';
import { directiveText } from '../src/nginx/model/cache.js';
import type { Location, Scope } from '../src/nginx/model/tree.js';

export default defineRule({
  id: 'nginx-directory-index-forbidden',
  servers: ['nginx'],
  severity: 'warning',
  description: 'Directory requests that get 403 because no index file is served and autoindex is off.',
  category: 'index',
  fixable: false,
  proof: 'request',
  messages: {
    dirBeforeFallback:
      '`{{directive}}` stops at `{{dir}}` for a directory that exists; without one of the index files ({{index}}) in it and with autoindex off, nginx answers 403 "directory index of … is forbidden" instead of running `{{fallback}}`',
    indexRefused:
      '`{{directive}}` names nothing this server serves: {{refused}}, and without an index file nginx answers 403 "directory index of … is forbidden", so every request for {{dir}} gets 403',
  },
  check(ctx) {
    const m = ctx.model;
    if (m.server !== 'nginx') return;
    /** Every index file of a directory location is itself refused after the internal redirect. */
    const indexRefused = (scope: Scope): void => {
      const st = m.settingsAt(scope);
      const server = m.serverOf(scope);
      const dir = scope.kind === 'server' ? '/' : (scope as Location).name;
      if (!server || !dir.endsWith('/') || !st.index.directive || st.tryFiles || st.handler || st.autoindex.value || st.randomIndex.value)
        return;
      if (scope.kind === 'location' && !['', '^~'].includes((scope as Location).modifier)) return;
      if (m.scopeAt(server, dir) !== scope || m.refusesEveryone(scope)) return;
      const names = st.index.value;
      if (names.length === 0 || names.some((n) => n.includes('$') || n.startsWith('/'))) return;
      const refused = names.map((n) => ({ n, by: m.refusesEveryone(m.scopeAt(server, dir + n)) }));
      if (!refused.every((r) => r.by)) return;
      const list = refused.map((r) => `${dir}${r.n} is refused (${r.by!.why})`).join('; ');
      // the directory's own URL, shown by explain to get 403 (under the disk assumption that the first
      // index file exists, as nginx's index module needs it to before it redirects)
      const proof = ctx.prove(m.requestTo(scope), { status: 403 });
      if (proof === false) return;
      ctx.report({
        proof,
        node: st.index.directive,
        messageId: 'indexRefused',
        data: { directive: directiveText(st.index.directive), refused: list, dir },
      });
    };
    for (const scope of m.scopes()) {
      if (scope.kind !== 'location' && scope.kind !== 'server') continue;
      const st = m.settingsAt(scope);
      indexRefused(scope);
      const tf = st.tryFiles;
      if (!tf || tf.args.length < 2 || st.autoindex.value || st.randomIndex.value || st.handler) continue;
      const fallback = tf.args.at(-1)!.value;
      if (!fallback.startsWith('/') && !fallback.startsWith('@')) continue;
      const dirArg = tf.args.slice(0, -1).findIndex((a) => a.value.endsWith('/') && a.value.includes('$'));
      if (dirArg === -1) continue;
      const path = fallback.startsWith('@') ? '/' : fallback.split(/[?$]/)[0];
      const file = path.slice(path.lastIndexOf('/') + 1);
      if (file !== '' && st.index.value.includes(file)) continue;
      // only where the fallback's own directory is served by this block (the front controller's home)
      const server = m.serverOf(scope);
      const dir = path.slice(0, path.lastIndexOf('/') + 1);
      if (!server || m.scopeAt(server, dir) !== scope) continue;
      ctx.report({
        node: tf,
        arg: dirArg,
        messageId: 'dirBeforeFallback',
        data: { directive: directiveText(tf), dir: tf.args[dirArg].value, index: st.index.value.join(', '), fallback },
      });
    }
  },
});
