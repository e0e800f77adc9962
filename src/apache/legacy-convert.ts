/**
 * Apache 2.2 → 2.4: converting a section's mod_access_compat lines (`Order`, `Allow`, `Deny`,
 * `Satisfy`) to the mod_authz_core block (`Require`, `<RequireAll>`, `<RequireAny>`) that decides the
 * same, for `--fix` (rules/apache-legacy-access-control.ts).
 *
 * What the lines decide on Apache 2.4 (modules/aaa/mod_access_compat.c, server/request.c):
 *
 * - check_dir_access: `Order allow,deny` (and `mutual-failure`) passes when an Allow line matches and
 *   no Deny line does; `Order deny,allow` (the default) passes when an Allow line matches or no Deny
 *   line does. The order of the Allow and Deny lines in the file does not matter.
 * - The module has no merge function: a section that uses any of the four directives replaces the
 *   inherited lists, Order and Satisfy entirely (src/apache/model/access-compat.ts).
 * - `Satisfy All` (and unset): the request must pass check_dir_access *and* the Require lines in
 *   force; `Satisfy Any`: passing check_dir_access skips the Require lines, failing it leaves the
 *   decision to them.
 *
 * The converted block is the section's own Require block (AuthMerging Off, the default: it replaces
 * the inherited Require lines), so it must say what the legacy lines said *together with* what the
 * section inherited or holds itself. It is emitted only when that is provable from the linted files:
 *
 * - the Require lines that may be inherited are absent or grant everyone (`Require all granted`), or
 *   the legacy lines deny everyone (then `Require all denied` decides alone);
 * - with `Satisfy Any`, the section's own Require lines are kept and the converted alternatives are
 *   added beside them (the section's implicit `<RequireAny>`);
 * - sections that may apply after it (deeper `<Directory>`, `<Files>`, `<Location>`, `<If>`, nested
 *   sections) and set their own Require lines would replace the converted block where the legacy lines
 *   used to apply too: the conversion is withheld unless their lines agree (e.g. `Require all denied`
 *   below a section that allows some addresses);
 * - a legacy section that cannot be converted keeps its lines, and so does every legacy section that
 *   may apply above or below it (mod_access_compat's replacement would otherwise change hands).
 *
 * Outside the linted files nothing is known: a .htaccess linted alone is assumed to sit in a directory
 * whose main config grants (`Require all granted`), and later `<Files>`/`<Location>` sections of that
 * main config are assumed not to set Require lines. Each conversion is checked against the model
 * (checkAccessCompat and evaluateAuthz on a request matrix: addresses inside and outside every range,
 * every environment variable set and unset, every method, with and without a user) before it is offered.
 */
import type { ConfigSet, Directive, Node } from '../ast.js';
import type { Fix } from '../rule.js';
import { SourceFile } from '../source.js';
import { parseApache } from './parser.js';
import { expansionOf } from './macro.js';
import { applyAccessCompat, checkAccessCompat, newAccessCompat, satisfyFor, type AccessCompatConf } from './model/access-compat.js';
import {
  AuthzBuilder,
  evaluateAuthz,
  newAuthzConf,
  mergeAuthz,
  type AuthzConf,
  type AuthzProviderNode,
  type ProviderVerdict,
} from './model/authz.js';
import { sectionKey } from './model/conditions.js';
import { ALL_METHODS, isAll } from './model/methods.js';
import { parseSubnet, subnetMatches, type Subnet } from './model/net.js';

export const LEGACY_KEYS = new Set(['order', 'allow', 'deny', 'satisfy']);
const AUTHZ_KEYS = new Set(['require', 'requireall', 'requireany', 'requirenone', 'requirenotall', 'authmerging']);
const SECTION_KEYS = new Set(['directory', 'directorymatch', 'files', 'filesmatch', 'location', 'locationmatch', 'if', 'elseif', 'else']);
const WRAPPER_KEYS = new Set(['ifmodule', 'ifversion', 'ifdefine', 'ifdirective', 'ifsection', 'iffile']);

/** Merge order of per-directory sections (server/request.c): directories, then regex directories,
 * files, locations, `<If>`. A .htaccess is read with its directory. */
const RANK: Record<string, number> = {
  htaccess: 1,
  directory: 1,
  directorymatch: 2,
  files: 3,
  filesmatch: 3,
  location: 4,
  locationmatch: 4,
  if: 5,
  elseif: 5,
  else: 5,
};

