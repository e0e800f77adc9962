/**
 * Inputs of the seeded fuzz test (test/fuzz.test.ts): each input is a pure function of
 * (server, seed, index, seed texts), so any failing input is reproduced from those numbers alone.
 *
 * Two families:
 *  - mutations of real texts (fixtures/**, ../shared/corpus): byte flips, token deletions and
 *    duplications, brace/quote/section imbalance, nesting bursts, long lines, odd characters (NUL, CR,
 *    BOM, lone surrogates = invalid UTF-8 as SourceFile keeps it), huge numbers, regex metacharacters,
 *    directive name typos, injected access snippets and suppression comments;
 *  - structural generators: configs that look valid, built from the directive tables
 *    (src/nginx/directives.ts, src/apache/directives.ts) around the access directives.
 *
 * Regexes stay mild on purpose: catastrophic backtracking is another test's business.
 */
import { mulberry32 } from '../../bench/prng.js';
import type { ServerKind } from '../../src/ast.js';
import { apacheDirectives, type ApacheDirectiveInfo } from '../../src/apache/directives.js';
import {
  CTX,
  directiveTable,
  NGX_CONF_1MORE,
  NGX_CONF_2MORE,
  NGX_CONF_ANY,
  NGX_CONF_BLOCK,
  NGX_CONF_FLAG,
  type NginxContext,
} from '../../src/nginx/directives.js';

export interface SeedText {
  /** Where it came from (fixtures/… or corpus/…), for reports. */
  origin: string;
  server: ServerKind;
  /** Base name the input is loaded under (nginx.conf, .htaccess, …: the loaders infer context from it). */
  name: string;
  text: string;
}

export interface FuzzRequest {
  target: string;
  method: string;
  ip?: string;
  headers: string[];
  user?: string;
  /** Explain with the file system (mapped into the sandbox). */
  fs?: boolean;
}

export interface FuzzInput {
  server: ServerKind;
  index: number;
  /** What made it: `mutate(<origin>): op,op…` or `gen-nginx` / `gen-apache`. */
  kind: string;
  /** File name to load it under. */
  name: string;
  /** LoadOptions.context, when not the one the loader infers. */
  context?: string;
  text: string;
  /** Raw invalid-UTF-8 bytes to splice into the encoded text (offset in the UTF-8 bytes → bytes):
   * the input is then written to a file and read by the loader, as bytes. */
  rawBytes?: Array<[number, number[]]>;
  requests: FuzzRequest[];
}

export type Rng = () => number;

/** One PRNG per input: a hash of seed and index (inputs do not depend on each other). */
export function inputRng(seed: number, index: number, server: ServerKind): Rng {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ index, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13) ^ (server === 'apache' ? 0x5bd1e995 : 0x1b873593), 0xc2b2ae35) >>> 0;
  return mulberry32(h ^ (h >>> 16));
}

const int = (r: Rng, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rng, a: readonly T[]): T => a[int(r, a.length)];
const chance = (r: Rng, p: number): boolean => r() < p;

// ---------------------------------------------------------------------------------------------
// Pieces

