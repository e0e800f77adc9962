/** Helpers shared by the nginx and Apache explainers. */
import { basename, relative, isAbsolute } from 'node:path';
import { expansionOf } from '../apache/macro.js';
import type { ConfigSet, Directive, ParsedFile, PathMapping } from '../ast.js';
import type { ModelOptions } from '../model/index.js';
import type { Settings } from '../rule.js';
import { causeTitle, type CauseId } from './causes.js';
import type { ExplainRequest } from './request.js';
import type { Explanation, ExplainStep, Location, PossibleOutcome } from './types.js';

export interface ExplainOptions {
  /** Read the file system (root/alias/DocumentRoot on disk, modes, owners, .htaccess). */
  fs: boolean;
  pathMap: PathMapping[];
  /** nginx `-p` prefix for relative paths (default Debian's /usr/share/nginx/). */
  prefix?: string;
  /** Apache ServerRoot when the config does not set one. */
  serverRoot?: string;
  /** Apache `-D` defines. */
  defines?: Record<string, string>;
  /** Paths in the output are relative to this directory (default: process.cwd(); '' keeps them absolute). */
  cwd?: string;
  /** Lint settings (.why403.json `settings`): the model is built with them, as lint builds it. */
  settings?: Settings;
  /** Apache without `fs`: the tree's parsed .htaccess files by directory (all of them: a directory
   * not in the map has none), as `why403 diff` reads them. */
  htaccess?: Map<string, ParsedFile>;
  /** Apache without `fs` (`--htaccess`): read the access files of the directories the request walks
   * from disk through the path map (src/explain/htaccess.ts), and nothing else of the disk. */
  readHtaccess?: boolean;
  /** Only what a proof reads (status, cause, deciding directive, the trace's messages and places):
   * no access-rule details, directive texts of other steps, suggestions, verdict or config problems.
   * The simulation stops exploring once the status is known to be null (possible outcomes, unknowns
   * and `mayAlso` then list only the runs explored, and the trace is empty); a known status is
   * simulated as without it (issue 12: a lint explains one request per proof). Apache: the same
   * simulation; no list of the sections not applied, suggestions or config problems. */
  brief?: boolean;
}

export const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  410: 'Gone',
  444: 'connection closed',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function statusText(s: number | null): string {
  if (s === null) return 'unknown';
  return REASONS[s] ? `${s} ${REASONS[s]}` : String(s);
}

/** A path as the user should see it: relative to cwd when that is shorter and does not climb out far. */
export function showPath(p: string, cwd: string): string {
  if (!isAbsolute(p) || cwd === '') return p;
  const r = relative(cwd, p);
  if (r === '') return '.';
  if (r.startsWith('..') || isAbsolute(r)) return p;
  return r;
}

export function locationOf(d: Directive | null | undefined, cwd: string): Location | null {
  if (!d) return null;
  // one read of the span: an nginx directive makes it on each read (two line searches and its name's end)
  const { line, column } = d.nameSpan.start;
  return { file: showPath(d.source.path, cwd), line, column };
}

export function fmtLoc(l: Location | null): string {
  return l ? `${l.file}:${l.line}:${l.column}` : '';
}

/** The directive as a short line of text: `deny all`, `location /admin/`, `<Directory /srv>`. */
export function directiveText(d: Directive | null | undefined): string | null {
  if (!d) return null;
  const args = d.args.map((a) => a.raw).join(' ');
  let t = d.section ? `<${d.name}${args ? ' ' + args : ''}>` : `${d.name}${args ? ' ' + args : ''}`;
  t = t.replace(/\s+/g, ' ');
  if (t.length > 100) t = t.slice(0, 97) + '…';
  // a line of a mod_macro expansion: its position is the macro body's, so say which Use made it
  const use = expansionOf(d);
  return use ? `${t} (from Use ${use.args.map((a) => a.raw).join(' ')} at ${basename(use.source.path)}:${use.span.start.line})` : t;
}

/** Normalise the models' outcome names to one vocabulary. */
export function outcomeName(status: number | null, kind: string): string {
  switch (kind) {
    case 'error':
    case 'forbidden':
    case 'unauthorized':
    case 'not-found':
    case 'method-not-allowed':
    case 'server-error':
    case 'bad-request':
    case 'gone':
      if (status === 403) return 'forbidden';
      if (status === 401) return 'unauthorized';
      if (status === 404) return 'not-found';
      if (status === 405) return 'method-not-allowed';
      if (status === 400) return 'bad-request';
      if (status === 410) return 'gone';
      if (status !== null && status >= 500) return 'server-error';
      if (status !== null && status >= 300 && status < 400) return 'redirect';
      return status === 200 ? 'static' : kind;
    case 'ok':
      return 'static';
    case 'return':
      return status === 403 ? 'forbidden' : status !== null && status >= 300 && status < 400 ? 'redirect' : 'return';
    default:
      return kind;
  }
}

