/**
 * What `why403 explain` produces, for both servers: the JSON output is this object as it is, and the
 * text output renders it. See docs/explain.md.
 */
import type { ServerKind } from '../ast.js';
import type { CauseId } from '../causes.js';

export interface Location {
  file: string;
  line: number;
  column: number;
}

export interface ExplainStep {
  /** 1-based position in the trace. */
  n: number;
  /** The server phase, as the model names it (nginx: server, find-location, rewrite, access, precontent,
   * content, redirect, error-page; Apache: vhost, translate_name, directory_walk, location_walk,
   * access_checker, access_checker_ex, authn, fixups, handler, …). */
  phase: string;
  message: string;
  /** The directive the step is about (file, 1-based line and column), when there is one. */
  at: Location | null;
  /** The directive's text, e.g. `deny all`. */
  directive: string | null;
  /** This step decided the status. */
  decisive: boolean;
  /** Sub-lines: e.g. the access rules in the order evaluated. */
  details?: string[];
}

export interface PossibleOutcome {
  status: number | null;
  outcome: string;
  /** Catalog row of a 403 (docs/403-causes.md), null otherwise. */
  cause: CauseId | null;
  /** The catalog title of `cause` (null when there is no cause). */
  causeTitle: string | null;
  /** The assumptions this outcome rests on (e.g. "index file /srv/d/index.html does not exist"). */
  when: string[];
  /** Present (nginx, Apache) when every assumption in `when` says what a path on disk is and nothing else was
   * unknown on the way: `--fs` decides between such outcomes. */
  disk?: true;
  /** For the possibility the trace follows (the first one, the answer "it exists" at every file
   * looked up): the directive that decided its status, when there is one (nginx). */
  decidedBy?: Location & { directive: string };
}

export interface Explanation {
  /** Format version of this object. */
  version: 1;
  server: ServerKind;
  /** The config file explained (as given). */
  config: string;
  request: {
    method: string;
    target: string;
    host: string | null;
    hostFrom: 'url' | 'header' | 'default' | 'none';
    port: number | null;
    clientIp: string;
    clientIpDefaulted: boolean;
    headers: Record<string, string>;
    user: string | null;
  };
  /** The predicted HTTP status, or null when it depends on something not known (the file system
   * without --fs, a backend, an unknown variable): then `possibleOutcomes` lists what can happen. */
  status: number | null;
  /** What the server does: forbidden, static, listing, redirect, internal-redirect, unauthorized,
   * not-found, method-not-allowed, server-error, bad-request, return, proxied, handler, close, unknown… */
  outcome: string;
  /** Catalog row of a 403 (docs/403-causes.md), with its title. */
  cause: { id: CauseId; title: string } | null;
  /** The one-line verdict the text output starts with. */
  verdict: string;
  /** The directive that decided, when there is one. */
  decidedBy: (Location & { directive: string }) | null;
  /** Whether the file system was read (--fs). */
  fs: boolean;
  possibleOutcomes: PossibleOutcome[];
  /** Things that can happen on top of the answer (limit_req, a backend's own 403). */
  mayAlso: PossibleOutcome[];
  trace: ExplainStep[];
  /** When the status is not known: the assumptions the trace above follows (one of the possibilities). */
  traceAssumes: string[];
  /** What was assumed (default client address, credentials, no file system, …). */
  assumptions: string[];
  /** What the model could not decide. */
  unknowns: string[];
  /** What would change the answer. */
  suggestions: string[];
  /** Problems loading the config (the explanation may be incomplete). */
  configErrors: string[];
  /** Set when the main config was not read (a vhost or snippet explained alone): the status above
   * holds for this file alone, and `unknown` lists what the main config could change. Null for a
   * whole configuration. (Optional only for the explainers; `explain()` always sets it.) */
  partial?: { reason: string; unknown: string[] } | null;
}