/** One section (or a .htaccess file's top level) with what the conversion needs to know. */
export interface AccessSection {
  /** The section directive; null for the top level of a .htaccess. */
  owner: Directive | null;
  kind: string;
  /** Normalised path of a literal `<Directory>` or the .htaccess directory (trailing slash); null otherwise. */
  path: string | null;
  /** Reading order of the section's start (across files), for "later section" tests. */
  order: number;
  /** Enclosing sections (outermost first), for nesting tests. */
  ancestors: Directive[];
  /** The section's own legacy lines (not guarded), in reading order. */
  legacy: Directive[];
  /** Why the legacy lines cannot be converted, from where they stand (`<Limit>`, `<IfModule>`…). */
  placement: string | null;
  /** The section's own Require lines and containers (top-level ones, possibly inside wrappers), and AuthMerging. */
  authz: Directive[];
  authType: Directive | null;
  /** Some of the section's Require lines are limited to methods (`<Limit>`). */
  limitedAuthz: boolean;
  htaccess: boolean;
}

export interface LegacyConversion {
  section: AccessSection;
  /** The fix (one text edit over the legacy lines' range), or null with `reason`. */
  fix: Fix | null;
  /** The new block, one line per entry, without indentation (empty: the lines are only removed). */
  block: string[];
  reason: string | null;
}

function normDir(p: string): string {
  let s = p.replace(/\/+/g, '/');
  if (!s.endsWith('/')) s += '/';
  return s;
}

/** Paths whose extent is unknown: wildcards, relative paths. */
const WILD = /[*?[]|^[^/$]/;

/** Two literal paths can be compared as strings: both absolute, or both under the same `${VAR}`. */
function comparable(a: string, b: string): boolean {
  if (WILD.test(a) || WILD.test(b)) return false;
  const va = /^\$\{[^}]*\}/.exec(a)?.[0] ?? '';
  const vb = /^\$\{[^}]*\}/.exec(b)?.[0] ?? '';
  return va === vb;
}

/** Every section of the set that has legacy or Require lines. `isGuarded(parents)`: the lines are dead on 2.4. */
export function accessSections(set: ConfigSet, isGuarded: (parents: Directive[]) => boolean): AccessSection[] {
  const bySection = new Map<Directive | null, AccessSection>();
  const htaccess = set.root.context === 'htaccess';
  let order = 0;
  const seen = new Map<Directive, number>();
  const get = (owner: Directive | null, ancestors: Directive[]): AccessSection => {
    let s = bySection.get(owner);
    if (!s) {
      const kind = owner ? sectionKey(owner) : htaccess ? 'htaccess' : 'server';
      let path: string | null = null;
      if (owner && kind === 'directory' && owner.args.length === 1 && owner.args[0].value !== '~') path = normDir(owner.args[0].value);
      if (!owner && htaccess) path = normDir(set.root.htaccessDir ?? set.root.source.path.replace(/\/[^/]*$/, ''));
      s = {
        owner,
        kind,
        path,
        order: owner ? (seen.get(owner) ?? 0) : 0,
        ancestors,
        legacy: [],
        placement: null,
        authz: [],
        authType: null,
        limitedAuthz: false,
        htaccess,
      };
      bySection.set(owner, s);
    }
    return s;
  };
  walkSet(set, (d, parents) => {
    seen.set(d, ++order);
    const k = sectionKey(d);
    let ownerIdx = -1;
    for (let i = parents.length - 1; i >= 0; i--) {
      const pk = sectionKey(parents[i]);
      if (SECTION_KEYS.has(pk) || pk === 'virtualhost') {
        ownerIdx = i;
        break;
      }
    }
    const ownerDir = ownerIdx >= 0 && sectionKey(parents[ownerIdx]) !== 'virtualhost' ? parents[ownerIdx] : null;
    const between = parents.slice(ownerIdx + 1);
    const sectionAncestors = parents.slice(0, Math.max(ownerIdx, 0)).filter((p) => SECTION_KEYS.has(sectionKey(p)));
    if (k === 'use' && !d.expansion) {
      // a macro use that was not expanded (unknown here, or refused): what it adds to the section is unknown
      get(ownerDir, sectionAncestors).placement ??=
        `\`Use ${d.args.map((a) => a.raw).join(' ')}\` (line ${d.span.start.line}) was not expanded, so what it adds to the section is unknown; convert by hand`;
      return;
    }
    if (LEGACY_KEYS.has(k)) {
      if (isGuarded(parents)) return;
      const s = get(ownerDir, sectionAncestors);
      s.legacy.push(d);
      const use = expansionOf(d);
      if (use)
        s.placement ??= `the lines come from a macro (\`Use ${use.args.map((a) => a.raw).join(' ')}\`, line ${use.span.start.line}); convert them in the macro by hand`;
      if (!ownerDir && !htaccess) s.placement ??= `${d.name} is not allowed at server level (only in sections and .htaccess)`;
      const limit = between.find((p) => ['limit', 'limitexcept'].includes(sectionKey(p)));
      const wrap = between.find((p) => WRAPPER_KEYS.has(sectionKey(p)));
      if (limit)
        s.placement ??= `the lines are limited to methods by <${limit.name}> (line ${limit.span.start.line}); convert them by hand`;
      else if (wrap)
        s.placement ??= `the lines stand inside <${wrap.name} ${wrap.args.map((a) => a.raw).join(' ')}> (line ${wrap.span.start.line}); convert them by hand`;
    } else if (AUTHZ_KEYS.has(k)) {
      // Only the section's top-level items (containers are entered by the section's own walk).
      const limited = between.some((p) => ['limit', 'limitexcept'].includes(sectionKey(p)));
      if (between.some((p) => !WRAPPER_KEYS.has(sectionKey(p)) && !['limit', 'limitexcept'].includes(sectionKey(p)))) return;
      if (isGuarded(parents)) return;
      const s = get(ownerDir, sectionAncestors);
      s.authz.push(d);
      if (limited) s.limitedAuthz = true;
    } else if (k === 'authtype') {
      if (isGuarded(parents)) return;
      get(ownerDir, sectionAncestors).authType ??= d;
    }
  });
  for (const s of bySection.values()) if (s.owner) s.order = seen.get(s.owner) ?? 0;
  return [...bySection.values()].sort((a, b) => a.order - b.order);
}

