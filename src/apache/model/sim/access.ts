/**
 * The access phases: access_checker (mod_access_compat's Order/Allow/Deny, mod_ssl's SSLRequireSSL),
 * access_checker_ex (mod_authz_core without a user), combined by Satisfy; then check_user_id
 * (authentication) and auth_checker (mod_authz_core with the user).
 */
import type { Directive } from '../../../ast.js';
import type { CauseId } from '../../../causes.js';
import { checkAccessCompat, satisfyFor } from '../access-compat.js';
import { evaluateAuthz, type AuthzProviderNode, type AuthzResult, type ProviderVerdict } from '../authz.js';
import type { DirConf } from '../dirconf.js';
import { isLocal, parseSubnet, subnetMatches } from '../net.js';
import { requireExpr } from '../../expr/index.js';
import { lateEnv } from './env.js';
import { runExpr } from './expr.js';
import { fin, type Final, type PossibleOutcome, type Sim } from './state.js';

/** access_checker (mod_access_compat) + access_checker_ex (authz_core) + authn, per Satisfy. */
export function accessChecks(sim: Sim, conf: DirConf, filename: string): Final | null {
  const m = sim.method;
  const compatLoaded = sim.model.modules.has('mod_access_compat');
  const { satisfy, directive: satDir } = compatLoaded ? satisfyFor(conf.compat, m) : { satisfy: 'nospec' as const, directive: null };
  let compatOk = true;
  let compatFinal: Final | null = null;
  if (compatLoaded && conf.compat) {
    const env = conf.compat.entries.some((e) => (e.type === 'env' || e.type === 'nenv') && sim.envUnknown.has(e.value))
      ? null
      : Object.fromEntries(sim.env);
    const v = checkAccessCompat(conf.compat, { method: m, clientIp: sim.clientIp, env });
    if (v.result === 'unknown') {
      sim.unknown(v.why);
      if (sim.tracing) sim.step('access_checker', `mod_access_compat: ${v.why}`, v.by);
      return {
        status: null,
        outcome: 'unknown',
        cause: 'A04',
        by: v.by,
        message: v.why,
        possible: [
          { when: ['Allow/Deny matches as needed'], status: 200, outcome: 'ok', cause: null },
          { when: ['access_compat denies'], status: 403, outcome: 'forbidden', cause: 'A04' },
        ],
      };
    }
    compatOk = v.result === 'ok';
    if (sim.tracing) sim.step('access_checker', `mod_access_compat: ${v.why} → ${compatOk ? 'OK' : '403 (AH01797)'}`, v.by);
    if (!compatOk) {
      const owner = v.by ? sim.model.owners.get(v.by) : undefined;
      compatFinal = fin(403, owner?.limit ? 'A10' : 'A04', v.by, `AH01797: client denied by server configuration: ${filename}`);
    }
  }
  const sslFinal = sslCheck(sim, conf, filename);
  if (satisfy === 'any' && compatOk && conf.compat && !sslFinal) {
    if (sim.tracing) sim.step('access_checker', 'Satisfy Any and mod_access_compat passed: authorization is skipped', satDir);
    return null;
  }
  if (satisfy !== 'any' && (compatFinal || sslFinal)) return compatFinal ?? sslFinal;
  // Satisfy Any: a failed access_checker (access_compat or SSLRequireSSL) can still be passed by authorization
  return authz(sim, conf, filename, compatOk);
}

/** mod_ssl's access check (ssl_hook_Access): SSLRequireSSL on a connection that is not TLS. */
export function sslCheck(sim: Sim, conf: DirConf, filename: string): Final | null {
  const by = conf.sslRequireSSL;
  if (!by || sim.tls || !sim.model.modules.has('mod_ssl')) return null;
  if (sim.server.sslEngine?.value === 'optional') {
    if (sim.tracing)
      sim.step('access_checker', 'SSLRequireSSL on an `SSLEngine optional` server over plain HTTP: 426 Upgrade Required', by);
    return fin(426, null, by, 'SSLRequireSSL: upgrade to TLS required', 'bad-request');
  }
  if (sim.tracing) sim.step('access_checker', 'SSLRequireSSL and the connection is plain HTTP → 403 AH02219', by);
  return fin(403, 'A37', by, `AH02219: access to ${filename} failed, reason: SSL connection required`);
}