const ODD = [
  '\0',
  '\r',
  '\r\n',
  '\uFEFF',
  '\uDC80',
  '\uDCFF',
  '\uD800',
  '\u2028',
  '\v',
  '\f',
  '\t',
  '\u00A0',
  '\uFFFD',
  'é',
  '\u{1F600}',
  '\x1b',
];
const SPECIAL = ['{', '}', ';', '"', "'", '\\', '#', '$', '<', '>', '/', '\n', ' ', '(', ')', '%', '*', '~', '=', '@', '!'];
const HUGE = [
  '99999999999999999999999',
  '18446744073709551616',
  '4294967296',
  '2147483648',
  '-1',
  '-0',
  '0',
  '1e400',
  '0x7fffffff',
  'NaN',
  '9'.repeat(400),
  '999999999999g',
  '1.5',
  '00000000403',
];
/** Mild: broken syntax, classes, groups, big-but-bounded counts; no nested quantifiers. */
const PATTERNS = [
  '(',
  ')',
  '[',
  '[a-',
  '\\',
  '*',
  '+?',
  '?',
  '(?<n>x)',
  '(?P<n>y)',
  '(?i)',
  '(?i:ADMIN)',
  '\\Q.git\\E',
  'a{2,3}',
  'a{1000}',
  '^$',
  '.*',
  '^/(?!public)',
  '\\d+\\.\\w+$',
  '[[:alpha:]]+',
  '\\1',
  '(a|b)c',
  '$',
  '%{HTTP_HOST}',
  '\\x{1F600}',
  '\\.(htaccess|htpasswd|git)',
  '^/admin/(.*)$',
  '[^/]+/?$',
  '\\bfoo\\B',
  '\\p{L}',
  '(*UTF8)x',
  '|',
  '^~',
  '.+\\.php$',
];
const PATHS = [
  '/',
  '/admin/',
  '/private',
  '/.git/config',
  '/.htaccess',
  '/index.php',
  '/a b',
  '/~user/',
  '/%2e%2e/',
  '/x/../y',
  '//',
  '/é',
  '/' + 'z'.repeat(300),
];
const IPS = [
  '127.0.0.1',
  '10.0.0.7',
  '192.168.1.1',
  '::1',
  '2001:db8::1',
  '0.0.0.0',
  '255.255.255.255',
  '127.0.0.0/8',
  '10.0.0.0/33',
  'all',
  'unix:',
  'localhost',
  '::ffff:1.2.3.4',
  '300.1.1.1',
];
/** Include targets: files and globs the sandbox has (test/harness/fuzz-run.ts), and odd globs. */
const ODD_GLOBS = ['[a-z]*.conf', '[!a]*', '[z-a].conf', '[', '[]]', '[\\]', '*', '**', '?.conf', '.*', '{a,b}.conf'];
const GLOBS = {
  nginx: [
    'conf.d/*.conf',
    'mime.types',
    'snippets/s.conf',
    '/etc/nginx/conf.d/a.conf',
    'missing.conf',
    ...ODD_GLOBS.map((g) => 'conf.d/' + g),
  ],
  apache: [
    'conf-enabled/*.conf',
    'mods-enabled/*.load',
    '/etc/apache2/conf-enabled/a.conf',
    'missing.conf',
    ...ODD_GLOBS.map((g) => 'conf-enabled/' + g),
  ],
};
const NAMES = ['example.test', 'www.example.test', '*.example.test', '~^www\\.(?<sub>.+)$', '_', '""', 'localhost', 'ä.test'];

// ---------------------------------------------------------------------------------------------
// Structural generators

let nginxByCtx: Map<NginxContext, Array<[string, number]>> | null = null;
/** The table's directives allowed in each context, with their type bits. */
function nginxDirectivesIn(ctx: NginxContext): Array<[string, number]> {
  if (!nginxByCtx) {
    nginxByCtx = new Map();
    for (const c of Object.keys(CTX) as NginxContext[]) nginxByCtx.set(c, []);
    for (const [name, specs] of directiveTable()) {
      for (const c of Object.keys(CTX) as NginxContext[]) {
        const s = specs.find((v) => v.context & CTX[c]);
        if (s && !(s.type & NGX_CONF_BLOCK)) nginxByCtx.get(c)!.push([name, s.type]);
      }
    }
  }
  return nginxByCtx.get(ctx) ?? [];
}

function argWord(r: Rng): string {
  switch (int(r, 12)) {
    case 0:
      return pick(r, HUGE);
    case 1:
      return pick(r, PATHS);
    case 2:
      return pick(r, IPS);
    case 3:
      return pick(r, ['on', 'off', 'all', 'none', 'any', 'default', 'granted', 'denied']);
    case 4:
      return `"${pick(r, ['a b', '', '$uri', '${x}', '\\"', 'Restricted'])}"`;
    case 5:
      return pick(r, ['$uri', '$remote_addr', '$http_referer', '$1', '$host$request_uri', '${unknown_var}', '$']);
    case 6:
      return pick(r, ['10m', '1k', '30s', '1h', '0']);
    default:
      return pick(r, ['x', 'main', 'zone=one:10m', 'index.html', '/srv/www', '@fallback', 'http://127.0.0.1:8080', '=404', '403']);
  }
}

/** Arguments for nginx type bits (sometimes the wrong count on purpose). */
function nginxArgs(r: Rng, type: number): string[] {
  let n: number;
  if (chance(r, 0.1)) n = int(r, 5);
  else if (type & NGX_CONF_FLAG) return [pick(r, ['on', 'off'])];
  else if (type & NGX_CONF_ANY) n = int(r, 4);
  else if (type & NGX_CONF_1MORE) n = 1 + int(r, 3);
  else if (type & NGX_CONF_2MORE) n = 2 + int(r, 2);
  else {
    const ok = [0, 1, 2, 3, 4, 5, 6, 7].filter((k) => type & (1 << k));
    n = ok.length ? pick(r, ok) : 0;
  }
  return Array.from({ length: n }, () => argWord(r));
}