/** Visit every directive with its parents (includes expanded; `<Require…>` containers not entered). */
function walkSet(set: ConfigSet, visit: (d: Directive, parents: Directive[]) => void): void {
  const onPath = new Set<string>();
  const rec = (nodes: Node[], parents: Directive[], depth: number) => {
    if (depth > 300) return;
    for (const n of nodes) {
      if (n.type !== 'directive') continue;
      visit(n, parents);
      if (n.includes && n.includes.length) {
        for (const p of n.includes) {
          const f = set.files.get(p);
          if (!f || onPath.has(p)) continue;
          onPath.add(p);
          rec(f.nodes, parents, depth + 1);
          onPath.delete(p);
        }
      }
      const k = sectionKey(n);
      // mod_macro: a Use reads as its expansion, in place; a <Macro> body is stored unread
      if (n.expansion) rec(n.expansion, parents, depth + 1);
      else if (n.block && k !== 'macro' && !k.startsWith('require')) rec(n.block, [...parents, n], depth + 1);
    }
  };
  onPath.add(set.root.source.path);
  rec(set.root.nodes, [], 0);
}

// ---------------------------------------------------------------------------------------------
// The decision of the legacy lines, as a Require block

interface Atoms {
  all: boolean;
  ips: string[];
  envs: string[];
}

type Compat = { ok: true; conf: AccessCompatConf; allow: Atoms; deny: Atoms } | { ok: false; reason: string };

function readCompat(lines: Directive[]): Compat {
  const conf = newAccessCompat(lines[0]);
  for (const d of lines) {
    const e = applyAccessCompat(conf, d);
    if (e) return { ok: false, reason: `\`${d.name}\` (line ${d.span.start.line}) is an error for httpd: ${e}` };
  }
  const allow: Atoms = { all: false, ips: [], envs: [] };
  const deny: Atoms = { all: false, ips: [], envs: [] };
  for (const e of conf.entries) {
    const t = e.allow ? allow : deny;
    if (e.type === 'all') t.all = true;
    else if (e.type === 'ip') t.ips.push(e.value);
    else if (e.type === 'env') t.envs.push(e.value);
    else if (e.type === 'nenv')
      return {
        ok: false,
        reason: `\`${e.directive.name} from env=!${e.value}\` (line ${e.directive.span.start.line}) has no one-line Require form; convert it by hand`,
      };
    else
      return {
        ok: false,
        reason: `host name \`${e.value}\` (line ${e.directive.span.start.line}) is matched by a double-reverse DNS lookup of the client, which why403 cannot check; convert it by hand to \`Require host ${e.value}\``,
      };
  }
  return { ok: true, conf, allow, deny };
}

/** A Require tree as lines with nesting: `['Require ip 10.0.0.0/8']`, or a container with children. */
type Item = string | { open: string; close: string; items: Item[] };

const positives = (a: Atoms): Item[] => {
  const out: Item[] = [];
  if (a.ips.length) out.push(`Require ip ${a.ips.join(' ')}`);
  if (a.envs.length) out.push(`Require env ${a.envs.join(' ')}`);
  return out;
};
const negatives = (a: Atoms): Item[] => {
  const out: Item[] = [];
  if (a.ips.length) out.push(`Require not ip ${a.ips.join(' ')}`);
  if (a.envs.length) out.push(`Require not env ${a.envs.join(' ')}`);
  return out;
};
const any = (items: Item[]): Item => (items.length === 1 ? items[0] : { open: '<RequireAny>', close: '</RequireAny>', items });
const allOf = (items: Item[]): Item => ({ open: '<RequireAll>', close: '</RequireAll>', items });

