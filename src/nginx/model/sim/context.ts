/**
 * The state of one simulated request: `Run` (one path through the choice points: its answers, trace
 * and unknowns), `ReqState` (what nginx keeps in ngx_http_request_t: method, $uri, $args, captures,
 * variables set so far, the error_page state) and `Sim` (the request, the model and the helpers every
 * phase shares: mapping a URI to a path, asking the disk).
 */
import type { Directive } from '../../../ast.js';
import type { CauseId } from '../../../causes.js';
import { openAs, resolveWorker, type OpenResult, type Worker } from '../fs.js';
import { fromBinary } from '../regex.js';
import { effectiveSettings, type EffectiveSettings } from '../settings.js';
import type { Location, NginxModel, Scope, Server } from '../tree.js';
import { configPathOf, nearest } from '../tree.js';
import { expand as expandVars, type VarCache } from '../vars.js';
import { at, simStats, type Outcome, type OutcomeKind, type SimRequest, type TraceStep } from './types.js';

/** Thrown to end a run with an outcome from anywhere in the phases. */
export class Stop {
  constructor(readonly outcome: Outcome) {}
}

/** A trace step; `at` (the directive's `file:line:col`) is written when read: explain, proofs and the
 * other consumers place a step by its directive, and the string per traced directive, kept as long
 * as the directive, was a tenth of what the proofs of a big tree added to the heap (issue 12). */
class Step implements TraceStep {
  constructor(
    readonly phase: string,
    public message: string,
    readonly directive: Directive | null,
  ) {}
  get at(): string | undefined {
    return at(this.directive);
  }
}

/** One run along one sequence of answers to the choice points. */
export class Run {
  readonly points: number[] = [];
  readonly assumptions: string[] = [];
  /** How many of `assumptions` are not about files on disk (a variable, a backend, credentials…). */
  notDisk = 0;
  readonly memo = new Map<string, number>();
  /** Answers about paths taken in this run (without a file system). */
  readonly fsAnswers = new Map<string, 'file' | 'none' | 'dir'>();
  readonly trace: TraceStep[] = [];
  readonly unknown: string[] = [];
  readonly mayAlso: Outcome[] = [];
  pos = 0;
  /**
   * Whether this run keeps its trace. The driver reads only the first run's (its trace is the
   * result's); the runs after it explore other answers for their outcome, assumptions, unknowns and
   * `mayAlso`, and nothing in a run reads its own trace, so they build no steps: the phases test
   * `sim.tracing` before writing a step's message.
   */
  constructor(
    readonly script: number[],
    readonly tracing = true,
  ) {}
  /** A choice point: the answer this run takes (the same key gets the same answer all along). `disk`:
   * the options say what a path on disk is (Sim.open), nothing else. */
  choose(key: string, options: string[], disk = false): number {
    const m = this.memo.get(key);
    if (m !== undefined) return m;
    const idx = this.script[this.pos] ?? 0;
    this.points.push(options.length);
    this.pos++;
    this.memo.set(key, idx);
    if (options.length > 1) {
      this.assumptions.push(options[idx]);
      if (!disk) this.notDisk++;
    }
    return idx;
  }
  step(phase: string, message: string, directive: Directive | null = null): void {
    if (!this.tracing) return;
    simStats.steps++;
    this.trace.push(new Step(phase, message, directive));
  }
}

export interface ReqState {
  method: string;
  uri: string;
  args: string | null;
  rawTarget: string;
  internal: boolean;
  uriChanges: number;
  errorPage: boolean;
  /** Status set by error_page (-1 none). */
  errStatus: number;
  /** Variables set by `set` and named captures. */
  vars: Map<string, string | null>;
  captures: (string | undefined)[];
  named: Record<string, string | undefined>;
  /** The cause of the first 403 seen (kept across error_page). */
  cause?: CauseId;
}

export const METHODS_STATIC = ['GET', 'HEAD', 'POST'];

