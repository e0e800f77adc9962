/**
 * mod_access_compat's `Order`, `Allow`, `Deny` and `Satisfy` are deprecated since Apache 2.4.
 * Mixed with mod_authz_core's `Require` (Debian's `<Directory />` has `Require all denied`) they
 * deny requests the author meant to allow (docs/403-causes.md A05). Silent inside guards that make the
 * lines dead on 2.4: `<IfModule !mod_authz_core.c>` and `<IfVersion < 2.3>` (lintian's guard).
 */
import type { ConfigSet, Directive } from '../src/ast.js';
import { convertLegacy, type LegacyConversion } from '../src/apache/legacy-convert.js';
import { canonicalModule } from '../src/apache/model/modules.js';
import { compilePcre } from '../src/apache/model/regex.js';
import { defineRule } from '../src/rule.js';
import type { Model } from '../src/model/index.js';

const LEGACY = ['order', 'allow', 'deny', 'satisfy'];

/** Compare dotted versions: negative when a < b. */
function cmp(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Whether an `<IfVersion …>` condition holds for `version` (null when we cannot tell). */
export function ifVersionHolds(args: string[], version: string): boolean | null {
  let text = args.join(' ').trim();
  let negate = false;
  if (text.startsWith('!')) {
    negate = true;
    text = text.slice(1).trim();
  }
  const m = /^(==|=|<=|>=|<|>|~)?\s*(.+)$/.exec(text);
  if (!m) return null;
  const op = m[1] ?? '=';
  const want = m[2].trim();
  let holds: boolean;
  if (op === '~' || /^\/.*\/$/.test(want)) {
    const re = compilePcre(want.replace(/^\/(.*)\/$/, '$1'));
    const hit = re.ok ? re.re.matches(version) : null;
    if (typeof hit !== 'boolean') return null;
    holds = hit;
  } else if (!/^[0-9]+(\.[0-9]+)*$/.test(want)) return null;
  else {
    // IfVersion compares only as many components as given: `< 2.3` means major.minor < 2.3.
    const v = version.split('.').slice(0, want.split('.').length).join('.');
    const c = cmp(v, want);
    holds = op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : op === '>=' ? c >= 0 : c === 0;
  }
  return negate ? !holds : holds;
}

function guarded(parents: Directive[], version: string): boolean {
  for (const p of parents) {
    const args = p.args.map((a) => a.value);
    // `!mod_authz_core.c` and `!authz_core_module` name the module; httpd does not know
    // `mod_authz_core` (no .c), so that block always applies and is not a guard.
    const m = /^!\s*(\S+)$/.exec(args.join(''));
    if (p.key === 'ifmodule' && m && /(\.c|_module)$/i.test(m[1]) && canonicalModule(m[1]) === 'mod_authz_core') return true;
    if (p.key === 'ifversion' && ifVersionHolds(args, version) === false) return true;
  }
  return false;
}

function advice(d: Directive): string {
  const args = d.args.map((a) => a.value);
  const from = args[0]?.toLowerCase() === 'from' ? args.slice(1) : [];
  if (d.key === 'order') return 'Require lines need no Order; remove it once the Allow and Deny lines are converted';
  if (d.key === 'satisfy') return 'use <RequireAny> for Satisfy Any, <RequireAll> for Satisfy All';
  if (from.length === 0) return 'use Require';
  const all = from.length === 1 && from[0].toLowerCase() === 'all';
  const env = from.every((f) => /^env=[^!]/i.test(f));
  const ipish = from.every((f) => /^[0-9a-f.:/]+$/i.test(f));
  let req: string | null = null;
  if (all) req = d.key === 'allow' ? 'Require all granted' : 'Require all denied';
  else if (env) req = `Require env ${from.map((f) => f.slice(4)).join(' ')}`;
  else if (ipish) req = `Require ip ${from.join(' ')}`;
  else if (from.every((f) => !/[=]/.test(f))) req = `Require host ${from.join(' ')}`;
  if (!req) return 'use Require';
  if (d.key === 'deny' && !all) return `use \`${req.replace('Require', 'Require not')}\` inside <RequireAll>`;
  return `use \`${req}\``;
}

/** Why a .htaccess cannot hold Require lines (AllowOverride without AuthConfig), or null. */
function htaccessRefusal(ctx: { set: ConfigSet; model: Model }): string | null {
  if (ctx.set.root.context !== 'htaccess' || ctx.model.server !== 'apache') return null;
  const hc = ctx.model.htaccess();
  const states = hc.links.length ? hc.links.map((l) => l.state) : hc.assumed ? [hc.assumed] : [];
  for (const st of states) {
    if (!st.classes.has('AuthConfig'))
      return 'the AllowOverride in force for this directory does not include AuthConfig, which Require lines need in a .htaccess';
  }
  return null;
}

export default defineRule({
  id: 'apache-legacy-access-control',
  servers: ['apache'],
  severity: 'warning',
  description: 'Order, Allow, Deny and Satisfy are deprecated since Apache 2.4 and mixing them with Require denies requests.',
  category: 'access-control',
  fixable: true,
  proof: {
    none: 'It reports deprecated syntax and offers its conversion; it claims no status.',
  },
  messages: {
    legacy: '{{name}} is mod_access_compat syntax, deprecated since Apache 2.4: {{advice}}',
    convert: "{{name}} is mod_access_compat syntax, deprecated since Apache 2.4: --fix converts the section's legacy lines to {{block}}",
    kept: "{{name}} is mod_access_compat syntax, deprecated since Apache 2.4: {{advice}} (--fix leaves the section's legacy lines: {{reason}})",
  },
  check(ctx) {
    const version = ctx.settings.apacheVersion ?? '2.4';
    const lines = ctx.directives(...LEGACY).filter(({ ctx: w }) => !guarded(w.parents, version));
    // nothing to report: the conversions are only read for the lines reported
    if (lines.length === 0) return;
    const conversions = convertLegacy(ctx.set, {
      isGuarded: (parents) => guarded(parents, version),
      htaccessRequireRefused: htaccessRefusal(ctx),
    });
    const of = new Map<Directive, LegacyConversion>();
    for (const c of conversions) for (const d of c.section.legacy) of.set(d, c);
    for (const { node } of lines) {
      const c = of.get(node);
      const atServer = !c || (!c.section.owner && !c.section.htaccess);
      if (atServer || !c) {
        ctx.report({ node, messageId: 'legacy', data: { name: node.name, advice: advice(node) } });
        continue;
      }
      if (c.fix) {
        const block = c.block.length
          ? `\`${c.block.map((l) => l.trim()).join(' / ')}\``
          : 'nothing: the Require lines in force decide alone';
        const first = c.section.legacy[0] === node;
        ctx.report({ node, messageId: 'convert', data: { name: node.name, block }, fix: first ? c.fix : undefined });
      } else {
        ctx.report({ node, messageId: 'kept', data: { name: node.name, advice: advice(node), reason: c.reason ?? 'unknown' } });
      }
    }
  },
});
