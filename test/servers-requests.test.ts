/**
 * The request side of the harness, without nginx or Apache: the `# request:` grammar, the loopback-only
 * rule, raw paths on the wire, the source address, and the time bound.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts } from './harness/ports.js';
import { isLoopbackV4, parseRequestLines, request } from './harness/requests.js';

describe('parseRequestLines', () => {
  it('parses every option, with line numbers', () => {
    const text = [
      'location / {',
      '# request: GET /admin/ from 127.0.0.7 host example.test header "X-A: b" -> 403',
      '    # request: POST /upload header "X-Token: a" header \'X-Other: "q"\' -> 200',
      '#request:HEAD /x->404',
      '# requests are not markers',
      '}',
    ].join('\r\n');
    const { requests, errors } = parseRequestLines(text);
    expect(errors).toEqual([]);
    expect(requests).toEqual([
      {
        method: 'GET',
        path: '/admin/',
        from: '127.0.0.7',
        host: 'example.test',
        headers: [['X-A', 'b']],
        expected: 403,
        line: 2,
        text: 'GET /admin/ from 127.0.0.7 host example.test header "X-A: b" -> 403',
      },
      {
        method: 'POST',
        path: '/upload',
        from: '127.0.0.1',
        headers: [
          ['X-Token', 'a'],
          ['X-Other', '"q"'],
        ],
        expected: 200,
        line: 3,
        text: 'POST /upload header "X-Token: a" header \'X-Other: "q"\' -> 200',
      },
      { method: 'HEAD', path: '/x', from: '127.0.0.1', headers: [], expected: 404, line: 4, text: 'HEAD /x->404' },
    ]);
  });

  it('keeps raw paths as written', () => {
    const { requests } = parseRequestLines('# request: GET /a/../b%2e%2E?x=1#frag -> 400\n');
    expect(requests[0].path).toBe('/a/../b%2e%2E?x=1#frag');
  });

  it.each([
    ['# request: GET /', 'missing "-> <status>"'],
    ['# request: GET / -> 4033', 'exactly one status code'],
    ['# request: GET / -> 403 extra', 'exactly one status code'],
    ['# request: GET / -> 700', 'exactly one status code'],
    ['# request: -> 403', 'expected "<METHOD> <URI>"'],
    ['# request: GET -> 403', 'expected "<METHOD> <URI>"'],
    ['# request: G(T / -> 403', 'bad method'],
    ['# request: GET / from 10.0.0.1 -> 403', '127.0.0.0/8'],
    ['# request: GET / from 127.0.0.256 -> 403', '127.0.0.0/8'],
    ['# request: GET / from ::1 -> 403', '127.0.0.0/8'],
    ['# request: GET / from 127.0.0.2 from 127.0.0.3 -> 403', '"from" given twice'],
    ['# request: GET / host a host b -> 403', '"host" given twice'],
    ['# request: GET / via proxy -> 403', 'unknown option "via"'],
    ['# request: GET / host -> 403', '"host" needs a value'],
    ['# request: GET / header "NoColon" -> 403', 'header must look like "Name: value"'],
    ['# request: GET / header "Host: x" -> 403', 'use "host <name>"'],
    ['# request: GET / header "X-A: b -> 403', 'unterminated'],
  ])('rejects %s', (line, message) => {
    const { requests, errors } = parseRequestLines(`server {}\n${line}\n`);
    expect(requests).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0].line).toBe(2);
    expect(errors[0].message).toContain('malformed "# request:" line');
    expect(errors[0].message).toContain(message);
  });
});

describe('request()', () => {
  let server: Server | null = null;
  const sockets = new Set<Socket>();
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    if (server) await new Promise<void>((r) => server!.close(() => r()));
    server = null;
  });

  /** A TCP server on 127.0.0.1 that records what arrives and answers `reply` (or never answers). */
  async function wire(reply: string | null): Promise<{ port: number; seen: Array<{ from: string; head: string }>; closed: Promise<void> }> {
    const seen: Array<{ from: string; head: string }> = [];
    let closedResolve!: () => void;
    const closed = new Promise<void>((r) => (closedResolve = r));
    const [port] = await freePorts(1);
    server = createServer((sock) => {
      sockets.add(sock);
      let buf = '';
      sock.on('data', (d) => {
        buf += d.toString('latin1');
        if (buf.includes('\r\n\r\n')) {
          seen.push({ from: sock.remoteAddress ?? '', head: buf.split('\r\n\r\n')[0] });
          if (reply !== null) sock.end(reply);
        }
      });
      sock.on('close', () => closedResolve());
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => server!.listen(port, '127.0.0.1', () => r()));
    return { port, seen, closed };
  }
  const OK = 'HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno';

  it('sends the request line as written, from the given source, with Host and headers', async () => {
    const w = await wire(OK);
    const r = await request({ port: w.port, path: '/a/../b/%2e%2E/', from: '127.0.0.9', host: 'example.test', headers: { 'X-A': 'b' } });
    expect(r).toMatchObject({ status: 403, statusMessage: 'Forbidden', body: 'no' });
    expect(w.seen).toHaveLength(1);
    expect(w.seen[0].from).toBe('127.0.0.9');
    const lines = w.seen[0].head.split('\r\n');
    expect(lines[0]).toBe('GET /a/../b/%2e%2E/ HTTP/1.1');
    expect(lines).toContain('Host: example.test');
    expect(lines).toContain('X-A: b');
  });

  it('is bounded in time and closes the connection', async () => {
    const w = await wire(null);
    const t0 = Date.now();
    await expect(request({ port: w.port, path: '/', timeoutMs: 300 })).rejects.toThrow(/timed out after 300 ms/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    await w.closed; // the server saw the client go away: nothing is left open
    expect(w.seen).toHaveLength(1);
  }, 5000);

  it('refuses any source outside 127.0.0.0/8 and bad ports before connecting', async () => {
    for (const from of ['10.0.0.1', '0.0.0.0', '::1', '127.0.0.256', '127.0.0.01', 'localhost']) {
      await expect(request({ port: 20000, path: '/', from })).rejects.toThrow(/127\.0\.0\.0\/8/);
    }
    await expect(request({ port: 80, path: '/' })).rejects.toThrow(/port/);
    await expect(request({ port: 20000, path: '/a b' })).rejects.toThrow(/spaces/);
    expect(isLoopbackV4('127.255.255.254')).toBe(true);
  });
});
