/**
 * `why403 test --real`: the expectations of a spec sent to a real nginx or Apache httpd started on
 * 127.0.0.1 with the spec's config, so a team can confirm the spec itself (and see where why403's
 * prediction and the server part ways).
 *
 * The config's tree (the spec's `prefix`/`serverRoot`, else the config's directory) is copied into a
 * temporary prefix; the harness (src/real/servers.ts) rewrites every `listen`/`Listen` to a free port
 * on 127.0.0.1, logs and pid files into the prefix, and the spec's `pathMap` targets inside the tree
 * to their copies. The server runs as our child in its own process group, each request and the start
 * are bounded in time, and it is stopped by PID (then the prefix removed) whatever happens.
 *
 * What cannot be sent is said, not guessed: a client address outside 127.0.0.0/8 (the request can
 * only come from loopback), and `as USER` without a password (valid credentials cannot be made up).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { ServerKind } from '../ast.js';
import { basicAuth, parseExplainRequest } from '../explain/request.js';
import { loadConfig, serverFor } from '../load.js';
import { mapPath } from '../load-options.js';
import type { Expectation, Spec } from '../spec/index.js';
import { isLoopbackV4, request } from './requests.js';
import { serverSkipReason, startApache, startNginx, stopAllServers, type RunningServer } from './servers.js';

export interface RealResult {
  expectation: Expectation;
  /** The status the real server answered; null when the request was not sent or got no answer. */
  status: number | null;
  /** False when the request could not be sent as written (see `note`). */
  sent: boolean;
  /** Why it was not sent, why it got no answer (a timeout), or how it was sent (plain HTTP for https). */
  note?: string;
  /** The real answer is the expected one (false too when a sent request got no answer). */
  ok: boolean;
}

export interface RealRun {
  server: ServerKind;
  results: RealResult[];
  /** The server could not be started (not installed, or it refused the config): nothing was sent. */
  error?: string;
}

export interface RealOptions {
  /** Bound for the server to accept connections (default 15 s). */
  startTimeoutMs?: number;
  /** Bound on each request (default 5 s). */
  requestTimeoutMs?: number;
}

const inside = (root: string, p: string) => {
  const r = relative(root, p);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r) ? r : r === '' ? '.' : null;
};

/** The request line, Host and port of one expectation, or why it cannot be sent. */
function toRequest(
  x: Expectation,
  s: RunningServer,
): { path: string; host?: string; port: number; from: string; headers: Record<string, string>; note?: string } | { skip: string } {
  const r = parseExplainRequest({
    target: x.url,
    method: x.method,
    ...(x.ip ? { ip: x.ip } : {}),
    headers: Object.entries(x.headers).map(([k, v]) => `${k}: ${v}`),
  });
  if (!r.ok) return { skip: r.error };
  const q = r.request;
  if (!isLoopbackV4(q.clientIp))
    return { skip: `the client address ${q.clientIp} is not in 127.0.0.0/8: a real request can only come from loopback` };
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(q.headers)) if (k.toLowerCase() !== 'host') headers[k] = v;
  if (x.user !== undefined) {
    if (x.password === undefined)
      return { skip: `"as ${x.user}" assumes valid credentials; give the password (as ${x.user}:PASSWORD) to send them` };
    headers.Authorization = basicAuth(x.user, x.password);
  }
  const wanted = q.port ?? 80;
  const port = s.ports[String(wanted)];
  return {
    path: q.target,
    ...(q.host !== undefined ? { host: q.port && q.port !== 80 && q.hostFrom === 'url' ? `${q.host}:${q.port}` : q.host } : {}),
    port: port ?? s.port,
    from: q.clientIp,
    headers,
    ...(port === undefined ? { note: `the config does not listen on port ${wanted}: sent to its first listen port` } : {}),
    ...(q.scheme === 'https' ? { note: 'sent over plain HTTP (the server is started without TLS)' } : {}),
  };
}

/** The listening TCP addresses (`127.0.0.1:8080`, `[hex]:port` for IPv6) of the processes in group
 * `pgid`, from Linux /proc (empty where /proc cannot tell). */
