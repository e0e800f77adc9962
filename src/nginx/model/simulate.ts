/**
 * A request simulator: what nginx answers to one request, and why, step by step.
 *
 * It runs the phases in nginx's order (ngx_http_init_phase_handlers in src/http/ngx_http.c):
 * server selection → SERVER_REWRITE → FIND_CONFIG → REWRITE → POST_REWRITE → PREACCESS → ACCESS →
 * POST_ACCESS → PRECONTENT (try_files) → CONTENT, with internal redirects (index, try_files' last
 * argument, error_page, rewrite … last, @named) going back to SERVER_REWRITE / FIND_CONFIG (or to
 * REWRITE for named locations) and re-running ACCESS, bounded by nginx's 10 URI changes
 * (NGX_HTTP_MAX_URI_CHANGES, then 500).
 *
 * Whatever the config alone cannot decide (a file on disk without a file system, an `if` on a variable
 * from `map`, an auth_request subrequest, credentials) is a choice point: the simulator explores every
 * answer (up to a bound) and reports one status when all agree, else `status: null` with the
 * possibilities and the assumption each rests on. Never throws on bad input.
 */
import type { Directive } from '../../ast.js';
import type { CauseId } from '../../causes.js';
import { accessRulesOf, firstMatch, parseClient } from './address.js';
import { canList, openAs, resolveWorker, type FileSystemView, type OpenResult, type Worker } from './fs.js';
import { findLocation, findNamed } from './locations.js';
import { fromBinary, isUnknown, matchRegex, toBinary, translatePcre } from './regex.js';
import { selectServer } from './servers.js';
import { effectiveSettings, handlerOf, errorPages, type EffectiveSettings } from './settings.js';
import type { IfScope, Location, NginxModel, Scope, Server } from './tree.js';
import { nearest, scopeLabel } from './tree.js';
import { normalizeUri } from './uri.js';

export interface SimRequest {
  method?: string;
  /** The request target as sent: path, optionally `?args`. */
  uri: string;
  host?: string;
  port?: number;
  /** The server address the client connected to (default 127.0.0.1). */
  localAddr?: string;
  clientIp?: string;
  headers?: Record<string, string>;
  /** Without it, outcomes that depend on disk are reported as possibilities. */
  fs?: FileSystemView;
  /** The worker identity for permission checks (default: the `user` directive, else nobody). */
  worker?: Worker;
  /** nginx prefix (`-p`) for relative paths (default Debian's /usr/share/nginx/). */
  prefix?: string;
  /** Bound on explored possibilities (default 64). */
  maxRuns?: number;
}

export type OutcomeKind =
  | 'static'
  | 'autoindex'
  | 'random-index'
  | 'proxied'
  | 'handler'
  | 'dav'
  | 'return'
  | 'redirect'
  | 'error'
  | 'close'
  | 'bad-request'
  | 'limited'
  | 'unknown';

export interface TraceStep {
  phase: string;
  message: string;
  directive: Directive | null;
  /** `file:line:col` of the directive, when there is one. */
  at?: string;
}

export interface Outcome {
  status: number | null;
  outcome: OutcomeKind;
  /** Catalog id (docs/403-causes.md) when the status is 403. */
  cause?: CauseId;
  /** The assumptions this outcome rests on (empty when the config and request decide it). */
  conditions: string[];
}

export interface SimResult extends Outcome {
  /** When the answer depends on things the simulator was not told: every outcome it found. */
  possibleOutcomes: Outcome[];
  trace: TraceStep[];
  /** The location that served the final (sub)request, null for the server's own configuration. */
  location: Location | null;
  server: Server | null;
  /** Outcomes that depend on load or on a backend rather than on the request (limit_req/limit_conn,
   * a proxied backend answering 403): they can happen on top of the answer above. */
  mayAlso: Outcome[];
  /** Reasons the simulation could not decide something at all. */
  unknown: string[];
}

export function at(d: Directive | null | undefined): string | undefined {
  if (!d) return undefined;
  return `${d.source.path}:${d.nameSpan.start.line}:${d.nameSpan.start.column}`;
}

class Stop {
  constructor(readonly outcome: Outcome) {}
}

/** One run along one sequence of answers to the choice points. */
class Run {
  readonly points: number[] = [];
  readonly assumptions: string[] = [];
  readonly memo = new Map<string, number>();
  /** Answers about paths taken in this run (without a file system). */
  readonly fsAnswers = new Map<string, 'file' | 'none' | 'dir'>();
  readonly trace: TraceStep[] = [];
  readonly unknown: string[] = [];
  readonly mayAlso: Outcome[] = [];
  pos = 0;
  constructor(readonly script: number[]) {}
  choose(key: string, options: string[]): number {
    const m = this.memo.get(key);
    if (m !== undefined) return m;
    const idx = this.script[this.pos] ?? 0;
    this.points.push(options.length);
    this.pos++;
    this.memo.set(key, idx);
    if (options.length > 1) this.assumptions.push(options[idx]);
    return idx;
  }
  step(phase: string, message: string, directive: Directive | null = null): void {
    this.trace.push({ phase, message, directive, at: at(directive) });
  }
}

interface ReqState {
  method: string;
  uri: string;
  args: string | null;
  rawTarget: string;
  internal: boolean;
  uriChanges: number;
  errorPage: boolean;
  /** Status set by error_page (-1 none). */
  errStatus: number;
  vars: Map<string, string | null>;
  captures: (string | undefined)[];
  named: Record<string, string | undefined>;
  /** The cause of the first 403 seen (kept across error_page). */
  cause?: CauseId;
}

const METHODS_STATIC = ['GET', 'HEAD', 'POST'];

