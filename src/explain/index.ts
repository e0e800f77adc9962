/**
 * `why403 explain` as a library: why does this request get 403 (or what does it get instead)?
 *
 *   const set = loadConfig('/etc/nginx/nginx.conf');
 *   const r = parseExplainRequest({ target: '/admin/', ip: '10.0.0.7' });
 *   if (r.ok) console.log(renderText(explain(set, '/etc/nginx/nginx.conf', r.request, { fs: true, pathMap: [] })));
 *
 * See docs/explain.md.
 */
import type { ConfigSet } from '../ast.js';
import { explainApache } from './apache.js';
import type { ExplainOptions } from './common.js';
import { explainNginx } from './nginx.js';
import { withLoadInfo } from './partial.js';
import type { ExplainRequest } from './request.js';
import type { Explanation } from './types.js';

export { parseExplainRequest, isIPv4, isIPv6, type ExplainRequest, type RequestInput } from './request.js';
export { renderJson, renderText } from './render.js';
export { CAUSES, causeTitle } from './causes.js';
export type { ExplainOptions } from './common.js';
export type { Explanation, ExplainStep, PossibleOutcome } from './types.js';

export function explain(set: ConfigSet, configPath: string, req: ExplainRequest, opts: ExplainOptions): Explanation {
  const e = set.server === 'apache' ? explainApache(set, configPath, req, opts) : explainNginx(set, configPath, req, opts);
  // A status given while something that could change it is not known (an .htaccess AllowOverride lets
  // in that was not read, a regex that cannot be evaluated): the verdict says so, not only "Not known:"
  if (e.status !== null && e.unknowns.length && e.verdict) {
    const more = e.unknowns.length > 1 ? `; ${e.unknowns.length - 1} more under "Not known"` : '';
    e.verdict += ` [unless what is not known changes it: ${e.unknowns[0]}${more}]`;
  }
  return withLoadInfo(e, set, opts.cwd ?? process.cwd());
}
