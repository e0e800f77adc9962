/**
 * Which httpd modules are loaded, and how their names are spelled.
 *
 * `<IfModule>` accepts either the module identifier (`rewrite_module`) or the source file name
 * (`mod_rewrite.c`); LoadModule names the identifier. We keep one canonical spelling: the source
 * file without `.c` (`mod_rewrite`, `core`, `http_core`), which is also what the directive table in
 * src/apache/directives.ts uses.
 */

/** Modules compiled into Debian's apache2 binary (`apache2 -l` on 2.4.71). */
export const DEBIAN_STATIC_MODULES = [
  'core',
  'mod_so',
  'mod_watchdog',
  'http_core',
  'mod_log_config',
  'mod_logio',
  'mod_version',
  'mod_unixd',
];

/** Debian's stock /etc/apache2/mods-enabled (see corpus/apache/debian-apache2). */
export const DEBIAN_ENABLED_MODULES = [
  'mod_access_compat',
  'mod_alias',
  'mod_auth_basic',
  'mod_authn_core',
  'mod_authn_file',
  'mod_authz_core',
  'mod_authz_host',
  'mod_authz_user',
  'mod_autoindex',
  'mod_deflate',
  'mod_dir',
  'mod_env',
  'mod_filter',
  'mod_mime',
  'mod_mpm_event',
  'mod_negotiation',
  'mod_reqtimeout',
  'mod_setenvif',
  'mod_status',
];

/** Identifiers whose name does not follow `X_module` ⇄ `mod_X.c`. */
const IDENT_TO_FILE: Record<string, string> = {
  core_module: 'core',
  http_module: 'http_core',
  mpm_event_module: 'mod_mpm_event',
  mpm_prefork_module: 'mod_mpm_prefork',
  mpm_worker_module: 'mod_mpm_worker',
  php_module: 'mod_php',
  php7_module: 'mod_php7',
  php5_module: 'mod_php5',
  wsgi_module: 'mod_wsgi',
  fcgid_module: 'mod_fcgid',
};

/**
 * Canonical module name for any spelling: `mod_rewrite.c`, `rewrite_module`, `mod_rewrite`,
 * `mod_rewrite.so`, `core.c`. Case is kept as lower-case (httpd compares file names exactly, but
 * real configs never differ only by case).
 */
export function canonicalModule(name: string): string {
  let c = canonical.get(name);
  if (c === undefined) {
    c = canonicalOf(name);
    // the names come from configs and the code (a few hundred); a pathological config cannot grow it without end
    if (canonical.size >= 10_000) canonical.clear();
    canonical.set(name, c);
  }
  return c;
}

/** canonicalModule's answers by the name asked (every `has('mod_dir')` of the simulator asks again). */
const canonical = new Map<string, string>();

function canonicalOf(name: string): string {
  let n = name.trim().toLowerCase();
  const slash = n.lastIndexOf('/');
  if (slash >= 0) n = n.slice(slash + 1);
  if (IDENT_TO_FILE[n]) return IDENT_TO_FILE[n];
  if (n.endsWith('.c') || n.endsWith('.so')) n = n.slice(0, n.lastIndexOf('.'));
  if (n === 'core' || n === 'http_core') return n;
  if (n.endsWith('_module')) return 'mod_' + n.slice(0, -'_module'.length);
  if (n.startsWith('mod_')) return n;
  return 'mod_' + n;
}

export class ModuleSet {
  private readonly set = new Set<string>();
  constructor(names: Iterable<string> = []) {
    for (const n of names) this.add(n);
  }
  add(name: string): void {
    this.set.add(canonicalModule(name));
  }
  has(name: string): boolean {
    return this.set.has(canonicalModule(name));
  }
  list(): string[] {
    return [...this.set].sort();
  }
  clone(): ModuleSet {
    return new ModuleSet(this.set);
  }
}

let debianDefaults: ModuleSet | null = null;

/** The module set of Debian's stock apache2 (static + mods-enabled). A fresh set each time (callers add
 * to it), copied from one made once: every .htaccess set of a run builds a model. */
export function debianDefaultModules(): ModuleSet {
  debianDefaults ??= new ModuleSet([...DEBIAN_STATIC_MODULES, ...DEBIAN_ENABLED_MODULES]);
  return debianDefaults.clone();
}
