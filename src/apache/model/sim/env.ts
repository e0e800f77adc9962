/**
 * The request's environment as the access checks see it: mod_setenvif (SetEnvIf, SetEnvIfNoCase,
 * BrowserMatch, BrowserMatchNoCase, SetEnvIfExpr) runs before them (post_read_request for the
 * server's own lines, header_parser for per-directory ones) and mod_rewrite's [E=] in translate_name;
 * mod_env's SetEnv runs in fixups, after them — so `Require env` and `Allow from env=` never see it.
 */
import type { Directive } from '../../../ast.js';
import { isUnknown } from '../../../regex-engine.js';
import { sectionExpr } from '../../expr/index.js';
import type { DirConf } from '../dirconf.js';
import { compilePcre } from '../regex.js';
import { runExpr } from './expr.js';
import type { Sim } from './state.js';

const SPECIAL: Record<string, (sim: Sim) => string | null> = {
  remote_host: (sim) => sim.clientIp, // HostnameLookups Off: the address
  remote_addr: (sim) => sim.clientIp,
  server_addr: () => null,
  request_method: (sim) => sim.method,
  request_protocol: () => 'HTTP/1.1',
  request_uri: (sim) => sim.cur.uri,
};

/** Set or unset the variables of one matching line (`var`, `var=value`, `!var`; `$1`… from captures). */
function assign(sim: Sim, d: Directive, specs: string[], caps: string[] | null, unknownWhy: string | null) {
  for (const s of specs) {
    if (s.startsWith('!')) {
      if (unknownWhy) sim.envUnknown.set(s.slice(1), unknownWhy);
      else {
        sim.env.delete(s.slice(1));
        sim.envUnknown.delete(s.slice(1));
      }
      continue;
    }
    const eq = s.indexOf('=');
    const name = eq >= 0 ? s.slice(0, eq) : s;
    const value = eq >= 0 ? s.slice(eq + 1).replace(/\$(\d)/g, (_, n) => caps?.[Number(n)] ?? '') : '1';
    if (unknownWhy) sim.envUnknown.set(name, unknownWhy);
    else {
      sim.env.set(name, value);
      sim.envUnknown.delete(name);
    }
  }
  void d;
}

/** Run the SetEnvIf family of a merged config, in order. */
export function applyEnvIf(sim: Sim, list: Directive[], phase = 'header_parser') {
  if (!sim.model.modules.has('mod_setenvif')) return;
  for (const d of list) {
    const args = d.args.map((a) => a.value);
    if (d.key === 'setenvifexpr') {
      const e = sectionExpr(d);
      if (!e.cond) continue;
      const r = runExpr(sim, d, e, phase, 'SetEnvIfExpr');
      if (r.value === null) assign(sim, d, args.slice(1), null, `SetEnvIfExpr at line ${d.span.start.line} could not be evaluated`);
      else if (r.value) {
        assign(sim, d, args.slice(1), null, null);
        if (sim.tracing) sim.step(phase, `SetEnvIfExpr holds: sets ${args.slice(1).join(' ')}`, d);
      }
      continue;
    }
    const browser = d.key.startsWith('browsermatch');
    const nocase = d.key.endsWith('nocase');
    const attr = browser ? 'User-Agent' : (args[0] ?? '');
    const pattern = browser ? args[0] : args[1];
    const specs = args.slice(browser ? 1 : 2);
    if (pattern === undefined) continue;
    let subject: string | null;
    let label: string;
    const special = SPECIAL[attr.toLowerCase()];
    if (special) {
      subject = special(sim);
      label = attr;
      if (subject === null) {
        assign(sim, d, specs, null, `${d.name} ${attr}: the server's address is not known`);
        continue;
      }
    } else if (/^[A-Za-z0-9_-]+$/.test(attr)) {
      const h = sim.headers[attr.toLowerCase()];
      if (h !== undefined) {
        subject = h;
        label = `header ${attr}`;
      } else if (sim.envUnknown.has(attr)) {
        assign(sim, d, specs, null, sim.envUnknown.get(attr)!);
        continue;
      } else {
        subject = sim.env.get(attr) ?? null;
        label = `variable ${attr}`;
      }
    } else {
      assign(sim, d, specs, null, `${d.name} on header names matching ${attr} is not evaluated`);
      continue;
    }
    if (subject === null) {
      if (sim.tracing) sim.step(phase, `${d.name} ${attr}: no such header or variable, nothing set`, d);
      continue;
    }
    const re = compilePcre(pattern, nocase);
    if (!re.ok) {
      assign(sim, d, specs, null, re.reason);
      continue;
    }
    const m = re.re.exec(subject);
    if (m && isUnknown(m)) {
      assign(sim, d, specs, null, `${d.name} ${pattern}: ${m.unknown}`);
      continue;
    }
    if (m) {
      assign(
        sim,
        d,
        specs,
        m.captures.map((x) => x ?? ''),
        null,
      );
      if (sim.tracing) sim.step(phase, `${d.name}: ${label} ${JSON.stringify(subject)} matches ${pattern} → sets ${specs.join(' ')}`, d);
    } else if (sim.tracing) sim.step(phase, `${d.name}: ${label} ${JSON.stringify(subject)} does not match ${pattern}`, d);
  }
}

/** The variables a SetEnv/UnsetEnv line would set later, in fixups (for explaining a `Require env`). */
export function lateEnv(conf: DirConf, name: string): Directive | null {
  return conf.setEnv.find((d) => d.key === 'setenv' && d.args[0]?.value === name) ?? null;
}