export function authz(sim: Sim, conf: DirConf, filename: string, compatOk: boolean): Final | null {
  const section = conf.authz.section;
  if (!section) {
    if (conf.authType)
      return fin(500, null, conf.authType.by, 'AH01627: AuthType configured with no corresponding authorization directives');
    if (sim.tracing) sim.step('access_checker_ex', 'no Require applies: granted (AH01628)', null);
    return null;
  }
  const userless = evaluateAuthz(section, sim.method, (p) => providerVerdict(sim, p, null, filename, conf));
  for (const u of userless.unknowns) sim.unknown(u.reason);
  const finals: { r: AuthzResult; f: Final | null }[] = [];
  for (const [r, e] of userless.results) {
    let f: Final | null;
    if (r === 'GRANTED') {
      if (sim.tracing) sim.step('access_checker_ex', `authz_core: GRANTED (${e.why})`, e.by);
      sim.grantedBy = e.by;
      f = null;
    } else if (r === 'DENIED' || r === 'NEUTRAL') {
      const cause = classifyAuthz(sim, e.by, conf, compatOk);
      if (sim.tracing) sim.step('access_checker_ex', `authz_core: ${r} (${e.why}) → 403 AH01630`, e.by);
      f = fin(403, cause, e.by, `AH01630: client denied by server configuration: ${filename}`);
    } else {
      f = authn(sim, conf, filename, e.by);
    }
    finals.push({ r, f });
  }
  if (finals.length === 1) return finals[0].f;
  const possible: PossibleOutcome[] = finals.map(({ r, f }) => ({
    when: [`authorization ${r}`],
    status: f ? f.status : 200,
    outcome: f ? f.outcome : 'ok',
    cause: f ? f.cause : null,
  }));
  const statuses = new Set(possible.map((p) => p.status));
  if (statuses.size === 1 && finals[0].f) return finals[0].f;
  const denial = finals.find((x) => x.f)?.f ?? null;
  return {
    status: null,
    outcome: 'unknown',
    cause: denial?.cause ?? null,
    by: denial?.by ?? null,
    message: 'depends on providers the model cannot evaluate',
    possible,
  };
}