function nginxAccessLine(r: Rng, ctx: NginxContext): string {
  switch (int(r, 16)) {
    case 0:
    case 1:
      return `allow ${pick(r, IPS)};`;
    case 2:
    case 3:
      return `deny ${pick(r, IPS)};`;
    case 4:
      return `satisfy ${pick(r, ['any', 'all', 'some'])};`;
    case 5:
      return `auth_basic ${pick(r, ['"Restricted"', 'off', '$x'])};`;
    case 6:
      return `auth_basic_user_file ${pick(r, ['/etc/nginx/.htpasswd', 'htpasswd', '/nonexistent'])};`;
    case 7:
      return `return ${pick(r, ['403', '404', '301 /x', '200 "ok"', '444', '999', ...HUGE.slice(0, 4)])};`;
    case 8:
      return `root ${pick(r, ['/srv/www', 'html', '/', '$document_root'])};`;
    case 9:
      return `alias ${pick(r, ['/srv/a/', '/srv/b'])};`;
    case 10:
      return `index ${pick(r, ['index.html', 'index.php index.html', '$x'])};`;
    case 11:
      return `autoindex ${pick(r, ['on', 'off'])};`;
    case 12:
      return `try_files ${pick(r, ['$uri $uri/ =404', '$uri /index.php?$args', '$uri @fb', '=403'])};`;
    case 13:
      return `error_page ${pick(r, ['403 /403.html', '403 =200 /x', '404 = @fb', '500 502 /e'])};`;
    case 14:
      return `valid_referers ${pick(r, ['none blocked example.test', 'server_names ~\\.test'])};`;
    default:
      return ctx === 'location'
        ? `limit_except ${pick(r, ['GET', 'GET POST', 'PROPFIND'])} { ${pick(r, ['deny all;', 'allow 127.0.0.1; deny all;'])} }`
        : 'deny all;';
  }
}

/** Generated configs stay small (lines): a few dozen lines reach every construct. */
const GEN_LINES = 60;

function nginxBody(r: Rng, ctx: NginxContext, depth: number, out: string[], ind: string): void {
  const n = 1 + int(r, depth > 3 ? 3 : 6);
  for (let i = 0; i < n && out.length < GEN_LINES; i++) {
    const k = int(r, 10);
    if (ctx === 'main' && i === 0) out.push(`${ind}events { worker_connections 16; }`);
    if (chance(r, 0.05)) out.push(`${ind}include ${pick(r, GLOBS.nginx)};`);
    if (k < 4 && (ctx === 'server' || ctx === 'location' || ctx === 'http' || ctx === 'location-if' || ctx === 'server-if')) {
      out.push(ind + nginxAccessLine(r, ctx));
    } else if (k < 7 && depth < 6) {
      const blocks: Array<[string, NginxContext]> =
        ctx === 'main'
          ? [['http', 'http']]
          : ctx === 'http'
            ? [
                ['server', 'server'],
                ['server', 'server'],
              ]
            : ctx === 'server' || ctx === 'location'
              ? [
                  [
                    `location ${pick(r, ['', '= ', '^~ ', '~ ', '~* '])}${pick(r, [...PATHS.slice(0, 6), ...PATTERNS.slice(14, 20)])}`,
                    'location',
                  ],
                  [`location @${pick(r, ['fb', 'x'])}`, 'location'],
                  [
                    `if (${pick(r, ['$request_method = POST', '$uri ~* \\.php$', '-f $request_filename', '$http_x !~ (a|b)', '$invalid_referer'])})`,
                    ctx === 'server' ? 'server-if' : 'location-if',
                  ],
                ]
              : [];
      if (!blocks.length) continue;
      const [head, child] = pick(r, blocks);
      out.push(`${ind}${head} {`);
      if (child === 'server') {
        out.push(`${ind}  listen ${pick(r, ['80', '127.0.0.1:8080', '[::]:80 default_server', '443 ssl', '99999'])};`);
        out.push(`${ind}  server_name ${pick(r, NAMES)};`);
      }
      nginxBody(r, child, depth + 1, out, ind + '  ');
      out.push(`${ind}}`);
    } else {
      const list = nginxDirectivesIn(ctx);
      if (!list.length) continue;
      const [name, type] = pick(r, list);
      out.push(`${ind}${[name, ...nginxArgs(r, type)].join(' ')};`);
    }
  }
}

export function generateNginx(r: Rng): string {
  const out: string[] = [];
  const start = pick(r, ['main', 'main', 'http', 'server', 'location'] as NginxContext[]);
  nginxBody(r, start, 0, out, '');
  return out.join('\n') + '\n';
}

let apacheList: { all: ApacheDirectiveInfo[]; dir: ApacheDirectiveInfo[]; ht: ApacheDirectiveInfo[] } | null = null;
function apacheTable(): NonNullable<typeof apacheList> {
  if (!apacheList) {
    const all = apacheDirectives().filter((d) => !d.name.startsWith('<'));
    apacheList = {
      all,
      dir: all.filter((d) => d.context !== 'S'),
      ht: all.filter((d) => d.context === 'H' || d.context === 'h' || d.context === 'd'),
    };
  }
  return apacheList;
}

