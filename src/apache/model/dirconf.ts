/**
 * Per-directory configuration: what one section (or .htaccess, or the server's own defaults) sets,
 * and how httpd merges it into what the outer sections set (server/config.c:
 * ap_merge_per_dir_configs; each module's merge function).
 *
 * A module's config exists in a section only when the section uses one of its directives
 * (ap_set_config_vectors creates it lazily). Modules with a merge function then merge; modules
 * without one (mod_access_compat) replace.
 */
import type { Directive } from '../../ast.js';
import { applyAccessCompat, newAccessCompat, type AccessCompatConf } from './access-compat.js';
import { AuthzBuilder, mergeAuthz, newAuthzConf, type AuthzConf } from './authz.js';
import { argValues, sectionKey, type ModelNote } from './conditions.js';
import { ALL_METHODS, methodSet, type MethodSet } from './methods.js';
import { applyOptions, mergeOptions, newOptions, OPT_ALL, OPT_MULTI, OPT_SYM_OWNER, parseAllowOpts, type OptionsConf } from './options.js';
import { parseAllowOverride } from './overrides.js';
import { compilePcre, type Compiled } from './regex.js';

export interface Setting<T> {
  value: T;
  by: Directive;
}

export interface RewriteCondEntry {
  test: string;
  pattern: string;
  flags: Set<string>;
  directive: Directive;
}

export interface RewriteRuleEntry {
  pattern: string;
  negate: boolean;
  re: Compiled;
  subst: string;
  /** Lower-case flag name → value ('' when none): f, g, l, r, nc, end, pt, qsa… */
  flags: Map<string, string>;
  conds: RewriteCondEntry[];
  directive: Directive;
}

export interface RewriteConf {
  state: boolean | null;
  stateBy: Directive | null;
  inherit: 'none' | 'after' | 'before';
  rules: RewriteRuleEntry[];
  /** The section path that owns the rules (rewrite_perdir_conf.directory); null at server level. */
  directory: string | null;
  pendingConds: RewriteCondEntry[];
}

export interface RedirectEntry {
  /** 3xx or another status (`Redirect 403 /x`). */
  status: number;
  /** Prefix (Redirect) or regex (RedirectMatch). */
  match: string;
  regex: Compiled | null;
  url: string | null;
  directive: Directive;
}

export interface AliasEntry {
  fake: string;
  real: string;
  regex: Compiled | null;
  script: boolean;
  directive: Directive;
}

/** A nested section carried by a per-dir config (`<Files>` inside `<Directory>` / .htaccess, `<If>`). */
export interface NestedSection {
  kind: 'files' | 'filesmatch' | 'if' | 'elseif' | 'else';
  directive: Directive;
  pattern: string;
  regex: Compiled | null;
  conf: DirConf;
}

export interface DirConf {
  options: OptionsConf;
  /** Options directives merged so far, in merge order. */
  optionsBy: Directive[];
  override: {
    classes: Set<string>;
    nonfatal: Set<'override' | 'unknown'>;
    by: Directive;
  } | null;
  overrideOpts: number | null;
  overrideList: Setting<Set<string>> | null;
  handler: Setting<string> | null;
  /** mod_mime AddHandler: extension (lower-case, no dot) → handler. */
  addHandlers: Map<string, Setting<string>>;
  authType: Setting<string> | null;
  /** mod_authn_file's AuthUserFile (as written; relative to ServerRoot). */
  authUserFile: Setting<string> | null;
  /** mod_auth_basic's AuthBasicProvider list (lower-case; null: the default `file`). */
  authBasicProvider: Setting<string[]> | null;
  /** True when this section used an authz_core directive. */
  authzSet: boolean;
  authz: AuthzConf;
  compat: AccessCompatConf | null;
  rewrite: RewriteConf | null;
  redirects: RedirectEntry[];
  dirIndex: Setting<string[]> | null;
  dirSlash: Setting<boolean> | null;
  /** mod_ssl `SSLRequireSSL` in force (a flag: once set, nested sections cannot clear it). */
  sslRequireSSL: Directive | null;
  /** mod_setenvif SetEnvIf/SetEnvIfNoCase/BrowserMatch/BrowserMatchNoCase/SetEnvIfExpr, in merge order
   * (they run in header_parser, before the access checks). */
  envIf: Directive[];
  /** mod_env SetEnv/UnsetEnv (they run in fixups, after the access checks). */
  setEnv: Directive[];
  /** Files/FilesMatch/If sections nested in this config (core's sec_file / sec_if, appended on merge). */
  nested: NestedSection[];
  /** Sections merged to reach this config, in order (for traces). */
  trail: { label: string; directive: Directive | null }[];
}

