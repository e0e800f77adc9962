/**
 * The simulator's driver: run the request once per sequence of answers to the choice points (a file
 * on disk without a file system, an `if` on something not known, an auth_request subrequest,
 * credentials, a split_clients bucket…), breadth first up to a bound, and merge the runs into one
 * result — one status when every run agrees, else `status: null` with the possibilities and the
 * assumptions each rests on — with the step that decided.
 */
import type { CauseId } from '../../../causes.js';
import type { NginxModel } from '../tree.js';
import { Run, Sim, Stop } from './context.js';
import { runRequest } from './server.js';
import { simStats, type Outcome, type SimRequest, type SimResult, type TraceStep } from './types.js';

export function simulate(model: NginxModel, req: SimRequest): SimResult {
  simStats.simulations++;
  const maxRuns = req.maxRuns ?? 64;
  const results: { outcome: Outcome; run: Run; sim: Sim }[] = [];
  // the distinct outcomes in the order found (status, outcome kind and cause)
  const distinct: Outcome[] = [];
  const queue: number[][] = [[]];
  let truncated = false;
  while (queue.length) {
    if (results.length >= maxRuns) {
      truncated = true;
      break;
    }
    const script = queue.shift()!;
    simStats.runs++;
    // only the first run's trace is read (it is the result's): the others build none
    const run = new Run(script, results.length === 0);
    const sim = new Sim(model, req, run);
    let outcome: Outcome;
    try {
      outcome = runRequest(sim);
    } catch (e) {
      if (e instanceof Stop) outcome = e.outcome;
      else {
        // A defect in the simulator must not end the caller's run: report it as unknown.
        run.unknown.push(`the simulator failed: ${(e as Error)?.message ?? String(e)}`);
        outcome = { status: null, outcome: 'unknown', cause: null, when: [] };
      }
    }
    // a literal, not `{ ...outcome, when }` (V8's slow path for a spread followed by properties);
    // `disk`: the run rests on answers about files on disk alone and met nothing it could not decide
    const disk = run.assumptions.length > 0 && run.notDisk === 0 && run.unknown.length === 0;
    outcome = disk
      ? { status: outcome.status, outcome: outcome.outcome, cause: outcome.cause, when: [...run.assumptions], disk }
      : { status: outcome.status, outcome: outcome.outcome, cause: outcome.cause, when: [...run.assumptions] };
    results.push({ outcome, run, sim });
    const o = outcome;
    if (!distinct.some((d) => d.status === o.status && d.outcome === o.outcome && d.cause === o.cause)) distinct.push(o);
    // The merged status is null once the first run's is, or once two runs disagree on it, whatever
    // the other runs give: a caller that reads only the status (a proof) needs no more runs.
    if (req.statusOnly && (distinct[0].status === null || !agreeing(distinct))) break;
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
  const unknowns = [...new Set(results.flatMap((r) => r.run.unknown))];
  if (truncated) unknowns.push(`more than ${maxRuns} possibilities: the rest were not explored`);
  const agree = agreeing(distinct);
  const main = first.outcome;
  const status = agree ? main.status : null;
  const outcome = agree ? main.outcome : 'unknown';
  const cause = agree ? main.cause : null;
  const trace = first.run.trace;
  const decisive = decisiveIndex(trace, status, outcome, cause);
  // an unknown status: the step that decided the possibility the trace follows (the first run's)
  const traceDecisive = agree ? -1 : decisiveIndex(trace, main.status, main.outcome, main.cause);
  return {
    status,
    outcome,
    cause,
    decidedBy: decisive >= 0 ? trace[decisive].directive : null,
    decisive,
    traceDecisive,
    assumes: agree ? [] : main.when,
    possibleOutcomes: distinct.length > 1 ? distinct : [],
    mayAlso: dedupe(results.flatMap((r) => r.run.mayAlso)),
    trace,
    location: first.sim.location,
    server: first.sim.server,
    unknowns,
  };
}

/** One status for the request: a single outcome, or outcomes that differ only in kind or cause and
 * share a known status. Once false, more outcomes keep it false. */
function agreeing(distinct: Outcome[]): boolean {
  return distinct.length === 1 || distinct.every((d) => d.status === distinct[0].status && d.status !== null);
}

/**
 * The step that decided the status, as an index into the trace (-1 when none). The error a request
 * ends with is decided where it was raised; error_page keeps that status unless it overrides it
 * (`=403` names the error_page, N09) or takes the target's (`=`), when the target decides.
 */
export function decisiveIndex(trace: TraceStep[], status: number | null, outcome: string, cause: CauseId | null): number {
  if (status === null && outcome !== 'proxied' && outcome !== 'handler') return -1;
  // The step that ends a (sub)request is its last one; `redirect` steps only announce the next.
  const lastBefore = (to: number): number => {
    for (let i = to - 1; i >= 0; i--) if (trace[i].phase !== 'redirect') return i;
    return -1;
  };
  const pages = trace.map((t, i) => (t.phase === 'error-page' ? i : -1)).filter((i) => i >= 0);
  if (pages.length) {
    if (cause === 'N09') {
      for (let i = pages.length - 1; i >= 0; i--) if (/\(answer 403\)/.test(trace[pages[i]].message)) return pages[i];
      return pages[pages.length - 1];
    }
    const last = pages[pages.length - 1];
    const m = /\(answer (\d+)\)/.exec(trace[last].message);
    if (m && Number(m[1]) === status) return last;
    if (/answer with the target's status/.test(trace[last].message)) return lastBefore(trace.length);
    // The error page keeps the status of the error that sent the request there.
    return lastBefore(pages[0]);
  }
  return lastBefore(trace.length);
}

function dedupe(xs: Outcome[]): Outcome[] {
  const out: Outcome[] = [];
  for (const x of xs) if (!out.some((o) => o.status === x.status && o.cause === x.cause && o.when.join() === x.when.join())) out.push(x);
  return out;
}