function apacheAccessLine(r: Rng): string {
  switch (int(r, 20)) {
    case 0:
    case 1:
      return `Require ${pick(r, ['all granted', 'all denied', 'valid-user', 'user bob', 'group admin', 'local', 'method GET', 'expr %{REMOTE_ADDR} == "127.0.0.1"', 'env X'])}`;
    case 2:
      return `Require ${pick(r, ['', 'not '])}${pick(r, ['ip', 'host', 'forward-dns'])} ${pick(r, IPS)}`;
    case 3:
      return `Order ${pick(r, ['allow,deny', 'deny,allow', 'Allow,Deny', 'mutual-failure', 'bogus'])}`;
    case 4:
      return `Allow from ${pick(r, IPS)}`;
    case 5:
      return `Deny from ${pick(r, IPS)}`;
    case 6:
      return `Satisfy ${pick(r, ['Any', 'All', 'none'])}`;
    case 7:
      return `AuthType ${pick(r, ['Basic', 'Digest', 'None', 'form'])}`;
    case 8:
      return `AuthName "${pick(r, ['Restricted', '', 'a"b'])}"`;
    case 9:
      return `AuthUserFile ${pick(r, ['/etc/apache2/.htpasswd', 'htpasswd', '/nonexistent'])}`;
    case 10:
      return `Options ${pick(r, ['-Indexes', '+Indexes', 'FollowSymLinks', '-FollowSymLinks +SymLinksIfOwnerMatch', 'None', 'All', '+ExecCGI Indexes'])}`;
    case 11:
      return `AllowOverride ${pick(r, ['None', 'All', 'AuthConfig Limit', 'Options=Indexes', 'Nonfatal=All'])}`;
    case 12:
      return `DirectoryIndex ${pick(r, ['index.html', 'disabled', 'index.php index.html'])}`;
    case 13:
      return `RewriteEngine ${pick(r, ['on', 'off'])}`;
    case 14:
      return `RewriteRule ${pick(r, PATTERNS)} ${pick(r, ['-', '/x', 'http://127.0.0.1/'])} ${pick(r, ['[F]', '[F,L]', '[R=403]', '[L]', '[G]', '[NC,F]', ''])}`;
    case 15:
      return `RewriteCond ${pick(r, ['%{REMOTE_ADDR}', '%{HTTP_HOST}', '%{REQUEST_FILENAME}'])} ${pick(r, ['!-f', '^10\\.', PATTERNS[int(r, PATTERNS.length)]])}`;
    case 16:
      return `ErrorDocument ${pick(r, ['403 /403.html', '403 "Denied', '404 http://127.0.0.1/', '99999999 /x'])}`;
    case 17:
      return `AuthMerging ${pick(r, ['Off', 'And', 'Or'])}`;
    case 18:
      return `SSLRequireSSL`;
    default:
      return `AuthBasicProvider ${pick(r, ['file', 'dbm'])}`;
  }
}

function apacheArgs(r: Rng): string {
  return Array.from({ length: int(r, 4) }, () => argWord(r)).join(' ');
}

type ApacheCtx = 'server' | 'vhost' | 'dir' | 'htaccess';