export function emptyDirConf(server = false): DirConf {
  return {
    options: newOptions(server),
    optionsBy: [],
    override: null,
    overrideOpts: null,
    overrideList: null,
    handler: null,
    addHandlers: new Map(),
    authType: null,
    authUserFile: null,
    authBasicProvider: null,
    authzSet: false,
    authz: newAuthzConf(),
    compat: null,
    rewrite: null,
    redirects: [],
    dirIndex: null,
    dirSlash: null,
    sslRequireSSL: null,
    envIf: [],
    setEnv: [],
    nested: [],
    trail: [],
  };
}

export function newRewriteConf(directory: string | null): RewriteConf {
  return { state: null, stateBy: null, inherit: 'none', rules: [], directory, pendingConds: [] };
}

/** Split a `[F,L,R=301]` flag list. */
export function parseRewriteFlags(s: string | undefined): Map<string, string> {
  const m = new Map<string, string>();
  if (!s) return m;
  const body = s.replace(/^\[/, '').replace(/\]$/, '');
  for (const part of body.split(',')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    const k = (eq >= 0 ? p.slice(0, eq) : p).toLowerCase();
    const v = eq >= 0 ? p.slice(eq + 1) : '';
    m.set(FULL_FLAG.get(k) ?? k, v);
  }
  return m;
}

/** Long flag names and their short forms (made once, not per flag read). */
const FULL_FLAG = new Map<string, string>([
  ['forbidden', 'f'],
  ['gone', 'g'],
  ['last', 'l'],
  ['redirect', 'r'],
  ['nocase', 'nc'],
  ['passthrough', 'pt'],
  ['next', 'n'],
  ['chain', 'c'],
  ['skip', 's'],
  ['type', 't'],
  ['handler', 'h'],
  ['env', 'e'],
]);

const REDIRECT_WORDS: Record<string, number> = { permanent: 301, temp: 302, seeother: 303, gone: 410 };

/** Parse Redirect/RedirectMatch/RedirectPermanent/RedirectTemp (mod_alias add_redirect_internal). */
export function parseRedirect(d: Directive): RedirectEntry | string {
  const a = argValues(d);
  const k = d.key;
  let status = 302;
  let i = 0;
  if (k === 'redirectpermanent') status = 301;
  else if (k === 'redirecttemp') status = 302;
  else if (a.length > 0 && (a[0].toLowerCase() in REDIRECT_WORDS || /^\d{3}$/.test(a[0]))) {
    status = REDIRECT_WORDS[a[0].toLowerCase()] ?? Number(a[0]);
    i = 1;
  }
  const match = a[i];
  const url = a[i + 1] ?? null;
  if (match === undefined) return `${d.name} needs a URL-path`;
  const is3xx = status >= 300 && status < 400;
  if (is3xx && !url) return 'URL to redirect to is missing';
  if (!is3xx && url) return 'Redirect URL not valid for this status';
  const regex = k === 'redirectmatch' ? compilePcre(match) : null;
  return { status, match, regex, url, directive: d };
}

export interface CompileContext {
  kind: 'server' | 'directory' | 'directorymatch' | 'files' | 'filesmatch' | 'location' | 'locationmatch' | 'if' | 'htaccess';
  /** The section path (Directory path with trailing slash, .htaccess directory…). */
  path: string | null;
  notes: ModelNote[];
  knownProvider: (name: string) => boolean;
  /** Options allowed (AllowOverride Options=…) in .htaccess. */
  optsAllowed?: number;
  /** Server-level sinks for top-level directives that are server config, not per-dir. */
  server?: { rewrite: RewriteConf; redirects: RedirectEntry[]; aliases: AliasEntry[] };
  /** The section directive being compiled (recorded in `owners`). */
  section?: Directive | null;
  /** The model's record of which section each compiled directive belongs to (ApacheModel.owners). */
  owners: WeakMap<Directive, DirectiveOwner>;
}

/** The directive children of a block (comments dropped). */
export function kids(d: Directive): Directive[] {
  return (d.block ?? []).filter((n): n is Directive => n.type === 'directive');
}

const NESTED_KINDS = new Set(['files', 'filesmatch', 'if', 'elseif', 'else']);

