/**
 * PREACCESS and ACCESS: the realip module (the client address allow/deny, geo and $remote_addr see),
 * limit_req/limit_conn (only "may"), then the access checkers in module order — allow/deny,
 * auth_basic, auth_request — combined by `satisfy all|any` (ngx_http_core_access_phase).
 */
import type { CauseId } from '../../../causes.js';
import { firstMatch, parseAccessRule, parseClient } from '../address.js';
import { openAs } from '../fs.js';
import { fromBinary, toBinary } from '../regex.js';
import { normalizeUri } from '../uri.js';
import type { Directive } from '../../../ast.js';
import type { Outcome } from './types.js';
import type { EffectiveSettings } from '../settings.js';
import type { Scope } from '../tree.js';
import { nearest, scopeLabel } from '../tree.js';
import { Stop, type ReqState, type Sim } from './context.js';
import { fromServerRewrite } from './server.js';
import { at } from './types.js';

/** PREACCESS: limit_req/limit_conn can answer their status under load (listed in mayAlso). */
export function preaccess(sim: Sim, conf: Scope, s: EffectiveSettings): void {
  void conf;
  if (s.limitReq.length) {
    const code = s.limitReqStatus.value;
    if (sim.tracing) sim.step('preaccess', `limit_req may answer ${code} when the rate is exceeded`, s.limitReq[0]);
    sim.r.mayAlso.push({
      status: code,
      outcome: 'limited',
      cause: code === 403 ? 'N20' : null,
      when: [`the limit_req rate is exceeded (${at(s.limitReq[0])})`],
    });
  }
  if (s.limitConn.length) {
    const code = s.limitConnStatus.value;
    if (sim.tracing) sim.step('preaccess', `limit_conn may answer ${code} when too many connections are open`, s.limitConn[0]);
    sim.r.mayAlso.push({
      status: code,
      outcome: 'limited',
      cause: code === 403 ? 'N20' : null,
      when: [`the limit_conn limit is exceeded (${at(s.limitConn[0])})`],
    });
  }
}

type Check = { ok: true } | { fail: number; cause: CauseId | null } | null;

