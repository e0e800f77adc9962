/**
 * The nginx configuration as scopes: http → server → location (nested) → `if` / `limit_except`, each
 * with its directives in reading order (includes expanded in place by src/walk.ts), the locations in
 * the order nginx tries them, and the listen sockets and server names of each server.
 *
 * Location kinds follow ngx_http_core_location (src/http/ngx_http_core_module.c): `=`, `^~`, `~`, `~*`,
 * the one-argument spellings (`=/x`, `^~/x`, `~\.php$`, `~*\.jpg$`) and `@name`.
 */
import { posix } from 'node:path';
import type { ConfigSet, Directive, Node } from '../../ast.js';
import { expandIncludes } from '../../walk.js';
import { toBinary, translatePcre, type RegexVerdict } from './regex.js';

export type ScopeKind = 'http' | 'server' | 'location' | 'if' | 'limit_except';

export interface Scope {
  kind: ScopeKind;
  /** The block directive (`server`, `location`, `if`, `limit_except`); null for http when the file is
   * read in http or server context. */
  block: Directive | null;
  parent: Scope | null;
  /** Directives directly in this block (includes expanded), in reading order, blocks included. */
  body: Directive[];
  /** Non-block directives of this block by name. */
  byName: ByName;
  /** Nested locations in config order. */
  locations: Location[];
  ifs: IfScope[];
  limitExcept: LimitExcept | null;
}

export type LocationModifier = '' | '=' | '^~' | '~' | '~*' | '@';

export interface Location extends Scope {
  kind: 'location';
  modifier: LocationModifier;
  /** The name as written (without the modifier). */
  name: string;
  /** The name as bytes (binary string), what nginx compares. */
  bin: string;
  regex?: RegexVerdict;
  server: Server;
  /** Enclosing location, or null for a server-level location. */
  outer: Location | null;
}

export interface IfScope extends Scope {
  kind: 'if';
}

export interface LimitExcept extends Scope {
  kind: 'limit_except';
  /** Methods listed (these use the enclosing location's configuration). GET implies HEAD. */
  methods: string[];
}

export interface Listen {
  /** `*` for all addresses, an IP (IPv6 without brackets), a host name, or `unix:/path`. */
  addr: string;
  port: number;
  defaultServer: boolean;
  directive: Directive | null;
}

export interface ServerName {
  kind: 'exact' | 'head' | 'tail' | 'regex';
  /** Lower-cased name; for `head` the part after `*` (".example.com"), for `tail` the part before `*`. */
  name: string;
  regex?: RegexVerdict;
  directive: Directive | null;
}

export interface Server extends Scope {
  kind: 'server';
  listens: Listen[];
  names: ServerName[];
  /** 0-based position among all servers. */
  index: number;
}

export interface ModelProblem {
  message: string;
  directive: Directive | null;
}

export interface NginxModel {
  set: ConfigSet;
  http: Scope;
  servers: Server[];
  /** Named (`@name`) locations of each server by name. */
  problems: ModelProblem[];
  /** The main-context `user` directive, if any. */
  user: Directive | null;
}

/** A body this long is looked up through a map by name; a shorter one is scanned. */
const SCAN_MAX = 16;

/**
 * The non-block directives of a scope's body by name, in body order. A big tree has a scope per
 * location, most with a handful of directives: a Map per scope and an array per name were a third
 * of the model's memory. A short body is scanned on each lookup (`get` returns a new array); a long
 * one (a server, http) gets its map on the first lookup. The body must be complete by then (the
 * model is built before it is read); a body that grew afterwards is indexed again.
 */
