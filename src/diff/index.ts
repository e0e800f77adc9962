/**
 * `why403 diff`: whose access does a config change alter? Probe requests are generated from both
 * configs — every scope each model can reach (nginx servers and locations, Apache served roots,
 * sections and the places `why403 map` lists), from clients on both sides of every address boundary
 * the allow/deny/Require lines mention, with every method a limit_except/<Limit>/Require method names
 * and one they do not, with and without credentials — and each is predicted on both sides by explain
 * (the one model). Every request whose status or deciding directive changes is reported.
 *
 * Apache: the .htaccess files under the served roots of each tree are part of it (src/diff/htaccess.ts):
 * explain reads them on both sides (a side without one has none), their directories are probed and
 * their `Require ip`/`Allow`/`Deny` lines add address boundaries.
 */
import type { ConfigSet, Directive, ParsedFile } from '../ast.js';
import { walk } from '../walk.js';
import { directiveText } from '../ast.js';
import { explain } from '../explain/index.js';
import { parseExplainRequest } from '../explain/request.js';
import type { Explanation } from '../explain/types.js';
import { partialOf } from '../load-options.js';
import { mapConfig, scopeChain } from '../map/index.js';
import { modelFor, type Model, type ModelOptions } from '../model/index.js';
import { explainSample, sampleUrl, SAMPLE_CLIENT, type SampleInput, type SampleRequest } from '../model/proof.js';
import { addressText, parseAccessRule } from '../nginx/model/address.js';
import { htaccessDirectives, htaccessFiles, htaccessUrls } from './htaccess.js';

export interface DiffSide {
  set: ConfigSet;
  options: ModelOptions;
}

export interface Verdict {
  status: number | null;
  /** When the status is unknown: the statuses explain lists as possible (depending on the disk, …). */
  possible?: Array<number | null>;
  /** `file:line:col directive` of the deciding directive, paths as given to explain. */
  decidedBy: string | null;
  cause: string | null;
}

export interface Change {
  request: SampleRequest & { user?: string };
  before: Verdict;
  after: Verdict;
  /** Where the probe came from (a location, a section, a map place). */
  scope: string;
  /** opened: a 401/403 became a 2xx/3xx; closed: the reverse; changed: anything else. */
  kind: 'opened' | 'closed' | 'changed';
}

export interface DiffResult {
  probes: number;
  /** With `all`: every probe request and both verdicts, changed or not. */
  all?: Array<{ request: Change['request']; before: Verdict; after: Verdict; changed: boolean }>;
  changes: Change[];
  /** True when the probe budget cut the list of requests. */
  truncated: boolean;
  /** A side read without its main config (a fragment alone): what was not loaded, as explain says it.
   * Both answers are then the fragment's own; null for a whole configuration. */
  partial: { before: string | null; after: string | null };
}

interface Probe {
  sample: SampleInput & { user?: string };
  scope: string;
}

const MAX_PROBES = 4000;
const METHODS_ALWAYS = ['GET', 'POST'];

/** Client addresses on both sides of an address or CIDR: inside it, and just after it. */
function boundary(spec: string): string[] {
  const r = parseAccessRule('deny', spec);
  if (!r.v4) return [];
  const lo = BigInt(r.v4.addr >>> 0);
  const size = 1n << BigInt(32 - r.v4.len);
  const inside = size > 2n ? lo + 1n : lo;
  const after = lo + size;
  const out = [addressText(inside, 'ipv4')];
  if (after <= 0xffffffffn) out.push(addressText(after, 'ipv4'));
  if (lo > 0n) out.push(addressText(lo - 1n, 'ipv4'));
  return out;
}

