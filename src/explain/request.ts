/**
 * The request `why403 explain` asks about, from the command line: a URL (`http://host:port/path?q`) or
 * a path (`/path?q`), a method, a client address, headers and an optional user: `--user NAME` (valid
 * credentials assumed) or `--auth NAME:PASSWORD` (the password is checked against the user file in
 * effect, src/auth/htpasswd.ts `checkCredentials`).
 *
 * Nothing here throws on bad input: `parseExplainRequest` returns `{ error }` with a message meant for
 * the user (the CLI prints it and exits 2).
 */

export interface ExplainRequest {
  method: string;
  /** The request target exactly as it would be sent: path and optional `?query` (no fragment). */
  target: string;
  /** Host from the URL or a `Host:` header; undefined when neither gave one (the caller picks a default). */
  host?: string;
  /** Where the host came from, for the output. */
  hostFrom: 'url' | 'header' | 'default' | 'none';
  /** Port from the URL (80/443 by scheme when the URL has none); undefined for a bare path. */
  port?: number;
  scheme: 'http' | 'https';
  clientIp: string;
  /** True when --ip was not given and 127.0.0.1 is assumed. */
  clientIpDefaulted: boolean;
  /** Request headers, names as given (Host included when it came from a header). */
  headers: Record<string, string>;
  /** The request carries credentials for this user: valid ones assumed (`--user`), or checked
   * against the user file when `password` is given (`--auth user:password`). */
  user?: string;
  /** The password sent with `user` (`--auth`); absent with `--user` (credentials assumed valid). */
  password?: string;
  /** `--proxy PORT`: the request as a forward proxy's client sends it, the URL in absolute form on
   * the request line (`GET http://example.test/ HTTP/1.1`), to the server's port `port`. Apache's
   * mod_proxy takes it as a proxy request when the URL names another server (ProxyRequests On);
   * otherwise a server serves the URL's path, with the URL's host as the Host. */
  absoluteTarget?: string;
}

export interface RequestInput {
  target: string;
  method?: string;
  ip?: string;
  headers?: string[];
  user?: string;
  /** `user:password` (the password may hold colons; the first colon splits, as in Basic auth). */
  auth?: string;
  /** The server's port the request is sent to as a forward-proxy request (`--proxy PORT`); the target
   * must then be an absolute URL. */
  proxy?: string | number;
}

export type ParseResult = { ok: true; request: ExplainRequest } | { ok: false; error: string };

/** An RFC 7230 token (method names, header names). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Whether `s` is an IPv4 address in dotted-quad form. */
export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  return parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

/** Whether `s` is an IPv6 address (with `::` compression and an optional embedded IPv4 tail). */
export function isIPv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || !s.includes(':')) return false;
  let head = s;
  let groupsForV4 = 0;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!isIPv4(tail)) return false;
    head = s.slice(0, lastColon + 1) + '0';
    groupsForV4 = 1; // the IPv4 tail takes two groups; we replaced it by one
  }
  const dbl = head.indexOf('::');
  if (dbl !== -1 && head.indexOf('::', dbl + 1) !== -1) return false;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const hex = (g: string) => /^[0-9A-Fa-f]{1,4}$/.test(g);
  if (dbl === -1) {
    const g = groups(head);
    return g.length + groupsForV4 === 8 && g.every(hex);
  }
  const left = groups(head.slice(0, dbl));
  const right = groups(head.slice(dbl + 2));
  return left.every(hex) && right.every(hex) && left.length + right.length + groupsForV4 <= 7;
}

function badTargetChar(s: string): string | null {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c <= 0x20 || c === 0x7f)
      return c === 0x20 ? 'a space (write it as %20)' : `a control character (U+${c.toString(16).toUpperCase().padStart(4, '0')})`;
    if (c > 0x7e) return `a non-ASCII character "${ch}" (percent-encode it)`;
  }
  return null;
}