/** Where a directive sits: its section (null at server level / .htaccess top) and enclosing `<Limit>`. */
export interface DirectiveOwner {
  section: Directive | null;
  limit: Directive | null;
  kind: CompileContext['kind'];
  path: string | null;
}

/** Compile the directives of one section (children already flattened) into its own config. */
export function compileSection(directives: Directive[], ctx: CompileContext): DirConf {
  const conf = emptyDirConf(ctx.kind === 'server');
  const builder = new AuthzBuilder(conf.authz);
  const err = (d: Directive, message: string) => ctx.notes.push({ directive: d, message, severity: 'error' });

  const visit = (list: Directive[], limited: MethodSet, inLimit: boolean, limitDir: Directive | null = null): string | null => {
    for (const d of list) {
      if (!ctx.owners.has(d)) ctx.owners.set(d, { section: ctx.section ?? null, limit: limitDir, kind: ctx.kind, path: ctx.path });
      const k = sectionKey(d);
      const args = argValues(d);
      switch (k) {
        case 'options': {
          const e = applyOptions(conf.options, args, ctx.optsAllowed ?? 0xff);
          if (e) err(d, e);
          else conf.optionsBy.push(d);
          break;
        }
        case 'allowoverride': {
          if (ctx.kind !== 'directory') {
            if (ctx.kind !== 'directorymatch')
              ctx.notes.push({
                directive: d,
                message: `AllowOverride has no effect in <${ctx.kind}> (httpd reads it only in non-regex <Directory>)`,
                severity: 'warning',
              });
            break;
          }
          const p = parseAllowOverride(args);
          if (typeof p === 'string') {
            err(d, p);
            break;
          }
          conf.override = { classes: p.classes, nonfatal: p.nonfatal, by: d };
          if (p.classes.has('Options'))
            conf.overrideOpts = p.optsList !== null ? parseAllowOpts(p.optsList) : p.all ? OPT_ALL | OPT_SYM_OWNER | OPT_MULTI : OPT_ALL;
          break;
        }
        case 'allowoverridelist': {
          if (ctx.kind !== 'directory') break;
          const names = new Set(args.filter((x) => x.toLowerCase() !== 'none').map((x) => x.toLowerCase()));
          conf.overrideList = { value: names, by: d };
          break;
        }
        case 'sethandler':
          conf.handler = { value: (args[0] ?? '').toLowerCase(), by: d };
          break;
        case 'addhandler':
          for (const ext of args.slice(1))
            conf.addHandlers.set(ext.replace(/^\./, '').toLowerCase(), { value: (args[0] ?? '').toLowerCase(), by: d });
          break;
        case 'removehandler':
          for (const ext of args) conf.addHandlers.set(ext.replace(/^\./, '').toLowerCase(), { value: '', by: d });
          break;
        case 'authtype':
          conf.authType = { value: args[0] ?? '', by: d };
          break;
        case 'authuserfile':
          conf.authUserFile = { value: args[0] ?? '', by: d };
          break;
        case 'authbasicprovider':
          conf.authBasicProvider = { value: args.map((a) => a.toLowerCase()), by: d };
          break;
        case 'require': {
          conf.authzSet = true;
          const e = builder.require(d, limited, ctx.knownProvider);
          if (e) return e;
          break;
        }
        case 'requireall':
        case 'requireany':
        case 'requirenone':
        case 'requirenotall': {
          conf.authzSet = true;
          const e = builder.container(d, () => visit(kids(d), limited, inLimit, limitDir));
          if (e) return e;
          break;
        }
        case 'authmerging': {
          conf.authzSet = true;
          const v = (args[0] ?? '').toLowerCase();
          if (v === 'off' || v === 'and' || v === 'or') {
            conf.authz.op = v;
            conf.authz.opDirective = d;
          } else err(d, 'AuthMerging must be one of: Off | And | Or');
          break;
        }
        case 'authzsendforbiddenonfailure':
          conf.authzSet = true;
          conf.authz.forbiddenOnFail = (args[0] ?? '').toLowerCase() === 'on';
          break;
        case 'order':
        case 'allow':
        case 'deny':
        case 'satisfy': {
          conf.compat ??= newAccessCompat(d);
          const e = applyAccessCompat(conf.compat, d, limited);
          if (e) err(d, e);
          break;
        }
        case 'limit':
        case 'limitexcept': {
          if (inLimit) {
            err(d, `<${d.name}> cannot be nested in another <Limit>`);
            break;
          }
          const e = visit(kids(d), methodSet(args, k === 'limitexcept'), true, d);
          if (e) return e;
          break;
        }
        case 'rewriteengine':
        case 'rewriterule':
        case 'rewritecond':
        case 'rewriteoptions': {
          const server = ctx.kind === 'server' && ctx.server;
          const rw = server ? ctx.server!.rewrite : (conf.rewrite ??= newRewriteConf(ctx.path));
          if (k === 'rewriteengine') {
            rw.state = (args[0] ?? '').toLowerCase() === 'on';
            rw.stateBy = d;
          } else if (k === 'rewriteoptions') {
            for (const o of args.map((x) => x.toLowerCase())) {
              if (o === 'inherit') rw.inherit = 'after';
              else if (o === 'inheritbefore') rw.inherit = 'before';
            }
          } else if (k === 'rewritecond') {
            const rargs = rewriteArgs(d);
            rw.pendingConds.push({
              test: rargs[0] ?? '',
              pattern: rargs[1] ?? '',
              flags: new Set(parseRewriteFlags(rargs[2]).keys()),
              directive: d,
            });
          } else {
            const rargs = rewriteArgs(d);
            let pat = rargs[0] ?? '';
            const negate = pat.startsWith('!');
            if (negate) pat = pat.slice(1);
            const flags = parseRewriteFlags(rargs[2]);
            rw.rules.push({
              pattern: pat,
              negate,
              re: compilePcre(pat, flags.has('nc')),
              subst: rargs[1] ?? '-',
              flags,
              conds: rw.pendingConds,
              directive: d,
            });
            rw.pendingConds = [];
          }
          break;
        }
        case 'redirect':
        case 'redirectmatch':
        case 'redirectpermanent':
        case 'redirecttemp': {
          const r = parseRedirect(d);
          if (typeof r === 'string') err(d, r);
          else if (ctx.kind === 'server' && ctx.server) ctx.server.redirects.push(r);
          else conf.redirects.push(r);
          break;
        }
        case 'alias':
        case 'aliasmatch':
        case 'scriptalias':
        case 'scriptaliasmatch': {
          if (ctx.kind === 'server' && ctx.server && args.length >= 2) {
            const regex = k.endsWith('match') ? compilePcre(args[0]) : null;
            ctx.server.aliases.push({ fake: args[0], real: args[1], regex, script: k.startsWith('script'), directive: d });
          }
          break;
        }
        case 'directoryindex':
          conf.dirIndex = { value: args.length === 1 && args[0].toLowerCase() === 'disabled' ? [] : args, by: d };
          break;
        case 'setenvif':
        case 'setenvifnocase':
        case 'browsermatch':
        case 'browsermatchnocase':
        case 'setenvifexpr':
          conf.envIf.push(d);
          break;
        case 'setenv':
        case 'unsetenv':
          conf.setEnv.push(d);
          break;
        case 'sslrequiressl':
          conf.sslRequireSSL = d;
          break;
        case 'directoryslash':
          conf.dirSlash = { value: (args[0] ?? '').toLowerCase() !== 'off', by: d };
          break;
        default:
          if (d.block && NESTED_KINDS.has(k) && ctx.kind !== 'server') {
            conf.nested.push(compileNested(d, ctx));
          }
      }
    }
    return null;
  };
  let e: string | null;
  try {
    e = visit(directives, ALL_METHODS, false);
  } catch (x) {
    // Only a stack overflow on absurdly deep nesting can get here; report it, keep what was compiled.
    e = `section too deeply nested to model (${(x as Error).message})`;
  }
  if (e) ctx.notes.push({ directive: directives[0], message: e, severity: 'error' });
  return conf;
}