/** Addresses, methods and whether auth appears, from every directive of a set (and of its .htaccess files). */
function dimensions(set: ConfigSet, htaccess: Map<string, ParsedFile>): { ips: Set<string>; methods: Set<string>; auth: boolean } {
  const ips = new Set<string>([SAMPLE_CLIENT, '127.0.0.1']);
  const methods = new Set<string>(METHODS_ALWAYS);
  let auth = false;
  const scan = (n: Directive) => {
    const k = n.key.replace(/^</, '');
    const args = n.args.map((a) => a.value);
    if (k === 'allow' || k === 'deny')
      for (const a of args) if (a.toLowerCase() !== 'from' && a.toLowerCase() !== 'all') boundary(a).forEach((x) => ips.add(x));
    if (k === 'require' && /^(not\s+)?ip$/i.test(args.slice(0, args[0]?.toLowerCase() === 'not' ? 2 : 1).join(' ')))
      for (const a of args.slice(args[0]?.toLowerCase() === 'not' ? 2 : 1)) boundary(a).forEach((x) => ips.add(x));
    if (k === 'geo' || k === 'set_real_ip_from') for (const a of args) boundary(a).forEach((x) => ips.add(x));
    if (k === 'limit_except' || k === 'limit' || k === 'limitexcept') for (const a of args) if (/^[A-Z]+$/.test(a)) methods.add(a);
    if (k === 'require' && args[0]?.toLowerCase() === 'method') for (const a of args.slice(1)) methods.add(a.toUpperCase());
    if (k === 'auth_basic' || k === 'authtype' || (k === 'require' && /^(valid-user|user|group)$/i.test(args[0] ?? ''))) auth = true;
  };
  // every directive in reading order, includes expanded (src/walk.ts)
  walk(set, (n) => {
    if (n.type === 'directive') scan(n);
  });
  for (const d of htaccessDirectives(htaccess)) scan(d);
  return { ips, methods, auth };
}

/** The requests that reach each scope of one model (and each directory with an .htaccess file), from
 * the default client. */
function scopeProbes(m: Model, htaccess: Map<string, ParsedFile>): Probe[] {
  const out: Probe[] = [];
  if (m.server === 'nginx') {
    for (const s of m.scopes()) {
      if (s.kind === 'http' || s.kind === 'if') continue;
      const r = m.requestTo(s);
      if (r) out.push({ sample: r, scope: scopeChain(s).join(' › ') });
    }
  } else {
    for (const p of m.probes()) {
      const server = p.root.server.serverName ?? '(main server)';
      out.push({
        sample: m.requestTo(p.root.server, p.url),
        scope: `${server} ${p.section ? `<${directiveText(p.section.directive)}>` : p.url}`,
      });
      out.push({ sample: m.requestTo(p.root.server, `${p.url}index.html`), scope: `${server} ${p.url}index.html` });
    }
    for (const h of htaccessUrls(m, htaccess)) {
      const server = h.server.serverName ?? '(main server)';
      out.push({ sample: m.requestTo(h.server, h.url), scope: `${server} ${h.dir}/.htaccess` });
      out.push({ sample: m.requestTo(h.server, `${h.url}index.html`), scope: `${server} ${h.dir}/.htaccess` });
    }
  }
  for (const e of mapConfig(m.set, m.options).entries)
    if (e.sample) {
      const u = new URL(e.sample.url);
      out.push({
        sample: {
          host: u.hostname.replace(/^\[|\]$/g, ''),
          path: `${u.pathname}${u.search}`,
          method: e.sample.method,
          ip: e.sample.ip,
          headers: e.sample.headers,
          ...(u.port ? { port: Number(u.port) } : {}),
          ...(u.protocol === 'https:' ? { scheme: 'https' as const } : {}),
        },
        scope: `${e.server} ${e.scope.join(' › ')}`,
      });
    }
  return out;
}

function verdictOf(e: Explanation | null): Verdict {
  if (!e) return { status: null, decidedBy: null, cause: null };
  const possible = e.status === null ? [...new Set(e.possibleOutcomes.map((p) => p.status))] : [];
  return {
    status: e.status,
    ...(possible.length ? { possible } : {}),
    decidedBy: e.decidedBy ? `${e.decidedBy.file}:${e.decidedBy.line}:${e.decidedBy.column} ${e.decidedBy.directive}` : null,
    cause: e.cause?.id ?? null,
  };
}