export class ByName {
  /** A name's directive, or its directives when there are several (most names are set once: an
   * array per name was a third of a server's index). */
  private index: Map<string, Directive | Directive[]> | null = null;
  private indexed = 0;
  constructor(private readonly body: readonly Directive[]) {}
  private map(): Map<string, Directive | Directive[]> | null {
    const body = this.body;
    if (body.length <= SCAN_MAX) return null;
    if (this.index === null || this.indexed !== body.length) {
      const m = new Map<string, Directive | Directive[]>();
      for (const d of body) {
        if (d.block) continue;
        const l = m.get(d.name);
        if (l === undefined) m.set(d.name, d);
        else if (Array.isArray(l)) l.push(d);
        else m.set(d.name, [l, d]);
      }
      this.index = m;
      this.indexed = body.length;
    }
    return this.index;
  }
  /** The directives named `name` (not to be changed: a long body's list of several is its index's). */
  get(name: string): Directive[] | undefined {
    const m = this.map();
    if (m) {
      const l = m.get(name);
      return l === undefined || Array.isArray(l) ? l : [l];
    }
    let out: Directive[] | undefined;
    for (const d of this.body) if (!d.block && d.name === name) (out ??= []).push(d);
    return out;
  }
  has(name: string): boolean {
    const m = this.map();
    if (m) return m.has(name);
    for (const d of this.body) if (!d.block && d.name === name) return true;
    return false;
  }
  /** The names, each once, in the order they first appear. */
  keys(): IterableIterator<string> {
    const m = this.map();
    if (m) return m.keys();
    const names = new Set<string>();
    for (const d of this.body) if (!d.block) names.add(d.name);
    return names.values();
  }
}

/** Scopes without nested locations or ifs share this list until their first one. */
const NONE: never[] = [];
Object.freeze(NONE);

function newScope<K extends ScopeKind>(kind: K, block: Directive | null, parent: Scope | null): Scope & { kind: K } {
  const body: Directive[] = [];
  return { kind, block, parent, body, byName: new ByName(body), locations: NONE, ifs: NONE, limitExcept: null };
}

/** A scope's lists at their exact length: arrays grown by push keep spare room (17 slots for one
 * element), and a big tree has a body per location. A body that is its block's list itself (no
 * comment, no include in it: most locations of a big tree) is that list, not a copy of it (neither
 * is changed once read). */
function trim(s: Scope, nodes: readonly Node[]): void {
  const body = s.body;
  let same = body.length === nodes.length;
  for (let i = 0; same && i < body.length; i++) same = body[i] === nodes[i];
  s.body = same ? (nodes as Directive[]) : body.slice();
  s.byName = new ByName(s.body);
  if (s.locations !== NONE) s.locations = s.locations.slice();
  if (s.ifs !== NONE) s.ifs = s.ifs.slice();
}

/** Parse a location's arguments: modifier and name. Null when nginx would refuse them. */
export function locationKind(d: Directive): { modifier: LocationModifier; name: string } | null {
  const a = d.args.map((x) => x.value);
  if (a.length === 2) {
    const m = a[0];
    if (m === '=' || m === '^~' || m === '~' || m === '~*') return { modifier: m, name: a[1] };
    return null;
  }
  if (a.length !== 1) return null;
  const v = a[0];
  if (v.startsWith('=')) return { modifier: '=', name: v.slice(1) };
  if (v.startsWith('^~')) return { modifier: '^~', name: v.slice(2) };
  if (v.startsWith('~*')) return { modifier: '~*', name: v.slice(2) };
  if (v.startsWith('~')) return { modifier: '~', name: v.slice(1) };
  if (v.startsWith('@')) return { modifier: '@', name: v };
  return { modifier: '', name: v };
}

/** Parse a `listen` argument: `80`, `*:80`, `127.0.0.1`, `127.0.0.1:8080`, `[::1]:80`, `unix:/p`. */
export function parseListen(d: Directive): Listen | null {
  const v = d.args[0]?.value;
  if (v === undefined) return null;
  const defaultServer = d.args.slice(1).some((a) => a.value === 'default_server' || a.value === 'default');
  if (v.startsWith('unix:')) return { addr: v, port: 0, defaultServer, directive: d };
  let addr = '*';
  let port = 80;
  const m6 = /^\[([^\]]*)\](?::([0-9]+))?$/.exec(v);
  if (m6) {
    addr = m6[1].toLowerCase();
    if (m6[2]) port = Number(m6[2]);
  } else if (/^[0-9]+$/.test(v)) {
    port = Number(v);
  } else {
    const i = v.lastIndexOf(':');
    if (i !== -1) {
      addr = v.slice(0, i);
      if (!/^[0-9]+$/.test(v.slice(i + 1))) return null;
      port = Number(v.slice(i + 1));
    } else addr = v;
  }
  if (addr === '0.0.0.0') addr = '*';
  return { addr, port, defaultServer, directive: d };
}