export function simulate(model: NginxModel, req: SimRequest): SimResult {
  const maxRuns = req.maxRuns ?? 64;
  const results: { outcome: Outcome; run: Run; location: Location | null; server: Server | null }[] = [];
  const queue: number[][] = [[]];
  let truncated = false;
  while (queue.length) {
    if (results.length >= maxRuns) {
      truncated = true;
      break;
    }
    const script = queue.shift()!;
    const run = new Run(script);
    const sim = new Simulation(model, req, run);
    let outcome: Outcome;
    try {
      outcome = sim.run();
    } catch (e) {
      if (e instanceof Stop) outcome = e.outcome;
      else {
        // A defect in the simulator must not end the caller's run: report it as unknown.
        run.unknown.push(`the simulator failed: ${(e as Error)?.message ?? String(e)}`);
        outcome = { status: null, outcome: 'unknown', conditions: [] };
      }
    }
    outcome = { ...outcome, conditions: [...run.assumptions] };
    results.push({ outcome, run, location: sim.location, server: sim.server });
    for (let k = script.length; k < run.points.length; k++) {
      for (let alt = 1; alt < run.points[k]; alt++) {
        const next = run.script.slice(0, k);
        while (next.length < k) next.push(0);
        next.push(alt);
        queue.push(next);
      }
    }
  }
  const first = results[0];
  const distinct: Outcome[] = [];
  for (const r of results) {
    if (!distinct.some((d) => d.status === r.outcome.status && d.outcome === r.outcome.outcome && d.cause === r.outcome.cause))
      distinct.push(r.outcome);
  }
  const unknown = [...new Set(results.flatMap((r) => r.run.unknown))];
  if (truncated) unknown.push(`more than ${maxRuns} possibilities: the rest were not explored`);
  const agree = distinct.length === 1 || distinct.every((d) => d.status === distinct[0].status && d.status !== null);
  const main = first.outcome;
  return {
    status: agree ? main.status : null,
    outcome: agree ? main.outcome : 'unknown',
    cause: agree ? main.cause : undefined,
    conditions: agree ? [] : main.conditions,
    possibleOutcomes: distinct.length > 1 ? distinct : [],
    mayAlso: dedupe(results.flatMap((r) => r.run.mayAlso)),
    trace: first.run.trace,
    location: first.location,
    server: first.server,
    unknown,
  };
}

