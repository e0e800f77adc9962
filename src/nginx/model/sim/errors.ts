/**
 * How a request ends or goes elsewhere: an error status and error_page (ngx_http_special_response_handler
 * → an internal redirect or a redirect to a URL), a response, internal redirects (index, try_files,
 * error_page) and named locations, bounded by nginx's 10 URI changes (then 500).
 */
import type { CauseId } from '../../../causes.js';
import { findNamed } from '../locations.js';
import { fromBinary } from '../regex.js';
import { effectiveSettings, errorPages } from '../settings.js';
import type { Scope } from '../tree.js';
import { normalizeUri } from '../uri.js';
import type { ReqState, Sim } from './context.js';
import { fromServerRewrite, locationPhases } from './server.js';
import type { Outcome, OutcomeKind } from './types.js';

export function internalRedirect(sim: Sim, target: string, st: ReqState, depth: number): Outcome {
  st.uriChanges--;
  if (st.uriChanges === 0) {
    if (sim.tracing) sim.step('redirect', '500: rewrite or internal redirection cycle');
    sim.stop(500, 'error');
  }
  if (depth > 40) {
    // a guard of the simulator, not nginx's rule (that is uriChanges above): say so, never guess
    sim.r.unknown.push('more than 40 internal redirects: the simulation stops here (not an nginx limit)');
    sim.stop(null, 'unknown');
  }
  const q = target.indexOf('?');
  const n = normalizeUri(q === -1 ? target : target.slice(0, q), sim.mergeSlashes(sim.server).on);
  st.uri = n.ok ? n.uri : target;
  if (q !== -1) st.args = target.slice(q + 1);
  st.internal = true;
  if (sim.tracing) sim.step('redirect', `internal redirect to "${fromBinary(st.uri)}"`);
  return fromServerRewrite(sim, st, depth + 1);
}

export function named(sim: Sim, name: string, st: ReqState, depth: number): Outcome {
  st.uriChanges--;
  if (st.uriChanges === 0) sim.stop(500, 'error');
  const loc = findNamed(sim.server!, name);
  if (!loc) {
    if (sim.tracing) sim.step('redirect', `named location ${name} not found: 500`);
    sim.stop(500, 'error');
  }
  st.internal = true;
  sim.location = loc;
  if (sim.tracing) sim.step('redirect', `named location ${name}`, loc.block);
  return locationPhases(sim, loc, st, depth + 1);
}

/** The request ends with an error status: error_page may turn it into an internal redirect. */
export function error(
  sim: Sim,
  status: number,
  st: ReqState,
  conf: Scope,
  depth: number,
  kind: OutcomeKind,
  cause: CauseId | null = null,
): Outcome {
  if (status === 403 && cause && !st.cause) st.cause = cause;
  const rec = effectiveSettings(conf).recursiveErrorPages.value;
  if (!st.errorPage && st.uriChanges !== 0) {
    const eps = errorPages(conf);
    const page = eps.pages.find((p) => p.codes.includes(status));
    if (page) {
      if (!rec) st.errorPage = true;
      if (page.overwrite >= 0) st.errStatus = page.overwrite;
      else st.errStatus = status;
      const target = sim.expand(page.target, st, 'error-page');
      if (sim.tracing)
        sim.step(
          'error-page',
          `error_page for ${status}${page.overwrite > 0 ? ` (answer ${page.overwrite})` : page.overwrite === 0 ? " (answer with the target's status)" : ''} → "${page.target}"`,
          page.directive,
        );
      if (page.overwrite === 403) st.cause = 'N09';
      if (target === undefined) sim.stop(null, 'unknown');
      if (target.startsWith('/')) {
        if (st.method !== 'HEAD') st.method = 'GET';
        return internalRedirect(sim, target, st, depth);
      }
      if (target.startsWith('@')) return named(sim, target, st, depth);
      const code = [301, 302, 303, 307, 308].includes(page.overwrite) ? page.overwrite : 302;
      return { status: code, outcome: 'redirect', cause: null, when: [] };
    }
  }
  return { status, outcome: kind, cause: status === 403 ? (st.cause ?? cause) : null, when: [] };
}

/** A response is produced with `status`; error_page may have fixed the status earlier. */
export function done(sim: Sim, status: number, outcome: OutcomeKind, st: ReqState, cause: CauseId | null = null): Outcome {
  void sim;
  const final = st.errStatus > 0 ? st.errStatus : status;
  return { status: final, outcome, cause: final === 403 ? (cause ?? st.cause ?? null) : null, when: [] };
}