export function parseServerName(value: string, d: Directive | null): ServerName[] {
  if (value.startsWith('~')) return [{ kind: 'regex', name: value.slice(1), regex: translatePcre(value.slice(1), true), directive: d }];
  const v = value.toLowerCase();
  if (v.startsWith('.'))
    return [
      { kind: 'exact', name: v.slice(1), directive: d },
      { kind: 'head', name: v, directive: d },
    ];
  if (v.startsWith('*.')) return [{ kind: 'head', name: v.slice(1), directive: d }];
  if (v.endsWith('.*')) return [{ kind: 'tail', name: v.slice(0, -1), directive: d }];
  return [{ kind: 'exact', name: v, directive: d }];
}

/** Build the model from a loaded ConfigSet. Never throws; odd input becomes a ModelProblem. */
export function buildModel(set: ConfigSet): NginxModel {
  const problems: ModelProblem[] = [];
  const servers: Server[] = [];
  let user: Directive | null = null;
  let http = newScope('http', null, null) as Scope;
  const ctx = set.root.context;

  const fill = (scope: Scope, nodes: Node[], server: Server | null, outer: Location | null, depth: number): void => {
    if (depth > 200) {
      problems.push({ message: 'blocks nested deeper than 200 levels are not modelled', directive: scope.block });
      return;
    }
    for (const n of expandIncludes(set, nodes)) {
      if (n.type !== 'directive') continue;
      scope.body.push(n);
      if (!n.block) continue;
      if (n.name === 'server' && scope.kind === 'http') {
        // one literal with every field (fields added afterwards would go to a second store)
        const body: Directive[] = [];
        const s: Server = {
          kind: 'server',
          block: n,
          parent: scope,
          body,
          byName: new ByName(body),
          locations: NONE,
          ifs: NONE,
          limitExcept: null,
          listens: [],
          names: [],
          index: servers.length,
        };
        servers.push(s);
        fill(s, n.block, s, null, depth + 1);
        finishServer(s);
      } else if (n.name === 'location' && (scope.kind === 'server' || scope.kind === 'location') && server) {
        const k = locationKind(n);
        if (!k) {
          problems.push({ message: `invalid location arguments`, directive: n });
          continue;
        }
        // one literal with every field (properties added afterwards would go to a second store)
        const body: Directive[] = [];
        const loc: Location = {
          kind: 'location',
          block: n,
          parent: scope,
          body,
          byName: new ByName(body),
          locations: NONE,
          ifs: NONE,
          limitExcept: null,
          modifier: k.modifier,
          name: k.name,
          bin: toBinary(k.name),
          regex: k.modifier === '~' || k.modifier === '~*' ? translatePcre(k.name, k.modifier === '~*') : undefined,
          server,
          outer,
        };
        if (scope.locations === NONE) scope.locations = [];
        scope.locations.push(loc);
        fill(loc, n.block, server, loc, depth + 1);
      } else if (n.name === 'if' && (scope.kind === 'server' || scope.kind === 'location')) {
        const s = newScope('if', n, scope) as IfScope;
        if (scope.ifs === NONE) scope.ifs = [];
        scope.ifs.push(s);
        fill(s, n.block, server, outer, depth + 1);
      } else if (n.name === 'limit_except' && scope.kind === 'location') {
        const body: Directive[] = [];
        const s: LimitExcept = {
          kind: 'limit_except',
          block: n,
          parent: scope,
          body,
          byName: new ByName(body),
          locations: NONE,
          ifs: NONE,
          limitExcept: null,
          methods: n.args.map((a) => a.value.toUpperCase()),
        };
        if (scope.limitExcept) problems.push({ message: '"limit_except" is duplicate (nginx refuses the config)', directive: n });
        else scope.limitExcept = s;
        fill(s, n.block, server, outer, depth + 1);
      }
    }
    trim(scope, nodes);
  };

  const finishServer = (s: Server) => {
    for (const d of s.byName.get('listen') ?? []) {
      const l = parseListen(d);
      if (l) s.listens.push(l);
      else problems.push({ message: `cannot read listen address "${d.args[0]?.value ?? ''}"`, directive: d });
    }
    if (s.listens.length === 0) s.listens.push({ addr: '*', port: 80, defaultServer: false, directive: null });
    const sn = s.byName.get('server_name');
    if (!sn) s.names.push({ kind: 'exact', name: '', directive: null });
    else for (const d of sn) for (const a of d.args) s.names.push(...parseServerName(a.value, d));
    // at their exact length (grown by push they keep room for 17 entries)
    s.listens = s.listens.slice();
    s.names = s.names.slice();
  };

  if (ctx === 'server' || ctx === 'location') {
    const fake = newScope('server', null, http) as Server;
    fake.listens = [];
    fake.names = [];
    fake.index = 0;
    servers.push(fake);
    if (ctx === 'server') fill(fake, set.root.nodes, fake, null, 0);
    else {
      const loc = newScope('location', null, fake) as Location;
      Object.assign(loc, { modifier: '' as const, name: '/', bin: '/', server: fake, outer: null });
      fake.locations = [loc];
      fill(loc, set.root.nodes, fake, loc, 0);
    }
    finishServer(fake);
  } else if (ctx === 'http') {
    fill(http, set.root.nodes, null, null, 0);
  } else {
    for (const n of expandIncludes(set, set.root.nodes)) {
      if (n.type !== 'directive') continue;
      if (n.name === 'user' && !n.block) user = n;
      if (n.name === 'http' && n.block) {
        if (http.block) problems.push({ message: '"http" directive is duplicate', directive: n });
        http = newScope('http', n, null);
        fill(http, n.block, null, null, 0);
      }
    }
  }
  return { set, http, servers, problems, user };
}

