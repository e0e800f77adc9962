/**
 * The nginx semantic model: one place that knows what applies where, read by the rules and by
 * `why403 explain`. See docs/model-nginx.md.
 */
import type { ConfigSet } from '../../ast.js';
import { SourceFile } from '../../source.js';
import { parseNginx } from '../parser.js';
import { buildModel, type NginxModel } from './tree.js';

export * from './address.js';
export * from './regex.js';
export * from './uri.js';
export * from './tree.js';
export * from './locations.js';
export * from './servers.js';
export * from './settings.js';
export * from './fs.js';
export * from './simulate.js';

/** Build a model from config text (no includes), e.g. for tests and stdin. */
export function modelFromText(text: string, path = '/etc/nginx/nginx.conf', context?: string): NginxModel {
  const root = parseNginx(new SourceFile(path, text), context ? { context } : {});
  const set: ConfigSet = { server: 'nginx', root, files: new Map([[path, root]]), errors: [] };
  return buildModel(set);
}
