/**
 * The Apache request simulator: follows server/request.c ap_process_request_internal phase by phase.
 * Each phase has its file:
 *
 * - translate.ts — the request line, the virtual host, translate_name (server mod_rewrite, mod_alias,
 *   DocumentRoot), forward proxy requests
 * - walk.ts — map_to_storage: directory walk with .htaccess, symlink and permission checks, regex
 *   directories, file walk; the Location walk; `<If>` sections
 * - access.ts — access_checker (mod_access_compat, SSLRequireSSL), access_checker_ex (authz_core),
 *   Satisfy, authentication and authorization with a user
 * - fixups.ts — per-directory mod_rewrite and Redirect, mod_dir with its index subrequests
 * - handler.ts — cgi, server-status, autoindex, default_handler
 * - rewrite.ts — the mod_rewrite rule engine both rewrite phases use
 *
 * Every decision carries the Directive that made it. What the model cannot know (DNS, the disk when
 * no filesystem is given) becomes a list of possible outcomes, never a guess.
 */
import type { ApacheModel } from '../sections.js';
import { accessChecks } from './access.js';
import { fixups } from './fixups.js';
import { handle } from './handler.js';
import { fin, Sim, simStats, type PossibleOutcome, type RunResult, type SimRequest, type SimResult } from './state.js';
import { translate } from './translate.js';
import { mapToStorage } from './walk.js';

/** One (sub)request through every phase. */
function runRequest(sim: Sim, uri: string, depth: number, sub: boolean): RunResult {
  simStats.runs++;
  if (depth > 10) return fin(500, null, null, 'more than 10 internal redirects (LimitInternalRecursion)');
  const t = translate(sim, uri, depth, sub);
  if ('status' in t) return t;
  const walk = mapToStorage(sim, t.filename, t.uriPath, sub);
  if ('status' in walk) return { ...walk, filename: t.filename };
  const access = accessChecks(sim, walk.conf, walk.filename);
  if (access) return { ...access, filename: walk.filename };
  const fx = fixups(sim, walk, t.uriPath, t.query, depth, sub);
  if (fx) return fx;
  if (sub)
    return {
      ...fin(200, null, null, 'subrequest passed'),
      filename: walk.filename,
      type: walk.type,
      lookup: { walk, uriPath: t.uriPath, query: t.query, scriptAliased: t.scriptAliased },
    };
  return handle(sim, walk, t.uriPath, t.query, depth, t.scriptAliased);
}

/** One run of the request with some undecided conditions forced to a value. */
function once(model: ApacheModel, req: SimRequest, forced?: Map<string, boolean>): { sim: Sim; result: SimResult } {
  const sim = new Sim(model, req, runRequest, forced);
  let f: RunResult;
  try {
    f = sim.run(req.uri, 0, false);
  } catch (e) {
    f = { status: null, outcome: 'unknown', cause: null, by: null, message: `internal error in the simulator: ${(e as Error).message}` };
  }
  let possible = f.possible ?? [];
  let status = f.status;
  let outcome = f.outcome;
  if (status === null && possible.length) {
    const s = new Set(possible.map((p) => p.status));
    if (s.size === 1) {
      status = possible[0].status;
      outcome = possible[0].outcome;
    }
  }
  // a possibility rests on the disk alone (`disk`, as nginx's) only when the run met nothing else it
  // could not decide (a regex, an .htaccess AllowOverride lets in, a `Require expr`…)
  if (sim.unknowns.length && possible.some((p) => p.disk)) possible = possible.map(({ disk: _, ...p }) => p);
  const result: SimResult = {
    status,
    outcome,
    cause: status === 403 || status === null ? f.cause : null,
    decidedBy: f.by,
    message: f.message,
    possibleOutcomes: possible,
    trace: sim.trace,
    filename: f.filename ?? null,
    sections: sim.applied,
    server: sim.server,
    unknowns: sim.unknowns,
    dirIndex: sim.dirIndex,
    grantedBy: sim.grantedBy,
    options: sim.options,
    indexNames: sim.indexNames,
    ...(status === null && f.tracesFirst && possible.length ? { tracesFirst: true as const } : {}),
  };
  return { sim, result };
}

/** How many undecided conditions (`<If>` the simulator cannot evaluate) are tried both ways. */
const MAX_UNDECIDED = 3;

/** Simulate one request against the model. Never throws on bad input. When a condition cannot be
 * evaluated (a file test without the disk, the OS environment…), the request is run again with it
 * true and false, and the answers become the possible outcomes. */
export function simulate(model: ApacheModel, req: SimRequest): SimResult {
  simStats.simulations++;
  const first = once(model, req);
  const und = first.sim.undecided.slice(0, MAX_UNDECIDED);
  if (!und.length) return first.result;
  const outcomes: PossibleOutcome[] = [];
  for (let mask = 0; mask < 1 << und.length; mask++) {
    const forced = new Map(und.map((u, i) => [u.key, (mask & (1 << i)) !== 0] as const));
    const r = once(model, req, forced).result;
    const when = und.map((u, i) => `${u.label} ${mask & (1 << i) ? 'holds' : 'does not hold'}`);
    // forced conditions are not disk lookups: these possibilities rest on more than the disk
    if (r.status === null && r.possibleOutcomes.length)
      for (const { disk: _, ...p } of r.possibleOutcomes) outcomes.push({ ...p, when: [...when, ...p.when] });
    else outcomes.push({ when, status: r.status, outcome: r.outcome, cause: r.cause });
  }
  const statuses = new Set(outcomes.map((o) => o.status));
  if (statuses.size === 1 && !statuses.has(null)) return first.result;
  const deny = outcomes.find((o) => o.status === 403);
  // the trace is the unforced run's, which none of these possibilities is
  const { tracesFirst: _, ...result } = first.result;
  return { ...result, status: null, outcome: 'unknown', cause: deny?.cause ?? first.result.cause, possibleOutcomes: outcomes };
}

export { normalizeUri, aliasPrefix } from './translate.js';
export { simStats } from './state.js';
export type { SimRequest, SimResult, TraceStep, Outcome, PossibleOutcome, DirIndexLookup, IndexCandidate } from './state.js';