function predict(
  side: DiffSide,
  req: SampleRequest & { user?: string },
  cwd: string,
  htaccess: Map<string, ParsedFile> | null,
): Explanation | null {
  const model = modelFor(side.set, side.options);
  if (!htaccess) return explainSample(model, req, cwd);
  // as explainSample, with the tree's .htaccess files
  const r = parseExplainRequest({
    target: req.url,
    method: req.method,
    ip: req.ip,
    headers: Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`),
    ...(req.user ? { user: req.user } : {}),
  });
  if (!r.ok) return null;
  const o = model.options;
  return explain(model.set, model.set.root.source.path, r.request, {
    fs: o.fs === true,
    pathMap: o.pathMap ?? [],
    ...(o.prefix ? { prefix: o.prefix } : {}),
    ...(o.serverRoot ? { serverRoot: o.serverRoot } : {}),
    ...(o.defines ? { defines: o.defines } : {}),
    ...(o.settings ? { settings: o.settings } : {}),
    htaccess,
    cwd,
  });
}

const denied = (s: number | null) => s === 401 || s === 403;
const served = (s: number | null) => s !== null && s >= 200 && s < 400;
/** Every status a verdict allows. */
const statuses = (v: Verdict): Array<number | null> => (v.status !== null ? [v.status] : (v.possible ?? [null]));

/** One probe request (a client, a method, with or without credentials) and where it came from. */
export interface ProbeRequest {
  req: SampleRequest & { user?: string };
  scope: string;
}

/**
 * The probe requests of one or more configs (diff passes both sides): every scope each model reaches,
 * from every client on both sides of every address boundary, with every method and with and without
 * credentials, deduplicated and bounded by MAX_PROBES (`truncated` says when the bound cut the list).
 * `why403 diff` and the agreement differential against the real servers (bench/agreement.ts) use it.
 */
export function probeRequests(sides: DiffSide[]): { requests: ProbeRequest[]; truncated: boolean } {
  const models = sides.map((s) => modelFor(s.set, s.options));
  const hts = models.map((m) => htaccessFiles(m));
  const probes = models.flatMap((m, i) => scopeProbes(m, hts[i]));
  const dims = sides.map((s, i) => dimensions(s.set, hts[i]));
  const ips = [...new Set(dims.flatMap((d) => [...d.ips]))];
  const methods = [...new Set(dims.flatMap((d) => [...d.methods]))];
  const users = dims.some((d) => d.auth) ? [undefined, 'why403-user'] : [undefined];
  const seen = new Set<string>();
  const requests: ProbeRequest[] = [];
  let truncated = false;
  outer: for (const p of probes) {
    for (const ip of [p.sample.ip, ...ips].filter((x, i, a): x is string => !!x && a.indexOf(x) === i))
      for (const method of [p.sample.method ?? 'GET', ...methods].filter((x, i, a) => a.indexOf(x) === i))
        for (const user of users) {
          const req = { method, url: sampleUrl(p.sample), ip, headers: p.sample.headers ?? {}, ...(user ? { user } : {}) };
          const key = `${req.method} ${req.url} ${req.ip} ${user ?? ''} ${JSON.stringify(req.headers)}`;
          if (seen.has(key)) continue;
          if (seen.size >= MAX_PROBES) {
            truncated = true;
            break outer;
          }
          seen.add(key);
          requests.push({ req, scope: p.scope });
        }
  }
  return { requests, truncated };
}

/** explain's verdict on one probe request for one config (with the tree's .htaccess files when it has any). */
export function predictProbe(side: DiffSide, req: SampleRequest & { user?: string }, cwd = ''): Verdict {
  const ht = htaccessFiles(modelFor(side.set, side.options));
  return verdictOf(predict(side, req, cwd, ht.size > 0 ? ht : null));
}

export function diffConfigs(base: DiffSide, head: DiffSide, opts: { cwd?: string; all?: boolean } = {}): DiffResult {
  const cwd = opts.cwd ?? '';
  const modelA = modelFor(base.set, base.options);
  const modelB = modelFor(head.set, head.options);
  const htA = htaccessFiles(modelA);
  const htB = htaccessFiles(modelB);
  // when either tree has .htaccess files, both sides are explained with theirs (none is none)
  const withHt = htA.size > 0 || htB.size > 0;
  const { requests, truncated } = probeRequests([base, head]);
  const changes: Change[] = [];
  const all: NonNullable<DiffResult['all']> = [];
  for (const { req, scope } of requests) {
    const before = verdictOf(predict(base, req, cwd, withHt ? htA : null));
    const after = verdictOf(predict(head, req, cwd, withHt ? htB : null));
    // A change is a change of status (for an unknown status: of the statuses it may be); the same
    // status decided by another directive is no change for any client.
    const same =
      before.status === after.status && (before.status !== null || JSON.stringify(before.possible) === JSON.stringify(after.possible));
    if (opts.all) all.push({ request: req, before, after, changed: !same });
    if (same) continue;
    // opened: refused before, and now no outcome refuses (served, or served-or-missing on the disk)
    const b = statuses(before);
    const a = statuses(after);
    const opened = b.every(denied) && a.some(served) && !a.some(denied);
    const closed = b.some(served) && !b.some(denied) && a.every(denied);
    const kind = opened ? 'opened' : closed ? 'closed' : 'changed';
    changes.push({ request: req, before, after, scope, kind });
  }
  return {
    probes: requests.length,
    changes,
    truncated,
    partial: { before: partialOf(base.set)?.reason ?? null, after: partialOf(head.set)?.reason ?? null },
    ...(opts.all ? { all } : {}),
  };
}
