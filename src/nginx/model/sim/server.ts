/**
 * From the request line to a location: parsing the URI ($uri: percent-decoding, merge_slashes),
 * server selection, SERVER_REWRITE, FIND_CONFIG (location search, `internal`, limit_except) and the
 * phases run in the location found, in nginx's order (ngx_http_init_phase_handlers): REWRITE,
 * POST_REWRITE, PREACCESS, ACCESS, PRECONTENT, CONTENT.
 */
import { fromBinary, toBinary } from '../regex.js';
import { findLocation } from '../locations.js';
import { selectServer } from '../servers.js';
import { effectiveSettings } from '../settings.js';
import type { Scope } from '../tree.js';
import { scopeLabel } from '../tree.js';
import { normalizeUri } from '../uri.js';
import { access, preaccess, postReadRealIp } from './access.js';
import { content, tryFiles } from './content.js';
import type { ReqState, Sim } from './context.js';
import { error } from './errors.js';
import { finalizeRewriteStop, rewrite } from './rewrite.js';
import type { Outcome } from './types.js';

/** The whole request: parse, select the server, then the phases. */
export function runRequest(sim: Sim): Outcome {
  const method = (sim.req.method ?? 'GET').toUpperCase();
  const def = selectServer(sim.model, { port: sim.req.port, localAddr: sim.req.localAddr }).server;
  const merge = sim.mergeSlashes(def);
  const n = normalizeUri(toBinary(sim.req.uri), merge.on);
  if (!n.ok) {
    if (sim.tracing) sim.step('parse', `400 Bad Request: ${n.reason}`);
    return { status: 400, outcome: 'bad-request', cause: null, when: [] };
  }
  if (sim.tracing && !merge.on && /\/\/|%2f/i.test(sim.req.uri))
    sim.step('parse', 'merge_slashes off (the default server of the address decides): "//" is kept in $uri', merge.directive);
  if (sim.tracing) sim.step('parse', `$uri is "${fromBinary(n.uri)}"${n.args !== null ? `, $args "${n.args}"` : ''}`);
  const host = sim.req.lineHost ?? sim.headers.get('host');
  const choice = selectServer(sim.model, { host, port: sim.req.port, localAddr: sim.req.localAddr });
  if (choice.badHost !== undefined) {
    if (sim.tracing) sim.step('server', `400 Bad Request: invalid Host "${choice.badHost}"`);
    return { status: 400, outcome: 'bad-request', cause: null, when: [] };
  }
  if (choice.unknown) {
    sim.r.unknown.push(choice.unknown);
    if (sim.tracing) sim.step('server', choice.unknown);
    return { status: null, outcome: 'unknown', cause: null, when: [] };
  }
  if (!choice.server) {
    if (sim.tracing) sim.step('server', choice.reason);
    return { status: null, outcome: 'unknown', cause: null, when: [] };
  }
  sim.server = choice.server;
  if (sim.tracing)
    sim.step(
      'server',
      `server #${choice.server.index + 1}: ${choice.reason}`,
      choice.name?.directive ?? choice.listen?.directive ?? choice.server.block,
    );
  const st: ReqState = {
    method,
    uri: n.uri,
    args: n.args,
    rawTarget: sim.req.uri,
    internal: false,
    uriChanges: 11,
    errorPage: false,
    errStatus: -1,
    vars: new Map(),
    captures: choice.captures,
    named: choice.named,
  };
  for (const [k, v] of Object.entries(choice.named)) if (v !== undefined) st.vars.set(k, v);
  postReadRealIp(sim);
  return fromServerRewrite(sim, st, 0);
}

/** Entry of ngx_http_handler for the main request and every internal redirect. */
export function fromServerRewrite(sim: Sim, st: ReqState, depth: number): Outcome {
  const server = sim.server!;
  const rw = rewrite(sim, server, st, 'server-rewrite');
  if (rw.stop) return finalizeRewriteStop(sim, rw.stop, st, server, depth);
  return findConfig(sim, st, depth);
}

export function findConfig(sim: Sim, st: ReqState, depth: number): Outcome {
  const server = sim.server!;
  const m = findLocation(server, st.uri);
  if (sim.tracing)
    for (const c of m.candidates) {
      if (c.result !== 'not-a-prefix' && c.result !== 'exact-mismatch' && c.result !== 'regex-not-tried')
        sim.step('find-location', c.reason, c.location.block);
    }
  if (m.via === 'unknown') {
    sim.r.unknown.push(m.unknown!);
    sim.stop(null, 'unknown');
  }
  if (m.via === 'redirect') {
    sim.location = m.location;
    if (sim.tracing) sim.step('find-location', `301 to "${fromBinary(st.uri)}/"`, m.location?.block ?? null);
    sim.stop(301, 'redirect');
  }
  sim.location = m.location;
  const loc: Scope = m.location ?? server;
  if (m.location) {
    if (sim.tracing) sim.step('find-location', `using ${scopeLabel(m.location)}`, m.location.block);
    st.captures = m.captures;
    st.named = m.named;
    for (const [k, v] of Object.entries(m.named)) if (v !== undefined) st.vars.set(k, v);
  } else if (sim.tracing) sim.step('find-location', 'no location matches: the server-level configuration applies', server.block);
  const internal = effectiveSettings(loc).internal;
  if (!st.internal && internal.value) {
    if (sim.tracing) sim.step('find-location', `404: ${scopeLabel(loc)} is internal and this is an external request`, internal.directive);
    return error(sim, 404, st, loc, depth, 'error');
  }
  return locationPhases(sim, loc, st, depth);
}

/** Apply limit_except (ngx_http_update_location_config). */
function updateLocationConfig(sim: Sim, loc: Scope, st: ReqState): Scope {
  const le = loc.limitExcept;
  if (!le) return loc;
  const listed = le.methods.includes(st.method) || (st.method === 'HEAD' && le.methods.includes('GET'));
  if (listed) {
    if (sim.tracing)
      sim.step('find-location', `${st.method} is listed in limit_except: the location's own configuration applies`, le.block);
    return loc;
  }
  if (sim.tracing)
    sim.step(
      'find-location',
      `${st.method} is not listed in limit_except ${le.methods.join(' ')}: the limit_except block's configuration applies (it has no rewrite directives and no try_files)`,
      le.block,
    );
  return le;
}

/** The phases in a location: REWRITE, POST_REWRITE, PREACCESS, ACCESS, PRECONTENT, CONTENT. */
export function locationPhases(sim: Sim, loc0: Scope, st: ReqState, depth: number): Outcome {
  const loc = updateLocationConfig(sim, loc0, st);
  // REWRITE phase (the limit_except scope has no rewrite code of its own).
  let conf: Scope = loc;
  if (loc.kind !== 'limit_except') {
    const rw = rewrite(sim, loc, st, 'rewrite');
    conf = rw.conf;
    if (rw.stop) return finalizeRewriteStop(sim, rw.stop, st, conf, depth);
    if (rw.last) {
      st.uriChanges--;
      if (st.uriChanges === 0) {
        if (sim.tracing) sim.step('post-rewrite', '500: rewrite or internal redirection cycle (more than 10 URI changes)');
        sim.stop(500, 'error');
      }
      return findConfig(sim, st, depth + 1);
    }
  }
  const s = effectiveSettings(conf);
  preaccess(sim, conf, s);
  const denied = access(sim, conf, s, st, depth);
  if (denied) return error(sim, denied.status, st, conf, depth, 'error', denied.cause);
  if (s.tryFiles) {
    const tf = tryFiles(sim, conf, s, st, depth);
    if (tf) return tf;
  }
  return content(sim, conf, s, st, depth);
}
