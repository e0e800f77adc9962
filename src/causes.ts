/**
 * The 403 catalog: every reason nginx (N01–N25) and Apache httpd 2.4 (A01–A50) answer 403 Forbidden,
 * as ids with a one-line title. docs/403-causes.md has one section per id (anchor `#n01`, `#a01`)
 * with the trigger, the error-log line, the source function and the rules that detect it. The model
 * simulators and `explain` name the cause of a 403 with a `CauseId`, so a typo does not compile.
 */

/** Every catalog id, in catalog order (nginx first). */
export const CAUSE_IDS = [
  'N01',
  'N02',
  'N03',
  'N04',
  'N05',
  'N06',
  'N07',
  'N08',
  'N09',
  'N10',
  'N11',
  'N12',
  'N13',
  'N14',
  'N15',
  'N16',
  'N17',
  'N18',
  'N19',
  'N20',
  'N21',
  'N22',
  'N23',
  'N24',
  'N25',
  'A01',
  'A02',
  'A03',
  'A04',
  'A05',
  'A06',
  'A07',
  'A08',
  'A09',
  'A10',
  'A11',
  'A12',
  'A13',
  'A14',
  'A15',
  'A16',
  'A17',
  'A18',
  'A19',
  'A20',
  'A21',
  'A22',
  'A23',
  'A24',
  'A25',
  'A26',
  'A27',
  'A28',
  'A29',
  'A30',
  'A31',
  'A32',
  'A33',
  'A34',
  'A35',
  'A36',
  'A37',
  'A38',
  'A39',
  'A40',
  'A41',
  'A42',
  'A43',
  'A44',
  'A45',
  'A46',
  'A47',
  'A48',
  'A49',
  'A50',
] as const;

/** A catalog id: `N01`–`N25` (nginx), `A01`–`A50` (Apache httpd 2.4). */
export type CauseId = (typeof CAUSE_IDS)[number];

/**
 * - `always-403`: the configuration alone can force 403 for the requests it matches;
 * - `conditional`: it depends on the request (client address, method, headers, credentials), on load
 *   or on a backend;
 * - `filesystem`: it depends on permissions, ownership or symlinks on disk;
 * - `not-http`: not an HTTP 403 at all (nginx `stream` deny), listed so it is not mistaken for one.
 */
export type CauseSeverity = 'always-403' | 'conditional' | 'filesystem' | 'not-http';

export interface Cause {
  /** One line, lower case, no final period: "an allow/deny rule denies the client address". */
  title: string;
  server: 'nginx' | 'apache';
  severity: CauseSeverity;
}

const n = (title: string, severity: CauseSeverity): Cause => ({ title, server: 'nginx', severity });
const a = (title: string, severity: CauseSeverity): Cause => ({ title, server: 'apache', severity });

