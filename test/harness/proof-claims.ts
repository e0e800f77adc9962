/**
 * A finding's proof (the JSON message's `request`, `status`, `assumes`) turned into a real request
 * for a server the harness started, and the comparison of the claimed status with the real one
 * (test/proofs-real.test.ts). The client address goes in `CLIENT_HEADER` (the server is started with
 * `clientHeader`), so a proof's 192.0.2.10 can be sent from 127.0.0.1.
 */
import { lstatSync, statSync } from 'node:fs';
import { lint, type LintOptions, type ResultMessage } from '../../src/run.js';
import type { SampleRequest } from '../../src/model/types.js';
import { isLoopbackV4, request, type RequestOptions } from './requests.js';
import { CLIENT_HEADER, type RunningServer } from './servers.js';

export interface Claim {
  /** `file:line rule` of the finding (the file relative to the served prefix). */
  where: string;
  ruleId: string;
  request: SampleRequest;
  status: number;
  assumes?: string[];
}

/** The findings of a lint run that claim a status for a request. */
export function claimsOf(messages: Array<{ filePath: string; m: ResultMessage }>, prefix: string): Claim[] {
  const out: Claim[] = [];
  for (const { filePath, m } of messages) {
    if (!m.request || typeof m.status !== 'number') continue;
    const file = filePath.startsWith(prefix) ? filePath.slice(prefix.length).replace(/^\/+/, '') : filePath;
    out.push({
      where: `${file}:${m.line} ${m.ruleId}`,
      ruleId: m.ruleId,
      request: m.request,
      status: m.status,
      ...(m.assumes ? { assumes: m.assumes } : {}),
    });
  }
  return out;
}

/** One line naming a claim: what is sent and what is claimed. */
export function claimText(c: Claim): string {
  const r = c.request;
  const hdrs = Object.entries(r.headers).map(([k, v]) => ` header "${k}: ${v}"`);
  return `${r.method} ${r.url} from ${r.ip}${hdrs.join('')} -> ${c.status}${c.assumes ? ` if ${c.assumes.join(' and ')}` : ''}`;
}

/** What one `assumes` condition says about a path, in explain's words (`<what> <path> is a file`,
 * `… does not exist`, `… is a directory`, Apache's `<path> exists and is readable`: a file the worker
 * reads); null when it is not such a condition. */
export function parseAssumption(text: string): { path: string; kind: 'file' | 'none' | 'dir' | 'readable' } | null {
  const m = /^(?:.*? )?(\/\S*) (is a file|does not exist|is a directory|exists and is readable)$/.exec(text);
  if (!m) return null;
  const kinds = { 'is a file': 'file', 'is a directory': 'dir', 'does not exist': 'none', 'exists and is readable': 'readable' } as const;
  return { path: m[1], kind: kinds[m[2] as keyof typeof kinds] };
}

/** Whether the disk satisfies one parsed condition (symlinks followed, as a server opens them).
 * `readable`: a file every user may read (the worker is www-data or the test's user, who may not own it). */
function holds(a: { path: string; kind: 'file' | 'none' | 'dir' | 'readable' }): boolean {
  let kind: 'file' | 'none' | 'dir' | 'other' | 'readable';
  try {
    const st = statSync(a.path);
    kind = st.isFile() ? (a.kind === 'readable' && (st.mode & 0o004) !== 0 ? 'readable' : 'file') : st.isDirectory() ? 'dir' : 'other';
  } catch {
    // a dangling symlink does not exist for open(), but lstat sees it: not 'none' then
    kind = (() => {
      try {
        lstatSync(a.path);
        return 'other' as const;
      } catch {
        return 'none' as const;
      }
    })();
  }
  return kind === a.kind;
}