class Simulation {
  location: Location | null = null;
  server: Server | null = null;
  private readonly headers: Map<string, string>;
  private readonly worker: Worker | null;
  private readonly prefix: string;
  constructor(
    private readonly model: NginxModel,
    private readonly req: SimRequest,
    private readonly r: Run,
  ) {
    this.headers = new Map(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    if (req.host !== undefined && !this.headers.has('host')) this.headers.set('host', req.host);
    const u = model.user;
    this.worker = req.worker ?? (req.fs ? resolveWorker(u?.args[0]?.value ?? 'nobody', u?.args[1]?.value) : null);
    const p = req.prefix ?? '/usr/share/nginx/';
    this.prefix = p.endsWith('/') ? p : p + '/';
  }

  private stop(status: number | null, outcome: OutcomeKind, cause?: CauseId): never {
    throw new Stop({ status, outcome, cause, conditions: [] });
  }

  run(): Outcome {
    const r = this.r;
    const method = (this.req.method ?? 'GET').toUpperCase();
    const n = normalizeUri(toBinary(this.req.uri), this.mergeSlashes());
    if (!n.ok) {
      r.step('parse', `400 Bad Request: ${n.reason}`);
      return { status: 400, outcome: 'bad-request', conditions: [] };
    }
    r.step('parse', `$uri is "${fromBinary(n.uri)}"${n.args !== null ? `, $args "${n.args}"` : ''}`);
    const host = this.headers.get('host');
    const choice = selectServer(this.model, { host, port: this.req.port, localAddr: this.req.localAddr });
    if (choice.badHost !== undefined) {
      r.step('server', `400 Bad Request: invalid Host "${choice.badHost}"`);
      return { status: 400, outcome: 'bad-request', conditions: [] };
    }
    if (choice.unknown) {
      r.unknown.push(choice.unknown);
      r.step('server', choice.unknown);
      return { status: null, outcome: 'unknown', conditions: [] };
    }
    if (!choice.server) {
      r.step('server', choice.reason);
      return { status: null, outcome: 'unknown', conditions: [] };
    }
    this.server = choice.server;
    r.step(
      'server',
      `server #${choice.server.index + 1}: ${choice.reason}`,
      choice.name?.directive ?? choice.listen?.directive ?? choice.server.block,
    );
    const st: ReqState = {
      method,
      uri: n.uri,
      args: n.args,
      rawTarget: this.req.uri,
      internal: false,
      uriChanges: 11,
      errorPage: false,
      errStatus: -1,
      vars: new Map(),
      captures: choice.captures,
      named: choice.named,
    };
    for (const [k, v] of Object.entries(choice.named)) if (v !== undefined) st.vars.set(k, v);
    return this.fromServerRewrite(st, 0);
  }

  private mergeSlashes(): boolean {
    const d = nearest(this.model.http, ['merge_slashes']);
    return !d || d.directives.at(-1)!.args[0]?.value !== 'off';
  }

  /** Entry of ngx_http_handler for the main request and every internal redirect. */
  private fromServerRewrite(st: ReqState, depth: number): Outcome {
    const server = this.server!;
    const rw = this.rewrite(server, st, 'server-rewrite');
    if (rw.stop) return this.finalizeRewriteStop(rw.stop, st, server, depth);
    return this.findConfig(st, depth);
  }

  private findConfig(st: ReqState, depth: number): Outcome {
    const r = this.r;
    const server = this.server!;
    for (;;) {
      const m = findLocation(server, st.uri);
      for (const c of m.candidates) {
        if (c.result !== 'not-a-prefix' && c.result !== 'exact-mismatch' && c.result !== 'regex-not-tried')
          r.step('find-location', c.reason, c.location.block);
      }
      if (m.via === 'unknown') {
        r.unknown.push(m.unknown!);
        this.stop(null, 'unknown');
      }
      if (m.via === 'redirect') {
        this.location = m.location;
        r.step('find-location', `301 to "${fromBinary(st.uri)}/"`, m.location?.block ?? null);
        this.stop(301, 'redirect');
      }
      this.location = m.location;
      const loc: Scope = m.location ?? server;
      if (m.location) {
        r.step('find-location', `using ${scopeLabel(m.location)}`, m.location.block);
        st.captures = m.captures;
        st.named = m.named;
        for (const [k, v] of Object.entries(m.named)) if (v !== undefined) st.vars.set(k, v);
      } else r.step('find-location', 'no location matches: the server-level configuration applies', server.block);
      const internal = effectiveSettings(loc).internal;
      if (!st.internal && internal.value) {
        r.step('find-location', `404: ${scopeLabel(loc)} is internal and this is an external request`, internal.directive);
        return this.error(404, st, loc, depth, 'error');
      }
      return this.locationPhases(loc, st, depth);
    }
  }

  /** Apply limit_except (ngx_http_update_location_config). */
  private updateLocationConfig(loc: Scope, st: ReqState): Scope {
    const le = loc.limitExcept;
    if (!le) return loc;
    const listed = le.methods.includes(st.method) || (st.method === 'HEAD' && le.methods.includes('GET'));
    if (listed) {
      this.r.step('find-location', `${st.method} is listed in limit_except: the location's own configuration applies`, le.block);
      return loc;
    }
    this.r.step(
      'find-location',
      `${st.method} is not listed in limit_except ${le.methods.join(' ')}: the limit_except block's configuration applies (it has no rewrite directives and no try_files)`,
      le.block,
    );
    return le;
  }

  private locationPhases(loc0: Scope, st: ReqState, depth: number): Outcome {
    const r = this.r;
    const loc = this.updateLocationConfig(loc0, st);
    // REWRITE phase (the limit_except scope has no rewrite code of its own).
    let conf: Scope = loc;
    if (loc.kind !== 'limit_except') {
      const rw = this.rewrite(loc, st, 'rewrite');
      conf = rw.conf;
      if (rw.stop) return this.finalizeRewriteStop(rw.stop, st, conf, depth);
      if (rw.last) {
        st.uriChanges--;
        if (st.uriChanges === 0) {
          r.step('post-rewrite', '500: rewrite or internal redirection cycle (more than 10 URI changes)');
          this.stop(500, 'error');
        }
        return this.findConfig(st, depth + 1);
      }
    }
    const s = effectiveSettings(conf);
    // PREACCESS: only "may".
    if (s.limitReq.length) {
      const code = s.limitReqStatus.value;
      r.step('preaccess', `limit_req may answer ${code} when the rate is exceeded`, s.limitReq[0]);
      r.mayAlso.push({
        status: code,
        outcome: 'limited',
        cause: code === 403 ? 'N20' : undefined,
        conditions: [`the limit_req rate is exceeded (${at(s.limitReq[0])})`],
      });
    }
    if (s.limitConn.length) {
      const code = s.limitConnStatus.value;
      r.step('preaccess', `limit_conn may answer ${code} when too many connections are open`, s.limitConn[0]);
      r.mayAlso.push({
        status: code,
        outcome: 'limited',
        cause: code === 403 ? 'N20' : undefined,
        conditions: [`the limit_conn limit is exceeded (${at(s.limitConn[0])})`],
      });
    }
    // ACCESS
    const denied = this.access(conf, s, st);
    if (denied) return this.error(denied.status, st, conf, depth, 'error', denied.cause);
    // PRECONTENT: try_files
    if (s.tryFiles) {
      const tf = this.tryFiles(conf, s, st, depth);
      if (tf) return tf;
    }
    return this.content(conf, s, st, depth);
  }

  // ---------------------------------------------------------------- rewrite module

  private rewrite(scope: Scope, st: ReqState, phase: string): { conf: Scope; stop?: RewriteStop; last?: boolean } {
    let conf: Scope = scope;
    let changed = false;
    const exec = (body: Directive[], ifScope: IfScope | null): RewriteStop | 'break' | 'last' | null => {
      for (const d of body) {
        if (d.name === 'if' && d.block) {
          const ifs = scope.ifs.find((x) => x.block === d);
          if (!ifs) continue;
          const v = this.ifCondition(d, st);
          if (v === false) {
            this.r.step(phase, `if (${condText(d)}) is false`, d);
            continue;
          }
          this.r.step(phase, `if (${condText(d)}) is true: its block's configuration applies from here on`, d);
          conf = ifs;
          const res = exec(ifs.body, ifs);
          if (res) return res;
          continue;
        }
        if (d.block) continue;
        switch (d.name) {
          case 'return': {
            const a = d.args.map((x) => x.value);
            let code: number;
            let text: string | null = null;
            if (/^[0-9]+$/.test(a[0] ?? '')) {
              code = Number(a[0]);
              text = a[1] ?? null;
              if (code > 999) {
                // nginx -t: "invalid return code" (ngx_http_rewrite_return); the server does not start
                this.r.unknown.push(`return ${a[0]}: nginx rejects a return code above 999, so this configuration does not load`);
                this.r.step(phase, `return ${a[0]}: not a valid return code`, d);
                this.stop(null, 'unknown');
              }
            } else {
              code = 302;
              text = a[0] ?? '';
            }
            const t = text === null ? null : this.expand(text, st);
            this.r.step(phase, `return ${code}${text !== null ? ` "${text}"` : ''}`, d);
            return { kind: 'return', code, text: t === undefined ? '?' : t, directive: d };
          }
          case 'break':
            this.r.step(phase, 'break: no further rewrite directives run', d);
            return 'break';
          case 'set': {
            const name = (d.args[0]?.value ?? '').replace(/^\$/, '');
            const v = this.expand(d.args[1]?.value ?? '', st);
            st.vars.set(name, v === undefined ? null : v);
            this.r.step(phase, `set $${name} = ${v === undefined ? '(unknown)' : `"${v}"`}`, d);
            continue;
          }
          case 'rewrite': {
            const res = this.rewriteDirective(d, st, phase);
            if (res === null) continue;
            changed = true;
            if (typeof res === 'object') return res;
            if (res === 'last' || res === 'break') return res;
            continue;
          }
          default:
            continue;
        }
      }
      void ifScope;
      return null;
    };
    const res = exec(scope.body, null);
    if (res && typeof res === 'object') return { conf, stop: res };
    if (res === 'last') return { conf, last: phase === 'rewrite' };
    if (res === 'break') return { conf };
    return { conf, last: changed && phase === 'rewrite' };
  }

  /** One `rewrite regex replacement [flag]`: null when it does not match. */
  private rewriteDirective(d: Directive, st: ReqState, phase: string): RewriteStop | 'last' | 'break' | 'changed' | null {
    const [pattern, replacement, flag] = d.args.map((a) => a.value);
    if (pattern === undefined || replacement === undefined) return null;
    const v = translatePcre(pattern, false);
    let caps: (string | undefined)[] = [];
    let named: Record<string, string | undefined> = {};
    const m = v.ok ? matchRegex(v, st.uri) : null;
    const why = !v.ok ? v.reason : m && isUnknown(m) ? m.unknown : null;
    if (why !== null) {
      const i = this.r.choose(`rewrite:${at(d)}:${st.uri}`, [
        `rewrite regex "${pattern}" matches (it cannot be evaluated: ${why})`,
        `rewrite regex "${pattern}" does not match`,
      ]);
      if (i === 1) return null;
    } else {
      if (!m || isUnknown(m)) {
        this.r.step(phase, `rewrite ${pattern} does not match`, d);
        return null;
      }
      caps = m.captures;
      named = m.named;
    }
    st.captures = caps;
    st.named = named;
    for (const [k, val] of Object.entries(named)) if (val !== undefined) st.vars.set(k, val);
    const out = this.expand(replacement, st) ?? '?';
    const isUrl = /^(https?:\/\/|\$scheme)/.test(replacement);
    if (isUrl || flag === 'redirect' || flag === 'permanent') {
      const code = flag === 'permanent' ? 301 : 302;
      this.r.step(phase, `rewrite redirects (${code}) to "${out}"`, d);
      return { kind: 'return', code, text: out, directive: d };
    }
    let uri = out;
    let args = st.args;
    const q = uri.indexOf('?');
    if (q !== -1) {
      args = uri.slice(q + 1) + (uri.endsWith('?') ? '' : st.args ? '&' + st.args : '');
      if (uri.endsWith('?')) args = uri.slice(q + 1, -1) || null;
      uri = uri.slice(0, q);
    }
    st.uri = toBinary(uri);
    st.args = args;
    st.internal = true;
    this.r.step(phase, `rewrite changes $uri to "${uri}"${flag ? ` (${flag})` : ''}`, d);
    if (flag === 'last') return 'last';
    if (flag === 'break') return 'break';
    return 'changed';
  }

  private finalizeRewriteStop(s: RewriteStop, st: ReqState, conf: Scope, depth: number): Outcome {
    const { code, text } = s;
    if (code === 444) this.stop(null, 'close');
    if ([301, 302, 303, 307, 308].includes(code)) return this.done(code, 'redirect', st);
    if (code >= 400 && text === null) return this.error(code, st, conf, depth, 'return', code === 403 ? 'N06' : undefined);
    return this.done(code, 'return', st, code === 403 ? 'N06' : undefined);
  }

  /** Evaluate an `if` condition; unknown parts become a choice point. */
  private ifCondition(d: Directive, st: ReqState): boolean {
    const a = d.args.map((x) => x.value);
    if (a.length && a[0].startsWith('(')) a[0] = a[0].slice(1);
    if (a.length && a[a.length - 1].endsWith(')')) a[a.length - 1] = a[a.length - 1].slice(0, -1);
    while (a.length && a[0] === '') a.shift();
    while (a.length && a[a.length - 1] === '') a.pop();
    const ask = (why: string): boolean =>
      this.r.choose(`if:${at(d)}:${st.uri}`, [`if (${condText(d)}) is true (${why})`, `if (${condText(d)}) is false (${why})`]) === 0;
    if (a.length === 1) {
      const v = this.expand(a[0], st);
      if (v === undefined) return ask(`${a[0]} is not known`);
      return v !== '' && v !== '0';
    }
    if (a.length === 2 && /^!?-[fdex]$/.test(a[0])) {
      const neg = a[0].startsWith('!');
      const op = a[0].slice(neg ? 2 : 1);
      const p = this.expand(a[1], st);
      if (p === undefined) return ask(`${a[1]} is not known`);
      const path = fromBinary(p);
      let res: boolean;
      if (this.req.fs && this.worker) {
        const o = openAs(this.req.fs, path, this.worker);
        res = !o.ok ? false : op === 'f' ? o.type === 'file' : op === 'd' ? o.type === 'dir' : op === 'e' ? true : o.type === 'file';
      } else {
        const o = this.open(
          path,
          effectiveSettings(this.location ?? this.server!),
          false,
          `-${op}`,
          op === 'd' ? ['dir', 'none'] : op === 'e' ? ['file', 'none', 'dir'] : ['file', 'none'],
        );
        res = !o.ok ? false : op === 'd' ? o.type === 'dir' : op === 'e' ? true : o.type === 'file';
      }
      return neg ? !res : res;
    }
    if (a.length === 3) {
      const lhs = this.expand(a[0], st);
      const op = a[1];
      if (lhs === undefined) return ask(`${a[0]} is not known`);
      if (op === '=' || op === '!=') {
        const rhs = this.expand(a[2], st);
        if (rhs === undefined) return ask(`${a[2]} is not known`);
        return (lhs === rhs) === (op === '=');
      }
      if (op === '~' || op === '~*' || op === '!~' || op === '!~*') {
        const v = translatePcre(a[2], op.endsWith('*'));
        if (!v.ok) return ask(`the regex cannot be evaluated: ${v.reason}`);
        const m = matchRegex(v, lhs);
        if (m && isUnknown(m)) return ask(`the regex cannot be evaluated: ${m.unknown}`);
        if (m && !op.startsWith('!')) {
          st.captures = m.captures;
          for (const [k, val] of Object.entries(m.named)) if (val !== undefined) st.vars.set(k, val);
        }
        return !!m !== op.startsWith('!');
      }
    }
    return ask('condition not understood');
  }

  // ---------------------------------------------------------------- variables

  /** Expand `$var` / `${var}` in a value; undefined when any variable is unknown. */
  private expand(s: string, st: ReqState): string | undefined {
    let unknown = false;
    const out = s.replace(/\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (_m, a: string | undefined, b: string | undefined) => {
      const name = a ?? b!;
      const v = this.variable(name, st);
      if (v === undefined) {
        unknown = true;
        return '';
      }
      return v;
    });
    return unknown ? undefined : out;
  }

  private variable(name: string, st: ReqState): string | undefined {
    if (/^[0-9]$/.test(name)) return st.captures[Number(name)] ?? '';
    if (st.vars.has(name)) return st.vars.get(name) ?? undefined;
    const h = (k: string) => this.headers.get(k);
    switch (name) {
      case 'uri':
      case 'document_uri':
        return st.uri;
      case 'request_uri':
        return toBinary(st.rawTarget);
      case 'args':
      case 'query_string':
        return st.args ?? '';
      case 'is_args':
        return st.args ? '?' : '';
      case 'request_method':
        return st.method;
      case 'remote_addr':
      case 'binary_remote_addr':
        return name === 'remote_addr' ? (this.req.clientIp ?? '127.0.0.1') : undefined;
      case 'host': {
        const hv = h('host');
        if (hv)
          return hv
            .toLowerCase()
            .replace(/:[0-9]+$/, '')
            .replace(/\.$/, '');
        return this.server?.names[0]?.name ?? '';
      }
      case 'server_name':
        return this.server?.names[0]?.name ?? '';
      case 'scheme':
        return 'http';
      case 'https':
        return '';
      case 'server_protocol':
        return 'HTTP/1.1';
      case 'server_port':
        return String(this.req.port ?? this.server?.listens[0]?.port ?? 80);
      case 'server_addr':
        return this.req.localAddr ?? '127.0.0.1';
      case 'nginx_version':
        return '1.22.1';
      case 'document_root': {
        const root = this.docRoot(this.location ?? this.server!, st);
        return root ?? undefined;
      }
      case 'request_filename': {
        const p = this.mapPath(this.location ?? this.server!, st.uri, st);
        return p === null ? undefined : toBinary(p);
      }
      case 'invalid_referer':
        return this.invalidReferer(st);
      default:
        break;
    }
    if (name.startsWith('http_')) {
      const v = h(name.slice(5).replace(/_/g, '-'));
      return v ?? '';
    }
    if (name.startsWith('arg_')) {
      const key = name.slice(4).toLowerCase();
      for (const kv of (st.args ?? '').split('&')) {
        const i = kv.indexOf('=');
        const k = i === -1 ? kv : kv.slice(0, i);
        if (k.toLowerCase() === key) return i === -1 ? '' : kv.slice(i + 1);
      }
      return '';
    }
    if (name.startsWith('cookie_')) {
      const key = name.slice(7);
      for (const part of (h('cookie') ?? '').split(/;\s*/)) {
        const i = part.indexOf('=');
        if (i !== -1 && part.slice(0, i) === key) return part.slice(i + 1);
      }
      return '';
    }
    if (st.named[name] !== undefined) return st.named[name];
    this.r.unknown.push(`$${name} is not known to the simulator (map, geo, split_clients or a module variable)`);
    return undefined;
  }

  /** $invalid_referer from valid_referers (ngx_http_referer_module): "" when valid, "1" when not. */
  private invalidReferer(st: ReqState): string | undefined {
    const scope = this.location ?? this.server!;
    const d = nearest(scope, ['valid_referers'])?.directives.at(-1);
    if (!d) return '';
    void st;
    const ref = this.headers.get('referer');
    const vals = d.args.map((a) => a.value);
    if (ref === undefined || ref === '') return vals.includes('none') ? '' : '1';
    const m = /^https?:\/\/([^/:?#]*)/i.exec(ref);
    if (!m) return vals.includes('blocked') ? '' : '1';
    const host = m[1].toLowerCase();
    const names = vals.includes('server_names')
      ? (this.server?.names ?? []).filter((n) => n.kind !== 'regex').map((n) => (n.kind === 'head' ? '*' + n.name : n.name))
      : [];
    for (const v of [...vals, ...names]) {
      if (v === 'none' || v === 'blocked' || v === 'server_names') continue;
      if (v.startsWith('~')) {
        const rx = translatePcre(v.slice(1), true);
        if (!rx.ok) return undefined;
        const m = matchRegex(rx, ref.replace(/^https?:\/\//i, ''));
        if (m && isUnknown(m)) return undefined;
        if (m) return '';
        continue;
      }
      const [vh, ...path] = v.toLowerCase().split('/');
      const hostOk = vh.startsWith('*.') ? host.endsWith(vh.slice(1)) : vh.endsWith('.*') ? host.startsWith(vh.slice(0, -1)) : host === vh;
      if (hostOk && (path.length === 0 || ref.replace(/^https?:\/\/[^/]*/i, '').startsWith('/' + path.join('/')))) return '';
    }
    return '1';
  }

  // ---------------------------------------------------------------- access phase

  private access(conf: Scope, s: EffectiveSettings, st: ReqState): { status: number; cause?: CauseId } | null {
    const r = this.r;
    const any = s.satisfy.value === 'any';
    const inLimitExcept = conf.kind === 'limit_except' || conf.parent?.kind === 'limit_except';
    type H = { ok: true } | { fail: number; cause?: CauseId } | null;
    const results: H[] = [];
    // 1. access module
    const accessResult = (): H => {
      if (s.access.rules.length === 0) return null;
      const addr = this.realIp(conf);
      const client = parseClient(addr);
      const m = client ? firstMatch(s.access.rules, client) : null;
      if (!m) {
        r.step(
          'access',
          `no allow/deny rule matches ${addr}: the access module declines (the rules are from ${s.access.from ? scopeLabel(s.access.from) : 'nowhere'})`,
          s.access.directives[0],
        );
        return null;
      }
      if (m.rule.action === 'allow') {
        r.step('access', `"allow ${m.rule.text}" is the first rule that matches ${addr}`, m.rule.directive);
        return { ok: true };
      }
      r.step('access', `"deny ${m.rule.text}" is the first rule that matches ${addr}: 403 (access forbidden by rule)`, m.rule.directive);
      return { fail: 403, cause: inLimitExcept ? 'N02' : 'N01' };
    };
    // 2. auth_basic
    const basicResult = (): H => {
      if (s.authBasic.value === null) return null;
      const auth = this.headers.get('authorization');
      if (!auth || !/^basic\s/i.test(auth)) {
        r.step('access', `auth_basic "${s.authBasic.value}" and no credentials: 401`, s.authBasic.directive);
        return { fail: 401 };
      }
      const file = s.authBasicUserFile.value;
      if (file !== null && this.req.fs && this.worker) {
        const p = this.expand(file, st);
        const path = p === undefined ? null : fromBinary(p).startsWith('/') ? fromBinary(p) : this.confPrefix() + fromBinary(p);
        if (path && !openAs(this.req.fs, path, this.worker).ok && openAs(this.req.fs, path, this.worker).errno === 'ENOENT') {
          r.step('access', `auth_basic_user_file ${path} does not exist: 403`, s.authBasicUserFile.directive);
          return { fail: 403, cause: 'N04' };
        }
      }
      const i = r.choose(`basic:${at(s.authBasic.directive)}`, [
        'the credentials are valid',
        'the credentials are wrong',
        'the user file is missing',
      ]);
      if (i === 0) return { ok: true };
      if (i === 2) return { fail: 403, cause: 'N04' };
      return { fail: 401 };
    };
    // 3. auth_request (a subrequest; ACCESS is skipped inside it)
    const requestResult = (): H => {
      if (s.authRequest.value === null) return null;
      const i = r.choose(`authreq:${at(s.authRequest.directive)}`, [
        `the auth_request subrequest to ${s.authRequest.value} answers 2xx`,
        `the auth_request subrequest answers 401`,
        `the auth_request subrequest answers 403`,
      ]);
      r.step('access', `auth_request ${s.authRequest.value}: the outcome depends on the subrequest`, s.authRequest.directive);
      if (i === 0) return { ok: true };
      return i === 1 ? { fail: 401 } : { fail: 403, cause: 'N05' };
    };
    for (const h of [accessResult, basicResult, requestResult]) {
      const res = h();
      if (res === null) continue;
      if (!any) {
        if ('fail' in res) return { status: res.fail, cause: res.cause };
        continue;
      }
      if ('ok' in res) {
        r.step('access', 'satisfy any: one access check passed, access granted', s.satisfy.directive);
        return null;
      }
      results.push(res);
    }
    if (any && results.length) {
      const f = results.filter((x): x is { fail: number; cause?: CauseId } => x !== null && 'fail' in x);
      const auth = f.find((x) => x.fail === 401);
      const pick = auth ?? f[f.length - 1];
      r.step('access', `satisfy any: every access check failed: ${pick.fail}`, s.satisfy.directive);
      return { status: pick.fail, cause: pick.fail === 403 ? 'N03' : undefined };
    }
    return null;
  }

  /**
   * The address allow/deny sees: the realip module (ngx_http_realip_handler) replaces the client
   * address with the one from `real_ip_header` when the connection comes from a `set_real_ip_from`
   * address. X-Forwarded-For takes the last address, or with `real_ip_recursive on` the last one that
   * is not trusted. The lists are the nearest scope's (replaced, not merged).
   */
  private realIp(conf: Scope): string {
    const peer = this.req.clientIp ?? '127.0.0.1';
    const from = nearest(conf, ['set_real_ip_from']);
    if (!from) return peer;
    const trusted = accessRulesOf(from.directives.map((d) => ({ ...d, name: 'allow' })));
    const isTrusted = (a: string) => firstMatch(trusted, a) !== null;
    if (!isTrusted(peer)) return peer;
    const hdr = (nearest(conf, ['real_ip_header'])?.directives.at(-1)?.args[0]?.value ?? 'X-Real-IP').toLowerCase();
    if (hdr === 'proxy_protocol') {
      this.r.unknown.push('real_ip_header proxy_protocol: the address comes from the PROXY protocol header');
      return peer;
    }
    const v = this.headers.get(hdr);
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
    this.r.step('access', `realip: ${peer} is trusted (set_real_ip_from), the client address is ${real} from ${hdr}`, from.directives[0]);
    return real;
  }

  private confPrefix(): string {
    const p = this.model.set.root.source.path;
    return p.slice(0, p.lastIndexOf('/') + 1);
  }

  // ---------------------------------------------------------------- paths

  private docRoot(scope: Scope, st: ReqState): string | null {
    const root = effectiveSettings(scope).root;
    const v = this.expand(root.value.path, st);
    if (v === undefined) return null;
    const p = fromBinary(v);
    return p.startsWith('/') ? p : this.prefix + p;
  }

  /** ngx_http_map_uri_to_path: root + uri, or alias + the part of the uri after the location name. */
  private mapPath(scope: Scope, uri: string, st: ReqState): string | null {
    const root = effectiveSettings(scope).root;
    const v = this.expand(root.value.path, st);
    if (v === undefined) return null;
    let base = fromBinary(v);
    if (!base.startsWith('/')) base = this.prefix + base;
    if (root.value.kind === 'alias') {
      const from = root.from as Location | null;
      if (from && (from.modifier === '~' || from.modifier === '~*')) return base;
      const len = from && from.kind === 'location' ? from.bin.length : 0;
      return base + fromBinary(uri.slice(len));
    }
    return base + fromBinary(uri);
  }

  /**
   * Ask the file system (or, without one, a choice point) what opening a path gives. `may` lists the
   * answers worth exploring without a file system (a missing file and the expected kind; the static
   * handler also explores "a directory", which is a 301). One answer per path and run, so the same
   * file is the same in every phase.
   */
  private open(
    path: string,
    s: EffectiveSettings,
    read: boolean,
    what: string,
    may: ('file' | 'none' | 'dir')[] = ['file', 'none'],
  ): OpenResult {
    if (this.req.fs && this.worker) {
      return openAs(this.req.fs, path, this.worker, { read, disableSymlinks: s.disableSymlinks.value });
    }
    const key = path.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
    // a trailing slash asks for a directory: open("file/") is ENOTDIR, so "a file" is no answer
    const slash = key !== path.replace(/\/+/g, '/');
    if (slash) may = [...new Set(may.map((k) => (k === 'file' ? 'dir' : k)))];
    let kind = this.r.fsAnswers.get(key);
    if (slash && kind === 'file') return { ok: false, errno: 'ENOTDIR', at: key };
    if (!kind) {
      const label = { file: 'is a file', none: 'does not exist', dir: 'is a directory' } as const;
      const i = this.r.choose(
        `fs:${key}:${may.join(',')}`,
        may.map((k) => `${what} ${key} ${label[k]}`),
      );
      kind = may[i];
      this.r.fsAnswers.set(key, kind);
    }
    return kind === 'file'
      ? { ok: true, type: 'file' }
      : kind === 'dir'
        ? { ok: true, type: 'dir' }
        : { ok: false, errno: 'ENOENT', at: path };
  }

  // ---------------------------------------------------------------- precontent

  private tryFiles(conf: Scope, s: EffectiveSettings, st: ReqState, depth: number): Outcome | null {
    const r = this.r;
    const d = s.tryFiles!;
    const a = d.args.map((x) => x.value);
    for (let i = 0; i < a.length - 1; i++) {
      const dir = a[i].endsWith('/'); // fixed when the config is read (tf->test_dir), not after expansion
      // nginx drops that slash from the name (ngx_http_core_try_files), so `$uri/` is $uri tested as a directory
      const v = this.expand(dir ? a[i].slice(0, -1) : a[i], st);
      if (v === undefined) {
        const c = r.choose(`tf:${at(d)}:${i}:${st.uri}`, [
          `try_files candidate "${a[i]}" exists`,
          `try_files candidate "${a[i]}" does not exist`,
        ]);
        if (c === 1) continue;
        r.step('precontent', `try_files: "${a[i]}" exists (assumed)`, d);
        this.stop(null, 'unknown');
      }
      const path = this.mapPath(conf, v, st);
      if (path === null) continue;
      const o = this.open(path, s, false, 'try_files candidate', dir ? ['dir', 'none'] : ['file', 'dir', 'none']);
      const hit = o.ok && (dir ? o.type === 'dir' : o.type !== 'dir');
      if (!hit) {
        r.step('precontent', `try_files: "${fromBinary(v)}" → ${path} ${o.ok ? `is a ${o.type}` : `fails (${o.errno})`}, next`, d);
        continue;
      }
      r.step(
        'precontent',
        `try_files: "${fromBinary(v)}" → ${path} ${o.type === 'dir' ? 'is a directory' : 'exists'}; $uri becomes "${fromBinary(v)}"`,
        d,
      );
      const q = v.indexOf('?');
      st.uri = q === -1 ? v : v.slice(0, q);
      if (q !== -1) st.args = v.slice(q + 1);
      return null;
    }
    const last = a[a.length - 1];
    if (last === undefined) return null;
    if (/^=[0-9]+$/.test(last)) {
      const code = Number(last.slice(1));
      r.step('precontent', `try_files: no candidate exists: ${code}`, d);
      return this.error(code, st, conf, depth, 'error', code === 403 ? 'N08' : undefined);
    }
    const v = this.expand(last, st);
    if (v === undefined) {
      r.step('precontent', `try_files falls back to "${last}", which is not known`, d);
      this.stop(null, 'unknown');
    }
    if (v.startsWith('@')) {
      r.step('precontent', `try_files: no candidate exists: named location ${v}`, d);
      return this.named(v, st, depth);
    }
    r.step('precontent', `try_files: no candidate exists: internal redirect to "${fromBinary(v)}"`, d);
    return this.internalRedirect(v, st, depth);
  }

  // ---------------------------------------------------------------- content

  private content(conf: Scope, s: EffectiveSettings, st: ReqState, depth: number): Outcome {
    const r = this.r;
    const h = handlerOf(conf);
    if (h && h.name !== 'flv' && h.name !== 'mp4') {
      if (h.name === 'stub_status') {
        r.step('content', 'stub_status answers 200', h);
        return this.done(200, 'handler', st);
      }
      if (h.name === 'empty_gif') {
        r.step('content', 'empty_gif answers', h);
        return METHODS_STATIC.includes(st.method) ? this.done(200, 'handler', st) : this.error(405, st, conf, depth, 'error');
      }
      const proxied = /_pass$/.test(h.name);
      if (proxied) {
        const ic = {
          proxy_pass: s.proxyInterceptErrors,
          fastcgi_pass: s.fastcgiInterceptErrors,
          uwsgi_pass: s.uwsgiInterceptErrors,
          scgi_pass: s.scgiInterceptErrors,
          grpc_pass: s.grpcInterceptErrors,
        }[h.name];
        const intercepted = !!ic?.value && s.errorPages.pages.some((p) => p.codes.includes(403));
        r.mayAlso.push({
          status: 403,
          outcome: 'proxied',
          cause: 'N21',
          conditions: [`the backend of ${h.name} answers 403${intercepted ? ' (intercepted: error_page for 403 then applies)' : ''}`],
        });
        if (ic?.value)
          r.step('content', `${ic.directive?.name ?? 'intercept_errors'} on: backend errors ≥ 300 go through error_page`, ic.directive);
      }
      r.step('content', `${h.name} handles the request: the ${proxied ? 'backend' : 'handler'} decides the status`, h);
      return { status: null, outcome: proxied ? 'proxied' : 'handler', conditions: [] };
    }
    const uri = st.uri;
    if (uri.endsWith('/')) {
      if (s.randomIndex.value && ['GET', 'HEAD'].includes(st.method)) {
        const dir = this.mapPath(conf, uri, st);
        r.step('content', 'random_index on: serves a random file of the directory', s.randomIndex.directive);
        if (dir && this.req.fs && this.worker && !canList(this.req.fs, dir, this.worker))
          return this.error(403, st, conf, depth, 'error', 'N16');
        this.stop(null, 'random-index');
      }
      if (METHODS_STATIC.includes(st.method)) {
        let dirTested = false;
        for (const nameRaw of s.index.value) {
          const name = this.expand(nameRaw, st);
          if (name === undefined) {
            r.step('content', `index "${nameRaw}" is not known`, s.index.directive);
            this.stop(null, 'unknown');
          }
          if (name.startsWith('/')) {
            r.step('content', `index "${name}" is absolute: internal redirect`, s.index.directive);
            return this.internalRedirect(name, st, depth);
          }
          const dir = this.mapPath(conf, uri, st);
          if (dir === null) this.stop(null, 'unknown');
          const path = dir + fromBinary(name);
          const o = this.open(path, s, false, 'index file');
          if (o.ok) {
            r.step(
              'content',
              `index: ${path} exists: internal redirect to "${fromBinary(uri + name)}" (location search and access checks run again)`,
              s.index.directive,
            );
            return this.internalRedirect(uri + name, st, depth);
          }
          if (o.errno === 'EACCES') {
            r.step('content', `index: "${path}" is forbidden (${o.why})`, s.index.directive);
            return this.error(403, st, conf, depth, 'error', 'N13');
          }
          if (o.errno === 'ELOOP') {
            r.step('content', `index: ${o.why}`, s.disableSymlinks.directive);
            return this.error(403, st, conf, depth, 'error', 'N14');
          }
          if (o.errno === 'ENOTDIR') return this.error(404, st, conf, depth, 'error');
          if (!dirTested) {
            dirTested = true;
            const dres = this.open(dir, s, false, 'directory', ['dir', 'none']);
            if (!dres.ok) {
              r.step(
                'content',
                `directory ${dir} ${dres.errno === 'EACCES' ? `is not searchable (${dres.why})` : 'does not exist'}`,
                s.root.directive,
              );
              if (dres.errno === 'EACCES') return this.error(403, st, conf, depth, 'error', 'N13');
              return this.error(404, st, conf, depth, 'error');
            }
          }
          r.step('content', `index: ${path} does not exist`, s.index.directive);
        }
      }
      if (s.autoindex.value && ['GET', 'HEAD'].includes(st.method)) {
        const dir = this.mapPath(conf, uri, st);
        if (dir && this.req.fs && this.worker && !canList(this.req.fs, dir, this.worker)) {
          r.step('content', `autoindex on but ${dir} cannot be listed: 403`, s.autoindex.directive);
          return this.error(403, st, conf, depth, 'error', 'N15');
        }
        r.step('content', 'autoindex on: the directory is listed', s.autoindex.directive);
        return this.done(200, 'autoindex', st);
      }
      const other = this.davOrNotStatic(s, st, conf, depth);
      if (other) return other;
      const dir = this.mapPath(conf, uri, st);
      r.step(
        'content',
        `directory index of "${dir ?? fromBinary(uri)}" is forbidden: no index file, autoindex off`,
        s.index.directive ?? s.autoindex.directive,
      );
      return this.error(403, st, conf, depth, 'error', 'N12');
    }
    const other = this.davOrNotStatic(s, st, conf, depth);
    if (other) return other;
    const path = this.mapPath(conf, uri, st);
    if (path === null) {
      r.step('content', 'the file path depends on an unknown variable', s.root.directive);
      this.stop(null, 'unknown');
    }
    const o = this.open(path, s, true, 'file', ['file', 'none', 'dir']);
    if (!o.ok) {
      if (o.errno === 'EACCES') {
        r.step('content', `open() "${path}" failed (13: Permission denied): ${o.why}`, s.root.directive);
        return this.error(403, st, conf, depth, 'error', h ? 'N17' : 'N10');
      }
      if (o.errno === 'ELOOP') {
        r.step('content', `open() "${path}" failed (40: Too many levels of symbolic links): ${o.why}`, s.disableSymlinks.directive);
        return this.error(403, st, conf, depth, 'error', h ? 'N17' : 'N11');
      }
      r.step(
        'content',
        `open() "${path}" failed (${o.errno === 'ENOTDIR' ? '20: Not a directory' : '2: No such file or directory'}): 404`,
        s.root.directive,
      );
      return this.error(404, st, conf, depth, 'error');
    }
    if (o.type === 'dir') {
      r.step('content', `${path} is a directory: 301 to "${fromBinary(uri)}/"`, s.root.directive);
      return this.done(301, 'redirect', st);
    }
    if (o.type !== 'file') return this.error(404, st, conf, depth, 'error');
    if (st.method === 'POST') {
      r.step('content', 'the static module answers 405 to POST on a file');
      return this.error(405, st, conf, depth, 'error');
    }
    r.step('content', `serves ${path}`, s.root.directive);
    return this.done(200, 'static', st);
  }

  // ---------------------------------------------------------------- redirects and errors

  private internalRedirect(target: string, st: ReqState, depth: number): Outcome {
    st.uriChanges--;
    if (st.uriChanges === 0) {
      this.r.step('redirect', '500: rewrite or internal redirection cycle');
      this.stop(500, 'error');
    }
    if (depth > 40) {
      // a guard of the simulator, not nginx's rule (that is uriChanges above): say so, never guess
      this.r.unknown.push('more than 40 internal redirects: the simulation stops here (not an nginx limit)');
      this.stop(null, 'unknown');
    }
    const q = target.indexOf('?');
    const n = normalizeUri(q === -1 ? target : target.slice(0, q), this.mergeSlashes());
    st.uri = n.ok ? n.uri : target;
    if (q !== -1) st.args = target.slice(q + 1);
    st.internal = true;
    this.r.step('redirect', `internal redirect to "${fromBinary(st.uri)}"`);
    return this.fromServerRewrite(st, depth + 1);
  }

  private named(name: string, st: ReqState, depth: number): Outcome {
    st.uriChanges--;
    if (st.uriChanges === 0) this.stop(500, 'error');
    const loc = findNamed(this.server!, name);
    if (!loc) {
      this.r.step('redirect', `named location ${name} not found: 500`);
      this.stop(500, 'error');
    }
    st.internal = true;
    this.location = loc;
    this.r.step('redirect', `named location ${name}`, loc.block);
    return this.locationPhases(loc, st, depth + 1);
  }

  /** The request ends with an error status: error_page may turn it into an internal redirect. */
  /** Methods the static content phase does not serve: WebDAV's (`dav_methods`: the outcome depends
   * on the disk) or any other than GET/HEAD/POST (405 from the static module). Null to go on. */
  private davOrNotStatic(s: EffectiveSettings, st: ReqState, conf: Scope, depth: number): Outcome | null {
    if (s.davMethods.value.includes(st.method)) {
      this.r.step('content', `dav_methods handles ${st.method}`, s.davMethods.directive);
      return { status: null, outcome: 'dav', conditions: [] };
    }
    if (!METHODS_STATIC.includes(st.method)) {
      this.r.step('content', `the static module answers 405 to ${st.method}`);
      return this.error(405, st, conf, depth, 'error');
    }
    return null;
  }

  private error(status: number, st: ReqState, conf: Scope, depth: number, kind: OutcomeKind, cause?: CauseId): Outcome {
    if (status === 403 && cause && !st.cause) st.cause = cause;
    const rec = effectiveSettings(conf).recursiveErrorPages.value;
    if (!st.errorPage && st.uriChanges !== 0) {
      const eps = errorPages(conf);
      const page = eps.pages.find((p) => p.codes.includes(status));
      if (page) {
        if (!rec) st.errorPage = true;
        if (page.overwrite >= 0) st.errStatus = page.overwrite;
        else st.errStatus = status;
        const target = this.expand(page.target, st);
        this.r.step(
          'error-page',
          `error_page for ${status}${page.overwrite > 0 ? ` (answer ${page.overwrite})` : page.overwrite === 0 ? " (answer with the target's status)" : ''} → "${page.target}"`,
          page.directive,
        );
        if (page.overwrite === 403) st.cause = 'N09';
        if (target === undefined) this.stop(null, 'unknown');
        if (target.startsWith('/')) {
          if (st.method !== 'HEAD') st.method = 'GET';
          return this.internalRedirect(target, st, depth);
        }
        if (target.startsWith('@')) return this.named(target, st, depth);
        const code = [301, 302, 303, 307, 308].includes(page.overwrite) ? page.overwrite : 302;
        return { status: code, outcome: 'redirect', conditions: [] };
      }
    }
    const final = status;
    return { status: final, outcome: kind, cause: final === 403 ? (st.cause ?? cause) : undefined, conditions: [] };
  }

  /** A response is produced with `status`; error_page may have fixed the status earlier. */
  private done(status: number, outcome: OutcomeKind, st: ReqState, cause?: CauseId): Outcome {
    const final = st.errStatus > 0 ? st.errStatus : status;
    return { status: final, outcome, cause: final === 403 ? (cause ?? st.cause) : undefined, conditions: [] };
  }
}

interface RewriteStop {
  kind: 'return';
  code: number;
  text: string | null;
  directive: Directive;
}

function dedupe(xs: Outcome[]): Outcome[] {
  const out: Outcome[] = [];
  for (const x of xs)
    if (!out.some((o) => o.status === x.status && o.cause === x.cause && o.conditions.join() === x.conditions.join())) out.push(x);
  return out;
}

function condText(d: Directive): string {
  return d.args
    .map((a) => a.raw)
    .join(' ')
    .replace(/^\(|\)$/g, '');
}
