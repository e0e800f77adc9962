/**
 * A deterministic Apache tree with N name-based virtual hosts, the shape of a shared-hosting server,
 * that real `apache2 -t` accepts: apache2.conf (ServerRoot = the tree, LoadModule lines for the
 * modules it uses, Debian's access defaults) including sites-enabled/*.conf (50 vhosts per file);
 * each vhost has a DocumentRoot under www/, an Alias, <Directory> sections for the root and some
 * subdirectories (AllowOverride varying), <Location>s, <FilesMatch>, RewriteRules; and the document
 * roots hold .htaccess files (about 1.7 per vhost, nested up to three levels below the root).
 * Same N and seed → same bytes except the tree's own absolute path.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from './prng.js';

export const APACHE_BIN = process.env.WHY403_APACHE_BIN ?? '/usr/sbin/apache2';
export const APACHE_MODULES = process.env.WHY403_APACHE_MODULES ?? '/usr/lib/apache2/modules';
const MODULES = [
  'mpm_event',
  'authz_core',
  'authz_host',
  'authz_user',
  'authn_core',
  'authn_file',
  'auth_basic',
  'access_compat',
  'alias',
  'dir',
  'mime',
  'env',
  'setenvif',
  'rewrite',
  'headers',
];

function compiledIn(): Set<string> {
  try {
    const out = execFileSync(APACHE_BIN, ['-l'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    return new Set([...out.matchAll(/^\s*mod_(\w+)\.c\s*$/gm)].map((m) => m[1]));
  } catch {
    return new Set();
  }
}

export interface ApacheVhostTree {
  dir: string;
  main: string;
  vhosts: number;
  htaccess: number;
  files: number;
  lines: number;
  bytes: number;
}

const OVERRIDES = ['All', 'AuthConfig Limit', 'FileInfo AuthConfig Limit Options=Indexes,FollowSymLinks', 'None', 'All'];

function htaccessText(r: () => number, i: number): string {
  const L: string[] = [`# .htaccess ${i}`];
  switch (i % 5) {
    case 0:
      L.push('Require all denied');
      break;
    case 1:
      L.push(
        '<IfModule mod_authz_core.c>',
        '    Require all denied',
        '</IfModule>',
        '<IfModule !mod_authz_core.c>',
        '    Order deny,allow',
        '    Deny from all',
        '</IfModule>',
      );
      break;
    case 2:
      L.push('<IfModule mod_rewrite.c>', '    RewriteEngine On', '    RewriteBase /');
      for (let k = 0; k < 2 + Math.floor(r() * 4); k++)
        L.push('    RewriteCond %{REQUEST_FILENAME} !-f', `    RewriteRule ^page${k}/(.*)$ index.php?q=$1 [QSA,L]`);
      L.push('</IfModule>');
      break;
    case 3:
      L.push(
        'AuthType Basic',
        'AuthName "Members"',
        'AuthUserFile /etc/apache2/.htpasswd',
        '<RequireAny>',
        '    Require valid-user',
        '    Require ip 127.0.0.1',
        '</RequireAny>',
      );
      break;
    default:
      L.push('<FilesMatch "\\.(?:bak|inc|sql)$">', '    Require all denied', '</FilesMatch>', 'Header set X-Robots-Tag "noindex"');
  }
  return L.join('\n') + '\n';
}

function vhostText(r: () => number, root: string, i: number, port: number): string {
  const name = `v${i}.example.test`;
  const doc = `${root}/www/${name}/public`;
  const L: string[] = [
    `# ---- ${name}`,
    `<VirtualHost 127.0.0.1:${port}>`,
    `    ServerName ${name}`,
    `    ServerAlias www.${name} *.${name}`,
    `    DocumentRoot "${doc}"`,
    `    Alias /static/ "${root}/www/${name}/static/"`,
    `    <Directory "${doc}">`,
    `        Options -Indexes +FollowSymLinks`,
    `        AllowOverride ${OVERRIDES[i % OVERRIDES.length]}`,
    r() < 0.7 ? `        Require all granted` : `        Require ip 127.0.0.0/8 192.0.2.0/24`,
    `        <FilesMatch "\\.(?:bak|sql|ini|log)$">`,
    `            Require all denied`,
    `        </FilesMatch>`,
    `    </Directory>`,
    `    <Directory "${doc}/private">`,
    `        Require all denied`,
    `    </Directory>`,
    `    <Directory "${doc}/app/uploads">`,
    `        AllowOverride None`,
    `        <FilesMatch "\\.php$">`,
    `            Require all denied`,
    `        </FilesMatch>`,
    `    </Directory>`,
    `    <Directory "${root}/www/${name}/static">`,
    `        AllowOverride None`,
    `        Require all granted`,
    `    </Directory>`,
    `    <Location "/admin">`,
    `        <RequireAll>`,
    `            Require ip 127.0.0.0/8`,
    `            Require not ip 127.0.0.13`,
    `        </RequireAll>`,
    `    </Location>`,
    `    <LocationMatch "^/(?:wp-admin|phpmyadmin)/">`,
    `        Require local`,
    `    </LocationMatch>`,
    `    RewriteEngine On`,
  ];
  for (let k = 0; k < 2 + Math.floor(r() * 4); k++) {
    L.push(`    RewriteCond %{HTTP_USER_AGENT} "bad-bot-${k}" [NC]`, `    RewriteRule ^/old${k}/(.*)$ /new${k}/$1 [R=301,L]`);
  }
  L.push(
    `    RewriteRule "/\\.git" - [F]`,
    `    <Files "wp-config.php">`,
    `        Require all denied`,
    `    </Files>`,
    `</VirtualHost>`,
    '',
  );
  return L.join('\n');
}

/**
 * Write the tree for `n` vhosts under `root` (an absolute, existing, empty directory). `port` is
 * only written into the config (`apache2 -t` does not bind it).
 */