/** The compat decision: 'true' (everyone passes), 'false' (no one), or the items of an implicit
 * `<RequireAny>` that grant exactly the requests that pass. */
function decision(c: { conf: AccessCompatConf; allow: Atoms; deny: Atoms }): 'true' | 'false' | Item[] {
  const order = c.conf.orders.length ? c.conf.orders[c.conf.orders.length - 1].order : 'deny,allow';
  const { allow: A, deny: D } = c;
  const aEmpty = !A.all && !A.ips.length && !A.envs.length;
  const dEmpty = !D.all && !D.ips.length && !D.envs.length;
  if (order === 'deny,allow') {
    // passes when an Allow matches or no Deny does
    if (A.all || dEmpty) return 'true';
    if (D.all) return aEmpty ? 'false' : positives(A);
    const notD = allOf(['Require all granted', ...negatives(D)]);
    return aEmpty ? [notD] : [...positives(A), notD];
  }
  // allow,deny and mutual-failure: an Allow must match and no Deny may
  if (D.all || aEmpty) return 'false';
  if (A.all) return dEmpty ? 'true' : [allOf(['Require all granted', ...negatives(D)])];
  if (dEmpty) return positives(A);
  return [allOf([any(positives(A)), ...negatives(D)])];
}

function render(items: Item[], indent: string, unit: string, eol: string): string {
  let out = '';
  const rec = (list: Item[], ind: string) => {
    for (const it of list) {
      if (typeof it === 'string') out += `${ind}${it}${eol}`;
      else {
        out += `${ind}${it.open}${eol}`;
        rec(it.items, ind + unit);
        out += `${ind}${it.close}${eol}`;
      }
    }
  };
  rec(items, indent);
  return out;
}

