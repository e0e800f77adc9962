/**
 * N07: hotlink protection with `valid_referers` and `if ($invalid_referer) { return 403; }`. Without
 * `none` in the list, a request with no Referer header is invalid (ngx_http_referer_variable: no
 * Referer and no `none` → invalid), so typed URLs, bookmarks, apps and browsers that send no
 * Referer get 403.
 */
import { defineRule } from '../src/rule.js';
import { directiveText, lineOf } from '../src/nginx/model/cache.js';
import { own } from '../src/nginx/model/tree.js';

export default defineRule({
  id: 'nginx-invalid-referer-403',
  servers: ['nginx'],
  severity: 'warning',
  description: '`valid_referers` without `none` used to `return 403`: requests that send no Referer are refused.',
  category: 'access-control',
  fixable: false,
  proof: 'request',
  hasSuggestions: true,
  messages: {
    noNone:
      '`{{directive}}` has no `none`, so a request without a Referer header (a typed URL, a bookmark, an app, a privacy setting) has $invalid_referer set and `{{ret}}` ({{line}}) answers it 403',
  },
  check(ctx) {
    const m = ctx.model;
    if (m.server !== 'nginx') return;
    for (const scope of m.scopes()) {
      if (scope.kind !== 'if' || !scope.block) continue;
      const cond = scope.block.args
        .map((a) => a.value)
        .join(' ')
        .replace(/^\(\s*|\s*\)$/g, '');
      if (cond !== '$invalid_referer') continue;
      const ret = own(scope, 'return')[0];
      if (!ret || ret.args[0]?.value !== '403') continue;
      const vr = m.settingsAt(scope).validReferers;
      if (!vr || vr.args.some((a) => a.value === 'none')) continue;
      const at = vr.args[0]?.span.start.offset ?? vr.nameSpan.end.offset;
      // A request without a Referer, shown by explain to get 403 from the `return`.
      const proof = ctx.prove(m.requestTo(scope), { status: 403, decidedBy: ret });
      if (proof === false) continue;
      ctx.report({
        node: vr,
        messageId: 'noNone',
        data: { directive: directiveText(vr), ret: directiveText(ret), line: lineOf(ret, vr) },
        suggest: [{ desc: 'Add `none` to valid_referers', fix: { range: [at, at], text: 'none ' } }],
        proof,
      });
    }
  },
});
