/**
 * `<Limit METHOD…>` around an access restriction restricts only the methods it names: every other
 * method (PUT, DELETE, PROPFIND, or GET when only POST is listed) is not touched by it
 * (docs/403-causes.md A10 is the other side: the named methods get 401/403). The classic
 * `<Limit GET POST> Require valid-user </Limit>` leaves the rest open (security). Reported only
 * when GET is listed (the author meant to protect the content; `<Limit POST PUT DELETE>` reads as
 * "protect the writes") and not when the same section also restricts outside `<Limit>` or has a
 * `<LimitExcept>` for the rest — the intended pattern. Works on the text of each section (server config and .htaccess alike).
 */
import { directiveText, type Directive } from '../src/ast.js';
import { defineRule } from '../src/rule.js';

const kids = (d: Directive | { block: Directive['block'] }) => (d.block ?? []).filter((n): n is Directive => n.type === 'directive');
const words = (d: Directive) => d.args.map((a) => a.value.toLowerCase()).join(' ');

/** A directive that refuses some clients. */
function restricts(d: Directive): boolean {
  if (d.key === 'require') return !/^all granted$/.test(words(d)) && !/^(not\s+)?method\b/.test(words(d));
  if (d.key === 'deny') return true;
  if (d.key === 'requireall' || d.key === 'requireany' || d.key === 'requirenone') return kids(d).some(restricts);
  return false;
}

export default defineRule({
  id: 'apache-limit-leaves-methods',
  servers: ['apache'],
  severity: 'warning',
  description: 'An access restriction inside <Limit> applies only to the listed methods; every other method bypasses it.',
  category: 'access-control',
  fixable: false,
  proof: {
    none: 'It claims the other methods are not restricted by the line; what they get depends on the rest of the configuration, so it names no status.',
  },
  messages: {
    open: '`{{restriction}}` sits in `<Limit {{methods}}>`, so it applies to {{methods}} only: every other method ({{others}}, …) is not restricted by it',
  },
  check(ctx) {
    const scan = (list: Directive[]) => {
      const limits = list.filter((d) => d.key === 'limit');
      if (limits.length) {
        const guarded = list.some((d) => d.key === 'limitexcept' || (d.key !== 'limit' && restricts(d)));
        if (!guarded) {
          for (const l of limits) {
            const r = kids(l).find(restricts);
            const listed = l.args.map((a) => a.value.toUpperCase());
            // A <Limit> without GET (e.g. POST PUT DELETE) reads as "protect the writes": deliberate.
            if (!r || !listed.includes('GET')) continue;
            const others = ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PROPFIND'].filter((m) => !listed.includes(m)).slice(0, 3);
            ctx.report({
              node: l,
              messageId: 'open',
              data: { restriction: directiveText(r), methods: l.args.map((a) => a.raw).join(' '), others: others.join(', ') },
            });
          }
        }
      }
      for (const d of list) if (d.block && d.key !== 'limit' && d.key !== 'limitexcept') scan(kids(d));
    };
    for (const f of ctx.set.files.size ? ctx.set.files.values() : [ctx.set.root]) scan(kids({ block: f.nodes as Directive['block'] }));
  },
});