function flatLines(items: Item[]): string[] {
  const out: string[] = [];
  const rec = (list: Item[], depth: number) => {
    for (const it of list) {
      if (typeof it === 'string') out.push('  '.repeat(depth) + it);
      else {
        out.push('  '.repeat(depth) + it.open);
        rec(it.items, depth + 1);
        out.push('  '.repeat(depth) + it.close);
      }
    }
  };
  rec(items, 0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sections that may apply above or below one another

function nestedIn(inner: AccessSection, outer: AccessSection): boolean {
  if (!outer.owner) return outer.htaccess && inner !== outer; // everything of a .htaccess is inside its top level
  return inner.ancestors.includes(outer.owner);
}

/** May `a` and `b` apply to one request? False only when both are literal `<Directory>` paths (or
 * .htaccess directories) neither of which contains the other. */
function mayOverlap(a: AccessSection, b: AccessSection): boolean {
  if (a.path && b.path && comparable(a.path, b.path) && !nestedIn(a, b) && !nestedIn(b, a))
    return a.path.startsWith(b.path) || b.path.startsWith(a.path);
  return true;
}

/** May `b` be merged after `a` for one request (so `b` overrides what `a` sets)? */
function mayFollow(a: AccessSection, b: AccessSection): boolean {
  if (a === b || !mayOverlap(a, b)) return false;
  if (nestedIn(b, a)) return true;
  if (nestedIn(a, b)) return false;
  const ra = RANK[a.kind] ?? 0;
  const rb = RANK[b.kind] ?? 0;
  if (rb !== ra) return rb > ra;
  if (a.path && b.path && !WILD.test(a.path) && !WILD.test(b.path))
    return b.path.length > a.path.length || (b.path === a.path && b.order > a.order);
  if (a.kind === 'directory' && b.kind === 'directory') return true; // wildcards: unknown
  return b.order > a.order;
}

// ---------------------------------------------------------------------------------------------
// Require trees of sections: only `Require all granted` / `Require all denied`?

function onlyAll(section: AccessSection, value: 'granted' | 'denied'): boolean {
  const rec = (ds: Directive[]): boolean =>
    ds.every((d) => {
      const k = sectionKey(d);
      if (k === 'authmerging') return true;
      if (k === 'require') return d.args.length === 2 && d.args[0].value.toLowerCase() === 'all' && d.args[1].value.toLowerCase() === value;
      if (k === 'requireall' || k === 'requireany') return rec((d.block ?? []).filter((n): n is Directive => n.type === 'directive'));
      if (k === 'limit' || k === 'limitexcept') return false;
      if (WRAPPER_KEYS.has(k)) return rec((d.block ?? []).filter((n): n is Directive => n.type === 'directive'));
      return false;
    });
  return section.authz.some((d) => sectionKey(d) !== 'authmerging') && rec(section.authz);
}

function mergingOf(section: AccessSection): string {
  let op = 'off';
  for (const d of section.authz) if (sectionKey(d) === 'authmerging') op = (d.args[0]?.value ?? '').toLowerCase();
  return op;
}
const hasRequire = (s: AccessSection) => s.authz.some((d) => sectionKey(d) !== 'authmerging');

const at = (s: AccessSection) =>
  s.owner
    ? `<${s.owner.name}${s.owner.args.length ? ' ' + s.owner.args.map((a) => a.raw).join(' ') : ''}> (line ${s.owner.span.start.line})`
    : 'the .htaccess';

// ---------------------------------------------------------------------------------------------
// Text edits

function lineStart(text: string, off: number): number {
  const i = text.lastIndexOf('\n', off - 1);
  return i + 1;
}
function lineEnd(text: string, off: number): number {
  const i = text.indexOf('\n', off);
  return i < 0 ? text.length : i + 1;
}

/** One edit from the first legacy line to the last: legacy lines removed, `block` at the first one. */
function edit(lines: Directive[], items: Item[]): Fix | string {
  const src = lines[0].source;
  if (lines.some((d) => d.source !== src)) return 'the lines are in several files (an Include inside the section)';
  const text = src.text;
  const sorted = [...lines].sort((a, b) => a.span.start.offset - b.span.start.offset);
  const start = lineStart(text, sorted[0].span.start.offset);
  const end = lineEnd(text, sorted[sorted.length - 1].span.end.offset);
  const first = text.slice(start, lineEnd(text, sorted[0].span.start.offset));
  const indent = /^[ \t]*/.exec(first)![0];
  if (text.slice(start, sorted[0].span.start.offset) !== indent) return 'another directive shares the line';
  const eol = /\r\n$/.test(first) ? '\r\n' : '\n';
  const unit = indentUnit(sorted[0], indent);
  let out = '';
  let at = start;
  let placed = false;
  for (const d of sorted) {
    const ls = lineStart(text, d.span.start.offset);
    const le = lineEnd(text, d.span.end.offset);
    if (ls < at) return 'two legacy directives share a line';
    out += text.slice(at, ls);
    if (!placed) {
      let block = render(items, indent, unit, eol);
      // the last line of a file without a final newline
      if (le === text.length && !text.endsWith('\n') && block.endsWith(eol)) block = block.slice(0, -eol.length);
      out += block;
      placed = true;
    }
    at = le;
  }
  out += text.slice(at, end);
  return { range: [start, end], text: out };
}

/** The file's indentation step: the section body's indent minus the section's, else 4 spaces (a tab
 * when the body is indented with tabs). */
function indentUnit(d: Directive, indent: string): string {
  if (indent.includes('\t')) return '\t';
  const text = d.source.text;
  const m = /\n([ \t]+)\S/.exec(text);
  if (m && m[1].startsWith('\t')) return '\t';
  return indent.length > 0 && indent.length < 4 && /^ +$/.test(indent) ? indent : '    ';
}

// ---------------------------------------------------------------------------------------------
// The check against the model

function representatives(specs: string[]): string[] {
  const out = new Set<string>(['127.0.0.1', '10.1.2.3', '192.0.2.1', '::1', '2001:db8::1', '0.0.0.0', '255.255.255.255']);
  const v4 = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
  for (const s of specs) {
    const sub: Subnet | null = parseSubnet(s);
    if (!sub) continue;
    if (sub.family === 4) {
      const a = sub.addr.reduce((x, b) => x * 256 + b, 0);
      const m = sub.mask.reduce((x, b) => x * 256 + b, 0);
      const lo = a;
      const hi = a + (0xffffffff - m);
      for (const n of [lo, hi, lo - 1, hi + 1]) if (n >= 0 && n <= 0xffffffff) out.add(v4(n));
    } else {
      const hex = (bytes: number[]) => {
        const g: string[] = [];
        for (let i = 0; i < 16; i += 2) g.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
        return g.join(':');
      };
      const lo = sub.addr.slice();
      const hi = sub.addr.map((b, i) => b | (~sub.mask[i] & 255));
      out.add(hex(lo));
      out.add(hex(hi));
      const next = hi.slice();
      for (let i = 15; i >= 0; i--) {
        if (next[i] < 255) {
          next[i]++;
          break;
        }
        next[i] = 0;
      }
      out.add(hex(next));
    }
  }
  return [...out];
}

type Verdict = 'grant' | 'deny' | 'user';

/** What the model says for one request: compat (with Satisfy) and the Require tree in force. */
function modelVerdict(
  compat: AccessCompatConf | null,
  authz: AuthzConf,
  req: { ip: string; env: Record<string, string>; method: string; user: boolean },
): Verdict {
  const provider = (p: AuthzProviderNode): ProviderVerdict => {
    const a = p.args;
    switch (p.name) {
      case 'all':
        return { result: a[0]?.toLowerCase() === 'granted' ? 'GRANTED' : 'DENIED', why: '' };
      case 'ip':
        return {
          result: a.some((s) => {
            const sub = parseSubnet(s);
            return !!sub && subnetMatches(sub, req.ip);
          })
            ? 'GRANTED'
            : 'DENIED',
          why: '',
        };
      case 'env':
        return { result: a.some((x) => x in req.env) ? 'GRANTED' : 'DENIED', why: '' };
      case 'method':
        return { result: a.map((x) => x.toUpperCase()).includes(req.method) ? 'GRANTED' : 'DENIED', why: '' };
      case 'valid-user':
        return { result: req.user ? 'GRANTED' : 'DENIED_NO_USER', why: '' };
      default:
        return { unknown: p.name, possible: ['GRANTED', 'DENIED'] };
    }
  };
  const authzResult = (): Verdict | null => {
    if (!authz.section) return 'grant';
    const r = evaluateAuthz(authz.section, req.method, provider);
    if (r.results.size !== 1) return null;
    const v = [...r.results.keys()][0];
    return v === 'GRANTED' ? 'grant' : v === 'DENIED_NO_USER' ? 'user' : 'deny';
  };
  if (compat) {
    const ok = checkAccessCompat(compat, { method: req.method, clientIp: req.ip, env: req.env }).result === 'ok';
    const { satisfy } = satisfyFor(compat, req.method);
    if (satisfy === 'any') return ok ? 'grant' : (authzResult() ?? 'deny');
    if (!ok) return 'deny';
  }
  return authzResult() ?? 'deny';
}

function compileAuthz(ds: Directive[]): AuthzConf | string {
  const conf = newAuthzConf();
  const b = new AuthzBuilder(conf);
  const rec = (list: Directive[]): string | null => {
    for (const d of list) {
      const k = sectionKey(d);
      if (k === 'require') {
        const e = b.require(d, ALL_METHODS, () => true);
        if (e) return e;
      } else if (k === 'authmerging') {
        const v = (d.args[0]?.value ?? '').toLowerCase();
        if (v === 'off' || v === 'and' || v === 'or') conf.op = v;
      } else if (k === 'requireall' || k === 'requireany' || k === 'requirenone' || k === 'requirenotall') {
        const e = b.container(d, () => rec((d.block ?? []).filter((n): n is Directive => n.type === 'directive')));
        if (e) return e;
      } else if (WRAPPER_KEYS.has(k)) {
        const e = rec((d.block ?? []).filter((n): n is Directive => n.type === 'directive'));
        if (e) return e;
      }
    }
    return null;
  };
  const e = rec(ds);
  return e ?? conf;
}

/** Compare the original section (legacy lines + own Require lines, under `inherited`) with the new
 * Require block on the request matrix. Returns the first request that differs, or null. */
function check(
  compat: AccessCompatConf,
  own: Directive[],
  block: Item[],
  inherited: 'granted' | 'denied' | 'none',
  envs: string[],
  ips: string[],
): string | null {
  const text = flatLines(block).join('\n') + '\n';
  const parsed = parseApache(new SourceFile('<converted>', text), { context: 'htaccess' });
  if (parsed.errors.length) return `the converted block does not parse: ${parsed.errors[0].message}`;
  const newDirs = parsed.nodes.filter((n): n is Directive => n.type === 'directive');
  const base = newAuthzConf();
  if (inherited !== 'none') {
    const g = parseApache(new SourceFile('<inherited>', `Require all ${inherited}\n`), { context: 'htaccess' });
    const c = compileAuthz(g.nodes.filter((n): n is Directive => n.type === 'directive'));
    if (typeof c !== 'string') Object.assign(base, c);
  }
  const ownConf = compileAuthz(own);
  if (typeof ownConf === 'string') return ownConf;
  const keptOwn = own.filter((d) => sectionKey(d) !== 'authmerging');
  const after = compileAuthz([...keptOwn, ...newDirs]);
  if (typeof after === 'string') return `the converted block is refused by httpd: ${after}`;
  if (after.op === 'unset') after.op = ownConf.op;
  const before = own.length ? mergeAuthz(base, { ...ownConf }) : base;
  const now = mergeAuthz(base, after);
  for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS']) {
    for (const ip of ips) {
      for (let mask = 0; mask < 1 << envs.length; mask++) {
        const env: Record<string, string> = {};
        envs.forEach((e, i) => {
          if (mask & (1 << i)) env[e] = '1';
        });
        for (const user of [false, true]) {
          const req = { ip, env, method, user };
          const a = modelVerdict(compat, before, req);
          const b = modelVerdict(null, now, req);
          if (a !== b)
            return `${method} from ${ip}${envs.length ? ` with ${JSON.stringify(env)}` : ''}${user ? ' as a user' : ''}: ${a} before, ${b} after`;
        }
      }
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The converter

export interface ConvertOptions {
  /** The legacy lines are dead on the target version (inside a guard). */
  isGuarded: (parents: Directive[]) => boolean;
  /** For a .htaccess: why Require lines cannot be written there (AllowOverride without AuthConfig), or null. */
  htaccessRequireRefused?: string | null;
  /** The set is a whole server config (LoadModule lines or a `<Directory />`): nothing is inherited
   * from outside it. Computed from the set when not given. */
  wholeConfig?: boolean;
}

function isWholeConfig(set: ConfigSet): boolean {
  for (const f of set.files.values()) {
    if (f.context === 'htaccess') continue;
    if (/^[ \t]*LoadModule\s/im.test(f.source.text) || /^[ \t]*<Directory\s+("\/"|\/)\s*>/im.test(f.source.text)) return true;
  }
  return false;
}

/** Convert every legacy section of the set, or say why not. */
export function convertLegacy(set: ConfigSet, opts: ConvertOptions): LegacyConversion[] {
  const sections = accessSections(set, opts.isGuarded);
  opts = { ...opts, wholeConfig: opts.wholeConfig ?? isWholeConfig(set) };
  const legacy = sections.filter((s) => s.legacy.length > 0);
  const plans = new Map<AccessSection, { items: Item[]; sigma: 'all' | 'any'; p: 'true' | 'false' | 'other' } | { reason: string }>();

  // A legacy section above whose lines this run removes without adding Require lines hands nothing
  // down: plan again with that knowledge until nothing changes (a single --fix pass then converts
  // what later passes would).
  const removes = (t: AccessSection) => {
    const q = plans.get(t);
    return !!q && !('reason' in q) && q.items.length === 0;
  };
  for (let round = 0; round < 8; round++) {
    let moved = false;
    for (const s of legacy) {
      const before = plans.get(s);
      const next = plan(s, sections, opts, removes);
      plans.set(s, next);
      if (!before || 'reason' in before !== 'reason' in next || JSON.stringify(before) !== JSON.stringify(next)) moved = true;
    }
    if (!moved) break;
  }
  // Every plan must hold with the others as they ended up.
  for (const s of legacy) {
    const q = plans.get(s)!;
    if ('reason' in q) continue;
    if (JSON.stringify(plan(s, sections, opts, removes)) !== JSON.stringify(q))
      plans.set(s, { reason: 'the conversions of the sections around this one do not settle; convert by hand' });
  }
  // Refusals spread: a legacy section that keeps its lines still replaces (or is replaced by) the
  // legacy lists of the sections above and below it.
  let changed = true;
  while (changed) {
    changed = false;
    for (const s of legacy) {
      const p = plans.get(s)!;
      if ('reason' in p) continue;
      for (const t of legacy) {
        const q = plans.get(t)!;
        if (t === s || !('reason' in q)) continue;
        // t keeps its legacy lines: where t is above s, removing s's lines hands s's requests to t's
        // lists (harmless when s's block denies everyone and t has no Satisfy Any).
        const denies = p.sigma === 'all' && p.p === 'false';
        const tAny = t.legacy.some((d) => sectionKey(d) === 'satisfy' && (d.args[0]?.value ?? '').toLowerCase() === 'any');
        if (mayFollow(t, s) && !(denies && !tAny)) {
          plans.set(s, { reason: `the legacy lines of ${at(t)} cannot be converted, and would apply here once these are gone` });
          changed = true;
          break;
        }
        // t below s: t's requests would inherit s's new Require block unless t has its own.
        const harmless = p.items.length === 0 || (p.items.length === 1 && p.items[0] === 'Require all granted');
        if (mayFollow(s, t) && !hasRequire(t) && !harmless) {
          plans.set(s, {
            reason: `the legacy lines of ${at(t)} cannot be converted, and the Require lines this conversion adds would apply there too`,
          });
          changed = true;
          break;
        }
      }
    }
  }
  const out: LegacyConversion[] = [];
  for (const s of legacy) {
    const p = plans.get(s)!;
    if ('reason' in p) {
      out.push({ section: s, fix: null, block: [], reason: p.reason });
      continue;
    }
    const f = edit(s.legacy, p.items);
    if (typeof f === 'string') out.push({ section: s, fix: null, block: flatLines(p.items), reason: f });
    else out.push({ section: s, fix: f, block: flatLines(p.items), reason: null });
  }
  return out;
}

function plan(
  s: AccessSection,
  all: AccessSection[],
  opts: ConvertOptions,
  removed: (t: AccessSection) => boolean,
): { items: Item[]; sigma: 'all' | 'any'; p: 'true' | 'false' | 'other' } | { reason: string } {
  if (s.placement) return { reason: s.placement };
  if (s.htaccess && opts.htaccessRequireRefused) return { reason: opts.htaccessRequireRefused };
  const c = readCompat(s.legacy);
  if (!c.ok) return { reason: c.reason };
  if (
    c.conf.entries.some((e) => !isAll(e.limited)) ||
    c.conf.orders.some((o) => !isAll(o.limited)) ||
    c.conf.satisfies.some((x) => !isAll(x.limited))
  )
    return { reason: 'the lines are limited to methods; convert them by hand' };
  const sigma = c.conf.satisfies.length && c.conf.satisfies[c.conf.satisfies.length - 1].satisfy === 'any' ? 'any' : 'all';
  const d = decision(c);
  const p: 'true' | 'false' | 'other' = d === 'true' ? 'true' : d === 'false' ? 'false' : 'other';
  const op = mergingOf(s);
  const own = hasRequire(s);
  if (s.limitedAuthz) return { reason: 'the section has Require lines limited to methods (<Limit>); convert it by hand' };
  if (own && op !== 'off')
    return { reason: `the section merges its Require lines with the inherited ones (AuthMerging ${op}); convert it by hand` };

  // The Require lines that may be in force above this section: those the linted files show; for a
  // .htaccess, the directory's own grant (assumed); for a config file that is not a whole server
  // config (no LoadModule, no <Directory />), unknown (Debian's apache2.conf denies `/`).
  const above = all.filter((t) => t !== s && hasRequire(t) && mayFollow(t, s));
  const inh: 'grants' | 'none' | 'unknown' | 'other' = above.length
    ? above.every((t) => onlyAll(t, 'granted'))
      ? 'grants'
      : 'other'
    : s.htaccess
      ? 'grants'
      : opts.wholeConfig
        ? 'none'
        : 'unknown';
  const known = inh === 'grants' || inh === 'none';
  const authTypeAbove = inh === 'none' ? [s, ...all.filter((t) => mayFollow(t, s))].find((t) => t.authType) : undefined;
  const authTypeRefusal = () => ({
    reason: `AuthType without Require lines (line ${authTypeAbove!.authType!.span.start.line}) answers 500 today; convert by hand`,
  });
  const unknownWhy = () => {
    const t = above.find((x) => !onlyAll(x, 'granted'));
    return t ? `the Require lines of ${at(t)} also apply here` : 'the Require lines this section inherits are not in the linted files';
  };
  // A legacy section above: once these lines are gone, its lists would apply here.
  const legacyAbove = all.some((t) => t !== s && t.legacy.length > 0 && !removed(t) && mayFollow(t, s));

  let items: Item[];
  if (sigma === 'all') {
    if (own) {
      if (p !== 'true')
        return { reason: 'the section also has Require lines, which the legacy lines narrow; wrap both in <RequireAll> by hand' };
      items = [];
    } else if (p === 'false') items = ['Require all denied'];
    else if (known) {
      if (authTypeAbove) return authTypeRefusal();
      items = p === 'true' ? ['Require all granted'] : (d as Item[]);
    } else if (legacyAbove) {
      return { reason: `${unknownWhy()}, and the legacy lines above would apply once these are gone; convert by hand` };
    } else items = p === 'true' ? [] : ['AuthMerging And', ...(d as Item[])];
  } else {
    if (own) items = p === 'false' ? [] : p === 'true' ? ['Require all granted'] : (d as Item[]);
    else if (known) {
      if (authTypeAbove) return authTypeRefusal();
      items = ['Require all granted'];
    } else if (p === 'false' && !legacyAbove) items = [];
    else
      return {
        reason: `Satisfy Any lets the inherited Require lines decide when the Allow/Deny lines refuse, and ${unknownWhy().replace(/^the/, 'those')}; convert by hand with AuthMerging Or`,
      };
  }

  // Sections applied after this one that set their own Require lines replace the converted block.
  for (const t of all) {
    if (t === s || t.legacy.length || !hasRequire(t) || !mayFollow(s, t)) continue;
    const top = mergingOf(t);
    const trivial = sigma === 'all' ? p === 'true' : p === 'false';
    if (trivial) continue;
    if (top === 'and' && sigma === 'all' && !own) continue;
    if (top !== 'or' && sigma === 'all' && onlyAll(t, 'denied')) continue;
    if (top !== 'and' && sigma === 'any' && onlyAll(t, 'granted')) continue;
    return { reason: `the Require lines of ${at(t)} may apply after this section and would replace the converted block; convert by hand` };
  }

  // The proof under the model.
  const envs = [...new Set([...c.allow.envs, ...c.deny.envs])].slice(0, 6);
  const ips = representatives([...c.allow.ips, ...c.deny.ips]);
  const ownDirs = s.authz;
  for (const base of known ? [inh === 'grants' ? 'granted' : 'none'] : (['none', 'granted', 'denied'] as const)) {
    const bad = check(c.conf, ownDirs, items, base as 'granted' | 'none' | 'denied', envs, ips);
    if (bad) return { reason: `the converted block would not decide the same (${bad})` };
  }
  return { items, sigma, p };
}
