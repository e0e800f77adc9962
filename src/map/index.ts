/**
 * `why403 map`: every place in a config that can answer 403 (and, marked as such, 401), deliberate or
 * not: where (the deciding directive and the scope it governs), who (the refused clients as the config
 * states them), which URIs, and a sample request that explain — the same model and simulator lint and
 * explain read — shows to get that status. A place whose refusal depends on something the model cannot
 * know without more input (a variable, the disk, a backend) is listed with that condition and no sample.
 *
 * Nothing here decides access by itself: candidates are the directives that can refuse, samples come
 * from the model's request builders, and every status is explain's.
 */
import type { ConfigSet, Directive, Node } from '../ast.js';
import { directiveText } from '../ast.js';
import { parseRewriteFlags } from '../apache/model/dirconf.js';
import { modelFor, type AccessRange, type ApacheView, type Model, type ModelOptions, type NginxView } from '../model/index.js';
import {
  explainSample,
  prove,
  sameAt,
  sampleUrl,
  type Proof,
  type ProofOptions,
  type SampleInput,
  type SampleRequest,
  SAMPLE_CLIENT,
} from '../model/proof.js';
import { partialOf } from '../load-options.js';
import { htaccessFiles } from '../diff/htaccess.js';
import { addressText } from '../nginx/model/address.js';
import { locationOf, serverOf } from '../nginx/model/cache.js';
import type { LimitExcept, Scope, Server } from '../nginx/model/tree.js';
import { scopeLabel } from '../nginx/model/tree.js';

/** Who a place refuses, in words and structured. */
export interface Who {
  /** everyone; address: clients by address; method; credentials (401); condition: a variable or
   * expression; disk: files or directories; transport: plain HTTP; load: rate limits; backend. */
  kind: 'everyone' | 'address' | 'method' | 'credentials' | 'condition' | 'disk' | 'transport' | 'load' | 'backend';
  text: string;
  /** address: the refused ranges; allowed: the ranges let through by this list. */
  refused?: string[];
  allowed?: string[];
  /** method: the methods refused (or `all but` these, in text). */
  methods?: string[];
  /** condition: the expression as written. */
  condition?: string;
}

export interface MapEntry {
  file: string;
  line: number;
  column: number;
  /** The directive as written, e.g. `deny all`. */
  directive: string;
  /** The server or virtual host (its names or address). */
  server: string;
  /** The scope chain the directive governs, outermost first (e.g. ["server shop.test", "location /admin/"]). */
  scope: string[];
  status: 403 | 401;
  who: Who;
  /** The URI pattern the scope matches, and what more specific scopes inside it take away. */
  uris: { pattern: string; except: string[] };
  /** A request explain shows to get `status` from this directive (null: conditional, see `note`). */
  sample: SampleRequest | null;
  /** Why there is no sample, when there is none. */
  note?: string;
  /** The explain trace of the sample (absolute paths), for SARIF. */
  trace?: Proof['trace'];
  /** With `MapOptions.assumeDisk`: the conditions about the disk the sample's status rests on. */
  assumes?: string[];
  /** When the sample was explained on another config than the one mapped, or with .htaccess files in
   * place: a .htaccess linked to the main config that reads it (the language server links them) is
   * explained on that config with the .htaccess files in place, and a main config whose served
   * directories hold .htaccess files with them, `why403 explain <config> <url> --htaccess`. */
  explainedOn?: { config?: string; htaccess: boolean };
}

export interface MapResult {
  server: 'nginx' | 'apache';
  config: string;
  entries: MapEntry[];
  /** The main config was not read (a fragment or a vhost file alone): what is not known, as explain
   * says it. Every entry's answer is then the fragment's own; null when the configuration is whole. */
  partial: { reason: string; unknown: string[] } | null;
}

export interface MapOptions extends ModelOptions {
  /** The client address samples come from when the config does not suggest one (default 192.0.2.10,
   * a documentation address). A test against a real server on 127.0.0.1 passes a 127.x address: then
   * address samples are picked inside 127.0.0.0/8 where the refused ranges allow. */
  client?: string;
  /** Only the places inside this range of a file (offsets; nginx: the scopes whose block starts in it,
   * Apache: the directives in it), e.g. the block an editor hovers (src/lsp/). */
  within?: { file: string; start: number; end: number };
  /** Accept samples whose status holds only under assumptions about the disk (the entry's `assumes`;
   * the LSP hover shows them). The map's own outputs do not show them, so they leave it off. */
  assumeDisk?: boolean;
}

