import type { PathMapping, ServerKind } from './ast.js';

export interface LoadOptions {
  /** Force the server kind instead of detecting it. */
  server?: ServerKind;
  /** Context of the entry file's top level (nginx: main/http/server/location/…; Apache: server/directory/htaccess). */
  context?: string;
  /** Installed path prefixes mapped to where the files are checked out. Longest `from` wins. */
  pathMap?: PathMapping[];
  /** nginx prefix (`nginx -p`); relative include paths resolve against the main config's directory. */
  prefix?: string;
  /** Apache ServerRoot, when the config does not say (default: Debian's /etc/apache2). */
  serverRoot?: string;
  /** Apache `-D`/Define variables known in advance. */
  defines?: Record<string, string>;
  /** Text to use for the entry file instead of reading it (stdin). */
  text?: string;
  /** nginx: extra directive names (third-party modules) that are not `unknown directive` errors. */
  nginxDirectives?: string[];
  /** Apache: extra directive names (third-party modules) that are not `Invalid command` errors. */
  apacheDirectives?: string[];
  /** Apache: the modules assumed loaded (`settings.apacheModules`), for `<IfModule>` tests. */
  apacheModules?: string[];
}

/** Apply the longest matching path mapping to an absolute path. */
export function mapPath(path: string, map: PathMapping[] | undefined): string {
  if (!map || map.length === 0) return path;
  let best: PathMapping | null = null;
  for (const m of map) {
    const from = m.from.replace(/\/+$/, '');
    if (path === from || path.startsWith(from + '/')) {
      if (!best || from.length > best.from.replace(/\/+$/, '').length) best = m;
    }
  }
  if (!best) return path;
  const from = best.from.replace(/\/+$/, '');
  return best.to.replace(/\/+$/, '') + path.slice(from.length);
}
