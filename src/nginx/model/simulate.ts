/**
 * A request simulator: what nginx answers to one request, and why, step by step.
 *
 * It runs the phases in nginx's order (ngx_http_init_phase_handlers in src/http/ngx_http.c):
 * server selection → SERVER_REWRITE → FIND_CONFIG → REWRITE → POST_REWRITE → PREACCESS → ACCESS →
 * POST_ACCESS → PRECONTENT (try_files) → CONTENT, with internal redirects (index, try_files' last
 * argument, error_page, rewrite … last, @named) going back to SERVER_REWRITE / FIND_CONFIG (or to
 * REWRITE for named locations) and re-running ACCESS, bounded by nginx's 10 URI changes
 * (NGX_HTTP_MAX_URI_CHANGES, then 500).
 *
 * Whatever the config alone cannot decide (a file on disk without a file system, an auth_request
 * subrequest, credentials, a split_clients bucket) is a choice point: the simulator explores every
 * answer (up to a bound) and reports one status when all agree, else `status: null` with the
 * possibilities and the assumption each rests on. Never throws on bad input.
 *
 * The code is in ./sim/, one file per phase (see ./sim/index.ts); variables are in ./vars.ts.
 */
export * from './sim/index.js';
