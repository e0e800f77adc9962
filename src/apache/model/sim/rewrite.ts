/**
 * mod_rewrite: a rule list (server context in translate_name, per-directory in fixups) with its
 * RewriteConds.
 */
import type { Directive } from '../../../ast.js';
import { isUnknown } from '../../../regex-engine.js';
import type { RewriteRuleEntry } from '../dirconf.js';
import { compilePcre } from '../regex.js';
import { fin, type Final, type Sim } from './state.js';

/** mod_rewrite rule list; returns a final status, a new path, or nothing. */
export function applyRewrite(
  sim: Sim,
  rules: RewriteRuleEntry[],
  subject: string,
  uri: string,
  filename: string | null,
  query: string,
  phase: string,
): { final?: Final; newPath?: string; by?: Directive } {
  let current = subject;
  let changed: string | undefined;
  let by: Directive | undefined;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    if (!rule.re.ok) {
      sim.unknown(rule.re.reason);
      return { final: { status: null, outcome: 'unknown', cause: null, by: rule.directive, message: rule.re.reason } };
    }
    const r = rule.re.re.exec(current);
    if (r && isUnknown(r)) {
      const why = `RewriteRule ${rule.pattern} cannot be evaluated on ${current}: ${r.unknown}`;
      sim.unknown(why);
      return { final: { status: null, outcome: 'unknown', cause: null, by: rule.directive, message: why } };
    }
    const m = r ? r.captures : null;
    if (!!m === rule.negate) continue;
    let condsOk = true;
    for (const c of rule.conds) {
      const v = evalCond(sim, c.test, c.pattern, c.flags, uri, filename, query, m);
      if (v === null) {
        const why = `RewriteCond ${c.test} ${c.pattern} is not modelled`;
        sim.unknown(why);
        return { final: { status: null, outcome: 'unknown', cause: null, by: c.directive, message: why } };
      }
      if (!v) {
        condsOk = false;
        if (!c.flags.has('or') && !c.flags.has('ornext')) break;
      } else if (c.flags.has('or') || c.flags.has('ornext')) {
        condsOk = true;
        break;
      }
    }
    if (!condsOk) continue;
    const f = rule.flags;
    if (f.has('f')) {
      if (sim.tracing) sim.step(phase, `RewriteRule ${rule.pattern} [F] matches ${current} → 403`, rule.directive);
      return { final: fin(403, 'A23', rule.directive, 'RewriteRule [F]') };
    }
    if (f.has('g')) {
      if (sim.tracing) sim.step(phase, `RewriteRule ${rule.pattern} [G] matches → 410`, rule.directive);
      return { final: fin(410, null, rule.directive, 'RewriteRule [G]') };
    }
    const subst = rule.subst.replace(/\$(\d)/g, (_, n) => (m ? (m[Number(n)] ?? '') : ''));
    if (f.has('p') && sim.model.modules.has('mod_proxy')) {
      // [P] (implies [L]): the request goes to mod_proxy's handler, which answers with the backend's
      // status (or 502/503 when it cannot reach it): not an internal redirect
      if (sim.tracing)
        sim.step(phase, `RewriteRule ${rule.pattern} [P] proxies the request to ${subst}; the backend answers`, rule.directive);
      return { final: { status: null, outcome: 'unknown', cause: null, by: rule.directive, message: `proxied to ${subst}` } };
    }
    if (f.has('r')) {
      const code = f.get('r') ? Number(f.get('r')) : 302;
      if (!Number.isInteger(code) || code < 100 || code > 599) {
        // mod_rewrite refuses the config ("invalid HTTP response code"): no status to predict
        sim.unknown(`RewriteRule ${rule.pattern} [R=${f.get('r')}]: httpd refuses to start with that code`);
        return {
          final: {
            status: null,
            outcome: 'unknown',
            cause: null,
            by: rule.directive,
            message: `RewriteRule [R=${f.get('r')}] is invalid`,
          },
        };
      }
      if (code < 300 || code > 399) {
        if (sim.tracing) sim.step(phase, `RewriteRule ${rule.pattern} [R=${code}] matches ${current} → ${code}`, rule.directive);
        return { final: fin(code, code === 403 ? 'A24' : null, rule.directive, `RewriteRule [R=${code}]`) };
      }
      if (sim.tracing) sim.step(phase, `RewriteRule ${rule.pattern} redirects to ${subst} (${code})`, rule.directive);
      return { final: fin(code, null, rule.directive, `redirect to ${subst}`) };
    }
    if (f.has('e')) {
      // [E=VAR:VAL] (several E= flags: only the last is kept by this flag map)
      const spec = (f.get('e') ?? '').replace(/\$(\d)/g, (_, n) => (m ? (m[Number(n)] ?? '') : ''));
      const colon = spec.indexOf(':');
      const name = colon >= 0 ? spec.slice(0, colon) : spec;
      if (name.startsWith('!')) sim.env.delete(name.slice(1));
      else if (name) sim.env.set(name, colon >= 0 ? spec.slice(colon + 1) : '');
      if (sim.tracing) sim.step(phase, `RewriteRule ${rule.pattern} [E=${spec}] sets the variable ${name}`, rule.directive);
    }
    if (subst !== '-') {
      current = subst;
      changed = subst;
      by = rule.directive;
      if (sim.tracing) sim.step(phase, `RewriteRule ${rule.pattern} rewrites to ${subst}`, rule.directive);
    }
    if (f.has('l') || f.has('end')) break;
  }
  return changed !== undefined ? { newPath: changed, by } : {};
}

