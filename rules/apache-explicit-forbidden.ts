/**
 * A 403 the configuration asks for in so many words: `RewriteRule … [F]`, `RewriteRule … [R=403]`
 * (docs/403-causes.md A23, A24) and `Redirect 403` / `RedirectMatch 403` (A29). Deliberate-looking, so
 * info: it tells the reader of a 403 where it comes from, and that no log line names it (mod_rewrite
 * and mod_alias log nothing at the default LogLevel).
 */
import { directiveText, type Directive } from '../src/ast.js';
import { parseRewriteFlags } from '../src/apache/model/dirconf.js';
import { CONDITIONAL_SECTIONS, sectionKey } from '../src/apache/model/conditions.js';
import { defineRule } from '../src/rule.js';

export default defineRule({
  id: 'apache-explicit-forbidden',
  servers: ['apache'],
  severity: 'info',
  description: 'RewriteRule [F] / [R=403] and Redirect 403 answer 403 without any line in the error log.',
  category: 'rewrite',
  fixable: false,
  proof: 'request',
  messages: {
    rewrite:
      '`{{directive}}` answers 403 to every request whose path matches `{{pattern}}`{{conds}}{{read}}; nothing is logged at the default LogLevel',
    redirect: '`{{directive}}` answers 403 to every request {{scope}}{{read}}; nothing is logged',
  },
  check(ctx) {
    const m = ctx.model;
    if (m.server !== 'apache') return;
    // A request explain shows to be answered 403 by this very line, when one can be built: the claim is
    // conditional (the pattern, its RewriteConds), so a finding without one still stands.
    const proofFor = (node: Directive, parents: readonly Directive[]) => {
      for (const sample of m.requestsFor(node, parents)) {
        const proof = ctx.prove(sample, { status: 403, decidedBy: node });
        if (proof) return proof;
      }
      return null;
    };
    // A line the model does not read (a conditional section around it does not hold as why403 reads the
    // configuration, e.g. <IfModule mod_rewrite.c> with modules it only assumes) answers 403 only if it is
    // read after all: the claim says so. Lines of a .htaccess are read through the config that links it.
    const htaccess = ctx.set.root.context === 'htaccess';
    const readNote = (node: Directive, parents: readonly Directive[]): string => {
      if (htaccess || m.ownerOf(node)) return '';
      const conds = parents.filter((p) => CONDITIONAL_SECTIONS.has(sectionKey(p)));
      const tag = (c: Directive) => `\`<${c.name} ${c.args.map((a) => a.raw).join(' ')}>\` (line ${c.span.start.line})`;
      if (conds.length === 0) return '';
      if (conds.length > 1)
        // which of them does not hold is the model's reading; the message does not guess
        return ` — if it is read at all: it stands inside ${conds.map(tag).join(' and ')}, and one of them does not hold as why403 reads the configuration (the modules it takes as loaded, the -D names given with --define)`;
      const c = conds[0];
      const why =
        sectionKey(c) === 'ifmodule'
          ? "with the modules why403 takes as loaded (the LoadModule lines it read, else Debian's defaults; the apacheModules setting adds others)"
          : sectionKey(c) === 'ifdefine'
            ? 'without that -D name (give it with --define)'
            : 'as why403 reads the configuration';
      return ` — if it is read at all: ${tag(c)} does not hold ${why}`;
    };
    for (const { node, ctx: w } of ctx.directives('rewriterule')) {
      const flags = parseRewriteFlags(node.args[2]?.value);
      const r = flags.get('r');
      if (!flags.has('f') && !flags.has('forbidden') && r !== '403') continue;
      const conds = countConds(node);
      ctx.report({
        proof: proofFor(node, w.parents),
        node,
        arg: 2,
        messageId: 'rewrite',
        data: {
          directive: directiveText(node),
          pattern: node.args[0]?.value ?? '',
          conds: conds ? ` (when its ${conds} RewriteCond line${conds > 1 ? 's hold' : ' holds'})` : '',
          read: readNote(node, w.parents),
        },
      });
    }
    for (const { node, ctx: w } of ctx.directives('redirect', 'redirectmatch')) {
      if (node.args[0]?.value !== '403') continue;
      const target = node.args[1]?.value ?? '/';
      const scope = node.key === 'redirect' ? `under ${target}` : `whose path matches \`${target}\``;
      ctx.report({
        node,
        arg: 0,
        messageId: 'redirect',
        data: { directive: directiveText(node), scope, read: readNote(node, w.parents) },
        proof: proofFor(node, w.parents),
      });
    }
  },
});

/** RewriteCond lines directly above a RewriteRule (they belong to it). */
function countConds(rule: Directive): number {
  // Read the lines above the rule's line backwards, one at a time: splitting the whole text before
  // each rule made this quadratic in the file's size (issue 12).
  const text = rule.source.text;
  let lineStart = text.lastIndexOf('\n', rule.span.start.offset - 1) + 1;
  let n = 0;
  while (lineStart > 0) {
    const prevStart = lineStart >= 2 ? text.lastIndexOf('\n', lineStart - 2) + 1 : 0;
    let l = text.slice(prevStart, lineStart - 1);
    if (l.endsWith('\r')) l = l.slice(0, -1);
    lineStart = prevStart;
    if (/^\s*RewriteCond\s/i.test(l)) n++;
    else if (/^\s*(#.*)?$/.test(l)) continue;
    else break;
  }
  return n;
}