export const CAUSES: Readonly<Record<CauseId, Cause>> = {
  N01: n('an allow/deny rule denies the client address', 'always-403'),
  N02: n('limit_except denies this method', 'conditional'),
  N03: n('satisfy any: every access check failed', 'conditional'),
  N04: n('the auth_basic_user_file does not exist', 'conditional'),
  N05: n('the auth_request subrequest answered 403', 'conditional'),
  N06: n('an explicit `return 403`', 'always-403'),
  N07: n('a variable-driven deny (`if` + `return 403`)', 'conditional'),
  N08: n('try_files ends in =403 and no candidate exists', 'conditional'),
  N09: n('error_page turns another status into 403', 'conditional'),
  N10: n('the worker cannot open the file (permissions on the file or an ancestor directory)', 'filesystem'),
  N11: n('disable_symlinks refuses a symlink', 'filesystem'),
  N12: n('directory index forbidden: no index file and autoindex off', 'conditional'),
  N13: n('the directory is not searchable while testing the index file', 'filesystem'),
  N14: n('an index file or its directory is a symlink under disable_symlinks', 'filesystem'),
  N15: n('autoindex cannot read the directory', 'filesystem'),
  N16: n('random_index cannot read the directory', 'filesystem'),
  N17: n('flv/mp4 file cannot be opened', 'filesystem'),
  N18: n('a WebDAV file operation is denied by the file system', 'filesystem'),
  N19: n('WebDAV COPY/MOVE onto itself', 'conditional'),
  N20: n('limit_req/limit_conn set to answer 403', 'conditional'),
  N21: n('the backend answered 403 and nginx passed it on', 'conditional'),
  N22: n('proxy_next_upstream on 403 exhausted', 'conditional'),
  N23: n('dav-ext PROPFIND with Depth: infinity', 'conditional'),
  N24: n('a scripted 403 in a dynamic module', 'conditional'),
  N25: n('stream deny (not HTTP)', 'not-http'),
  A01: a('authz_core denies the client (the Require tree is not satisfied)', 'always-403'),
  A02: a('authorization failed after authentication, with AuthzSendForbiddenOnFailure On', 'conditional'),
  A03: a('authorization failed after authentication without an AuthType', 'conditional'),
  A04: a('mod_access_compat Order/Allow/Deny denies the client', 'always-403'),
  A05: a('old (Order/Allow) and new (Require) access control mixed: both must pass', 'always-403'),
  A06: a('the default `<Directory />` denial: the path is not granted by any section', 'always-403'),
  A07: a('.ht* files are denied', 'always-403'),
  A08: a('a module configuration limits the path (server-status, userdir…)', 'conditional'),
  A09: a('`Require host` cannot resolve the client', 'conditional'),
  A10: a('a method-limited Require (`<Limit>`/`<LimitExcept>`) denies this method', 'conditional'),
  A11: a('a symlink is not allowed by Options, or its target is not accessible', 'filesystem'),
  A12: a('a directory on the path lacks search permission for the worker', 'filesystem'),
  A13: a('lstat failed on the path', 'filesystem'),
  A14: a('stat failed in the cached directory walk', 'filesystem'),
  A15: a('the path is a special file', 'filesystem'),
  A16: a('an .htaccess file on the path cannot be read', 'filesystem'),
  A17: a('the worker cannot read the file', 'filesystem'),
  A18: a('directory listing forbidden by Options (no Indexes, no DirectoryIndex file)', 'conditional'),
  A19: a('mod_autoindex cannot read the directory', 'filesystem'),
  A20: a('the DirectoryIndex file is itself forbidden', 'conditional'),
  A21: a('the URI cannot be mapped to a file', 'conditional'),
  A22: a('a proxy request nobody translated', 'conditional'),
  A23: a('RewriteRule [F]', 'always-403'),
  A24: a('RewriteRule [R=403]', 'always-403'),
  A25: a('per-directory RewriteEngine without FollowSymLinks or SymLinksIfOwnerMatch', 'always-403'),
  A26: a('RewriteRule [P] without mod_proxy', 'always-403'),
  A27: a('the rewritten query holds control characters or spaces', 'conditional'),
  A28: a('a `?` reintroduced through a decoded back-reference', 'conditional'),
  A29: a('mod_alias `Redirect 403`', 'always-403'),
  A30: a('a CGI script outside ScriptAlias without Options ExecCGI', 'always-403'),
  A31: a('the CGI handler is mapped onto a directory', 'conditional'),
  A32: a('an NPH CGI included through SSI', 'conditional'),
  A33: a('an .asis file cannot be read', 'filesystem'),
  A34: a('a CERN meta file cannot be read', 'filesystem'),
  A35: a('a type map cannot be read', 'filesystem'),
  A36: a('MultiViews cannot read the directory', 'filesystem'),
  A37: a('SSLRequireSSL over plain HTTP', 'conditional'),
  A38: a('SSLRequire is false', 'conditional'),
  A39: a('strict SNI: the client sent no SNI', 'conditional'),
  A40: a('per-directory TLS renegotiation failed', 'conditional'),
  A41: a('a FakeBasicAuth spoof', 'conditional'),
  A42: a('SSLOptions +StrictRequire re-forbids', 'conditional'),
  A43: a('forward proxy denied', 'conditional'),
  A44: a('ProxyBlock or AllowCONNECT', 'conditional'),
  A45: a('the forwarded path holds control characters', 'conditional'),
  A46: a('the backend answered 403 and httpd passed it on', 'conditional'),
  A47: a('an external or scripted authorizer denied', 'conditional'),
  A48: a('DAV PROPFIND with Depth: infinity', 'conditional'),
  A49: a('a DAV COPY/MOVE rule or file-system error', 'conditional'),
  A50: a('a file subrequest path merge failed', 'conditional'),
};

/** The catalog on the web (rule docs link rows as `${CATALOG_URL}#n01`: the links also work in SARIF help). */
export const CATALOG_URL = 'https://github.com/why403/why403/blob/main/docs/403-causes.md';

/** Where a catalog row is documented, relative to the package root: `docs/403-causes.md#n01`. */
export function causeDocPath(id: CauseId): string {
  return `docs/403-causes.md#${id.toLowerCase()}`;
}

/** The row on the web: `${CATALOG_URL}#n01`. */
export function causeDocUrl(id: CauseId): string {
  return `${CATALOG_URL}#${id.toLowerCase()}`;
}

export function isCauseId(s: string): s is CauseId {
  return Object.prototype.hasOwnProperty.call(CAUSES, s);
}

/** The title of a catalog row; null for no id (or, from untyped input such as JSON, an unknown one). */
export function causeTitle(id: CauseId): string;
export function causeTitle(id: string | null | undefined): string | null;
export function causeTitle(id: string | null | undefined): string | null {
  return id && isCauseId(id) ? CAUSES[id].title : null;
}
