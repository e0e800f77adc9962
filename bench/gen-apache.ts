/**
 * A deterministic generated Apache tree for benchmarks: a Debian-style apache2.conf that includes
 * mods-enabled/*.load, conf-enabled/*.conf and sites-enabled/*.conf; sites with VirtualHosts full
 * of <Directory>/<Files>/<Location>/<IfModule> sections, Require and Order/Allow/Deny, RewriteRules,
 * continuation lines and comments; and a document tree with thousands of nested .htaccess files.
 * Same options → same bytes (seeded PRNG, no dates, no randomness from the system).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 as rng } from './prng.js';

export interface GenOptions {
  sites: number;
  vhostsPerSite: number;
  htaccessDirs: number;
  seed: number;
}

export const DEFAULT_GEN: GenOptions = { sites: 60, vhostsPerSite: 8, htaccessDirs: 3000, seed: 403 };

function vhost(r: () => number, site: number, v: number): string {
  const name = `s${site}v${v}.example.test`;
  const L: string[] = [];
  L.push(`# virtual host ${name}`, `<VirtualHost *:80>`, `    ServerName ${name}`, `    ServerAlias www.${name} \\`, `        alt.${name}`);
  L.push(
    `    DocumentRoot "/srv/www/${name}"`,
    `    ErrorLog \${APACHE_LOG_DIR}/${name}-error.log`,
    `    CustomLog \${APACHE_LOG_DIR}/${name}-access.log combined`,
  );
  L.push(
    `    <Directory "/srv/www/${name}">`,
    `        Options -Indexes +FollowSymLinks`,
    `        AllowOverride AuthConfig Limit FileInfo`,
  );
  if (r() < 0.5) L.push(`        Require all granted`);
  else L.push(`        Order allow,deny`, `        Allow from all`, `        Deny from 10.${site % 256}.${v}.0/24`);
  L.push(`        <FilesMatch "\\.(?:bak|sql|ini|log)$">`, `            Require all denied`, `        </FilesMatch>`, `    </Directory>`);
  for (let k = 0; k < 4; k++) {
    L.push(
      `    <Location "/area${k}">`,
      `        <RequireAll>`,
      `            Require ip 192.168.${k}.0/24 10.0.0.0/8`,
      `            Require not ip 192.168.${k}.13`,
      `        </RequireAll>`,
      `    </Location>`,
    );
  }
  L.push(`    <IfModule mod_rewrite.c>`, `        RewriteEngine On`);
  const rules = 6 + Math.floor(r() * 10);
  for (let k = 0; k < rules; k++) {
    L.push(
      `        RewriteCond %{REQUEST_URI} ^/(old|legacy)${k}/ [NC,OR]`,
      `        RewriteCond %{HTTP_USER_AGENT} "bad bot ${k}" [NC]`,
      `        RewriteRule ^/?(.*)$ /new${k}/$1 [R=301,L]`,
    );
  }
  L.push(`        RewriteRule "\\.git" - [F]`, `    </IfModule>`);
  L.push(`    <Files "wp-config.php">`, `        Require all denied`, `    </Files>`, `</VirtualHost>`, '');
  return L.join('\n');
}

function htaccess(r: () => number, i: number): string {
  const L: string[] = [`# generated .htaccess ${i}`];
  switch (i % 4) {
    case 0:
      L.push('Require all denied');
      break;
    case 1:
      L.push(
        '<IfModule mod_authz_core.c>',
        '  Require all denied',
        '</IfModule>',
        '<IfModule !mod_authz_core.c>',
        '  Order deny,allow',
        '  Deny from all',
        '</IfModule>',
      );
      break;
    case 2:
      L.push(
        'Options -Indexes',
        'DirectoryIndex index.php index.html',
        '<IfModule mod_rewrite.c>',
        '  RewriteEngine On',
        '  RewriteBase /',
      );
      for (let k = 0; k < 3 + Math.floor(r() * 5); k++)
        L.push(`  RewriteCond %{REQUEST_FILENAME} !-f`, `  RewriteRule ^page${k}/(.*)$ index.php?q=$1 [QSA,L]`);
      L.push('</IfModule>');
      break;
    default:
      L.push(
        'AuthType Basic',
        'AuthName "Restricted area"',
        'AuthUserFile /srv/.htpasswd',
        '<LimitExcept GET HEAD>',
        '  Require valid-user',
        '</LimitExcept>',
        '<FilesMatch "^\\.">',
        '  Require all denied',
        '</FilesMatch>',
      );
  }
  return L.join('\n') + '\n';
}

/** Write the tree under `root`; returns the main config path and the .htaccess paths. */
export function generateApacheTree(root: string, o: GenOptions = DEFAULT_GEN): { main: string; htaccess: string[] } {
  const r = rng(o.seed);
  const w = (p: string, text: string) => {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  };
  w(
    'apache2.conf',
    [
      '# generated apache2.conf',
      'DefaultRuntimeDir ${APACHE_RUN_DIR}',
      'PidFile ${APACHE_PID_FILE}',
      'Timeout 300',
      'User ${APACHE_RUN_USER}',
      'Group ${APACHE_RUN_GROUP}',
      'IncludeOptional mods-enabled/*.load',
      'IncludeOptional mods-enabled/*.conf',
      'Include ports.conf',
      '<Directory />',
      '    Options FollowSymLinks',
      '    AllowOverride None',
      '    Require all denied',
      '</Directory>',
      'AccessFileName .htaccess',
      '<FilesMatch "^\\.ht">',
      '    Require all denied',
      '</FilesMatch>',
      'IncludeOptional conf-enabled/*.conf',
      'IncludeOptional sites-enabled/*.conf',
      '',
    ].join('\n'),
  );
  w('ports.conf', 'Listen 80\n<IfModule ssl_module>\n    Listen 443\n</IfModule>\n');
  for (const m of ['alias', 'authz_core', 'authz_host', 'rewrite', 'dir', 'mime', 'access_compat']) {
    w(`mods-enabled/${m}.load`, `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so\n`);
  }
  w('mods-enabled/dir.conf', '<IfModule mod_dir.c>\n    DirectoryIndex index.html index.php\n</IfModule>\n');
  w(
    'conf-enabled/security.conf',
    'ServerTokens Prod\nServerSignature Off\nTraceEnable Off\n<DirectoryMatch "/\\.git">\n    Require all denied\n</DirectoryMatch>\n',
  );
  for (let s = 0; s < o.sites; s++) {
    const parts: string[] = [];
    for (let v = 0; v < o.vhostsPerSite; v++) parts.push(vhost(r, s, v));
    w(`sites-enabled/${String(s).padStart(3, '0')}-site.conf`, parts.join('\n'));
  }
  const ht: string[] = [];
  for (let i = 0; i < o.htaccessDirs; i++) {
    // nested: www/d<i%10>/d<i%100>/d<i>/.htaccess
    const p = `www/d${i % 10}/e${i % 100}/f${i}/.htaccess`;
    w(p, htaccess(r, i));
    ht.push(join(root, p));
  }
  return { main: join(root, 'apache2.conf'), htaccess: ht };
}