/** ACCESS: null when the request may go on, else the status (403/401) and its cause. */
export function access(
  sim: Sim,
  conf: Scope,
  s: EffectiveSettings,
  st: ReqState,
  depth: number,
): { status: number; cause: CauseId | null } | null {
  if (sim.subrequests > 0) {
    if (sim.tracing) sim.step('access', 'a subrequest: the access phase is skipped');
    return null;
  }
  const any = s.satisfy.value === 'any';
  const inLimitExcept = conf.kind === 'limit_except' || conf.parent?.kind === 'limit_except';
  const results: Check[] = [];
  // 1. access module
  const accessResult = (): Check => {
    if (s.access.rules.length === 0) return null;
    const addr = clientAddress(sim, conf);
    const client = parseClient(addr);
    const m = client ? firstMatch(s.access.rules, client) : null;
    if (!m) {
      if (sim.tracing)
        sim.step(
          'access',
          `no allow/deny rule matches ${addr}: the access module declines (the rules are from ${s.access.from ? scopeLabel(s.access.from) : 'nowhere'})`,
          s.access.directives[0],
        );
      return null;
    }
    if (m.rule.action === 'allow') {
      if (sim.tracing) sim.step('access', `"allow ${m.rule.text}" is the first rule that matches ${addr}`, m.rule.directive);
      return { ok: true };
    }
    if (sim.tracing)
      sim.step('access', `"deny ${m.rule.text}" is the first rule that matches ${addr}: 403 (access forbidden by rule)`, m.rule.directive);
    return { fail: 403, cause: inLimitExcept ? 'N02' : 'N01' };
  };
  // 2. auth_basic
  const basicResult = (): Check => {
    if (s.authBasic.value === null) return null;
    const auth = sim.headers.get('authorization');
    if (!auth || !/^basic\s/i.test(auth)) {
      if (sim.tracing) sim.step('access', `auth_basic "${s.authBasic.value}" and no credentials: 401`, s.authBasic.directive);
      return { fail: 401, cause: null };
    }
    const file = s.authBasicUserFile.value;
    let path: string | null = null;
    if (file !== null) {
      const p = sim.expand(file, st, 'access');
      path = p === undefined ? null : sim.configPath(fromBinary(p));
    }
    let opened = false;
    if (path && sim.req.fs && sim.worker) {
      // ngx_http_auth_basic_handler opens the file for each request with credentials: ENOENT is 403,
      // any other open() error 500, and so is a read that fails (a directory: EISDIR)
      const o = openAs(sim.req.fs, path, sim.worker, { read: true });
      opened = o.ok && o.type !== 'dir';
      if (!o.ok && o.errno === 'ENOENT') {
        if (sim.tracing) sim.step('access', `auth_basic_user_file ${path} does not exist: 403`, s.authBasicUserFile.directive);
        return { fail: 403, cause: 'N04' };
      }
      if (!opened) {
        const why = o.ok ? `${path} is a directory (reading it fails)` : `${o.why} (${o.errno})`;
        if (sim.tracing) sim.step('access', `auth_basic_user_file: ${why}: 500`, s.authBasicUserFile.directive);
        return { fail: 500, cause: null };
      }
    }
    const cred = sim.req.credentials;
    let verdict: boolean | null = null;
    if (cred === 'valid') verdict = true;
    else if (typeof cred === 'function' && path) {
      const decoded = Buffer.from(auth.replace(/^basic\s+/i, '').trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon !== -1) verdict = cred(path, decoded.slice(0, colon), decoded.slice(colon + 1));
    }
    const options = ['the credentials are valid', 'the credentials are wrong', 'the user file is missing'];
    // Known credentials leave only "the file is missing" open, and only without a file system; a
    // file the worker opened is not missing either way.
    const open = verdict === null ? (opened ? [0, 1] : [0, 1, 2]) : sim.req.fs ? [verdict ? 0 : 1] : [verdict ? 0 : 1, 2];
    const i =
      open[
        sim.r.choose(
          `basic:${at(s.authBasic.directive)}`,
          open.map((k) => options[k]),
        )
      ];
    if (sim.tracing && verdict !== null && (sim.req.fs || typeof cred === 'function'))
      sim.step(
        'access',
        `auth_basic: ${options[i]}${typeof cred === 'function' && path ? ` (checked against ${path})` : ''}`,
        s.authBasicUserFile.directive ?? s.authBasic.directive,
      );
    if (i === 0) return { ok: true };
    if (i === 2) return { fail: 403, cause: 'N04' };
    return { fail: 401, cause: null };
  };
  // 3. auth_request (a subrequest; ACCESS is skipped inside it)
  const requestResult = (): Check => {
    if (s.authRequest.value === null) return null;
    const d = s.authRequest.directive;
    const sub = authSubrequest(sim, s.authRequest.value, st, depth, d);
    if (sub !== null) {
      const code = sub.status!;
      const verdict =
        code >= 200 && code < 300
          ? 'access granted'
          : code === 401 || code === 403
            ? `${code}`
            : `500 (auth_request accepts only 2xx, 401 and 403)`;
      if (sim.tracing) sim.step('access', `auth_request ${s.authRequest.value}: the subrequest answers ${code}: ${verdict}`, d);
      if (code >= 200 && code < 300) return { ok: true };
      if (code === 401) return { fail: 401, cause: null };
      if (code === 403) return { fail: 403, cause: 'N05' };
      return { fail: 500, cause: null };
    }
    const i = sim.r.choose(`authreq:${at(s.authRequest.directive)}`, [
      `the auth_request subrequest to ${s.authRequest.value} answers 2xx`,
      `the auth_request subrequest answers 401`,
      `the auth_request subrequest answers 403`,
    ]);
    if (sim.tracing)
      sim.step('access', `auth_request ${s.authRequest.value}: the outcome depends on the subrequest`, s.authRequest.directive);
    if (i === 0) return { ok: true };
    return i === 1 ? { fail: 401, cause: null } : { fail: 403, cause: 'N05' };
  };
  for (const h of [accessResult, basicResult, requestResult]) {
    const res = h();
    if (res === null) continue;
    if (!any) {
      if ('fail' in res) return { status: res.fail, cause: res.cause };
      continue;
    }
    if ('ok' in res) {
      if (sim.tracing) sim.step('access', 'satisfy any: one access check passed, access granted', s.satisfy.directive);
      return null;
    }
    results.push(res);
  }
  if (any && results.length) {
    const f = results.filter((x): x is { fail: number; cause: CauseId | null } => x !== null && 'fail' in x);
    const auth = f.find((x) => x.fail === 401);
    const pick = auth ?? f[f.length - 1];
    if (sim.tracing) sim.step('access', `satisfy any: every access check failed: ${pick.fail}`, s.satisfy.directive);
    return { status: pick.fail, cause: pick.fail === 403 ? 'N03' : null };
  }
  return null;
}

