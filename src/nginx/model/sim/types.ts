/**
 * The nginx simulator's request and result types. `SimResult` is the shared `SimulatorResult`
 * (src/model/types.ts) plus what only nginx has: the location and server that answered, the
 * outcomes that depend on load or a backend (`mayAlso`), and the index of the deciding trace step.
 */
import type { Directive } from '../../../ast.js';
import type { SimPossible, SimStep, SimulatorResult } from '../../../model/types.js';
import type { FileSystemView, Worker } from '../fs.js';
import type { Location, Server } from '../tree.js';

export interface SimRequest {
  method?: string;
  /** The request target as sent: path, optionally `?args`. */
  uri: string;
  host?: string;
  /** The host of a request line in absolute form (`GET http://b.test/x`, explain --proxy): nginx
   * takes it over the Host header to choose the server and for $host. */
  lineHost?: string;
  port?: number;
  /** The server address the client connected to (default 127.0.0.1). */
  localAddr?: string;
  clientIp?: string;
  headers?: Record<string, string>;
  /** `https` for a TLS connection ($scheme, $https); default `http`. */
  scheme?: 'http' | 'https';
  /** Without it, outcomes that depend on disk are reported as possibilities. */
  fs?: FileSystemView;
  /** The worker identity for permission checks (default: the `user` directive, else nobody). */
  worker?: Worker;
  /** nginx prefix (`-p`) for relative paths (default Debian's /usr/share/nginx/). */
  prefix?: string;
  /**
   * What is known about the credentials of `Authorization: Basic` (auth_basic). `valid` (explain
   * --user): assume the user file accepts them. A function (the hook for `--auth user:password`,
   * src/auth/): given the user file's absolute path and the decoded user and password, say whether
   * they are accepted, or null when it cannot tell (then both answers are explored).
   */
  credentials?: 'valid' | ((userFile: string, user: string, password: string) => boolean | null);
  /** Bound on explored possibilities (default 64). */
  maxRuns?: number;
  /**
   * Only the merged status (and, when it is known, the first run's trace) will be read, as by a proof:
   * stop exploring once the status is known to be null (the first run's is null, or two runs disagree
   * on it, whatever the other runs give). `possibleOutcomes`, `mayAlso` and `unknowns` then list only
   * the runs explored; a known status explores every run, as without it.
   */
  statusOnly?: boolean;
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

export interface TraceStep extends SimStep {
  /** `file:line:col` of the directive, when there is one. */
  at?: string;
}

/** One answer the request can get, with the assumptions it rests on (`when`). */
export type Outcome = SimPossible<OutcomeKind>;

export interface SimResult extends SimulatorResult<OutcomeKind> {
  possibleOutcomes: Outcome[];
  trace: TraceStep[];
  /** Index in `trace` of the step that decided (-1: none, e.g. the status is not known). */
  decisive: number;
  /** When the status is not known: the assumptions the trace follows (one of the possibilities). */
  assumes: string[];
  /** When the status is not known: the index in `trace` of the step that decided the possibility the
   * trace follows (`possibleOutcomes[0]`, the first answer at every choice point), -1 when none. */
  traceDecisive: number;
  /** The location that served the final (sub)request, null for the server's own configuration. */
  location: Location | null;
  server: Server | null;
  /** Outcomes that depend on load or on a backend rather than on the request (limit_req/limit_conn,
   * a proxied backend answering 403): they can happen on top of the answer above. */
  mayAlso: Outcome[];
}

export function at(d: Directive | null | undefined): string | undefined {
  if (!d) return undefined;
  let s = places.get(d);
  if (s === undefined) {
    const { line, column } = d.nameSpan.start;
    s = `${d.source.path}:${line}:${column}`;
    s.charCodeAt(0); // one flat string, not the template's rope of five (kept as long as the directive)
    places.set(d, s);
  }
  return s;
}
/** `at` of each directive, written once (every trace step and choice point names one). */
const places = new WeakMap<Directive, string>();

/** Work counters (issue 12's shape tests): simulations, runs (one per explored sequence of answers to
 * the choice points) and trace steps built. */
export const simStats = { simulations: 0, runs: 0, steps: 0 };