/** The request to send for a claim to a running server, or why it cannot be sent. */
export function toRequest(c: Claim, server: RunningServer): { send: RequestOptions } | { notSendable: string } {
  const r = c.request;
  const m = /^(https?):\/\/(\[[^\]]+\]|[^/:?#]+)(?::(\d+))?([/?][^#]*)?$/i.exec(r.url);
  if (!m) return { notSendable: `URL ${r.url} is not scheme://host[:port]/path` };
  if (m[1].toLowerCase() === 'https') return { notSendable: 'https: the harness speaks plain HTTP only' };
  for (const a of c.assumes ?? []) {
    const p = parseAssumption(a);
    if (!p) return { notSendable: `assumption "${a}" is not about a path on disk` };
    if (!holds(p)) return { notSendable: `the served tree does not satisfy "${a}"` };
  }
  // the copy linted is the running one, whose listen lines name the harness's ports; a URL on another
  // port names the config's own port (Apache's samples say http://localhost/ whatever it Listens on):
  // the harness's port for it, if the config had one
  // a forward-proxy request (`proxy`: the server's port it goes to) has the URL on its request line
  const urlPort = r.proxy !== undefined ? String(r.proxy) : (m[3] ?? '80');
  const ports = Object.values(server.ports);
  const port = ports.includes(Number(urlPort)) ? Number(urlPort) : server.ports[urlPort];
  if (port === undefined) return { notSendable: `port ${urlPort} is not one the served config listens on (${ports.join(', ')})` };
  const host = m[3] ? `${m[2]}:${m[3]}` : m[2];
  let path = m[4] ?? '/';
  if (path.startsWith('?')) path = `/${path}`;
  if (r.proxy !== undefined) path = r.url;
  const headers: Array<[string, string]> = Object.entries(r.headers);
  if (headers.some(([k]) => k.toLowerCase() === CLIENT_HEADER.toLowerCase())) {
    return { notSendable: `the request already carries ${CLIENT_HEADER}` };
  }
  headers.push([CLIENT_HEADER, r.ip]);
  return {
    send: {
      port,
      method: r.method,
      path,
      host,
      headers,
      from: isLoopbackV4(r.ip) ? r.ip : '127.0.0.1',
      timeoutMs: 5000,
    },
  };
}

/** '' when the real status is the claimed one, else the disagreement in one line. */
export function compareClaim(c: Claim, real: number | null, error?: string): string {
  if (real === c.status) return '';
  return `${c.where}: ${claimText(c)}, real ${real ?? `no answer (${error ?? 'unknown error'})`}`;
}

/** What sending one running config's claims gave. */
export interface Outcome {
  /** The fixture or corpus file. */
  label: string;
  server: 'nginx' | 'apache';
  sent: number;
  confirmed: number;
  /** Of those sent: from an address outside 127.0.0.0/8 (in the header), under `assumes`, with credentials. */
  foreign: number;
  assumed: number;
  credentials: number;
  /** Of those confirmed: findings in a .htaccess file (proven on the main config that reads it). */
  htaccessConfirmed: number;
  notSendable: string[];
  /** `<label> <where> <claim> => real <status>`, the prefix shown as `<prefix>`. */
  disagreements: string[];
  /** Messages saying the server cannot start (messageId `startup`): it did start, so each is wrong. */
  startup: string[];
}

/**
 * Lint a running server's copy with `optionsFor(false)` and `optionsFor(true)` (no --fs, --fs), and
 * send every distinct claim (also those of suppressed messages) to it. Does not stop the server.
 */
export async function checkRunning(
  label: string,
  kind: 'nginx' | 'apache',
  running: RunningServer,
  optionsFor: (fs: boolean) => LintOptions,
  /** The files to lint (default: the config the server was started with). */
  filesFor: (fs: boolean) => string[] = () => [running.configFile],
): Promise<Outcome> {
  const out: Outcome = {
    label,
    server: kind,
    sent: 0,
    confirmed: 0,
    foreign: 0,
    assumed: 0,
    credentials: 0,
    htaccessConfirmed: 0,
    notSendable: [],
    disagreements: [],
    startup: [],
  };
  const hide = (t: string) => t.split(running.prefix).join('<prefix>');
  const claims = new Map<string, Claim>();
  for (const fs of [false, true]) {
    const run = await lint(filesFor(fs), optionsFor(fs));
    if (run.crashes.length) throw new Error(`${label}: lint crashed: ${JSON.stringify(run.crashes)}`);
    const messages = run.results.flatMap((r) => [...r.messages, ...r.suppressedMessages].map((m) => ({ filePath: r.filePath, m })));
    for (const { m } of messages) if (m.messageId === 'startup') out.startup.push(hide(`${m.ruleId}: ${m.message}`));
    for (const c of claimsOf(messages, running.prefix)) {
      const key = `${c.where} ${claimText(c)}`;
      if (!claims.has(key)) claims.set(key, c);
    }
  }
  for (const [key, c] of claims) {
    const shown = hide(`${label} ${key}`);
    const r = toRequest(c, running);
    if ('notSendable' in r) {
      out.notSendable.push(`${shown}: ${hide(r.notSendable)}`);
      continue;
    }
    out.sent++;
    if (!isLoopbackV4(c.request.ip)) out.foreign++;
    if (c.assumes) out.assumed++;
    if (Object.keys(c.request.headers).some((k) => k.toLowerCase() === 'authorization')) out.credentials++;
    let real: number | null = null;
    let error: string | undefined;
    try {
      real = (await request(r.send)).status;
    } catch (e) {
      error = (e as Error).message;
    }
    if (compareClaim(c, real, error) === '') {
      out.confirmed++;
      if (/(^|\/)\.htaccess:/.test(c.where)) out.htaccessConfirmed++;
    } else out.disagreements.push(`${shown} => real ${real ?? error}`);
  }
  return out;
}

/** One summary line (and one line per claim not sent or disagreeing) for the outcomes of one server. */
export function summaryLine(server: string, outcomes: Outcome[], what: string): string {
  const sum = (k: 'sent' | 'confirmed' | 'foreign' | 'assumed' | 'credentials' | 'htaccessConfirmed') =>
    outcomes.reduce((n, o) => n + o[k], 0);
  const ns = outcomes.flatMap((o) => o.notSendable);
  const dis = outcomes.flatMap((o) => o.disagreements);
  return (
    `${server}: ${outcomes.length} ${what}, ${sum('sent')} claims sent (${sum('foreign')} from outside 127.0.0.0/8 via ` +
    `${CLIENT_HEADER}, ${sum('assumed')} under assumes, ${sum('credentials')} with credentials), ${sum('confirmed')} confirmed ` +
    `(${sum('htaccessConfirmed')} of findings in .htaccess files), ` +
    `${dis.length} disagree, ${ns.length} not sendable` +
    [...ns, ...dis.map((d) => `DISAGREES ${d}`)].map((x) => `\n  ${x}`).join('')
  );
}
