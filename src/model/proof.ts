/**
 * Proofs: a finding that claims a status (403, 401, 500, …) carries a concrete request and the
 * status `explain` predicts for it. A proof is made by running `explain` itself on the model's
 * config set with the model's options, so `why403 explain` on the sample request agrees with the
 * finding by construction (test/invariant.test.ts checks it again from a fresh load).
 */
import type { Directive, ParsedFile } from '../ast.js';
import { explain } from '../explain/index.js';
import { parseExplainRequest } from '../explain/request.js';
import type { Explanation } from '../explain/types.js';
import { HtaccessReader } from '../explain/htaccess.js';
import { mapPath } from '../load-options.js';
import { htaccessDirOf, linkedAccessFiles } from '../apache/model/htaccess-link.js';
import type { Model } from './index.js';

export type { Proof, ProofExpectation, ProofLocation, ProofOptions, SampleInput, SampleRequest } from './types.js';
import type { Proof, ProofExpectation, ProofOptions, SampleInput, SampleRequest, ProofLocation } from './types.js';

export const SAMPLE_CLIENT = '192.0.2.10';

export function sampleUrl(s: SampleInput): string {
  const scheme = s.scheme ?? 'http';
  const defPort = scheme === 'https' ? 443 : 80;
  const host = s.host.includes(':') && !s.host.startsWith('[') ? `[${s.host}]` : s.host;
  const port = s.port !== undefined && s.port !== defPort ? `:${s.port}` : '';
  return `${scheme}://${host}${port}${s.path.startsWith('/') ? s.path : `/${s.path}`}`;
}

/** Run `explain` on the sample request with the model's set and options. */
/** `explain` on a request with the model's set and options (the one way every consumer asks). `user`:
 * valid credentials assumed for that user (as `explain --user`); `cwd`: paths in the explanation are
 * relative to it ('' keeps them absolute). */
export function explainSample(model: Model, sample: SampleRequest & { user?: string }, cwd = ''): Explanation | null {
  return explainWith(model, sample, cwd, false);
}

function explainWith(
  model: Model,
  sample: SampleRequest & { user?: string },
  cwd: string,
  brief: boolean,
  htaccess?: HtaccessReader,
): Explanation | null {
  const headers = Object.entries(sample.headers).map(([k, v]) => `${k}: ${v}`);
  const r = parseExplainRequest({
    target: sample.url,
    method: sample.method,
    ip: sample.ip,
    headers,
    ...(sample.user ? { user: sample.user } : {}),
    ...(sample.proxy !== undefined ? { proxy: sample.proxy } : {}),
  });
  if (!r.ok) return null;
  const o = model.options;
  return explain(model.set, model.set.root.source.path, r.request, {
    fs: !!o.fs,
    pathMap: o.pathMap ?? [],
    ...(o.prefix ? { prefix: o.prefix } : {}),
    ...(o.serverRoot ? { serverRoot: o.serverRoot } : {}),
    ...(o.defines ? { defines: o.defines } : {}),
    ...(o.settings ? { settings: o.settings } : {}),
    ...(brief ? { brief } : {}),
    ...(htaccess ? { htaccess } : {}),
    cwd,
  });
}

/** True when `loc` (a proof's decidedBy or trace step) points at directive `d`. */
export const sameAt = (loc: ProofLocation | null | undefined, d: Directive): boolean => {
  if (!loc || loc.file !== d.source.path) return false;
  const { line, column } = d.nameSpan.start;
  return loc.line === line && loc.column === column;
};

/**
 * The proof that `input` gets `expect.status` (decided by `expect.decidedBy` when given); false when
 * explain predicts a known other status or another deciding directive (the claim is refuted); null
 * when explain cannot tell (an unknown status) or the request does not parse.
 *
 * With `opts.assumeDisk`, an unknown status still proves the claim when the possibility explain's
 * trace follows (every file the request looks up exists: the first answer at each choice point) rests
 * on the disk alone (`disk`) and has the claimed status and deciding directive: the proof carries its
 * conditions as `assumes`. Other possibilities (a missing file) are not traced, so they prove nothing.
 */