export class Sim {
  location: Location | null = null;
  server: Server | null = null;
  /** The client address after the realip module (null: not decided yet, the peer address). */
  realAddr: string | null = null;
  /** Nesting of subrequests (auth_request) being simulated. */
  subrequests = 0;
  readonly headers: Map<string, string>;
  readonly worker: Worker | null;
  readonly prefix: string;
  /** Values of map/geo/split_clients variables computed in this run (not `volatile` ones). */
  readonly varCache: VarCache = new Map();
  /** The run keeps a trace (see Run.tracing): test it before building a step's message. */
  readonly tracing: boolean;
  constructor(
    readonly model: NginxModel,
    readonly req: SimRequest,
    readonly r: Run,
  ) {
    this.tracing = r.tracing;
    this.headers = new Map(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    if (req.host !== undefined && !this.headers.has('host')) this.headers.set('host', req.host);
    const u = model.user;
    this.worker = req.worker ?? (req.fs ? resolveWorker(u?.args[0]?.value ?? 'nobody', u?.args[1]?.value) : null);
    const p = req.prefix ?? '/usr/share/nginx/';
    this.prefix = p.endsWith('/') ? p : p + '/';
  }

  step(phase: string, message: string, directive: Directive | null = null): void {
    this.r.step(phase, message, directive);
  }

  stop(status: number | null, outcome: OutcomeKind, cause: CauseId | null = null): never {
    throw new Stop({ status, outcome, cause, when: [] });
  }

  /** The scope the request is in now (its location, else its server). */
  scope(): Scope {
    return this.location ?? this.server!;
  }

  /** Expand `$var` / `${var}` in a value; undefined when any variable is unknown. */
  expand(s: string, st: ReqState, phase = 'variables'): string | undefined {
    return expandVars(this, s, st, phase);
  }

  /** Where a path the config names points (relative ones against the loader's conf prefix). */
  configPath(path: string): string {
    return configPathOf(this.model.set, path);
  }

  /** `merge_slashes`: a server-level setting; the default server of the address decides (it is
   * applied while the request line is parsed, before the Host header selects a virtual server). */
  mergeSlashes(defaultServer: Server | null): { on: boolean; directive: Directive | null } {
    const d = nearest(defaultServer ?? this.model.http, ['merge_slashes'])?.directives.at(-1) ?? null;
    return { on: !d || d.args[0]?.value !== 'off', directive: d };
  }

  docRoot(scope: Scope, st: ReqState): string | null {
    const root = effectiveSettings(scope).root;
    const v = this.expand(root.value.path, st);
    if (v === undefined) return null;
    const p = fromBinary(v);
    return p.startsWith('/') ? p : this.prefix + p;
  }

  /** ngx_http_map_uri_to_path: root + uri, or alias + the part of the uri after the location name. */
  mapPath(scope: Scope, uri: string, st: ReqState): string | null {
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
  open(path: string, s: EffectiveSettings, read: boolean, what: string, may: ('file' | 'none' | 'dir')[] = ['file', 'none']): OpenResult {
    if (this.req.fs && this.worker) {
      return openAs(this.req.fs, path, this.worker, { read, disableSymlinks: s.disableSymlinks.value });
    }
    const merged = path.replace(/\/+/g, '/');
    const key = merged.replace(/(.)\/$/, '$1');
    // a trailing slash asks for a directory: open("file/") is ENOTDIR, so "a file" is no answer
    const slash = key !== merged;
    if (slash) may = [...new Set(may.map((k) => (k === 'file' ? 'dir' : k)))];
    let kind = this.r.fsAnswers.get(key);
    if (slash && kind === 'file') return { ok: false, errno: 'ENOTDIR', at: key };
    if (!kind) {
      const label = { file: 'is a file', none: 'does not exist', dir: 'is a directory' } as const;
      const i = this.r.choose(
        `fs:${key}:${may.join(',')}`,
        may.map((k) => `${what} ${key} ${label[k]}`),
        true,
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
}