/**
 * POST_READ: the realip module with the server's configuration (the location is not known yet). It
 * replaces the client address once per request; internal redirects keep it.
 */
export function postReadRealIp(sim: Sim): void {
  if (sim.realAddr === null) sim.realAddr = realIp(sim, sim.server!, 'post-read');
}

/** The address allow/deny sees: realip again in PREACCESS with the location's configuration, unless
 * POST_READ already replaced it. */
function clientAddress(sim: Sim, conf: Scope): string {
  const peer = sim.req.clientIp ?? '127.0.0.1';
  if (sim.realAddr !== null && sim.realAddr !== peer) return sim.realAddr;
  sim.realAddr = realIp(sim, conf);
  return sim.realAddr;
}

/**
 * The realip module (ngx_http_realip_handler) replaces the client address with the one from
 * `real_ip_header` when the connection comes from a `set_real_ip_from` address. X-Forwarded-For
 * takes the last address, or with `real_ip_recursive on` the last one that is not trusted. The lists
 * are the nearest scope's (replaced, not merged).
 */
export function realIp(sim: Sim, conf: Scope, phase = 'preaccess'): string {
  const peer = sim.req.clientIp ?? '127.0.0.1';
  const from = nearest(conf, ['set_real_ip_from']);
  if (!from) return peer;
  // each set_real_ip_from read as an `allow` of its address, on the directive itself (a spread copy of a
  // parser node loses its position accessors)
  const trusted = from.directives.filter((d) => d.args.length >= 1).map((d) => parseAccessRule('allow', d.args[0].value, d));
  const isTrusted = (a: string) => firstMatch(trusted, a) !== null;
  if (!isTrusted(peer)) return peer;
  const hdr = (nearest(conf, ['real_ip_header'])?.directives.at(-1)?.args[0]?.value ?? 'X-Real-IP').toLowerCase();
  if (hdr === 'proxy_protocol') {
    sim.r.unknown.push('real_ip_header proxy_protocol: the address comes from the PROXY protocol header');
    return peer;
  }
  const v = sim.headers.get(hdr);
  if (!v) return peer;
  let real: string | undefined;
  if (hdr === 'x-forwarded-for') {
    const list = v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    const recursive = nearest(conf, ['real_ip_recursive'])?.directives.at(-1)?.args[0]?.value === 'on';
    real = list[list.length - 1];
    if (recursive) for (let i = list.length - 1; i >= 0 && isTrusted(list[i]); i--) real = list[i - 1] ?? list[i];
  } else real = v.trim();
  if (!real || !parseClient(real)) return peer;
  if (sim.tracing)
    sim.step(phase, `realip: ${peer} is trusted (set_real_ip_from), the client address is ${real} from ${hdr}`, from.directives[0]);
  return real;
}

/**
 * The auth_request subrequest, simulated in the same server (it shares the request's variables; its
 * own access phase is skipped). Null when its status is not known (a proxied auth service, the disk
 * without a file system…): the caller lists the three outcomes then.
 */
function authSubrequest(sim: Sim, target: string, st: ReqState, depth: number, d: Directive | null): Outcome | null {
  if (sim.subrequests > 2 || depth > 30) return null;
  const n = normalizeUri(toBinary(target), true);
  if (!n.ok) return null;
  const sub: ReqState = {
    method: st.method,
    uri: n.uri,
    args: n.args,
    rawTarget: st.rawTarget,
    internal: true,
    uriChanges: 11,
    errorPage: false,
    errStatus: -1,
    vars: st.vars,
    captures: [],
    named: {},
  };
  if (sim.tracing) sim.step('access', `auth_request: subrequest to "${target}"`, d);
  const saved = sim.location;
  const trace = sim.r.trace.length;
  sim.subrequests++;
  let o: Outcome;
  try {
    o = fromServerRewrite(sim, sub, depth + 1);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    o = e.outcome;
  } finally {
    sim.subrequests--;
    sim.location = saved;
  }
  for (let i = trace; i < sim.r.trace.length; i++) sim.r.trace[i].message = `(subrequest) ${sim.r.trace[i].message}`;
  return o.status === null ? null : o;
}