export function generateApacheVhostTree(root: string, n: number, seed = 403, port = 8080): ApacheVhostTree {
  const r = mulberry32(seed + n);
  let files = 0;
  let lines = 0;
  let bytes = 0;
  let htaccess = 0;
  const w = (p: string, text: string) => {
    const abs = join(root, p);
    mkdirSync(join(abs, '..'), { recursive: true });
    writeFileSync(abs, text);
    files++;
    lines += text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    bytes += Buffer.byteLength(text);
  };
  const builtIn = compiledIn();
  const loads = MODULES.filter((m) => !builtIn.has(m) && existsSync(join(APACHE_MODULES, `mod_${m}.so`))).map(
    (m) => `LoadModule ${m}_module ${APACHE_MODULES}/mod_${m}.so`,
  );
  mkdirSync(join(root, 'run'), { recursive: true });
  mkdirSync(join(root, 'logs'), { recursive: true });
  w(
    'apache2.conf',
    [
      '# generated apache2.conf (bench/gen-apache-vhosts.ts)',
      `ServerRoot "${root}"`,
      ...loads,
      `DefaultRuntimeDir "${root}/run"`,
      `PidFile "${root}/run/apache2.pid"`,
      `ErrorLog "${root}/logs/error.log"`,
      'Timeout 300',
      `Listen 127.0.0.1:${port}`,
      'ServerName localhost',
      `TypesConfig /etc/mime.types`,
      '<Directory />',
      '    Options FollowSymLinks',
      '    AllowOverride None',
      '    Require all denied',
      '</Directory>',
      `<Directory "${root}/www/">`,
      '    Options FollowSymLinks',
      '    AllowOverride None',
      '    Require all granted',
      '</Directory>',
      'AccessFileName .htaccess',
      '<FilesMatch "^\\.ht">',
      '    Require all denied',
      '</FilesMatch>',
      'DirectoryIndex index.html index.php',
      '<DirectoryMatch "/\\.git">',
      '    Require all denied',
      '</DirectoryMatch>',
      'IncludeOptional sites-enabled/*.conf',
      '',
    ].join('\n'),
  );
  const perFile = 50;
  for (let f = 0; f * perFile < n; f++) {
    const parts: string[] = [];
    for (let i = f * perFile; i < Math.min(n, (f + 1) * perFile); i++) parts.push(vhostText(r, root, i, port));
    w(`sites-enabled/${String(f).padStart(4, '0')}-sites.conf`, parts.join('\n'));
  }
  const subdirs = ['', 'app', 'app/cache', 'private', 'media/2024', 'app/uploads'];
  for (let i = 0; i < n; i++) {
    const doc = `www/v${i}.example.test/public`;
    mkdirSync(join(root, doc), { recursive: true });
    writeFileSync(join(root, doc, 'index.html'), `<p>v${i}</p>\n`);
    // about 1.7 .htaccess files per vhost: the root's for most, then nested ones
    const count = (i % 10 < 8 ? 1 : 0) + (r() < 0.9 ? 1 : 0);
    for (let k = 0; k < count; k++) {
      const sub = subdirs[(i + k * 3) % subdirs.length];
      const p = sub ? `${doc}/${sub}/.htaccess` : `${doc}/.htaccess`;
      if (existsSync(join(root, p))) continue;
      w(p, htaccessText(r, i + k));
      htaccess++;
    }
  }
  return { dir: root, main: join(root, 'apache2.conf'), vhosts: n, htaccess, files, lines, bytes };
}
