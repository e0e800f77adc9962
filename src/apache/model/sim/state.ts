/**
 * The state one simulated request carries through the phases (src/apache/model/sim/*), and the types
 * the simulator shares with its callers. The phase files hold the functions; this file holds what
 * every phase reads: the request, the chosen server, the worker, the trace and the unknowns.
 */
import type { Directive, ParsedFile } from '../../../ast.js';
import type { CauseId } from '../../../causes.js';
import type { SimPossible, SimStep, SimulatorResult } from '../../../model/types.js';
import { isUnknown, type ConfigRegex } from '../../../regex-engine.js';
import type { DirConf } from '../dirconf.js';
import { resolveWorker, type FsStat, type ModelFs, type Worker } from '../fs.js';
import { fnmatch, isFnmatchPattern } from '../regex.js';
import { selectServer, type ApacheModel, type ServerModel } from '../sections.js';

export interface SimRequest {
  method?: string;
  /** Request target as sent: path and optional query. */
  uri: string;
  host?: string;
  port?: number;
  clientIp?: string;
  headers?: Record<string, string>;
  /** An authenticated user (credentials assumed valid unless `credentials` says otherwise), or
   * null/undefined for none. */
  user?: string | null;
  /** The password sent with `user` (for src/auth/, which checks it against the AuthUserFile in force). */
  password?: string | null;
  /** Whether `user`/`password` pass the authentication provider in force: src/auth/ answers this;
   * default 'valid' (the `--user NAME` meaning: assume valid credentials). 'invalid' answers 401;
   * 'unknown' lists both outcomes. */
  credentials?: 'valid' | 'invalid' | 'unknown' | CredentialCheck;
  /** Environment variables the request would carry before the config's own SetEnv/SetEnvIf/BrowserMatch
   * (those are evaluated by the simulator). Unknown variables are unset. */
  env?: Record<string, string>;
  /** The disk; without it, disk-dependent outcomes are listed as possibilities. */
  fs?: ModelFs | null;
  /** Parsed .htaccess files keyed by directory (no trailing slash), used when `fs` is not given. */
  htaccess?: Map<string, ParsedFile>;
  /** The connection is TLS (default: the selected server has `SSLEngine on`). */
  tls?: boolean;
  /** false: record no trace steps (the result's `trace` is empty). For the lint probes, which read
   * only the answer: a proof explains its request again, with the trace. Default true. */
  trace?: boolean;
}