export function configProblems(set: ConfigSet, cwd: string): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const all = [...set.errors, ...[...set.files.values()].flatMap((f) => f.errors)];
  for (const d of all) {
    const line = `${showPath(d.file, cwd)}:${d.span.start.line}:${d.span.start.column}: ${d.message} (${d.code})`;
    (d.severity === 'error' ? errors : warnings).push(line);
  }
  return { errors, warnings };
}

export function baseRequest(req: ExplainRequest, host: string | undefined, hostFrom: ExplainRequest['hostFrom']): Explanation['request'] {
  return {
    method: req.method,
    target: req.absoluteTarget ?? req.target,
    host: host ?? null,
    hostFrom,
    port: req.port ?? null,
    clientIp: req.clientIp,
    clientIpDefaulted: req.clientIpDefaulted,
    headers: req.headers,
    user: req.user ?? null,
  };
}

export function commonAssumptions(
  req: ExplainRequest,
  host: string | undefined,
  hostFrom: ExplainRequest['hostFrom'],
  fs: boolean,
): string[] {
  const out: string[] = [];
  if (req.clientIpDefaulted) out.push('the client address is 127.0.0.1 (the default; give --ip to change it)');
  if (hostFrom === 'default' && host)
    out.push(`Host: ${host} (the first name of the server that answers by default; give a URL or --header 'Host: …' to change it)`);
  if (hostFrom === 'none') out.push('no Host header is sent (the default server answers)');
  if (req.user) out.push(`the request carries valid credentials for user "${req.user}" (the password is not checked)`);
  if (!fs) out.push('the file system was not read (no --fs): where the answer depends on files on disk, the possibilities are listed');
  if (req.scheme === 'https') out.push('https: TLS itself is not modelled, only the port');
  if (req.absoluteTarget)
    out.push(
      `sent as a forward proxy's client sends it: ${req.absoluteTarget} on the request line, to the server's port ${req.port} (--proxy), plain http`,
    );
  return out;
}

export function finishVerdict(
  status: number | null,
  outcome: string,
  cause: CauseId | null,
  decisive: ExplainStep | null,
  possible: PossibleOutcome[],
  fs: boolean,
): string {
  if (status === null) {
    if (outcome === 'proxied') {
      return `proxied to a backend${decisive?.directive ? ` (${decisive.directive} at ${fmtLoc(decisive.at)})` : ''}: the backend decides; a 403 would come from the application (roles, ownership, scopes)`;
    }
    if (outcome === 'handler')
      return `handled by a module${decisive?.directive ? ` (${decisive.directive} at ${fmtLoc(decisive.at)})` : ''}: it decides the status`;
    if (possible.length) {
      const fsDep = possible.some((p) => p.when.some((w) => /exist|file|director|readable|symlink|\.htaccess|search/i.test(w)));
      const head = fsDep && !fs ? 'depends on the file system (run with --fs to check it)' : 'depends on what cannot be known here';
      // One clause per distinct answer; the full list is in possibleOutcomes.
      const groups = new Map<string, { label: string; whens: string[] }>();
      for (const p of possible) {
        const key = `${p.status}|${p.cause ?? ''}`;
        const g = groups.get(key) ?? {
          label: `${statusText(p.status)}${p.cause ? ` (${p.cause} ${causeTitle(p.cause)})` : ''}`,
          whens: [],
        };
        g.whens.push(p.when.join(' and '));
        groups.set(key, g);
      }
      const parts = [...groups.values()].map(
        (g) =>
          `${g.label}${g.whens[0] ? ` if ${g.whens[0]}` : ''}${g.whens.length > 1 ? ` (or ${g.whens.length - 1} other case${g.whens.length > 2 ? 's' : ''})` : ''}`,
      );
      return `${head}: ${parts.join('; ')}`;
    }
    if (outcome === 'close') return 'the connection is closed without a response (return 444)';
    return 'unknown: the model could not decide (see the notes)';
  }
  let v = statusText(status);
  if (status === 403) {
    v += cause ? `: ${cause} ${causeTitle(cause)}` : '';
    if (decisive?.directive) v += ` (${decisive.directive} at ${fmtLoc(decisive.at)})`;
    else if (decisive?.at) v += ` (at ${fmtLoc(decisive.at)})`;
    return v;
  }
  if (decisive) {
    // Model messages may already start with the status ("400 Bad Request: …").
    const msg = decisive.message.startsWith(v) ? decisive.message.slice(v.length).replace(/^[:\s]+/, '') : decisive.message;
    v += `: ${msg}${decisive.at ? ` (${fmtLoc(decisive.at)})` : ''}`;
  }
  return v;
}

/** The model options an explain run implies: the same key lint uses for the same settings and paths. */
export function modelOptions(opts: ExplainOptions): ModelOptions {
  const o: ModelOptions = {};
  if (opts.settings) o.settings = opts.settings;
  if (opts.pathMap.length) o.pathMap = opts.pathMap;
  if (opts.prefix) o.prefix = opts.prefix;
  if (opts.serverRoot) o.serverRoot = opts.serverRoot;
  if (opts.defines) o.defines = opts.defines;
  if (opts.fs) o.fs = true;
  return o;
}
