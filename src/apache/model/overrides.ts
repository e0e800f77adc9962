/**
 * AllowOverride / AllowOverrideList: which .htaccess directives httpd accepts
 * (server/config.c: invoke_cmd checks `cmd->req_override & parms->override`, or the directive is in
 * the AllowOverrideList table; server/core.c: set_override, set_override_list).
 *
 * The directive → override class table is src/apache/directives.ts (generated from the installed
 * httpd). A directive that is not allowed, not known, or whose module is not loaded makes real Apache
 * answer 500 for every request below that directory (unless `AllowOverride Nonfatal=…`).
 */
import type { Directive } from '../../ast.js';
import { apacheDirective } from '../directives.js';
import { sectionKey } from './conditions.js';
import type { ModuleSet } from './modules.js';

export const OVERRIDE_CLASSES = ['AuthConfig', 'FileInfo', 'Indexes', 'Limit', 'Options'] as const;

export interface OverrideState {
  /** AllowOverride classes in force (empty = None). */
  classes: Set<string>;
  /** AllowOverride Nonfatal=Override|Unknown|All. */
  nonfatal: Set<'override' | 'unknown'>;
  /** Allowed Options bits (AllowOverride Options=…). */
  optsAllowed: number;
  /** AllowOverrideList names (lower-case). */
  list: Set<string>;
}

export interface OverrideViolation {
  directive: Directive;
  /** httpd's wording, e.g. `Options not allowed here` or `Invalid command 'Foo', …`. */
  message: string;
  kind: 'not-allowed' | 'unknown';
  /** True when Nonfatal turns it into a warning (the directive is then ignored). */
  nonfatal: boolean;
}

/** Check one .htaccess directive (not its children). */
export function checkOverride(d: Directive, st: OverrideState, modules: ModuleSet): OverrideViolation | null {
  const k = sectionKey(d);
  const info = apacheDirective(d.block ? '<' + k : k) ?? (d.block ? undefined : apacheDirective(k));
  const name = d.block ? `<${d.name.replace(/^</, '')}` : d.name;
  if (!info || !modules.has(info.module)) {
    return {
      directive: d,
      message: `Invalid command '${name}', perhaps misspelled or defined by a module not included in the server configuration`,
      kind: 'unknown',
      nonfatal: st.nonfatal.has('unknown'),
    };
  }
  if (st.list.has(k) || st.list.has(info.name.toLowerCase())) return null;
  const allowedHere = info.context === 'H' || info.context === 'h' || info.context === 'd';
  const ok = allowedHere && (info.override.includes('*') ? st.classes.size > 0 : info.override.some((c) => st.classes.has(c)));
  if (ok) return null;
  return {
    directive: d,
    message: `${name.replace(/^</, '<')}${d.block ? '>' : ''} not allowed here`,
    kind: 'not-allowed',
    nonfatal: st.nonfatal.has('override'),
  };
}

/** Parse `AllowOverride` arguments into classes/nonfatal; returns an error text on bad input. */
export function parseAllowOverride(
  args: string[],
): { classes: Set<string>; nonfatal: Set<'override' | 'unknown'>; optsList: string | null; all: boolean } | string {
  const classes = new Set<string>();
  const nonfatal = new Set<'override' | 'unknown'>();
  let optsList: string | null = null;
  let all = false;
  for (const w of args) {
    const [k, v] = w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, null];
    const lk = k.toLowerCase();
    if (lk === 'limit') classes.add('Limit');
    else if (lk === 'options') {
      classes.add('Options');
      optsList = v ?? null;
    } else if (lk === 'fileinfo') classes.add('FileInfo');
    else if (lk === 'authconfig') classes.add('AuthConfig');
    else if (lk === 'indexes') classes.add('Indexes');
    else if (lk === 'nonfatal') {
      if (!v) return `=Override, =Unknown or =All expected after ${w}`;
      const lv = v.toLowerCase();
      if (lv === 'override') nonfatal.add('override');
      else if (lv === 'unknown') nonfatal.add('unknown');
      else if (lv === 'all') {
        nonfatal.add('override');
        nonfatal.add('unknown');
      }
    } else if (lk === 'none') {
      classes.clear();
      all = false;
    } else if (lk === 'all') {
      for (const c of OVERRIDE_CLASSES) classes.add(c);
      all = true;
    } else return `Illegal override option ${w}`;
  }
  return { classes, nonfatal, optsList, all };
}
