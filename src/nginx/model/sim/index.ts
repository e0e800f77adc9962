/**
 * The nginx request simulator, by request phase:
 *
 * - run.ts: the driver (choice points, merging the runs, the deciding step);
 * - server.ts: the request line, server selection, SERVER_REWRITE, FIND_CONFIG, the phase order;
 * - rewrite.ts: the rewrite module (`if`, `return`, `set`, `rewrite`, `break`);
 * - access.ts: realip, PREACCESS (limit_req/limit_conn), ACCESS (allow/deny, auth_basic,
 *   auth_request, satisfy);
 * - content.ts: PRECONTENT (try_files) and CONTENT (handlers, index, autoindex, static files);
 * - errors.ts: error statuses, error_page, internal redirects, named locations;
 * - context.ts: the state of one run and the helpers the phases share;
 * - ../vars.ts: variables and `if` conditions.
 */
export { simulate, decisiveIndex } from './run.js';
export { at, simStats, type Outcome, type OutcomeKind, type SimRequest, type SimResult, type TraceStep } from './types.js';