/** Parse the command-line request. */
export function parseExplainRequest(input: RequestInput): ParseResult {
  const fail = (error: string): ParseResult => ({ ok: false, error });
  const method = (input.method ?? 'GET').trim();
  if (!TOKEN.test(method)) return fail(`--method "${input.method}" is not an HTTP method (a token such as GET, POST, PROPFIND)`);

  let ip = '127.0.0.1';
  let ipDefaulted = true;
  if (input.ip !== undefined) {
    const v = input.ip.trim().replace(/^\[(.*)\]$/, '$1');
    if (!isIPv4(v) && !isIPv6(v)) return fail(`--ip "${input.ip}" is not an IPv4 or IPv6 address`);
    ip = v;
    ipDefaulted = false;
  }

  const headers: Record<string, string> = {};
  let headerHost: string | undefined;
  for (const h of input.headers ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) return fail(`--header "${h}" is not "Name: value"`);
    const name = h.slice(0, i).trim();
    const value = h.slice(i + 1).trim();
    if (!TOKEN.test(name)) return fail(`--header "${h}": "${name}" is not a valid header name`);
    if (/[\r\n\0]/.test(value)) return fail(`--header "${name}": the value holds a line break or NUL`);
    headers[name] = value;
    if (name.toLowerCase() === 'host') headerHost = value;
  }

  let user: string | undefined;
  if (input.user !== undefined) {
    if (input.user === '' || /[:\s\0]/.test(input.user)) return fail(`--user "${input.user}" is not a user name (no spaces or colons)`);
    user = input.user;
  }
  let password: string | undefined;
  if (input.auth !== undefined) {
    if (user !== undefined) return fail('give --user NAME (credentials assumed valid) or --auth NAME:PASSWORD (checked), not both');
    const i = input.auth.indexOf(':');
    if (i === -1) return fail(`--auth "${input.auth}" is not NAME:PASSWORD (use --user NAME to assume valid credentials)`);
    const name = input.auth.slice(0, i);
    if (name === '' || /[\s\0]/.test(name)) return fail(`--auth: "${name}" is not a user name (no spaces or colons)`);
    const pw = input.auth.slice(i + 1);
    if (/[\r\n\0]/.test(pw)) return fail('--auth: the password holds a line break or NUL');
    user = name;
    password = pw;
  }

  const raw = input.target;
  if (raw === undefined || raw === '') return fail('no URL or path given (e.g. /admin/ or http://example.com/admin/)');
  let scheme: 'http' | 'https' = 'http';
  let target: string;
  let urlHost: string | undefined;
  let port: number | undefined;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s.exec(raw);
  if (m) {
    const sch = m[1].toLowerCase();
    if (sch !== 'http' && sch !== 'https') return fail(`"${raw}": only http:// and https:// URLs can be explained`);
    scheme = sch;
    let authority = m[2];
    if (authority.includes('@')) authority = authority.slice(authority.lastIndexOf('@') + 1);
    const hm = /^(\[[^\]]*\]|[^:]*)(?::([0-9]*))?$/.exec(authority);
    if (!hm || hm[1] === '') return fail(`"${raw}" has no host`);
    urlHost = hm[1];
    if (urlHost.startsWith('[') && !isIPv6(urlHost.slice(1, -1))) return fail(`"${raw}": "${urlHost}" is not an IPv6 address`);
    if (!urlHost.startsWith('[') && !/^[A-Za-z0-9._~!$&'()*+,;=%-]+$/.test(urlHost))
      return fail(`"${raw}": "${urlHost}" is not a host name`);
    if (hm[2] !== undefined && hm[2] !== '') {
      const p = Number(hm[2]);
      if (!Number.isInteger(p) || p < 1 || p > 65535) return fail(`"${raw}": port ${hm[2]} is out of range`);
      port = p;
    } else port = scheme === 'https' ? 443 : 80;
    target = m[3] === '' ? '/' : m[3];
    if (target.startsWith('?')) target = '/' + target;
  } else if (raw.startsWith('/')) {
    target = raw;
  } else {
    return fail(`"${raw}" is neither a path starting with / nor an http:// URL`);
  }
  const hash = target.indexOf('#');
  if (hash !== -1) target = target.slice(0, hash);
  if (!target.startsWith('/')) return fail(`"${raw}": the path must start with /`);
  const bad = badTargetChar(target);
  if (bad) return fail(`"${raw}" contains ${bad}`);
  // A malformed %-escape is let through: the servers answer 400 to it, and the models say so.

  let host: string | undefined;
  let hostFrom: ExplainRequest['hostFrom'] = 'none';
  let absoluteTarget: string | undefined;
  if (input.proxy !== undefined) {
    const v = String(input.proxy).trim();
    const p = /^[0-9]+$/.test(v) ? Number(v) : NaN;
    if (!(p >= 1 && p <= 65535))
      return fail(`--proxy "${input.proxy}" is not a port (1-65535): the server's port the proxy request is sent to`);
    if (!m || urlHost === undefined)
      return fail(`--proxy needs the absolute URL a client asks the proxy for (e.g. http://example.test/), not "${raw}"`);
    // the request line names the host, and a server takes it over any Host header (RFC 9112 3.2.2);
    // a Host header with the same authority too, as a proxy's client (curl -x) sends it
    const authority = `${urlHost}${port !== (scheme === 'https' ? 443 : 80) ? `:${port}` : ''}`;
    absoluteTarget = `${scheme}://${authority}${target}`;
    if (headerHost === undefined) headers.Host = authority;
    host = urlHost;
    hostFrom = 'url';
    // the connection is to the proxy, in plain http, whatever the URL's scheme
    port = p;
    scheme = 'http';
  } else if (headerHost !== undefined) {
    host = headerHost;
    hostFrom = 'header';
  } else if (urlHost !== undefined) {
    host = urlHost;
    hostFrom = 'url';
  }
  return {
    ok: true,
    request: {
      method,
      target,
      host,
      hostFrom,
      port,
      scheme,
      clientIp: ip,
      clientIpDefaulted: ipDefaulted,
      headers,
      user,
      ...(password !== undefined ? { password } : {}),
      ...(absoluteTarget !== undefined ? { absoluteTarget } : {}),
    },
  };
}

/** A Basic `Authorization` value for a user: with the password `--auth` gave, or a placeholder when
 * the credentials are assumed valid (`--user`). */
export function basicAuth(user: string, password = 'password'): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
}

/** What the server reads from a Basic `Authorization` value: the user and password, or null. */
export function parseBasicAuth(value: string): { user: string; password: string } | null {
  const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value);
  if (!m) return null;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i === -1 ? null : { user: text.slice(0, i), password: text.slice(i + 1) };
}
