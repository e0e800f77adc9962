/**
 * `Options` with httpd's bit semantics (server/core.c: set_options, merge_core_dir_configs).
 *
 * A bare list (`Options Indexes`) replaces the inherited set; a `+`/`-` list adjusts it; mixing the
 * two forms is a configuration error. The server default is FollowSymLinks. `All` is everything but
 * MultiViews and SymLinksIfOwnerMatch.
 */

export const OPT_NONE = 0;
export const OPT_INDEXES = 1;
export const OPT_INCLUDES = 2;
export const OPT_SYM_LINKS = 4;
export const OPT_EXECCGI = 8;
export const OPT_UNSET = 16;
export const OPT_INC_WITH_EXEC = 32;
export const OPT_SYM_OWNER = 64;
export const OPT_MULTI = 128;
export const OPT_ALL = OPT_INDEXES | OPT_INCLUDES | OPT_INC_WITH_EXEC | OPT_SYM_LINKS | OPT_EXECCGI;

const NAMES: Record<string, number> = {
  indexes: OPT_INDEXES,
  includes: OPT_INCLUDES | OPT_INC_WITH_EXEC,
  includesnoexec: OPT_INCLUDES,
  followsymlinks: OPT_SYM_LINKS,
  symlinksifownermatch: OPT_SYM_OWNER,
  execcgi: OPT_EXECCGI,
  multiviews: OPT_MULTI,
  runscripts: OPT_MULTI | OPT_EXECCGI,
};

/** The Options part of one section's (or the server's) core per-directory config. */
export interface OptionsConf {
  opts: number;
  add: number;
  remove: number;
}

/** A section's starting value: unset (the server's own config starts as FollowSymLinks). */
export function newOptions(server = false): OptionsConf {
  return { opts: server ? OPT_UNSET | OPT_SYM_LINKS : OPT_UNSET, add: OPT_NONE, remove: OPT_NONE };
}

/**
 * Apply one `Options` directive to a section's config. `allowed` is the AllowOverride Options=…
 * mask in .htaccess (everything elsewhere). Returns an error message as httpd words it, or null.
 */
export function applyOptions(conf: OptionsConf, args: string[], allowed = 0xff): string | null {
  let first = true;
  let merge = false;
  let allNone = false;
  for (const raw of args) {
    let w = raw;
    let action = '';
    if (w.startsWith('+') || w.startsWith('-')) {
      action = w[0];
      w = w.slice(1);
      if (!merge && !first && !allNone) return 'Either all Options must start with + or -, or no Option may.';
      merge = true;
    } else if (first) {
      conf.opts = OPT_NONE;
    } else if (merge) {
      return 'Either all Options must start with + or -, or no Option may.';
    }
    const lw = w.toLowerCase();
    let opt: number;
    if (lw === 'none') {
      if (!first) return "'Options None' must be the first Option given.";
      if (merge) return "You may not use 'Options +None' or 'Options -None'.";
      opt = OPT_NONE;
      allNone = true;
    } else if (lw === 'all') {
      if (!first) return "'Options All' must be the first option given.";
      if (merge) return "You may not use 'Options +All' or 'Options -All'.";
      opt = OPT_ALL;
      allNone = true;
    } else if (lw in NAMES) {
      opt = NAMES[lw];
    } else {
      return `Illegal option ${w}`;
    }
    if ((allowed & opt) !== opt) return `Option ${w} not allowed here`;
    if (action === '-') {
      conf.remove |= opt;
      conf.add &= ~opt;
      conf.opts &= ~opt;
    } else if (action === '+') {
      conf.add |= opt;
      conf.remove &= ~opt;
      conf.opts |= opt;
    } else {
      conf.opts |= opt;
    }
    first = false;
  }
  return null;
}

/** merge_core_dir_configs for the Options fields: base, then the section `next`. */
export function mergeOptions(base: OptionsConf, next: OptionsConf): OptionsConf {
  if (next.opts & OPT_UNSET) {
    const add = (base.add & ~next.remove) | next.add;
    const remove = (base.remove & ~next.add) | next.remove;
    let opts = (base.opts & ~remove) | add;
    if (
      (base.opts & (OPT_INCLUDES | OPT_INC_WITH_EXEC)) === (OPT_INCLUDES | OPT_INC_WITH_EXEC) &&
      (next.opts & (OPT_INCLUDES | OPT_INC_WITH_EXEC)) === OPT_INCLUDES
    ) {
      opts &= ~OPT_INC_WITH_EXEC;
    }
    return { opts, add, remove };
  }
  return { ...next };
}

/** The effective bits (UNSET stripped). */
export function effectiveOptions(c: OptionsConf): number {
  return c.opts & ~OPT_UNSET;
}

export function describeOptions(bits: number): string {
  const out: string[] = [];
  if (bits & OPT_INDEXES) out.push('Indexes');
  if (bits & OPT_INCLUDES) out.push(bits & OPT_INC_WITH_EXEC ? 'Includes' : 'IncludesNOEXEC');
  if (bits & OPT_SYM_LINKS) out.push('FollowSymLinks');
  if (bits & OPT_SYM_OWNER) out.push('SymLinksIfOwnerMatch');
  if (bits & OPT_EXECCGI) out.push('ExecCGI');
  if (bits & OPT_MULTI) out.push('MultiViews');
  return out.length ? out.join(' ') : 'None';
}

/** `AllowOverride Options=Indexes,MultiViews` → the allowed mask (core.c: set_allow_opts). */
export function parseAllowOpts(list: string): number {
  let opts = 0;
  for (const w of list.split(',')) {
    const lw = w.trim().toLowerCase();
    if (lw === 'all') opts |= OPT_ALL;
    else if (lw === 'none') opts |= OPT_NONE;
    else if (lw in NAMES) opts |= NAMES[lw];
  }
  return opts;
}