export function authn(sim: Sim, conf: DirConf, filename: string, by: Directive | null): Final | null {
  if (!conf.authType || conf.authType.value.toLowerCase() === 'none') {
    if (sim.tracing) sim.step('check_user_id', 'a Require needs a user but no AuthType is configured: AH00027 → 500', by);
    return fin(
      500,
      null,
      by,
      'AH00027: No authentication done but request not allowed without authentication. Authentication not configured?',
    );
  }
  const user = sim.req.user ?? null;
  if (!user) {
    if (sim.tracing) sim.step('check_user_id', `AuthType ${conf.authType.value}: no credentials sent → 401`, conf.authType.by);
    return fin(401, null, conf.authType.by, 'authentication required');
  }
  // src/auth/ answers whether the password passes the provider in force; without it, --user assumes so.
  let cred = sim.req.credentials ?? 'valid';
  if (typeof cred === 'function') {
    const providers = conf.authBasicProvider?.value ?? ['file'];
    const file = conf.authUserFile?.value;
    if (providers.length !== 1 || providers[0] !== 'file' || !file || sim.req.password == null) {
      if (sim.tracing)
        sim.step(
          'check_user_id',
          `the password of ${user} is checked by ${providers.join(', ')}${file ? '' : ' without an AuthUserFile'}: not evaluated`,
          conf.authBasicProvider?.by ?? conf.authType.by,
        );
      cred = 'unknown';
    } else {
      const path = file.startsWith('/') ? file : `${sim.model.serverRoot.replace(/\/+$/, '')}/${file}`;
      const c = cred(path, user, sim.req.password);
      if (sim.tracing) sim.step('check_user_id', `AuthUserFile: ${c.why}`, conf.authUserFile!.by);
      cred = c.verdict;
    }
  }
  if (cred === 'invalid') {
    if (sim.tracing)
      sim.step('check_user_id', `AuthType ${conf.authType.value}: the credentials of ${user} are rejected → 401`, conf.authType.by);
    return fin(401, null, conf.authType.by, `user ${user}: authentication failure`);
  }
  if (cred === 'unknown') {
    const saved = sim.req.credentials;
    sim.req.credentials = 'valid';
    const ok = authn(sim, conf, filename, by);
    sim.req.credentials = saved;
    return {
      status: null,
      outcome: 'unknown',
      cause: ok?.cause ?? null,
      by: ok?.by ?? conf.authType.by,
      message: 'depends on whether the password is right',
      possible: [
        { when: [`the password of ${user} is wrong`], status: 401, outcome: 'unauthorized', cause: null },
        {
          when: [`the password of ${user} is right`],
          status: ok ? ok.status : 200,
          outcome: ok ? ok.outcome : 'ok',
          cause: ok?.cause ?? null,
        },
      ],
    };
  }
  const again = evaluateAuthz(conf.authz.section!, sim.method, (p) => providerVerdict(sim, p, user, filename, conf));
  const [r, e] = [...again.results.entries()][0];
  if (r === 'GRANTED') {
    if (sim.tracing) sim.step('auth_checker', `authz_core with user ${user}: GRANTED`, e.by);
    sim.grantedBy = e.by;
    return null;
  }
  if (r === 'DENIED_NO_USER') return fin(401, null, e.by, 'AH01629: authorization failure (no authenticated user)');
  if (conf.authz.forbiddenOnFail) {
    if (sim.tracing) sim.step('auth_checker', `user ${user}: ${r}, AuthzSendForbiddenOnFailure On → 403`, e.by);
    return fin(403, 'A02', e.by, `AH01631: user ${user}: authorization failure`);
  }
  if (sim.tracing) sim.step('auth_checker', `user ${user}: ${r} → 401 (AH01631)`, e.by);
  return fin(401, null, e.by, `AH01631: user ${user}: authorization failure`);
}

/** `Require ip` answers by address range and client (a lint run asks the same few pairs thousands
 * of times; parsing both per request was a tenth of the probes' allocation). */
const subnetMemo = new Map<string, Map<string, boolean>>();

function inSubnet(spec: string, clientIp: string): boolean {
  let byClient = subnetMemo.get(spec);
  if (!byClient) {
    if (subnetMemo.size > 10_000) subnetMemo.clear();
    subnetMemo.set(spec, (byClient = new Map()));
  }
  let v = byClient.get(clientIp);
  if (v === undefined) {
    const sub = parseSubnet(spec);
    v = !!sub && subnetMatches(sub, clientIp);
    if (byClient.size > 1_000) byClient.clear();
    byClient.set(clientIp, v);
  }
  return v;
}