export function evalCond(
  sim: Sim,
  test: string,
  pattern: string,
  flags: Set<string>,
  uri: string,
  filename: string | null,
  query: string,
  m: (string | undefined)[] | null,
): boolean | null {
  const headers = Object.fromEntries(Object.entries(sim.req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  let unknownVar = false;
  const val = test
    .replace(/%\{([^}]+)\}/g, (_, name: string) => {
      const n = name.toUpperCase();
      if (n === 'REQUEST_URI') return uri;
      if (n === 'REQUEST_FILENAME' || n === 'SCRIPT_FILENAME') return filename ?? uri;
      if (n === 'QUERY_STRING') return query;
      if (n === 'REMOTE_ADDR') return sim.clientIp;
      if (n === 'REQUEST_METHOD') return sim.method;
      if (n === 'HTTP_HOST') return sim.headers.host ?? sim.req.host ?? 'localhost';
      if (n.startsWith('HTTP:')) return headers[n.slice(5).toLowerCase()] ?? '';
      if (n.startsWith('HTTP_')) return headers[n.slice(5).toLowerCase().replace(/_/g, '-')] ?? '';
      unknownVar = true;
      return '';
    })
    .replace(/\$(\d)/g, (_, i) => (m ? (m[Number(i)] ?? '') : ''));
  if (unknownVar) return null;
  let pat = pattern;
  let neg = false;
  if (pat.startsWith('!')) {
    neg = true;
    pat = pat.slice(1);
  }
  let r: boolean;
  if (pat === '-f' || pat === '-d' || pat === '-s' || pat === '-l' || pat === '-F') {
    if (!sim.fs) return null;
    const st = pat === '-l' ? sim.fs.lstat(val) : sim.fs.stat(val);
    r = pat === '-d' ? st?.type === 'dir' : pat === '-l' ? st?.type === 'symlink' : st?.type === 'file';
  } else if (pat.startsWith('=')) {
    r = flags.has('nc') ? val.toLowerCase() === pat.slice(1).toLowerCase() : val === pat.slice(1);
  } else if (pat.startsWith('-')) {
    return null;
  } else {
    const re = compilePcre(pat, flags.has('nc'));
    const hit = re.ok ? re.re.matches(val) : null;
    if (hit === null || isUnknown(hit)) return null;
    r = hit;
  }
  return neg ? !r : r;
}