/** Compile a `<Files>`/`<FilesMatch>`/`<If>` section (also used for top-level ones). */
export function compileNested(d: Directive, ctx: CompileContext): NestedSection {
  const k = sectionKey(d) as NestedSection['kind'];
  const args = argValues(d);
  let pattern = args[0] ?? '';
  let regex: Compiled | null = null;
  let kind = k;
  if (k === 'files' && pattern === '~') {
    pattern = args[1] ?? '';
    kind = 'filesmatch';
  }
  if (kind === 'filesmatch') regex = compilePcre(pattern);
  if (k === 'if' || k === 'elseif') pattern = args.join(' ');
  const conf = compileSection(kids(d), {
    ...ctx,
    kind: kind === 'files' || kind === 'filesmatch' ? kind : 'if',
    path: pattern,
    server: undefined,
    section: d,
  });
  return { kind, directive: d, pattern, regex, conf };
}

/** Work counters for the algorithmic-shape test (test/scale-shape.test.ts) and benchmarks: how many
 * per-dir configs were merged, and how many merges were answered from the memo instead. Only ever
 * incremented; read the difference around a run. */
export const dirConfStats = { merges: 0, reused: 0 };

/**
 * Merges already made: base → next → result. A DirConf is never changed once made (compileSection
 * fills a fresh one; every merge returns a new object), so merging the same two configs again gives
 * the same config. Simulated requests walk the same `<Directory>` chains over and over (two lint
 * probes per served root and section, every proof): with the memo each chain is merged once per
 * model, and since a memoized result is the `base` of the next level, whole paths are cached. Weak on
 * both keys: a .htaccess config compiled for one request does not keep its merges alive.
 */