function apacheBody(r: Rng, ctx: ApacheCtx, depth: number, out: string[], ind: string): void {
  const n = 1 + int(r, depth > 3 ? 3 : 6);
  for (let i = 0; i < n && out.length < GEN_LINES; i++) {
    const k = int(r, 10);
    if (k < 4 && ctx !== 'server') out.push(ind + apacheAccessLine(r));
    else if (k < 7 && depth < 6) {
      let head: string;
      let close: string;
      let child: ApacheCtx = ctx === 'server' || ctx === 'vhost' ? 'dir' : ctx;
      const kind = int(r, ctx === 'server' ? 12 : 10);
      if (kind >= 10) {
        head = `<VirtualHost ${pick(r, ['*:80', '127.0.0.1:8080', '_default_:443', '[::1]:80', '*'])}>`;
        close = '</VirtualHost>';
        child = 'vhost';
      } else if (ctx === 'htaccess' || ctx === 'dir') {
        const secs: Array<[string, string]> = [
          [`<Files "${pick(r, ['.ht*', 'x.php', '*', ''])}">`, '</Files>'],
          [`<FilesMatch "${pick(r, PATTERNS)}">`, '</FilesMatch>'],
          [
            `<If "${pick(r, ["%{REMOTE_ADDR} == '127.0.0.1'", "-R '10.0.0.0/8'", 'true', '%{HTTP_HOST} =~ /x/', '( unbalanced'])}">`,
            '</If>',
          ],
          ['<Else>', '</Else>'],
          [`<Limit ${pick(r, ['GET', 'POST PUT', 'PROPFIND', ''])}>`, '</Limit>'],
          [`<LimitExcept ${pick(r, ['GET', 'GET POST'])}>`, '</LimitExcept>'],
          ['<RequireAll>', '</RequireAll>'],
          ['<RequireAny>', '</RequireAny>'],
          ['<RequireNone>', '</RequireNone>'],
          [`<IfModule ${pick(r, ['mod_rewrite.c', '!mod_authz_core.c', 'authz_host_module'])}>`, '</IfModule>'],
        ];
        [head, close] = pick(r, secs);
      } else {
        const secs: Array<[string, string]> = [
          [`<Directory ${pick(r, ['/', '/srv/www', '"/var/www/html"', '~ "^/srv/(a|b)"', '/srv/*/pub'])}>`, '</Directory>'],
          [`<DirectoryMatch "${pick(r, PATTERNS)}">`, '</DirectoryMatch>'],
          [`<Location ${pick(r, PATHS.slice(0, 6))}>`, '</Location>'],
          [`<LocationMatch "${pick(r, PATTERNS)}">`, '</LocationMatch>'],
          [`<Files "${pick(r, ['.ht*', 'x.php', '*'])}">`, '</Files>'],
          [`<FilesMatch "${pick(r, PATTERNS)}">`, '</FilesMatch>'],
          [`<If "${pick(r, ['%{REQUEST_URI} =~ m#^/a#', 'false'])}">`, '</If>'],
          [`<IfModule ${pick(r, ['mod_rewrite.c', '!mod_authz_core.c'])}>`, '</IfModule>'],
          [`<IfDefine ${pick(r, ['X', '!X'])}>`, '</IfDefine>'],
          [`<Proxy ${pick(r, ['*', 'http://127.0.0.1/'])}>`, '</Proxy>'],
        ];
        [head, close] = pick(r, secs);
        if (head.startsWith('<IfModule') || head.startsWith('<IfDefine')) child = ctx;
      }
      out.push(ind + head);
      if (child === 'vhost') {
        out.push(`${ind}  ServerName ${pick(r, NAMES)}`);
        out.push(`${ind}  DocumentRoot ${pick(r, ['/srv/www', 'htdocs', '"/var/www/html"', '/'])}`);
      }
      apacheBody(r, child, depth + 1, out, ind + '  ');
      out.push(ind + close);
    } else {
      const t = apacheTable();
      const d = pick(r, ctx === 'htaccess' ? t.ht : ctx === 'dir' ? t.dir : t.all);
      out.push(`${ind}${d.name} ${apacheArgs(r)}`.trimEnd());
    }
  }
}