/** The directory relative paths of the config resolve against, with a trailing slash: the conf
 * prefix the loader chose (the main config's directory, or the parent of conf.d/, sites-enabled/ … for
 * a fragment read alone), else the root file's directory. */
function confPrefixOf(set: ConfigSet): string {
  if (set.confPrefix !== undefined) return set.confPrefix.endsWith('/') ? set.confPrefix : `${set.confPrefix}/`;
  const p = set.root.source.path;
  return p.slice(0, p.lastIndexOf('/') + 1);
}

/** Where a path the config names points: absolute as it is, else joined to `confPrefixOf` (normalized,
 * as the kernel resolves `.` and `..`). */
export function configPathOf(set: ConfigSet, path: string): string {
  return path.startsWith('/') ? path : posix.normalize(confPrefixOf(set) + path);
}

/** Directives named `name` directly in `scope`. */
export function own(scope: Scope, name: string): Directive[] {
  return scope.byName.get(name) ?? [];
}

/** The nearest scope (this one or an ancestor) that has any directive named in `names`. */
export function nearest(scope: Scope | null, names: string[]): { scope: Scope; directives: Directive[] } | null {
  for (let s = scope; s; s = s.parent) {
    let found = 0;
    let one: Directive[] | undefined;
    for (const n of names) {
      const l = s.byName.get(n);
      if (!l) continue;
      found++;
      one = l;
    }
    if (found === 0) continue;
    // several names: their directives in body order
    if (found > 1) return { scope: s, directives: s.body.filter((d) => !d.block && names.includes(d.name)) };
    return { scope: s, directives: one!.slice() };
  }
  return null;
}

/** A short human label of a scope: `location ^~ /a`, `server`, `if ($x)`, `limit_except GET`. */
export function scopeLabel(s: Scope): string {
  if (!s.block) return s.kind === 'location' ? 'location /' : s.kind;
  let l = labels.get(s);
  if (l === undefined) labels.set(s, (l = [s.block.name, ...s.block.args.map((a) => a.raw)].join(' ')));
  return l;
}
const labels = new WeakMap<Scope, string>();
