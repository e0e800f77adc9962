/**
 * A request that reaches a given nginx scope: a Host that selects its server (checked with the
 * model's own server selection), and a URI whose location search ends in its location (checked with
 * the model's own location search). Findings attach such a request as their proof; `null` when no
 * request that reaches the scope could be built (the finding then carries no sample).
 */
import type { NginxModel, Location, Scope, Server } from '../nginx/model/tree.js';
import { locationOf, serverOf } from '../nginx/model/cache.js';
import { findLocation } from '../nginx/model/locations.js';
import { selectServer } from '../nginx/model/servers.js';
import { normalizeUri } from '../nginx/model/uri.js';
import { toBinary } from '../nginx/model/regex.js';
import { regexExamples, uriExamples } from './examples.js';
import type { SampleInput } from './types.js';

const METHODS = ['POST', 'PUT', 'DELETE', 'PATCH', 'GET'];

/** Examples of a compiled regex, by the regex: the same pattern text is one compiled object
 * (translatePcre caches it), so a location or server name that every server repeats (a shared
 * snippet's `location ~ /\.git`) generates its examples once (issue 12). The lists are read only. */
const hostExamples = new WeakMap<object, readonly string[]>();
const pathExamples = new WeakMap<object, readonly string[]>();
function memo(cache: WeakMap<object, readonly string[]>, key: object, make: () => string[]): readonly string[] {
  let v = cache.get(key);
  if (v === undefined) cache.set(key, (v = make()));
  return v;
}

/** Host names that may select `server`, most specific first. */
function hostCandidates(server: Server): string[] {
  const out: string[] = [];
  for (const n of server.names) {
    if (n.kind === 'exact' && n.name && n.name !== '_') out.push(n.name.replace(/^\./, ''));
    else if (n.kind === 'head') out.push(`www${n.name}`);
    else if (n.kind === 'tail') out.push(`${n.name}com`);
    else if (n.kind === 'regex' && n.regex?.ok) {
      const re = n.regex.regex;
      out.push(...memo(hostExamples, re, () => regexExamples(re, 4, (s) => [s, `www.${s}`, `${s}.test`])));
    }
  }
  out.push('unnamed.invalid');
  return out.filter((h) => /^[a-z0-9.-]+$/i.test(h) && !h.startsWith('.'));
}

/** URI paths that may reach `loc` (verified by the caller). */
function pathCandidates(loc: Location | null): readonly string[] {
  if (!loc) return ['/', '/index.html', '/x'];
  if (loc.modifier === '@') return [];
  if (loc.modifier === '=') return [loc.name];
  if (loc.modifier === '~' || loc.modifier === '~*') {
    if (!loc.regex?.ok) return [];
    const re = loc.regex.regex;
    return memo(pathExamples, re, () => uriExamples(re, 12));
  }
  const base = loc.name;
  return [base, `${base}${base.endsWith('/') ? '' : '/'}x`, `${base}x`];
}

/** The Host of each server's sample requests (a server belongs to one model; its port is its own). */
const hostOf = new WeakMap<Server, string | null>();

/** A request that reaches `scope` (its server and its innermost location), or null. */
export function requestTo(model: NginxModel, scope: Scope): SampleInput | null {
  const server = serverOf(scope);
  if (!server) return null;
  const listen = server.listens.find((l) => !l.addr.startsWith('unix:'));
  if (server.listens.length && !listen) return null;
  const port = listen?.port ?? 80;
  let host = hostOf.get(server);
  if (host === undefined) {
    host = hostCandidates(server).find((h) => selectServer(model, { host: h, port }).server === server) ?? null;
    hostOf.set(server, host);
  }
  if (!host) return null;
  const loc = locationOf(scope);
  let path: string | undefined;
  for (const p of pathCandidates(loc)) {
    if (!/^\/[\x21-\x7e]*$/.test(p) || p.includes('?') || p.includes('#') || p.includes('%')) continue;
    const n = normalizeUri(p);
    if (!n.ok || n.uri !== p) continue;
    // The server's own scope is reached by any URI (its rewrite phase runs before location search).
    const found = loc ? findLocation(server, toBinary(p)) : null;
    if (found && (found.unknown || found.via === 'redirect' || found.location !== loc)) continue;
    path = p;
    break;
  }
  if (path === undefined) return null;
  const sample: SampleInput = { host, port, path };
  if (listen?.directive?.args.some((a) => a.value === 'ssl')) sample.scheme = 'https';
  if (scope.kind === 'limit_except') {
    const allowed = (scope as Scope & { methods: string[] }).methods.map((m) => m.toUpperCase());
    const method = METHODS.find((m) => !allowed.includes(m));
    if (!method) return null;
    sample.method = method;
  }
  return sample;
}