export function generateApache(r: Rng, htaccess: boolean): string {
  const out: string[] = [];
  if (!htaccess) {
    if (chance(r, 0.5)) out.push(`ServerRoot ${pick(r, ['/etc/apache2', '"/srv/x"', 'relative'])}`);
    if (chance(r, 0.5)) out.push(`Listen ${pick(r, ['80', '127.0.0.1:8080', '99999', '[::1]:80'])}`);
    if (chance(r, 0.3)) out.push(`Define ${pick(r, ['X', 'Y 1', 'Z "${X}"'])}`);
    if (chance(r, 0.3)) out.push(`${pick(r, ['Include', 'IncludeOptional'])} ${pick(r, GLOBS.apache)}`);
  }
  apacheBody(r, htaccess ? 'htaccess' : pick(r, ['server', 'server', 'vhost', 'dir'] as ApacheCtx[]), 0, out, '');
  return out.join(chance(r, 0.1) ? '\r\n' : '\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Mutations

function typo(r: Rng, w: string): string {
  if (w.length < 2) return w + w;
  const i = int(r, w.length);
  switch (int(r, 5)) {
    case 0:
      return w.slice(0, i) + w.slice(i + 1);
    case 1:
      return w.slice(0, i) + w[i] + w.slice(i);
    case 2:
      return i + 1 < w.length ? w.slice(0, i) + w[i + 1] + w[i] + w.slice(i + 2) : w.toUpperCase();
    case 3:
      return w.toUpperCase();
    default:
      return w.slice(0, i) + pick(r, ['_', '-', 'x', '.', '1']) + w.slice(i + 1);
  }
}

/** Offsets of token starts (a token: a run of non-space, non-special characters, or one special). */
function tokens(text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const re = /[^\s{};"'<>]+|[{};"'<>]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) && out.length < 4000) out.push([m.index, m.index + m[0].length]);
  return out;
}

function nest(r: Rng, server: ServerKind, depth: number): string {
  const unbalanced = chance(r, 0.3);
  const closes = unbalanced ? Math.max(0, depth - 1 - int(r, 3)) : depth;
  if (server === 'nginx') {
    const open = pick(r, ['location /a {', 'location ~ x {', 'if ($x) {', 'server {', 'x {', 'http {']);
    return open.repeat(depth) + pick(r, ['deny all;', 'return 403;', '']) + '}'.repeat(closes);
  }
  const [o, c] = pick(r, [
    ['<Directory /x>\n', '</Directory>\n'],
    ['<IfModule x>\n', '</IfModule>\n'],
    ['<If "true">\n', '</If>\n'],
    ['<RequireAll>\n', '</RequireAll>\n'],
    ['<Location />\n', '</Location>\n'],
  ]);
  return o.repeat(depth) + pick(r, ['Require all denied\n', 'Deny from all\n', '']) + c.repeat(closes);
}

const OPS = [
  'flip',
  'delete-token',
  'dup-token',
  'dup-line',
  'delete-line',
  'imbalance',
  'nest',
  'long-line',
  'odd',
  'huge',
  'regex',
  'typo',
  'snippet',
  'comment',
  'swap-lines',
  'bytes',
  'truncate',
  'splice',
] as const;

/** A window of at most `max` lines of a seed text (mutating 5,000-line corpus files costs time, not coverage). */
function window(r: Rng, text: string, max: number): string {
  const lines = text.split('\n');
  if (lines.length <= max) return text;
  const start = int(r, lines.length - max);
  return lines.slice(start, start + max).join('\n');
}

function mutate(r: Rng, server: ServerKind, text: string, ops: string[], raw: Array<[number, number[]]>, other: () => string): string {
  const at = () => int(r, text.length + 1);
  const insert = (s: string) => {
    const i = at();
    text = text.slice(0, i) + s + text.slice(i);
  };
  const op = pick(r, OPS);
  ops.push(op);
  switch (op) {
    case 'flip': {
      for (let k = 1 + int(r, 4); k > 0 && text.length; k--) {
        const i = int(r, text.length);
        const c = chance(r, 0.6) ? pick(r, SPECIAL) : String.fromCharCode(int(r, 128));
        text = text.slice(0, i) + c + text.slice(i + 1);
      }
      break;
    }
    case 'delete-token': {
      const t = tokens(text);
      if (t.length) {
        const [s, e] = pick(r, t);
        text = text.slice(0, s) + text.slice(e);
      }
      break;
    }
    case 'dup-token': {
      const t = tokens(text);
      if (t.length) {
        const [s, e] = pick(r, t);
        const n = chance(r, 0.1) ? 200 : 1 + int(r, 3);
        text = text.slice(0, e) + (' ' + text.slice(s, e)).repeat(n) + text.slice(e);
      }
      break;
    }
    case 'dup-line':
    case 'delete-line':
    case 'swap-lines': {
      const lines = text.split('\n');
      const i = int(r, lines.length);
      if (op === 'dup-line') lines.splice(i, 0, ...Array(1 + int(r, 3)).fill(lines[i]));
      else if (op === 'delete-line') lines.splice(i, 1 + int(r, 3));
      else {
        const j = int(r, lines.length);
        [lines[i], lines[j]] = [lines[j], lines[i]];
      }
      text = lines.join('\n');
      break;
    }
    case 'imbalance':
      insert(
        server === 'nginx'
          ? pick(r, ['{', '}', '"', "'", '{{', '}}}', ';', '\\', '${', '"unterminated\n', 'location {', 'if ($x {'])
          : pick(r, [
              '<Directory /x>\n',
              '</Directory>\n',
              '</If>\n',
              '<If "x">\n',
              '"',
              "'",
              '<',
              '>',
              '\\\n',
              '</Files>',
              '<RequireAll>\n',
              '</VirtualHost>\n',
              '<Limit>\n',
              '<>\n',
              '</>\n',
            ]),
      );
      break;
    case 'nest':
      insert('\n' + nest(r, server, chance(r, 0.02) ? 1100 : chance(r, 0.15) ? 300 : 10 + int(r, 60)) + '\n');
      break;
    case 'long-line': {
      const len = chance(r, 0.1) ? 20_000 : 500 + int(r, 3500);
      insert(
        '\n' +
          pick(r, [
            () => (server === 'nginx' ? 'server_name ' + 'a.test '.repeat(len / 7) + ';' : 'ServerAlias ' + 'a.test '.repeat(len / 7)),
            () => (server === 'nginx' ? 'deny ' + '1'.repeat(len) + ';' : 'Require ip ' + '10.0.0.1 '.repeat(len / 9)),
            () => '#' + 'x'.repeat(len),
            () =>
              server === 'nginx'
                ? `location ~ ${'a'.repeat(len)} { deny all; }`
                : `<FilesMatch "${'a'.repeat(len)}">\nRequire all denied\n</FilesMatch>`,
            () => 'x'.repeat(len),
          ])() +
          '\n',
      );
      break;
    }
    case 'odd':
      for (let k = 1 + int(r, 3); k > 0; k--) {
        const c = pick(r, ODD);
        if (c === '\uFEFF' && chance(r, 0.5)) text = c + text;
        else insert(c);
      }
      break;
    case 'bytes': {
      // Invalid UTF-8 (and NUL, which makes the file "binary" when early) spliced into the bytes.
      const n = 1 + int(r, 3);
      for (let k = 0; k < n; k++)
        raw.push([
          int(r, Buffer.byteLength(text) + 1),
          pick(r, [
            [0xff],
            [0xc3],
            [0xe2, 0x82],
            [0xed, 0xa0, 0x80],
            [0xf8, 0x88, 0x80, 0x80, 0x80],
            [0x80],
            [0],
            [0xef, 0xbb, 0xbf],
            [0xc0, 0xaf],
          ]),
        ]);
      break;
    }
    case 'huge': {
      const nums = [...text.matchAll(/\d+/g)];
      if (nums.length && chance(r, 0.7)) {
        const m = pick(r, nums);
        text = text.slice(0, m.index) + pick(r, HUGE) + text.slice(m.index! + m[0].length);
      } else {
        insert(
          '\n' +
            (server === 'nginx'
              ? pick(r, ['return ', 'listen ', 'client_max_body_size ', 'error_page ', 'keepalive_timeout ', 'limit_rate ']) +
                pick(r, HUGE) +
                ';'
              : pick(r, ['Listen ', 'ErrorDocument ', 'LimitRequestBody ', 'Timeout ', 'RewriteRule ^ - [R=']) + pick(r, HUGE)) +
            '\n',
        );
      }
      break;
    }
    case 'regex': {
      const p = pick(r, PATTERNS);
      const m = [
        ...text.matchAll(server === 'nginx' ? /location\s+~\*?\s+(\S+)/g : /(?:Match|RewriteRule|RewriteCond\s+\S+)\s+"?([^\s">]+)/gi),
      ];
      if (m.length && chance(r, 0.6)) {
        const x = pick(r, m);
        const s = x.index! + x[0].length - x[1].length;
        text = text.slice(0, s) + (chance(r, 0.5) ? p : x[1] + p) + text.slice(s + x[1].length);
      } else {
        insert(
          '\n' +
            (server === 'nginx'
              ? pick(r, [
                  `location ~ ${p} { deny all; }`,
                  `location ~* "${p}" { return 403; }`,
                  `if ($uri ~ ${p}) { return 403; }`,
                  `rewrite ${p} /x last;`,
                  `server_name ~${p};`,
                ])
              : pick(r, [
                  `<LocationMatch "${p}">\nRequire all denied\n</LocationMatch>`,
                  `<FilesMatch ${p}>\nDeny from all\n</FilesMatch>`,
                  `RewriteRule ${p} - [F]`,
                  `<DirectoryMatch "${p}">\n</DirectoryMatch>`,
                  `RedirectMatch 403 ${p}`,
                  `<If "%{REQUEST_URI} =~ /${p}/">\nRequire all denied\n</If>`,
                ])) +
            '\n',
        );
      }
      break;
    }
    case 'typo': {
      const lines = [...text.matchAll(/^(\s*<?\/?)([A-Za-z_][\w-]*)/gm)];
      if (lines.length) {
        const m = pick(r, lines);
        const s = m.index! + m[1].length;
        text = text.slice(0, s) + typo(r, m[2]) + text.slice(s + m[2].length);
      }
      break;
    }
    case 'snippet':
      if (chance(r, 0.2))
        insert(
          '\n' +
            (server === 'nginx'
              ? `include ${pick(r, GLOBS.nginx)};`
              : `${pick(r, ['Include', 'IncludeOptional'])} ${pick(r, GLOBS.apache)}`) +
            '\n',
        );
      else
        insert(
          '\n' + (server === 'nginx' ? nginxAccessLine(r, pick(r, ['server', 'location'] as NginxContext[])) : apacheAccessLine(r)) + '\n',
        );
      break;
    case 'truncate':
      text = text.slice(0, at());
      break;
    case 'splice': {
      // a piece of another seed text of the same server, at a random place
      const o = other();
      const a = int(r, o.length + 1);
      insert(o.slice(a, a + 1 + int(r, 400)));
      break;
    }
    case 'comment':
      insert(
        '\n' +
          pick(r, [
            '# why403-disable-next-line',
            '# why403-disable-line nginx-shadowed-deny',
            '# why403-disable',
            '# why403-enable',
            '# why403-disable-next-line no-such-rule -- because',
            '# why403-disable-next-line apache-legacy-access-control, ,',
            '# expect: syntax-error',
            '#',
          ]) +
          '\n',
      );
      break;
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// Requests

function requestsFor(r: Rng, server: ServerKind, text: string): FuzzRequest[] {
  const found = [
    ...text.matchAll(server === 'nginx' ? /location\s+(?:[=^~*]+\s+)?(\/[^\s{;]*)/g : /<(?:Location|Directory|Files)\s+"?(\/?[^\s">]*)/g),
  ].map((m) => m[1]);
  const n = chance(r, 0.25) ? 3 : 2;
  const out: FuzzRequest[] = [];
  for (let i = 0; i < n; i++) {
    let target = found.length && chance(r, 0.6) ? pick(r, found) : pick(r, PATHS);
    if (!target.startsWith('/')) target = '/' + target;
    // percent-encode what a request line cannot carry (a lone surrogate becomes U+FFFD's bytes)
    target = target.replace(/[^\x21-\x7e]|#/gu, (c) =>
      [...Buffer.from(c, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''),
    );
    if (chance(r, 0.3)) target += pick(r, ['index.html', 'x.php', '?a=1', '/', '.htaccess', '%00', '..%2f']);
    if (chance(r, 0.2)) target = 'http://' + pick(r, ['example.test', 'www.example.test', '127.0.0.1:8080', '[::1]']) + target;
    const headers: string[] = [];
    if (chance(r, 0.3)) headers.push(`Host: ${pick(r, NAMES.slice(0, 2))}`);
    if (chance(r, 0.2)) headers.push(`Referer: ${pick(r, ['http://example.test/', 'http://evil.test/', ''])}`);
    out.push({
      target,
      method: pick(r, ['GET', 'GET', 'POST', 'HEAD', 'DELETE', 'PROPFIND', 'OPTIONS']),
      ip: chance(r, 0.6) ? pick(r, ['127.0.0.1', '10.0.0.7', '192.168.1.1', '::1', '2001:db8::1']) : undefined,
      headers,
      user: chance(r, 0.2) ? pick(r, ['bob', 'admin']) : undefined,
      fs: chance(r, 0.15),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

/** Input `index` of the run with `seed` for `server`. */
export function fuzzInput(server: ServerKind, seed: number, index: number, seeds: readonly SeedText[]): FuzzInput {
  const r = inputRng(seed, index, server);
  const own = seeds.filter((s) => s.server === server);
  const raw: Array<[number, number[]]> = [];
  const other = () => (own.length ? pick(r, own).text : '');
  let text: string;
  let kind: string;
  let name: string;
  if (own.length === 0 || chance(r, 0.3)) {
    const htaccess = server === 'apache' && chance(r, 0.3);
    text = server === 'nginx' ? generateNginx(r) : generateApache(r, htaccess);
    name = server === 'nginx' ? 'nginx.conf' : htaccess ? '.htaccess' : 'apache2.conf';
    kind = `gen-${server}`;
    if (chance(r, 0.3)) {
      const ops: string[] = [];
      text = mutate(r, server, text, ops, raw, other);
      kind += ` + ${ops.join(',')}`;
    }
  } else {
    const s = pick(r, own);
    text = window(r, s.text, 40);
    name = s.name;
    const ops: string[] = [];
    for (let k = 1 + int(r, 3); k > 0; k--) text = mutate(r, server, text, ops, raw, other);
    kind = `mutate(${s.origin}): ${ops.join(',')}`;
  }
  const input: FuzzInput = { server, index, kind, name, text, requests: requestsFor(r, server, text) };
  if (chance(r, 0.1)) {
    input.context = pick(
      r,
      server === 'nginx' ? ['main', 'http', 'server', 'location', 'if', 'stream', 'bogus'] : ['server', 'directory', 'htaccess'],
    );
    input.kind += ` [context ${input.context}]`;
  }
  if (raw.length) input.rawBytes = raw;
  return input;
}

/** The bytes of an input that has raw bytes (UTF-8 of the text with the raw bytes spliced in). */
export function inputBytes(input: FuzzInput): Buffer {
  const b = Buffer.from(input.text, 'utf8');
  if (!input.rawBytes) return b;
  const parts: Buffer[] = [];
  let at = 0;
  for (const [off, bytes] of [...input.rawBytes].sort((x, y) => x[0] - y[0])) {
    const o = Math.min(off, b.length);
    parts.push(b.subarray(at, o), Buffer.from(bytes));
    at = o;
  }
  parts.push(b.subarray(at));
  return Buffer.concat(parts);
}