const mergeMemo = new WeakMap<DirConf, WeakMap<DirConf, { label: string; by: Directive | null; out: DirConf }>>();

/** ap_merge_per_dir_configs restricted to the modules the model knows. */
export function mergeDirConf(base: DirConf, next: DirConf, label: string, by: Directive | null): DirConf {
  let byNext = mergeMemo.get(base);
  const hit = byNext?.get(next);
  if (hit && hit.label === label && hit.by === by) {
    dirConfStats.reused++;
    return hit.out;
  }
  const out = merge(base, next, label, by);
  if (!byNext) mergeMemo.set(base, (byNext = new WeakMap()));
  byNext.set(next, { label, by, out });
  return out;
}

function merge(base: DirConf, next: DirConf, label: string, by: Directive | null): DirConf {
  dirConfStats.merges++;
  const out: DirConf = { ...base };
  out.options = mergeOptions(base.options, next.options);
  out.optionsBy = next.options.opts & 16 /* OPT_UNSET */ ? [...base.optionsBy, ...next.optionsBy] : [...next.optionsBy];
  if (next.override) out.override = next.override;
  if (next.overrideOpts !== null) out.overrideOpts = next.overrideOpts;
  if (next.overrideList) out.overrideList = next.overrideList;
  if (next.handler) out.handler = next.handler;
  if (next.addHandlers.size) {
    out.addHandlers = new Map(base.addHandlers);
    for (const [k, v] of next.addHandlers) out.addHandlers.set(k, v);
  }
  if (next.authType) out.authType = next.authType;
  if (next.authUserFile) out.authUserFile = next.authUserFile;
  if (next.authBasicProvider) out.authBasicProvider = next.authBasicProvider;
  if (next.authzSet) out.authz = mergeAuthz(base.authz, next.authz);
  if (next.compat) out.compat = next.compat;
  if (next.rewrite) {
    const b = base.rewrite;
    const n = next.rewrite;
    out.rewrite = {
      state: n.state !== null ? n.state : b ? b.state : null,
      stateBy: n.state !== null ? n.stateBy : b ? b.stateBy : null,
      inherit: n.inherit,
      rules: n.inherit === 'after' && b ? [...n.rules, ...b.rules] : n.inherit === 'before' && b ? [...b.rules, ...n.rules] : n.rules,
      directory: n.directory,
      pendingConds: [],
    };
  }
  if (next.redirects.length) out.redirects = [...next.redirects, ...base.redirects];
  if (next.dirIndex) out.dirIndex = next.dirIndex;
  if (next.dirSlash) out.dirSlash = next.dirSlash;
  if (next.sslRequireSSL) out.sslRequireSSL = next.sslRequireSSL;
  if (next.nested.length) out.nested = [...base.nested, ...next.nested];
  if (next.envIf.length) out.envIf = [...base.envIf, ...next.envIf];
  if (next.setEnv.length) out.setEnv = [...base.setEnv, ...next.setEnv];
  out.trail = [...base.trail, { label, directive: by }];
  return out;
}

/** RewriteRule/RewriteCond arguments as mod_rewrite reads them: its own parser (parseargline, "which
 * doesn't have the '\\' problem") removes the quotes but keeps every backslash, where core's
 * substring_conf would turn `\\` into `\`. (An argument with a `${…}` define keeps the loader's value.) */
function rewriteArgs(d: Directive): string[] {
  return d.args.map((a) =>
    a.raw.includes('${') ? a.value : a.quote && a.raw.endsWith(a.quote) && a.raw.length > 1 ? a.raw.slice(1, -1) : a.raw,
  );
}