/** An absolute-form request target (`http://host:port/path`): scheme, host, port, path. */
export const ABSOLUTE = /^([a-z][a-z0-9+.-]*):\/\/([^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)(?::(\d*))?([^#]*)/i;

export type Outcome =
  | 'ok'
  | 'listing'
  | 'cgi'
  | 'forbidden'
  | 'unauthorized'
  | 'not-found'
  | 'redirect'
  | 'gone'
  | 'method-not-allowed'
  | 'server-error'
  | 'bad-request'
  | 'unknown';

/** A trace step; `at` points into the directive's line when the step is about a part of it (an
 * ap_expr comparison). */
export interface TraceStep extends SimStep {
  at?: { line: number; column: number };
}

/** One answer the request can get, with the assumptions (`when`) it rests on. */
export type PossibleOutcome = SimPossible<Outcome>;

export interface SimResult extends SimulatorResult<Outcome> {
  trace: TraceStep[];
  /** What Apache logs for the decision (e.g. "AH01630: client denied by server configuration: …"). */
  message: string;
  /** The filesystem path the URI mapped to. */
  filename: string | null;
  /** Sections (and .htaccess files) merged for the request, in httpd's merge order; `directive` is the
   * section's opening directive (null for the server's own config and for .htaccess files). */
  sections: { label: string; directive: Directive | null }[];
  server: ServerModel;
  /** For a directory URL handled by mod_dir: its DirectoryIndex lookup (null otherwise). */
  dirIndex: DirIndexLookup | null;
  /** The Require that granted access, when authz granted (null otherwise). */
  grantedBy: Directive | null;
  /** Effective Options bits where the request last met them (per-dir rewrite, autoindex). */
  options: number | null;
  /** For A18: the DirectoryIndex names that were not found ("none" when disabled). */
  indexNames: string | null;
  /** The status is unknown and the trace shows the first possible outcome (its `when` is what the
   * trace assumes; explain's `traceAssumes`). */
  tracesFirst?: true;
}

/** A DirectoryIndex candidate whose subrequest answered an error (not 200, not 404). */
export interface IndexCandidate {
  name: string;
  /** The URL of the subrequest. */
  target: string;
  status: number;
  cause: CauseId | null;
  by: Directive | null;
}

/** mod_dir's DirectoryIndex lookup for one directory URL (fixup_dir). */
export interface DirIndexLookup {
  /** The candidate names in order (`[]` for DirectoryIndex disabled). */
  names: string[];
  /** The DirectoryIndex directive in force (null: the built-in `index.html`). */
  by: Directive | null;
  /** Candidates refused by their own subrequest: when no candidate is served, mod_dir answers the
   * last refusal's status instead of listing the directory. */
  refused: IndexCandidate[];
  /** What mod_autoindex would answer when no candidate is served and none is refused. */
  listing: Outcome;
}

/** What a phase answers when it ends the request. */
export interface Final {
  status: number | null;
  outcome: Outcome;
  cause: CauseId | null;
  by: Directive | null;
  message: string;
  possible?: PossibleOutcome[];
  /** With `possible`: the trace shows the first possibility (every file looked up exists), as the
   * default handler's does; unset when it shows another one or none (mod_dir's index candidates). */
  tracesFirst?: true;
}

/** A (sub)request's end: the Final plus the file it mapped to and what that file is. A lookup
 * subrequest that passed every phase also carries what its handler would need (`lookup`): mod_dir
 * serves a found index by httpd's fast internal redirect, which takes the subrequest as it is and runs
 * its handler (src/apache/model/sim/fixups.ts), instead of running the same URI through the phases again. */
export type RunResult = Final & { filename?: string; type?: FileType; lookup?: Lookup };

/** A passed lookup subrequest: its walk and translated URI, and the trace steps it left. */
export interface Lookup {
  walk: { conf: DirConf; filename: string; type: FileType };
  uriPath: string;
  query: string;
  scriptAliased: boolean;
}

export type FileType = FsStat['type'] | 'missing' | 'unknown';

export const STATUS_OUTCOME = (s: number): Outcome =>
  s === 403
    ? 'forbidden'
    : s === 401
      ? 'unauthorized'
      : s === 404
        ? 'not-found'
        : s === 410
          ? 'gone'
          : s >= 300 && s < 400
            ? 'redirect'
            : s === 405
              ? 'method-not-allowed'
              : s >= 500
                ? 'server-error'
                : s === 400
                  ? 'bad-request'
                  : 'ok';

export function fin(status: number, cause: CauseId | null, by: Directive | null, message: string, outcome?: Outcome): Final {
  return {
    status,
    outcome: outcome ?? STATUS_OUTCOME(status),
    cause: status === 403 ? cause : cause && status !== 403 ? cause : null,
    by,
    message,
  };
}

/** An undecided Final. */
export function unknownFinal(by: Directive | null, message: string, possible?: PossibleOutcome[], cause: CauseId | null = null): Final {
  return { status: null, outcome: 'unknown', cause, by, message, ...(possible ? { possible } : {}) };
}

/** Work counters for the algorithmic-shape tests (test/scale-shape.test.ts, test/apache-sim-shape.test.ts):
 * requests simulated, (sub)requests run through the phases, trace steps recorded, directory walks
 * made and directory walks answered from the memo (src/apache/model/sim/walk.ts). Only ever
 * incremented; read the difference around a run. */
export const simStats = { simulations: 0, runs: 0, steps: 0, walks: 0, walksReused: 0 };

/** The first run of a request forces no condition (one empty map for all of them). */
const NOTHING_FORCED: ReadonlyMap<string, boolean> = new Map();

/** The worker's ids, resolved once per model (reading /etc/passwd per request would dominate). */
const workers = new WeakMap<ApacheModel, Worker>();

/** The state of one simulated request (and its subrequests). */
export class Sim {
  trace: TraceStep[] = [];
  /** Whether trace steps are recorded (`SimRequest.trace`): the phases build a step's message only
   * when it is (`if (sim.tracing) sim.step(…)`). */
  tracing: boolean;
  unknowns: string[] = [];
  worker: Worker;
  method: string;
  clientIp: string;
  fs: ModelFs | null;
  server: ServerModel;
  tls: boolean;
  /** The sections merged for the (last) main request, in merge order. */
  applied: DirConf['trail'] = [];
  /** mod_dir's index lookup for the (last) directory served. */
  dirIndex: DirIndexLookup | null = null;
  /** The Require that granted access (the last one, for the main request). */
  grantedBy: Directive | null = null;
  /** Effective Options where the request was last checked against them (fixups, autoindex). */
  options: number | null = null;
  /** DirectoryIndex names mod_autoindex refused to replace with a listing (A18), as Apache logs them. */
  indexNames: string | null = null;
  /** The user authenticated so far (REMOTE_USER): null until check_user_id. */
  authUser: string | null = null;
  /** While a directory walk is remembered (walk.ts): every unknown it records, to record again when
   * the walk is reused. */
  unknownLog: string[] | null = null;
  /** Variables whose value depends on something the simulator was not told, with the reason. */
  envUnknown: Map<string, string> = new Map();
  /** Conditions (`<If>` …) the simulator could not evaluate, by key, with the value a re-run assumes. */
  forced: ReadonlyMap<string, boolean> = NOTHING_FORCED;
  /** Conditions met without a value in this run, in order: key and how to name it. */
  undecided: { key: string; label: string }[] = [];
  /** Request headers by lower-case name. */
  headers: Record<string, string>;
  /** The request's environment (subprocess_env) as the env-setting directives leave it. */
  env: Map<string, string> = new Map();
  /** The current (sub)request: its URI path, query string and file name, for expressions. */
  cur: { uri: string; query: string; filename: string | null } = { uri: '/', query: '', filename: null };

  constructor(
    public model: ApacheModel,
    public req: SimRequest,
    /** Runs one (sub)request; set by sim/index.ts (the phases call back into it for index subrequests
     * and internal redirects). */
    private runner: (sim: Sim, uri: string, depth: number, sub: boolean) => RunResult,
    forced?: Map<string, boolean>,
  ) {
    if (forced) this.forced = forced;
    this.tracing = req.trace !== false;
    let w = workers.get(model);
    if (!w) {
      w = resolveWorker(model.user, model.group, model.settings.uid, model.settings.gid);
      workers.set(model, w);
    }
    this.worker = w;
    this.method = (req.method ?? 'GET').toUpperCase();
    this.clientIp = req.clientIp ?? '127.0.0.1';
    this.fs = req.fs ?? null;
    this.headers = req.headers ? Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v])) : {};
    // An absolute-URI request line names the host itself (ap_parse_uri: r->hostname); Host is ignored.
    const abs = ABSOLUTE.exec(req.uri);
    this.server = selectServer(model, abs ? abs[3].toLowerCase() : (req.host ?? 'localhost'), req.port);
    this.tls = req.tls ?? (model.modules.has('mod_ssl') && this.server.sslEngine?.value === 'on');
    if (req.env) for (const [k, v] of Object.entries(req.env)) this.env.set(k, v);
  }

  /** Process one (sub)request; `sub` = a mod_dir index lookup (no handler run). */
  run(uri: string, depth: number, sub: boolean): RunResult {
    return this.runner(this, uri, depth, sub);
  }

  step(phase: string, message: string, directive: Directive | null = null) {
    if (!this.tracing) return;
    simStats.steps++;
    this.trace.push({ phase, message, directive });
  }

  unknown(msg: string) {
    if (this.unknownLog) this.unknownLog.push(msg);
    if (!this.unknowns.includes(msg)) this.unknowns.push(msg);
  }

  /** A config regex against a subject; an over-budget subject is recorded as unknown and reads as no match. */
  rxMatches(re: ConfigRegex, subject: string): boolean {
    const r = re.matches(subject);
    if (isUnknown(r)) {
      this.unknown(`regex ${re.source} cannot be evaluated on "${subject.slice(0, 80)}": ${r.unknown}`);
      return false;
    }
    return r;
  }

  /** An undecided condition: the value a re-run assumes for it, or null (then it is recorded). */
  decide(key: string, label: string): boolean | null {
    const f = this.forced.get(key);
    if (f !== undefined) return f;
    if (!this.undecided.some((u) => u.key === key)) this.undecided.push({ key, label });
    return null;
  }

  cgiLoaded() {
    return this.model.modules.has('mod_cgi') || this.model.modules.has('mod_cgid');
  }

  isFsPath(p: string): boolean {
    const first = p.split('/')[1];
    if (!first) return false;
    if (!this.fs) return false;
    return this.fs.lstat('/' + first) !== null;
  }

  /** Does a host name match this server's names (ServerName, ServerAlias wildcards)? */
  namesThisServer(host: string): boolean {
    const names = [this.server.serverName ?? 'localhost', ...this.server.serverAliases];
    return names.some((n) => (isFnmatchPattern(n) ? fnmatch(n, host, false) : n === host));
  }
}

/** `--auth user:password`: src/auth/ checks the password against the AuthUserFile in force (an
 * absolute path) and says whether it matches, with the words for the trace. */
export type CredentialCheck = (
  userFile: string,
  user: string,
  password: string,
) => { verdict: 'valid' | 'invalid' | 'unknown'; why: string };
