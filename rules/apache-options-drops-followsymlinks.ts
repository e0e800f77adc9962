/**
 * A bare `Options …` (no `+`/`-`) replaces the inherited options instead of adding to them, so
 * `Options Indexes` under a parent with FollowSymLinks silently turns symlinks off: every symlink
 * below answers 403 (docs/403-causes.md A11, AH00037) and per-directory mod_rewrite refuses every request
 * (A25, AH00670). Reported when the inherited options (the merged `<Directory>` sections above, from
 * the model) allow symlinks and the line keeps neither FollowSymLinks nor SymLinksIfOwnerMatch.
 * `Options None` reads as a deliberate lock-down and is not reported. For a .htaccess: the linked
 * main config's options (htaccess-link.ts); a .htaccess linted alone is not reported.
 */
import { directiveText, type Directive } from '../src/ast.js';
import { applyOptions, describeOptions, effectiveOptions, newOptions, OPT_SYM_LINKS, OPT_SYM_OWNER } from '../src/apache/model/options.js';
import { defineRule } from '../src/rule.js';

const SYM = OPT_SYM_LINKS | OPT_SYM_OWNER;
const kids = (d: Directive) => (d.block ?? []).filter((n): n is Directive => n.type === 'directive');
const parent = (p: string) => p.replace(/\/+$/, '').replace(/[^/]*$/, '') || '/';

/** The bits a bare Options line sets, or null when it is relative, None, or invalid. */
function bareBits(d: Directive): number | null {
  const args = d.args.map((a) => a.value);
  if (args.length === 0 || args.some((a) => /^[+-]/.test(a)) || (args.length === 1 && /^none$/i.test(args[0]))) return null;
  const o = newOptions();
  if (applyOptions(o, args)) return null;
  return effectiveOptions(o);
}

export default defineRule({
  id: 'apache-options-drops-followsymlinks',
  servers: ['apache'],
  severity: 'warning',
  description: 'A bare Options line drops the inherited FollowSymLinks, so symlinks and per-directory rewrites answer 403.',
  category: 'filesystem',
  fixable: false,
  proof: {
    none: 'Its 403 needs a symlink on disk (or a rewritten request below it); proofs for it are not made yet.',
  },
  messages: {
    drops:
      '`{{options}}` replaces the inherited Options ({{inherited}}) instead of adding to them, so FollowSymLinks is off {{where}}: symlinks there answer 403, and so does every request if RewriteEngine is on',
  },
  check(ctx) {
    const check = (d: Directive, inherited: number, where: string) => {
      const bits = bareBits(d);
      if (bits === null || bits & SYM || !(inherited & SYM)) return;
      ctx.report({
        node: d,
        messageId: 'drops',
        data: { options: directiveText(d), inherited: describeOptions(inherited) || 'none', where },
      });
    };
    const m = ctx.model;
    if (m.server !== 'apache') return;
    if (ctx.set.root.context === 'htaccess') {
      const hc = m.htaccess();
      // Alone, what the file inherits is unknown: nothing is claimed (a RewriteEngine On beside it is
      // apache-rewrite-without-followsymlinks' finding).
      const server = hc.links[0]?.server;
      if (!server) return;
      const inherited = m.optionsAt(server, `${hc.dir}/`);
      for (const n of ctx.set.root.nodes) if (n.type === 'directive' && n.key === 'options') check(n, inherited, 'below this .htaccess');
      return;
    }
    const done = new Set<Directive>();
    for (const p of m.probes()) {
      if (!p.section || done.has(p.section.directive)) continue;
      done.add(p.section.directive);
      const inherited = m.optionsAt(p.root.server, parent(p.section.path));
      for (const d of kids(p.section.directive)) if (d.key === 'options') check(d, inherited, `in ${p.url}`);
    }
  },
});