export function prove(model: Model, input: SampleInput, expect: ProofExpectation, opts: ProofOptions = {}): Proof | null | false {
  const request: SampleRequest = {
    method: input.method ?? 'GET',
    url: input.proxyUrl ?? sampleUrl(input),
    ip: input.ip ?? SAMPLE_CLIENT,
    headers: { ...(input.headers ?? {}) },
    ...(input.proxyUrl ? { proxy: input.port ?? (input.scheme === 'https' ? 443 : 80) } : {}),
  };
  // A directive of a .htaccess linked to a main config of the run: explained on that config, with this
  // file in place (and, without --fs, the other access files the request walks read from disk, as
  // `explain --htaccess` reads them)
  let on = model;
  let htaccess: HtaccessReader | undefined;
  let watched: WatchedReader | undefined;
  if (input.via && model.server === 'apache') {
    on = model.linkedModel(input.via);
    if (on.server !== 'apache') return null;
    // the .htaccess files the run linked to that config (this one among them) as the run read them
    if (!on.options.fs) htaccess = readerOf(on).with(ownFiles(on.set, model));
  } else if (model.server === 'apache' && !model.options.fs && model.set.root.context !== 'htaccess') {
    // A main config the run linked .htaccess files to (src/run.ts links them before the mains are
    // linted): explained with those files in place (and the other access files the request walks read
    // from disk), as `explain <config> <url> --htaccess` reads them, since AllowOverride lets them
    // change the answer
    const run = linkedAccessFiles(model.set);
    const linked = opts.accessFiles?.size ? new Map([...opts.accessFiles, ...run]) : run;
    if (linked.size)
      htaccess = watched = new WatchedReader(model.tree.accessFileNames, model.options.pathMap ?? [], linked, readerOf(model));
  }
  // brief: the proof keeps the status, cause, deciding directive and trace, which a brief explanation
  // computes exactly as a full one (the same simulation)
  const e = explainWith(on, request, '', true, htaccess);
  if (!e) return null;
  const share = !opts.unshared;
  // a main config's proof says `htaccess` when an access file stood in a directory the request walked
  // (none did: explain without --htaccess gives the same answer from the same config)
  if (watched && !watched.found) htaccess = undefined;
  if (e.status === null) return opts.assumeDisk && !e.fs ? underAssumptions(on, request, e, expect, share, !!htaccess) : null;
  if (e.status !== expect.status || (expect.decidedBy && !sameAt(e.decidedBy, expect.decidedBy) && !sameMapped(on, e, expect.decidedBy)))
    return false;
  return {
    config: on.set.root.source.path,
    request,
    status: e.status,
    cause: e.cause?.id ?? null,
    decidedBy: e.decidedBy,
    trace: traceOf(on, e, share),
    ...(htaccess ? { htaccess: true as const } : {}),
    ...(e.unknowns.length ? { unless: [...e.unknowns] } : {}),
  };
}

/** With --fs and a path map, Apache's simulator names a .htaccess it reads from disk by its installed
 * path (`/srv/site/htdocs/.htaccess`), the linted set by the checked-out one: the same line of the same
 * file when the installed path maps to it. The proof keeps explain's path, as `explain --fs` shows it. */
function sameMapped(on: Model, e: Explanation, d: Directive): boolean {
  const loc = e.decidedBy;
  if (!loc || !on.options.fs || !on.options.pathMap?.length || loc.file === d.source.path) return false;
  return mapPath(loc.file, on.options.pathMap) === d.source.path && sameAt({ ...loc, file: d.source.path }, d);
}

/** A reader that notes whether it gave the simulator any access file. */
class WatchedReader extends HtaccessReader {
  found = false;
  override get(dir: string): ParsedFile | undefined {
    const f = super.get(dir);
    if (f) this.found = true;
    return f;
  }
}

/** The run's .htaccess files linked to `main`, with this set's own file for its directory. */
function ownFiles(main: Model['set'], model: Model): ReadonlyMap<string, ParsedFile> {
  const linked = linkedAccessFiles(main);
  const dir = htaccessDirOf(model.set);
  return linked.get(dir) === model.set.root ? linked : new Map([...linked, [dir, model.set.root]]);
}