export function listeners(pgid: number): string[] {
  const inodes = new Set<string>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      }
    } catch {
      /* gone, or not ours to read */
    }
  }
  const out: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9])) continue; // 0A: LISTEN
      const [hex, port] = f[1].split(':');
      // IPv4 in host (little-endian) order: 0100007F is 127.0.0.1; a v4-mapped IPv6 address ends with it
      const v4 = hex.length === 8 ? hex : /^0{16}FFFF0000/i.test(hex) ? hex.slice(24) : null;
      const addr = v4
        ? v4
            .match(/../g)!
            .reverse()
            .map((b) => parseInt(b, 16))
            .join('.')
        : `[${hex}]`;
      out.push(`${addr}:${parseInt(port, 16)}`);
    }
  }
  return out;
}

/** The listening addresses of group `pgid` outside 127.0.0.0/8. A listen line the harness did not see
 * (a file the loader could not follow) would bind a public address: the run stops instead. */
export function nonLoopbackListeners(pgid: number): string[] {
  return listeners(pgid).filter((a) => !/^127\./.test(a));
}

/** Start the spec's server, send every expectation, stop the server. Never throws. */
export async function runSpecReal(spec: Spec, opts: RealOptions = {}): Promise<RealRun> {
  const server: ServerKind = spec.server ?? serverFor(spec.config) ?? 'nginx';
  const skip = serverSkipReason(server);
  if (skip) return { server, results: [], error: skip };
  const root = resolve(server === 'nginx' ? (spec.prefix ?? resolve(spec.config, '..')) : (spec.serverRoot ?? resolve(spec.config, '..')));
  const main = inside(root, spec.config);
  if (main === null || main === '.')
    return { server, results: [], error: `the config ${spec.config} is not inside the tree ${root} that would be copied` };
  // the files the server reads, as the loader sees them: they get the harness's edits
  const set = loadConfig(spec.config, {
    server,
    ...(spec.pathMap.length ? { pathMap: spec.pathMap } : {}),
    ...(spec.prefix ? { prefix: spec.prefix } : {}),
    ...(spec.serverRoot ? { serverRoot: spec.serverRoot } : {}),
  });
  const confFiles = new Set<string>();
  for (const f of set.files.keys()) {
    const rel = inside(root, f) ?? inside(root, mapPath(f, spec.pathMap));
    if (rel && rel !== '.' && !/(^|\/)\.htaccess$/.test(rel)) confFiles.add(rel);
  }
  const pathRewrites = spec.pathMap.flatMap((m) => {
    const rel = inside(root, m.to);
    return rel === null ? [] : [{ from: m.from, to: rel }];
  });
  const common = {
    fixture: root,
    main,
    confFiles: [...confFiles],
    pathRewrites,
    startTimeoutMs: opts.startTimeoutMs ?? 15_000,
  };
  let s: RunningServer;
  try {
    s = server === 'nginx' ? await startNginx(common) : await startApache(common);
  } catch (e) {
    await stopAllServers();
    return { server, results: [], error: (e as Error).message };
  }
  const results: RealResult[] = [];
  try {
    const open = nonLoopbackListeners(s.pid);
    if (open.length)
      return {
        server,
        results: [],
        error: `${server} listened on ${open.join(', ')}, not only on 127.0.0.0/8 (a listen line the harness did not rewrite): stopped before any request`,
      };
    for (const x of spec.expect) {
      const r = toRequest(x, s);
      if ('skip' in r) {
        results.push({ expectation: x, status: null, sent: false, note: r.skip, ok: true });
        continue;
      }
      try {
        const res = await request({
          port: r.port,
          method: x.method,
          path: r.path,
          ...(r.host !== undefined ? { host: r.host } : {}),
          from: r.from,
          headers: r.headers,
          timeoutMs: opts.requestTimeoutMs ?? 5000,
        });
        results.push({ expectation: x, status: res.status, sent: true, ok: res.status === x.status, ...(r.note ? { note: r.note } : {}) });
      } catch (e) {
        results.push({ expectation: x, status: null, sent: true, note: (e as Error).message, ok: false });
      }
    }
  } finally {
    await s.stop();
  }
  return { server, results };
}
