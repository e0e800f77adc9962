/**
 * N21 spread to everyone: `proxy_cache_valid any …` or `proxy_cache_valid 403 …` (and the fastcgi_,
 * uwsgi_, scgi_ variants) with the cache on. A backend that answers 403 for one client (not logged
 * in, wrong address, expired token) has that 403 stored under a key that does not name the client,
 * and every client gets it from the cache until it expires. Not reported when the cache key names
 * the client (cookie, Authorization, remote address or user).
 */
import { defineRule } from '../src/rule.js';
import { directiveText, lineOf } from '../src/nginx/model/cache.js';
import { nearest } from '../src/nginx/model/tree.js';

const MODULES = ['proxy', 'fastcgi', 'uwsgi', 'scgi'];
/** The directive names per module, made once (this rule asks for them in every scope). */
const NAMES = MODULES.map((m) => ({ valid: [`${m}_cache_valid`], cache: [`${m}_cache`], key: [`${m}_cache_key`] }));
const PER_CLIENT = /\$(cookie_|http_authorization|http_cookie|remote_addr|binary_remote_addr|remote_user|jwt|ssl_client)/;

export default defineRule({
  id: 'nginx-proxy-cache-403',
  servers: ['nginx'],
  severity: 'warning',
  description: "A cache that stores the backend's 403 answers and serves one client's 403 to everyone.",
  category: 'other',
  fixable: false,
  proof: {
    none: 'The 403 comes from the backend and is then cached; explain does not know what a backend answers.',
  },
  messages: {
    cached:
      "`{{directive}}` caches 403 answers with `{{cache}}` ({{line}}) and a key that does not name the client, so one client's 403 from the backend is served to everyone for {{time}}",
  },
  check(ctx) {
    for (const scope of ctx.model.server === 'nginx' ? ctx.model.scopes() : []) {
      for (const n of NAMES) {
        const valid = nearest(scope, n.valid);
        if (!valid) continue;
        const cache = nearest(scope, n.cache)?.directives.at(-1);
        if (!cache || cache.args[0]?.value === 'off') continue;
        const key = nearest(scope, n.key)?.directives.at(-1);
        if (key && PER_CLIENT.test(key.args.map((a) => a.value).join(' '))) continue;
        for (const d of valid.directives) {
          const codes = d.args.slice(0, -1).map((a) => a.value);
          const i = codes.findIndex((c) => c === 'any' || c === '403');
          if (i === -1) continue;
          ctx.report({
            node: d,
            arg: i,
            messageId: 'cached',
            data: { directive: directiveText(d), cache: directiveText(cache), line: lineOf(cache, d), time: d.args.at(-1)!.value },
          });
        }
      }
    }
  },
});
