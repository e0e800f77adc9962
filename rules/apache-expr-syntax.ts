/**
 * An ap_expr expression httpd cannot parse — in `<If>`/`<ElseIf>`, `Require expr` or `SetEnvIfExpr` —
 * and an `<ElseIf>`/`<Else>` with no `<If>` right before it. httpd checks expressions when it reads
 * the config: in a main config it refuses to start (`apache2 -t`: "Cannot parse condition clause: …",
 * AH00526); in a .htaccess it stops reading the file and answers 500 to every request below its
 * directory. The parser is src/apache/expr (the same one the simulator evaluates with).
 */
import type { Directive } from '../src/ast.js';
import { sectionKey } from '../src/apache/model/conditions.js';
import { requireExpr, sectionExpr } from '../src/apache/expr/index.js';
import { defineRule } from '../src/rule.js';
import { walk } from '../src/walk.js';

export default defineRule({
  id: 'apache-expr-syntax',
  servers: ['apache'],
  severity: 'error',
  description: 'An expression (<If>, <ElseIf>, Require expr, SetEnvIfExpr) httpd cannot parse: it refuses the config (500 in .htaccess).',
  category: 'syntax',
  fixable: false,
  proof: {
    none: 'It reports an expression Apache cannot parse: the main config does not start, a .htaccess answers 500 when read; explain does not simulate a configuration that fails to load.',
  },
  messages: {
    expr: '{{what}} at {{line}}:{{column}}: {{message}}; {{effect}}',
    orphan: '<{{name}}> without an <If> or <ElseIf> right before it in the same section; {{effect}}',
  },
  check(ctx) {
    const htaccess = ctx.set.root.context === 'htaccess';
    const effect = (d: Directive) =>
      htaccess || d.source.path.endsWith('.htaccess')
        ? 'Apache answers 500 to every request below this directory'
        : 'Apache refuses to start with this config (apache2 -t)';
    const visitList = (list: Directive[]) => {
      let prevIf = false;
      for (const d of list) {
        const k = sectionKey(d);
        if ((k === 'elseif' || k === 'else') && d.block) {
          if (!prevIf) ctx.report({ node: d, messageId: 'orphan', data: { name: d.name.replace(/^</, ''), effect: effect(d) } });
        }
        prevIf = d.block !== null && (k === 'if' || k === 'elseif');
      }
    };
    visitList(ctx.set.root.nodes.filter((n): n is Directive => n.type === 'directive'));
    walk(ctx.set, (n) => {
      if (n.type !== 'directive') return;
      const k = sectionKey(n);
      if (n.block) visitList(n.block.filter((c): c is Directive => c.type === 'directive'));
      let e = null;
      let what = '';
      let arg = 0;
      if ((k === 'if' || k === 'elseif') && n.block) {
        e = sectionExpr(n);
        what = `<${n.name.replace(/^</, '')}> condition`;
      } else if (k === 'require' && n.args[0]?.value.toLowerCase() === 'expr') {
        e = requireExpr(n);
        what = '`Require expr`';
        arg = 1;
      } else if (k === 'setenvifexpr' && n.args.length) {
        e = sectionExpr(n);
        what = 'SetEnvIfExpr expression';
        if (e.error && /^Multiple/.test(e.error.message)) return; // SetEnvIfExpr takes variables after it
      }
      if (!e?.error) return;
      const at = e.at(e.error.offset);
      ctx.report({
        node: n,
        arg: Math.min(arg, Math.max(0, n.args.length - 1)),
        messageId: 'expr',
        data: { what, line: at.line, column: at.column, message: e.error.message, effect: effect(n) },
      });
    });
  },
});
