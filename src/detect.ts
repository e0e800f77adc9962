/**
 * Which server a config file is for: nginx or Apache httpd (.htaccess included).
 *
 * Order of evidence: (1) the file name when it can only belong to one server (`.htaccess`,
 * `httpd.conf`, `apache2.conf`, `nginx.conf`, `fastcgi_params`, …); (2) the content when it is
 * decisive (Apache `<Section>` tags and known directives on lines without `;` against nginx lines
 * ending in `;`, `{` or `}`), from the first 8 KiB only; (3) the place: the nearest folder that names
 * a server (`apache2/`, `httpd/`, `mods-enabled/`, `conf-available/`, `conf.modules.d/` against
 * `nginx/`, `snippets/`, `modules-enabled/`); (4) a weaker content lean. Null when nothing tells.
 */
import { basename, resolve, sep } from 'node:path';
import type { ServerKind } from './ast.js';
import { apacheDirective } from './apache/directives.js';

/** Bytes of content looked at. */
export const DETECT_HEAD_BYTES = 8192;

const APACHE_NAMES = new Set([
  '.htaccess',
  'htaccess',
  'htaccess.txt',
  'httpd.conf',
  'apache2.conf',
  'apache.conf',
  'httpd-vhosts.conf',
  'httpd-ssl.conf',
  'ports.conf',
  'envvars',
]);
const NGINX_NAMES = new Set([
  'nginx.conf',
  'fastcgi_params',
  'fastcgi.conf',
  'scgi_params',
  'uwsgi_params',
  'proxy_params',
  'koi-utf',
  'koi-win',
  'win-utf',
  'nginx.default.conf',
]);

/** By file name alone. */
export function detectByName(path: string): ServerKind | null {
  const b = basename(path).toLowerCase();
  if (APACHE_NAMES.has(b)) return 'apache';
  if (NGINX_NAMES.has(b)) return 'nginx';
  if (
    b.endsWith('.htaccess') ||
    b.startsWith('.htaccess') ||
    b.endsWith('.apache.conf') ||
    b.endsWith('.apache2.conf') ||
    b.endsWith('.apache')
  ) {
    return 'apache';
  }
  if (b.endsWith('.nginx.conf') || b.endsWith('.nginx') || b.endsWith('.nginxconf')) return 'nginx';
  if (b.endsWith('.load') && !b.includes('nginx')) return 'apache'; // Debian mods-available/*.load
  return null;
}

const APACHE_DIRS = new Set([
  'apache',
  'apache2',
  'httpd',
  'apache24',
  'httpd24',
  'mods-available',
  'mods-enabled',
  'conf-available',
  'conf-enabled',
  'conf.modules.d',
]);
const NGINX_DIRS = new Set(['nginx', 'snippets', 'modules-available', 'modules-enabled', 'nginx-conf', 'nginx.d']);

/** By the nearest folder that names a server. */
export function detectByPlace(path: string): ServerKind | null {
  const parts = resolve(path).split(sep);
  for (let i = parts.length - 2; i >= 0; i--) {
    const c = parts[i].toLowerCase();
    if (APACHE_DIRS.has(c) || c.startsWith('apache2-') || c.startsWith('httpd-')) return 'apache';
    if (NGINX_DIRS.has(c) || c.startsWith('nginx-') || c.startsWith('nginx_')) return 'nginx';
  }
  return null;
}

export interface ContentScore {
  apache: number;
  nginx: number;
}

/** Points for each server from the first DETECT_HEAD_BYTES characters. */
export function scoreContent(text: string): ContentScore {
  const head = text.length > DETECT_HEAD_BYTES ? text.slice(0, DETECT_HEAD_BYTES) : text;
  let apache = 0;
  let nginx = 0;
  let start = 0;
  while (start < head.length) {
    let end = head.indexOf('\n', start);
    if (end === -1) end = head.length;
    const line = head.slice(start, end).trim();
    start = end + 1;
    if (line === '' || line[0] === '#') continue;
    const last = line[line.length - 1];
    if (last === ';') {
      nginx += 1;
      continue;
    }
    if (last === '{') {
      nginx += 2;
      continue;
    }
    if (line === '}' || (last === '}' && !line.includes('${') && !line.includes('%{'))) {
      nginx += 1;
      continue;
    }
    if (line[0] === '<') {
      const m = /^<\/?([A-Za-z][\w.:-]*)/.exec(line);
      if (m && last === '>') {
        apache += apacheDirective('<' + m[1].toLowerCase()) ? 3 : 1;
        continue;
      }
    }
    const w = /^([A-Za-z_][\w.-]*)(\s*=)?/.exec(line);
    // `name = value` is INI / Config::General, not httpd
    if (w && w[2] === undefined && apacheDirective(w[1].toLowerCase())) apache += 1;
  }
  return { apache, nginx };
}

/** By content when decisive: one side has points and at least twice the other's. */
export function detectByContent(text: string, decisive = true): ServerKind | null {
  const { apache, nginx } = scoreContent(text);
  const min = decisive ? 2 : 1;
  if (apache >= min && apache > 2 * nginx) return 'apache';
  if (nginx >= min && nginx > 2 * apache) return 'nginx';
  if (!decisive) {
    if (apache > nginx) return 'apache';
    if (nginx > apache) return 'nginx';
  }
  return null;
}

/** Which server `path` (with optional content) is for; null when it cannot tell. */
export function detectServer(path: string, text?: string): ServerKind | null {
  const byName = detectByName(path);
  if (byName) return byName;
  if (text !== undefined) {
    const c = detectByContent(text);
    if (c) return c;
  }
  const byPlace = detectByPlace(path);
  if (byPlace) return byPlace;
  return text !== undefined ? detectByContent(text, false) : null;
}
