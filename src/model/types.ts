/**
 * The types of proofs and sample requests (src/model/proof.ts makes them). Types only, so that the
 * model, the rule API and the formatters can name them without importing explain.
 */
import type { Directive, ParsedFile } from '../ast.js';
import type { CauseId } from '../causes.js';
import type { HtaccessLink } from '../apache/model/htaccess-link.js';

/** A request as the JSON output and `why403 explain` take it. */
export interface SampleRequest {
  method: string;
  /** Absolute URL: scheme, host, port when not the scheme's default, path and query. */
  url: string;
  /** Client address. */
  ip: string;
  /** Extra request headers (Host comes from the URL). */
  headers: Record<string, string>;
  /** A forward-proxy request: `url` goes on the request line in absolute form, to this port of the
   * server (`why403 explain --proxy PORT`). */
  proxy?: number;
}

/** Where a proof's step or decision points. Paths are absolute. */
export interface ProofLocation {
  file: string;
  line: number;
  column: number;
}

export interface Proof {
  /** The main config to explain the request with: `why403 explain <config> <request.url> --ip …`. */
  config: string;
  request: SampleRequest;
  /** The status explain predicts: its status, or (with `assumes`) the status of the possible outcome
   * that rests on those assumptions about the disk. */
  status: number;
  /** Catalog id of a 403 (docs/403-causes.md). */
  cause: CauseId | null;
  /** The directive that decided. */
  decidedBy: (ProofLocation & { directive: string }) | null;
  /** The explain trace, for SARIF code flows. */
  trace: Array<ProofLocation & { message: string }>;
  /**
   * Present when explain's status is unknown without the disk (no --fs) and the claim holds under
   * these conditions, each about a path on disk, in explain's words (e.g. "file /srv/www/errors/403.html
   * is a file"): the possible outcome with them has the claimed status, cause and deciding directive.
   */
  assumes?: string[];
  /** Explained with the .htaccess files of the directories the request walks read from disk
   * (`why403 explain --htaccess`): a finding in a .htaccess file proven on the main config that reads
   * it, linted without --fs. */
  htaccess?: true;
  /** What explain could not know that could change this status (an .htaccess file AllowOverride lets
   * in that was not read, a regex it cannot evaluate), in its words ("Not known" in its output): the
   * claim holds unless one of them changes it. Absent when nothing was unknown. */
  unless?: string[];
}

/** How far a caller lets a proof go (`prove`'s last argument). */
export interface ProofOptions {
  /** Accept a proof that holds only under assumptions about the disk (`Proof.assumes`), for callers
   * that show them (the linter's `ctx.prove`); without it such a claim has no proof (null). */
  assumeDisk?: boolean;
  /** The caller keeps only some proofs and adds their new trace steps to the model's shared table
   * itself (`shareSteps`), so that a proof it drops leaves no step there. */
  unshared?: boolean;
  /** Apache main config without --fs: more .htaccess files to explain with in place, by installed
   * directory (the ones `why403 map` finds under the served directories, as diff finds them), besides
   * those the lint run linked to the config. */
  accessFiles?: ReadonlyMap<string, ParsedFile>;
}

/** What a rule asks for: a path on a host, from a client, optionally with a method and headers. */
export interface SampleInput {
  path: string;
  host: string;
  port?: number;
  method?: string;
  /** Default: 192.0.2.10 (TEST-NET-1: inside no range a config is likely to grant). */
  ip?: string;
  headers?: Record<string, string>;
  scheme?: 'http' | 'https';
  /** Ask the server as a forward proxy for this absolute URL, sent to `port` (the server's) in
   * absolute form; `path` and `scheme` are then unused. */
  proxyUrl?: string;
  /** A request for a directive of a .htaccess set, to the URL a main config of the run serves the
   * file's directory at (src/model/apache-samples.ts `linkedRequest`): explained on that main config
   * (the model's `linkedModel(via)`) with this .htaccess file in place. */
  via?: HtaccessLink;
}

/** What the rule expects the proof to show; a proof that shows something else is not made. */
export interface ProofExpectation {
  /** The status the finding claims. */
  status: number;
  /** The directive the finding is about must be the one that decided. */
  decidedBy?: Directive;
}

/** One step of a simulation, for both servers: the server phase, what happened, and the directive. */
export interface SimStep {
  phase: string;
  message: string;
  directive: Directive | null;
}

/** One answer the request can get when the simulator was not told everything (disk, a backend, a
 * hash bucket, a DNS name…), with the assumptions it rests on. */
export interface SimPossible<O extends string = string> {
  status: number | null;
  outcome: O;
  /** Catalog id of a 403 (docs/403-causes.md), null otherwise. */
  cause: CauseId | null;
  /** The assumptions this outcome rests on (empty when the config and request decide it). */
  when: string[];
  /** Set (nginx, Apache) when every assumption in `when` says what a path on disk is (a file, a directory,
   * missing) and the run met nothing else it could not decide: `--fs` would settle it. */
  disk?: true;
}

/**
 * What both simulators return (issue 10: one result type). Each server's SimResult extends it with
 * what only that server has (nginx: the location and mayAlso; Apache: the filename, the merged
 * sections, the DirectoryIndex lookup).
 */
export interface SimulatorResult<O extends string = string> {
  /** The predicted status, null when it depends on something not known (then see possibleOutcomes). */
  status: number | null;
  outcome: O;
  cause: CauseId | null;
  /** The directive whose evaluation decided the status (null: a built-in default decided). */
  decidedBy: Directive | null;
  /** Every outcome found when the answer depends on what the simulator was not told. */
  possibleOutcomes: SimPossible<O>[];
  trace: SimStep[];
  /** Reasons the simulation could not decide something at all. */
  unknowns: string[];
}