/** One disk reader of access files per main config model: the proofs of its linked .htaccess sets
 * share what it read (a parent directory's .htaccess is read once per run, not once per proof). */
const readers = new WeakMap<Model, HtaccessReader>();

function readerOf(m: Model & { server: 'apache' }): HtaccessReader {
  let r = readers.get(m);
  if (!r) readers.set(m, (r = new HtaccessReader(m.tree.accessFileNames, m.options.pathMap ?? [])));
  return r;
}

type ProofStep = Proof['trace'][number];

/**
 * The proof steps made on a model so far, by file and place (issue 12, memory): the proofs of one
 * server repeat most of their steps (its server selection, `set`s and `if`s, the error page's redirect
 * and location search), and every finding keeps its proof until the output is written — 30,001
 * traces of 16–21 steps at 10,000 servers. A step is plain data that no consumer changes (the output's
 * withheld steps are copies), so one object serves every trace that has it, with its message as one
 * flat string (the simulator's is a rope of the template's pieces). Kept while the model is (a lint
 * drops both with the set).
 */
const madeSteps = new WeakMap<Model, StepTable>();

/** A place's number in its file: line × COLUMNS + column (a step at a wider column is not shared). */
const COLUMNS = 2 ** 21;

function traceOf(model: Model, e: Explanation, share: boolean): Proof['trace'] {
  const out: ProofStep[] = [];
  const made = stepsOf(model);
  for (const t of e.trace) {
    const at = t.at;
    if (at !== null) out.push(sharedStep(made, at.file, at.line, at.column, t.message, null, share));
  }
  return out;
}

/** A proof made with `unshared` (the linter's, for a finding the run lists): its steps replaced by the
 * model's shared ones, in place (the same data). */
export function shareSteps(model: Model, proof: Proof): Proof {
  const made = stepsOf(model);
  const trace = proof.trace;
  for (let i = 0; i < trace.length; i++) {
    const t = trace[i];
    trace[i] = sharedStep(made, t.file, t.line, t.column, t.message, t, true);
  }
  return proof;
}

type StepTable = Map<string, Map<number, ProofStep | ProofStep[]>>;

function stepsOf(model: Model): StepTable {
  let made = madeSteps.get(model);
  if (!made) madeSteps.set(model, (made = new Map()));
  return made;
}

/** The table's step at this place with this message; else a new one (or `have`), added to the table
 * when `add`. */
function sharedStep(
  made: StepTable,
  file: string,
  line: number,
  column: number,
  message: string,
  have: ProofStep | null,
  add: boolean,
): ProofStep {
  let inFile = made.get(file);
  if (!inFile) made.set(file, (inFile = new Map()));
  const pos = line * COLUMNS + column;
  const here = column < COLUMNS ? inFile.get(pos) : undefined;
  let s =
    here === undefined
      ? undefined
      : Array.isArray(here)
        ? here.find((x) => x.message === message)
        : here.message === message
          ? here
          : undefined;
  if (s === undefined) {
    message.charCodeAt(0); // flattens the rope in place
    s = have ?? { file, line, column, message };
    if (add && column < COLUMNS) inFile.set(pos, here === undefined ? s : Array.isArray(here) ? (here.push(s), here) : [here, s]);
  }
  return s;
}

/** An unknown status: the proof under the disk assumptions of the traced possibility, else null (never
 * false: another possibility may still give the claim). */
function underAssumptions(
  model: Model,
  request: SampleRequest,
  e: Explanation,
  expect: ProofExpectation,
  share: boolean,
  htaccess: boolean,
): Proof | null {
  const o = e.possibleOutcomes[0];
  if (!o || !o.disk || o.status !== expect.status || !sameWhen(o.when, e.traceAssumes)) return null;
  const by = o.decidedBy ?? null;
  if (expect.decidedBy && !sameAt(by, expect.decidedBy)) return null;
  return {
    config: model.set.root.source.path,
    request,
    status: o.status,
    cause: o.status === 403 ? o.cause : null,
    decidedBy: by,
    trace: traceOf(model, e, share),
    assumes: [...o.when],
    ...(htaccess ? { htaccess: true as const } : {}),
  };
}

const sameWhen = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