const inside = (d: Directive | null, w: MapOptions['within']): boolean =>
  !w || (!!d && d.source.path === w.file && d.span.start.offset >= w.start && d.span.start.offset < w.end);

/** The map of one loaded config. */
export function mapConfig(set: ConfigSet, options: MapOptions = {}): MapResult {
  const m = modelFor(set, options);
  // Apache without --fs: the .htaccess files under the served directories (through the path map) are
  // read, as diff reads them, so that a sample is explained with them in place (`explain --htaccess`):
  // AllowOverride lets them lift or add a refusal
  const accessFiles = m.server === 'apache' && !options.fs && set.root.context !== 'htaccess' ? htaccessFiles(m) : null;
  const client = options.client ?? SAMPLE_CLIENT;
  proofOptions = { ...(options.assumeDisk ? { assumeDisk: true } : {}), ...(accessFiles?.size ? { accessFiles } : {}) };
  const entries = m.server === 'nginx' ? nginxEntries(m, client, options.within) : apacheEntries(m, client, options.within);
  entries.sort(
    (a, b) =>
      cmp(a.server, b.server) || cmp(a.scope.join(' '), b.scope.join(' ')) || cmp(a.file, b.file) || a.line - b.line || a.column - b.column,
  );
  return { server: m.server, config: set.root.source.path, entries, partial: partialOf(set) };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `explainedOn` of an entry whose proof was made on another config (a linked .htaccess's main) or with
 * .htaccess files in place (`explain --htaccess`). */
function explainedOn(m: Model, p: Proof): Pick<MapEntry, 'explainedOn'> {
  const other = p.config !== m.set.root.source.path;
  return !other && !p.htaccess ? {} : { explainedOn: { ...(other ? { config: p.config } : {}), htaccess: p.htaccess === true } };
}

function at(d: Directive): { file: string; line: number; column: number; directive: string } {
  return { file: d.source.path, line: d.nameSpan.start.line, column: d.nameSpan.start.column, directive: directiveText(d) };
}

/** `prove`'s options for the map being made (MapOptions.assumeDisk). */
let proofOptions: ProofOptions = {};
/** What explain said for the last sample tried, when none proved the place: the note of an entry. */
let lastMiss: string | null = null;
/** True when that answer was a known status: the place is then never reached for such requests. */
let lastMissKnown = false;

/** Try samples until explain shows `status`, decided by a directive `accept` approves. */
function firstProof(
  m: Model,
  samples: Array<SampleInput | null>,
  statuses: readonly number[],
  accept: (p: Proof) => boolean,
): Proof | null {
  lastMiss = null;
  lastMissKnown = false;
  for (const s of samples) {
    if (!s) continue;
    for (const status of statuses) {
      const p = prove(m, s, { status }, proofOptions);
      if (p && accept(p)) return p;
    }
    const req: SampleRequest = { method: s.method ?? 'GET', url: sampleUrl(s), ip: s.ip ?? SAMPLE_CLIENT, headers: s.headers ?? {} };
    const e = explainSample(m, req);
    lastMissKnown = !!e && e.status !== null;
    if (e)
      lastMiss = `explain gives ${e.status ?? 'an unknown status'} for ${req.method} ${req.url} from ${req.ip}${
        e.decidedBy ? ` (\`${e.decidedBy.directive}\` at line ${e.decidedBy.line} decides)` : ''
      }`;
  }
  return null;
}

/** The proof was decided by directive `d`. */
const decidedBy = (p: Proof, d: Directive): boolean => sameAt(p.decidedBy, d);

// ---------------------------------------------------------------- nginx

function serverLabel(s: Server | null): string {
  if (!s) return 'http';
  const names = s.names
    .filter((n) => n.name && n.name !== '_')
    .map((n) => (n.kind === 'head' ? `*${n.name}` : n.kind === 'tail' ? `${n.name}*` : n.name));
  const l = s.listens[0];
  const listen = l ? `${l.addr === '*' ? '' : `${l.addr.includes(':') ? `[${l.addr}]` : l.addr}:`}${l.port}` : '80';
  return names.length ? `${names.join(' ')} (${listen})` : `server #${s.index + 1} (${listen})`;
}

/** The scope chain of an nginx scope, outermost first: `server shop.test (80)`, `location /admin/`. */
export function scopeChain(scope: Scope): string[] {
  const out: string[] = [];
  for (let s: Scope | null = scope; s && s.kind !== 'http'; s = s.parent)
    out.unshift(s.kind === 'server' ? `server ${serverLabel(s as Server)}` : scopeLabel(s));
  return out;
}

/** The URIs a scope governs; `except`: the locations inside it that set their own `names` (so the
 * place does not decide there). */
function uriPattern(scope: Scope, names: readonly string[]): { pattern: string; except: string[] } {
  const loc = locationOf(scope);
  const pattern = loc ? [loc.modifier, loc.name].filter(Boolean).join(' ') : '/ (every URI of the server)';
  const except: string[] = [];
  const visit = (s: Scope): void => {
    for (const l of s.locations) {
      if (names.some((n) => l.byName.has(n))) except.push(`${scopeLabel(l)} (line ${l.block?.nameSpan.start.line ?? '?'})`);
      else visit(l);
    }
  };
  if (names.length) visit(loc ?? scope);
  return { pattern, except };
}

/** An IPv4 range as the fewest CIDR blocks (a single address without /32). */
function cidrs(lo: bigint, hi: bigint): string[] {
  const out: string[] = [];
  while (lo <= hi) {
    let len = 32;
    while (len > 0) {
      const size = 1n << BigInt(32 - len + 1);
      if (lo % size !== 0n || lo + size - 1n > hi) break;
      len--;
    }
    out.push(len === 32 ? addressText(lo, 'ipv4') : `${addressText(lo, 'ipv4')}/${len}`);
    lo += 1n << BigInt(32 - len);
  }
  return out;
}

/** The refused and allowed IPv4 ranges of an access list (the model's), as CIDR blocks. */
function ranges(seg: readonly AccessRange[], client: string): { refused: string[]; allowed: string[]; refusedSample: string | null } {
  const text = (lo: bigint, hi: bigint) => cidrs(lo, hi).join(', ');
  const refused = seg.filter((s) => !s.allowed);
  const allowed = seg.filter((s) => s.allowed);
  // A sample client inside a refused range: the preferred client when it is refused, else one in its /8
  // (a real-server test can only send from 127.0.0.0/8), else the first refused address.
  const parts = client.split('.').map(Number);
  const pref =
    parts.length === 4 && parts.every((x) => x >= 0 && x <= 255)
      ? BigInt(((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3])
      : null;
  let pick: bigint | null = null;
  if (pref !== null) {
    if (refused.some((s) => s.lo <= pref && pref <= s.hi)) pick = pref;
    else {
      const lo8 = (pref >> 24n) << 24n;
      const hi8 = lo8 + (1n << 24n) - 1n;
      const seg = refused.find((s) => s.hi >= lo8 + 1n && s.lo <= hi8);
      if (seg) pick = seg.lo > lo8 ? seg.lo : lo8 + 1n;
    }
  }
  if (pick === null && refused[0]) pick = refused[0].lo === 0n && refused[0].hi > 0n ? refused[0].lo + 1n : refused[0].lo;
  return {
    refused: refused.map((s) => text(s.lo, s.hi)),
    allowed: allowed.map((s) => text(s.lo, s.hi)),
    refusedSample: pick === null ? null : addressText(pick, 'ipv4'),
  };
}

function nginxEntries(m: NginxView, client: string, within?: MapOptions['within']): MapEntry[] {
  const out: MapEntry[] = [];
  const seen = new Set<string>();
  const add = (d: Directive, scope: Scope, status: 403 | 401, who: Who, proof: Proof | null, note?: string) => {
    // A server-level `return` runs before location search: no location escapes it.
    const overrides =
      d.name === 'return'
        ? scope.kind === 'server'
          ? []
          : ['return']
        : d.name === 'allow' || d.name === 'deny'
          ? ['allow', 'deny']
          : [d.name];
    // An unconditional refusal that explain shows is never reached (an earlier `return`, a `deny` that
    // answers before auth is asked for) is no place that answers: left out.
    if (!proof && !note && lastMissKnown) return;
    const server = serverOf(scope);
    const key = `${d.source.path}:${d.span.start.offset}:${status}:${server?.index ?? -1}:${scope.block?.span.start.offset ?? -1}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({
      ...at(d),
      server: serverLabel(server),
      scope: scopeChain(scope),
      status,
      who,
      uris: uriPattern(scope, overrides),
      sample: proof?.request ?? null,
      ...(proof
        ? { trace: proof.trace, ...(proof.assumes ? { assumes: proof.assumes } : {}), ...explainedOn(m, proof) }
        : { note: note ?? lastMiss ?? 'no request that reaches this scope could be built' }),
    });
  };
  for (const scope of m.scopes()) {
    if (scope.kind === 'http' || !serverOf(scope) || !inside(scope.block, within)) continue;
    const found = m.requestTo(scope);
    const base = found && { ...found, ip: client };
    const own = scope.body;
    // return 403 (rewrite phase): unconditional in a server or location, conditional in an `if`.
    for (const d of own.filter((x) => x.name === 'return' && x.args[0]?.value === '403')) {
      const cond =
        scope.kind === 'if'
          ? (scope.block?.args ?? [])
              .map((a) => a.value)
              .join(' ')
              .replace(/^\(\s*|\s*\)$/g, '')
          : null;
      const proof = firstProof(m, [base], [403], (p) => decidedBy(p, d));
      const who: Who = cond
        ? { kind: 'condition', condition: cond, text: `requests where \`${cond}\` holds` }
        : { kind: 'everyone', text: 'every request' };
      add(d, scope, 403, who, proof, cond ? `refused when \`${cond}\` holds; the sample requests do not make it hold` : undefined);
    }
    // allow/deny (access phase): the list this scope sets.
    const list = own.filter((x) => !x.block && (x.name === 'allow' || x.name === 'deny'));
    if (list.length) {
      // a scope that sets allow/deny has exactly that list in effect (nginx does not merge the arrays)
      const r = ranges(m.accessRanges(scope, 'ipv4'), client);
      if (r.refused.length) {
        const st = m.settingsAt(scope);
        const auth = st.satisfy.value === 'any' && (st.authBasic.value !== null || st.authRequest.value !== null);
        const all = r.allowed.length === 0;
        // Name the shorter side: "clients in 127.0.0.9" rather than the 20 blocks around it.
        const inText = `clients in ${r.refused.join(', ')}`;
        const outText = `clients outside ${r.allowed.join(', ')}`;
        const inOrder = `clients the rules refuse, first match wins: ${list.map((d) => directiveText(d)).join('; ')}`;
        const short = [inText, outText].sort((a, b) => a.length - b.length)[0];
        const who: Who = all
          ? { kind: 'everyone', text: 'every client', refused: r.refused, allowed: [] }
          : { kind: 'address', text: short.length <= 80 ? short : inOrder, refused: r.refused, allowed: r.allowed };
        if (scope.kind === 'limit_except') {
          const le = scope as LimitExcept;
          who.kind = all ? 'method' : who.kind;
          who.methods = le.methods;
          who.text = `${all ? 'every client' : who.text} using a method other than ${le.methods.join(', ')}${le.methods.includes('GET') ? ' (and HEAD)' : ''}`;
        }
        const sample = base && r.refusedSample ? { ...base, ip: r.refusedSample } : null;
        const proof = firstProof(m, [sample], auth ? [401, 403] : [403], (p) => list.some((d) => decidedBy(p, d)) || p.status === 401);
        const decided = proof ? (list.find((d) => decidedBy(proof, d)) ?? list[0]) : (list.find((d) => d.name === 'deny') ?? list[0]);
        const status = proof?.status === 401 ? 401 : 403;
        if (status === 401) who.text += ' without credentials (satisfy any: credentials let them in)';
        add(decided, scope, status, who, proof, auth ? 'satisfy any: a client with valid credentials passes' : undefined);
      }
    }
    // auth_basic set here: 401 without credentials.
    for (const d of own.filter((x) => x.name === 'auth_basic' && x.args[0]?.value !== 'off')) {
      const proof = firstProof(m, [base], [401], () => true);
      add(d, scope, 401, { kind: 'credentials', text: 'clients without valid credentials' }, proof);
    }
    // conditional 403s the model describes but cannot decide without more input
    for (const d of own) {
      if (d.name === 'try_files' && d.args.at(-1)?.value === '=403') {
        // with the disk (--fs) a request for the scope itself shows it when no candidate exists there
        const proof = m.options.fs ? firstProof(m, [base], [403], (p) => p.decidedBy?.line === d.nameSpan.start.line) : null;
        add(
          d,
          scope,
          403,
          { kind: 'disk', text: 'requests for which no try_files candidate exists' },
          proof,
          proof ? undefined : m.options.fs ? 'every request tried found a candidate on the disk' : 'depends on the disk (run with --fs)',
        );
      } else if (d.name === 'error_page' && d.args.some((a) => a.value === '=403'))
        add(
          d,
          scope,
          403,
          {
            kind: 'condition',
            text: `requests answered ${d.args
              .map((a) => a.value)
              .filter((v) => /^\d+$/.test(v))
              .join(', ')} first`,
          },
          null,
          'turns another error into 403',
        );
      else if (d.name === 'limit_req_status' && d.args[0]?.value === '403')
        add(d, scope, 403, { kind: 'load', text: 'clients over the request rate limit' }, null, 'depends on load');
      else if (d.name === 'limit_conn_status' && d.args[0]?.value === '403')
        add(d, scope, 403, { kind: 'load', text: 'clients over the connection limit' }, null, 'depends on load');
      else if (d.name === 'auth_request' && d.args[0]?.value !== 'off')
        add(
          d,
          scope,
          403,
          { kind: 'backend', text: `requests the subrequest to ${d.args[0]?.value} answers 403` },
          null,
          'depends on the subrequest (401, 403 or 2xx)',
        );
    }
  }
  return out;
}

// ---------------------------------------------------------------- Apache

const SECTION =
  /^(directory|directorymatch|files|filesmatch|location|locationmatch|virtualhost|if|elseif|else|limit|limitexcept|proxy|proxymatch)$/;

function apacheServerLabel(m: ApacheView, parents: readonly Directive[]): string {
  const vh = parents.find((p) => p.key.replace(/^</, '') === 'virtualhost');
  if (!vh) return m.tree.vhosts.length ? 'every virtual host (main server config)' : 'main server';
  const s = m.tree.vhosts.find((v) => v.directive === vh);
  return `${s?.serverName ?? '(no ServerName)'} <${directiveText(vh)}>`;
}

/** The Require/Allow words of a directive, as the refused clients. */
function apacheWho(d: Directive): Who {
  const words = d.args.map((a) => a.value);
  const w = words.map((x) => x.toLowerCase());
  if (d.key === 'require') {
    const neg = w[0] === 'not';
    const [kind, ...rest] = neg ? w.slice(1) : w;
    const vals = (neg ? words.slice(2) : words.slice(1)).join(' ');
    if (kind === 'all') return { kind: 'everyone', text: rest[0] === 'denied' ? 'every client' : 'no one' };
    if (kind === 'ip' || kind === 'host' || kind === 'forward-dns' || kind === 'local')
      return neg
        ? { kind: 'address', text: `clients in ${vals || 'the local addresses'}`, refused: vals.split(/\s+/).filter(Boolean) }
        : { kind: 'address', text: `clients outside ${vals || 'the local addresses'}`, allowed: vals.split(/\s+/).filter(Boolean) };
    if (kind === 'method') return { kind: 'method', text: `${neg ? '' : 'methods other than '}${vals}`, methods: vals.split(/\s+/) };
    if (kind === 'user' || kind === 'valid-user' || kind === 'group')
      return { kind: 'credentials', text: `clients that are not ${kind === 'valid-user' ? 'authenticated' : `${kind} ${vals}`}` };
    if (kind === 'env') return { kind: 'condition', text: `requests without ${vals} set`, condition: `env ${vals}` };
    if (kind === 'expr') return { kind: 'condition', text: `requests where ${vals} is false`, condition: vals };
    return { kind: 'condition', text: `requests refused by \`${directiveText(d)}\`` };
  }
  if (d.key === 'deny')
    return w[1] === 'all'
      ? { kind: 'everyone', text: 'every client (Deny from all)' }
      : { kind: 'address', text: `clients from ${words.slice(1).join(' ')}`, refused: words.slice(1) };
  if (d.key === 'sslrequiressl') return { kind: 'transport', text: 'requests over plain HTTP' };
  if (d.key === 'authtype') return { kind: 'credentials', text: 'clients without valid credentials' };
  if (d.key === 'rewriterule') return { kind: 'condition', text: `requests whose path matches \`${words[0] ?? ''}\``, condition: words[0] };
  if (d.key === 'redirect' || d.key === 'redirectmatch')
    return {
      kind: 'everyone',
      text: `every request ${d.key === 'redirect' ? `under ${words[1] ?? '/'}` : `matching \`${words[1] ?? ''}\``}`,
    };
  return { kind: 'condition', text: directiveText(d) };
}

function isCandidate(d: Directive): boolean {
  const w = d.args.map((a) => a.value.toLowerCase());
  switch (d.key) {
    case 'require':
      return !(w[0] === 'all' && w[1] === 'granted');
    case 'deny':
    case 'sslrequiressl':
    case 'authtype':
      return true;
    case 'rewriterule': {
      const flags = parseRewriteFlags(d.args[2]?.value);
      return flags.has('f') || flags.has('forbidden') || flags.get('r') === '403';
    }
    case 'redirect':
    case 'redirectmatch':
      return w[0] === '403';
    default:
      return false;
  }
}

/** A client outside every address the config names: first the documentation address. */
function clientsFor(d: Directive, client: string): string[] {
  const out = [client];
  const w = d.args.map((a) => a.value);
  if (d.key === 'require' && w[0]?.toLowerCase() === 'not' && w[1]?.toLowerCase() === 'ip' && w[2]) {
    const ip = w[2].replace(/\/.*$/, '');
    if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) out.unshift(ip);
    else if (/^\d+(\.\d+){0,2}$/.test(ip)) out.unshift(`${ip}${'.1'.repeat(4 - ip.split('.').length)}`);
  }
  if (d.key === 'deny' && w[1] && w[1].toLowerCase() !== 'all') {
    const ip = w[1].replace(/\/.*$/, '');
    if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) out.unshift(ip);
    else if (/^\d+(\.\d+){0,2}$/.test(ip)) out.unshift(`${ip}${'.1'.repeat(4 - ip.split('.').length)}`);
  }
  return out;
}

function apacheEntries(m: ApacheView, client: string, within?: MapOptions['within']): MapEntry[] {
  const out: MapEntry[] = [];
  const seen = new Set<string>();
  // The model's flattened tree: includes and conditionals (<IfModule>, <IfDefine>, …) resolved as httpd
  // resolves them, so only directives the server really runs are candidates.
  const visit = (list: readonly Node[], parents: Directive[]): void => {
    for (const n of list) {
      if (n.type !== 'directive') continue;
      if (isCandidate(n) && inside(n, within)) candidate(n, { parents });
      if (n.block) visit(n.block, [...parents, n]);
    }
  };
  const candidate = (n: Directive, w: { parents: Directive[] }): void => {
    const sections = w.parents.filter((p) => SECTION.test(p.key.replace(/^</, '')));
    const scope = sections.map((p) => `<${directiveText(p)}>`);
    if (m.set.root.context === 'htaccess') scope.unshift(`.htaccess in ${m.set.root.htaccessDir ?? '?'}`);
    const expected: (403 | 401)[] = n.key === 'authtype' ? [401] : [403, 401];
    const base = m.requestsFor(n, w.parents);
    const samples = base.flatMap((s) => clientsFor(n, client).map((ip) => ({ ...s, ip })));
    const section = w.parents[w.parents.length - 1] ?? null;
    const inSection = (p: Proof): boolean => {
      if (!p.decidedBy) return false;
      if (decidedBy(p, n)) return true;
      if (!section || p.decidedBy.file !== section.source.path) return false;
      return p.decidedBy.line >= section.span.start.line && p.decidedBy.line <= section.span.end.line;
    };
    const proof = firstProof(m, samples, expected, inSection);
    const status: 403 | 401 = proof?.status === 401 ? 401 : n.key === 'authtype' ? 401 : 403;
    const key = `${n.source.path}:${n.span.start.offset}:${status}:${apacheServerLabel(m, w.parents)}`;
    if (seen.has(key)) return;
    seen.add(key);
    const who = apacheWho(n);
    if (!proof && lastMissKnown && who.kind !== 'condition') return; // explain shows it is never the answer
    if (status === 401 && who.kind !== 'credentials') who.text += ' (asked for credentials first: 401)';
    const sec = sections[sections.length - 1];
    out.push({
      ...at(n),
      server: apacheServerLabel(m, w.parents),
      scope,
      status,
      who,
      uris: { pattern: sec ? directiveText(sec) : 'every URI of the server', except: [] },
      sample: proof?.request ?? null,
      ...(proof
        ? { trace: proof.trace, ...(proof.assumes ? { assumes: proof.assumes } : {}), ...explainedOn(m, proof) }
        : {
            note: base.length
              ? (lastMiss ?? 'no generated request is refused by this line')
              : 'no URL that reaches this section could be built from the config',
          }),
    });
  };
  visit(m.tree.top, []);
  return out;
}
