/**
 * Sending one HTTP request to a server the harness started, and parsing the `# request:` lines of a
 * fixture. Requests only ever go to 127.0.0.1, and only ever come from an address in 127.0.0.0/8.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { lazy } from '../lazy.js';
import { LOOPBACK } from './ports.js';

const http = lazy<typeof import('node:http')>('node:http');

export interface RequestOptions {
  port: number;
  method?: string;
  /** Sent exactly as written: no normalisation, `/a/../b` and `%2e` reach the server unchanged. */
  path: string;
  /** Host header (default `localhost`). */
  host?: string;
  headers?: Record<string, string> | Array<[string, string]>;
  /** Client source address; must be in 127.0.0.0/8 (default 127.0.0.1). */
  from?: string;
  body?: string | Buffer;
  /** Bound on the whole exchange, connect to last body byte (default 5000 ms). */
  timeoutMs?: number;
}

export interface Response {
  status: number;
  statusMessage: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const LOOPBACK_V4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** True for a dotted IPv4 address in 127.0.0.0/8. */
export function isLoopbackV4(addr: string): boolean {
  const m = LOOPBACK_V4.exec(addr);
  return !!m && m.slice(1).every((o) => Number(o) <= 255 && (o === '0' || !o.startsWith('0')));
}

/** A request token (RFC 9110 `token`). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What Node's http client refuses in a request target. */
const BAD_PATH = /[^\u0021-\u00ff]/;

export function request(opts: RequestOptions): Promise<Response> {
  const method = opts.method ?? 'GET';
  const from = opts.from ?? LOOPBACK;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const what = `${method} ${opts.path} from ${from} to ${LOOPBACK}:${opts.port}`;
  if (!isLoopbackV4(from)) {
    return Promise.reject(new Error(`request ${what}: source address must be in 127.0.0.0/8`));
  }
  if (!Number.isInteger(opts.port) || opts.port < 1024 || opts.port > 65535) {
    return Promise.reject(new Error(`request ${what}: port must be an integer in 1024..65535`));
  }
  if (!TOKEN.test(method)) return Promise.reject(new Error(`request ${what}: bad method`));
  if (opts.path === '' || BAD_PATH.test(opts.path)) {
    return Promise.reject(new Error(`request ${what}: the path is empty or has spaces/control characters (write them %-encoded)`));
  }
  const headers: Array<[string, string]> = Array.isArray(opts.headers) ? opts.headers : Object.entries(opts.headers ?? {});
  const flat: string[] = ['Host', opts.host ?? 'localhost', 'Connection', 'close'];
  for (const [k, v] of headers) flat.push(k, v);
  if (opts.body !== undefined) flat.push('Content-Length', String(Buffer.byteLength(opts.body)));

  return new Promise<Response>((resolve, reject) => {
    let done = false;
    const finish = (err: Error | null, res?: Response) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(res!);
    };
    const req = http().request({
      host: LOOPBACK,
      port: opts.port,
      localAddress: from,
      family: 4,
      method,
      path: opts.path,
      headers: flat,
      setHost: false,
      agent: false,
    });
    const timer = setTimeout(() => {
      const err = new Error(`request ${what} timed out after ${timeoutMs} ms`);
      (err as Error & { code: string }).code = 'ETIMEDOUT';
      finish(err);
      req.destroy(err);
    }, timeoutMs);
    req.on('error', (e) => finish(new Error(`request ${what} failed: ${e.message}`)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => finish(new Error(`request ${what}: reading the response failed: ${e.message}`)));
      res.on('end', () =>
        finish(null, {
          status: res.statusCode ?? 0,
          statusMessage: res.statusMessage ?? '',
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.end(opts.body);
  });
}

// ---------------------------------------------------------------------------------------------
// `# request:` lines

export interface RequestLine {
  method: string;
  path: string;
  from: string;
  host?: string;
  headers: Array<[string, string]>;
  expected: number;
  /** 1-based line of the marker. */
  line: number;
  /** The marker text after `request:`, trimmed. */
  text: string;
}

export interface RequestLineError {
  line: number;
  message: string;
}

const MARKER = /^\s*#\s*request\s*:(.*)$/;

/** Split on whitespace; `"…"` / `'…'` group (backslash escapes the next character); `->` stands alone. */
function tokenize(s: string): { tokens: Array<{ v: string; quoted: boolean }>; error?: string } {
  const tokens: Array<{ v: string; quoted: boolean }> = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let v = '';
      let j = i + 1;
      for (; j < s.length && s[j] !== c; j++) {
        if (s[j] === '\\' && j + 1 < s.length) j++;
        v += s[j];
      }
      if (j >= s.length) return { tokens, error: `unterminated ${c}-quoted string` };
      tokens.push({ v, quoted: true });
      i = j + 1;
      continue;
    }
    if (s.startsWith('->', i)) {
      tokens.push({ v: '->', quoted: false });
      i += 2;
      continue;
    }
    let j = i;
    while (j < s.length && s[j] !== ' ' && s[j] !== '\t' && !s.startsWith('->', j)) j++;
    tokens.push({ v: s.slice(i, j), quoted: false });
    i = j;
  }
  return { tokens };
}

/** Parse one marker body (the text after `request:`). */
export function parseRequestSpec(spec: string): Omit<RequestLine, 'line' | 'text'> | { error: string } {
  const { tokens, error } = tokenize(spec);
  if (error) return { error };
  const arrow = tokens.findIndex((t) => t.v === '->' && !t.quoted);
  if (arrow < 0) return { error: 'missing "-> <status>" at the end' };
  const tail = tokens.slice(arrow + 1);
  if (tail.length !== 1 || !/^[1-5]\d\d$/.test(tail[0].v)) {
    return { error: `"->" must be followed by exactly one status code 100..599, got "${tail.map((t) => t.v).join(' ')}"` };
  }
  const head = tokens.slice(0, arrow);
  if (head.length < 2) return { error: 'expected "<METHOD> <URI>" before "->"' };
  const [m, u] = head;
  if (!TOKEN.test(m.v)) return { error: `bad method "${m.v}"` };
  if (u.v === '' || BAD_PATH.test(u.v)) return { error: `bad URI "${u.v}" (no spaces or control characters; %-encode them)` };
  const out: Omit<RequestLine, 'line' | 'text'> = {
    method: m.v,
    path: u.v,
    from: LOOPBACK,
    headers: [],
    expected: Number(tail[0].v),
  };
  let sawFrom = false;
  for (let i = 2; i < head.length; i += 2) {
    const key = head[i].v;
    const val = head[i + 1];
    if (!['from', 'host', 'header'].includes(key) || head[i].quoted) {
      return { error: `unknown option "${key}" (expected from, host or header)` };
    }
    if (!val) return { error: `"${key}" needs a value` };
    if (key === 'from') {
      if (sawFrom) return { error: '"from" given twice' };
      if (!isLoopbackV4(val.v)) return { error: `"from ${val.v}": the source must be an IPv4 address in 127.0.0.0/8` };
      out.from = val.v;
      sawFrom = true;
    } else if (key === 'host') {
      if (out.host !== undefined) return { error: '"host" given twice' };
      if (val.v === '' || /[\s\x00-\x1f\x7f]/.test(val.v)) return { error: `bad host "${val.v}"` };
      out.host = val.v;
    } else {
      const colon = val.v.indexOf(':');
      const name = colon > 0 ? val.v.slice(0, colon).trim() : '';
      if (!TOKEN.test(name)) return { error: `header must look like "Name: value", got "${val.v}"` };
      const value = val.v.slice(colon + 1).trim();
      if (/[\r\n\x00]/.test(value)) return { error: `header "${name}" has a line break or NUL` };
      if (name.toLowerCase() === 'host') return { error: 'use "host <name>" instead of a Host header' };
      out.headers.push([name, value]);
    }
  }
  return out;
}

/** Every `# request:` line of a fixture file, with its 1-based line, plus an error for each malformed one. */
export function parseRequestLines(text: string): { requests: RequestLine[]; errors: RequestLineError[] } {
  const requests: RequestLine[] = [];
  const errors: RequestLineError[] = [];
  const lines = text.split(/\r\n|\n|\r/);
  lines.forEach((raw, idx) => {
    const m = MARKER.exec(raw);
    if (!m) return;
    const spec = m[1].trim();
    const r = parseRequestSpec(spec);
    if ('error' in r) errors.push({ line: idx + 1, message: `malformed "# request:" line: ${r.error}` });
    else requests.push({ ...r, line: idx + 1, text: spec });
  });
  return { requests, errors };
}