export function providerVerdict(sim: Sim, p: AuthzProviderNode, user: string | null, filename: string, conf?: DirConf): ProviderVerdict {
  const a = p.args;
  switch (p.name) {
    case 'all':
      if (a[0]?.toLowerCase() === 'granted') return { result: 'GRANTED', why: 'Require all granted' };
      return { result: 'DENIED', why: 'Require all denied' };
    case 'ip': {
      for (const spec of a) {
        if (inSubnet(spec, sim.clientIp)) return { result: 'GRANTED', why: `${sim.clientIp} is in ${spec}` };
      }
      return { result: 'DENIED', why: `${sim.clientIp} is not in ${a.join(' ')}` };
    }
    case 'local':
      return isLocal(sim.clientIp)
        ? { result: 'GRANTED', why: `${sim.clientIp} is local` }
        : { result: 'DENIED', why: `${sim.clientIp} is not local` };
    case 'host':
    case 'forward-dns':
      return { unknown: `Require ${p.name} ${a.join(' ')} needs DNS for ${sim.clientIp}`, possible: ['GRANTED', 'DENIED'] };
    case 'method':
      return a.map((x) => x.toUpperCase()).includes(sim.method) || (sim.method === 'HEAD' && a.map((x) => x.toUpperCase()).includes('GET'))
        ? { result: 'GRANTED', why: `method ${sim.method} is listed` }
        : { result: 'DENIED', why: `method ${sim.method} is not in ${a.join(' ')}` };
    case 'env': {
      const set = a.find((x) => sim.env.has(x));
      if (set)
        return { result: 'GRANTED', why: `variable ${set} is set${sim.env.get(set) ? ` (= ${JSON.stringify(sim.env.get(set))})` : ''}` };
      const open = a.filter((x) => sim.envUnknown.has(x));
      if (open.length)
        return {
          unknown: `Require env ${a.join(' ')}: ${open.map((x) => sim.envUnknown.get(x)).join('; ')}`,
          possible: ['GRANTED', 'DENIED'],
        };
      const late = conf ? a.map((x) => lateEnv(conf, x)).find(Boolean) : null;
      return {
        result: 'DENIED',
        why: late
          ? `none of ${a.join(' ')} is set: SetEnv ${late.args[0]?.value} (line ${late.span.start.line}) runs in fixups, after the access checks`
          : `none of ${a.join(' ')} is set`,
      };
    }
    case 'expr': {
      const e = requireExpr(p.directive);
      if (!e.cond) return { unknown: `${e.error?.message ?? 'cannot parse'} (httpd refuses the config)`, possible: ['GRANTED', 'DENIED'] };
      const saved = sim.authUser;
      sim.authUser = user;
      const r = runExpr(sim, p.directive, e, user ? 'auth_checker' : 'access_checker_ex', 'Require expr');
      sim.authUser = saved;
      // mod_authz_core: an expression that reads REMOTE_USER needs a user first
      if (!user && r.vars.has('REMOTE_USER')) return { result: 'DENIED_NO_USER', why: 'the expression reads REMOTE_USER' };
      if (r.value === null) return { unknown: `Require expr ${e.text}: ${r.unknowns.join('; ')}`, possible: ['GRANTED', 'DENIED'] };
      return r.value ? { result: 'GRANTED', why: `expr ${e.text} is true` } : { result: 'DENIED', why: `expr ${e.text} is false` };
    }
    case 'valid-user':
      return user
        ? { result: 'GRANTED', why: `user ${user} is authenticated` }
        : { result: 'DENIED_NO_USER', why: 'needs an authenticated user' };
    case 'user':
      if (!user) return { result: 'DENIED_NO_USER', why: 'needs an authenticated user' };
      return a.includes(user)
        ? { result: 'GRANTED', why: `user ${user} is listed` }
        : { result: 'DENIED', why: `user ${user} is not listed` };
    default:
      if (!user) return { result: 'DENIED_NO_USER', why: 'needs an authenticated user' };
      void filename;
      return { unknown: `Require ${p.name} depends on data outside the config`, possible: ['GRANTED', 'DENIED'] };
  }
}

export function classifyAuthz(sim: Sim, by: Directive | null, conf: DirConf, compatOk: boolean): CauseId {
  const owner = by ? sim.model.owners.get(by) : undefined;
  if (owner?.limit) return 'A10';
  // A05 before A06: a section that passes old-style Allow while an inherited Require still
  // denies (Debian's `<Directory />`) is the mixed-syntax case, whatever section the Require is in.
  if ((owner?.kind === 'files' || owner?.kind === 'filesmatch') && owner.path && /\\?\.ht/.test(owner.path)) return 'A07';
  if (conf.compat && compatOk && conf.compat.entries.some((e) => e.allow)) return 'A05';
  if (owner?.kind === 'directory' && owner.path === '/') return 'A06';
  return 'A01';
}
