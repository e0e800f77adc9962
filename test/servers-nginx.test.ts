/**
 * Self-tests of the real-server harness with nginx: they prove that the harness starts the real
 * server, that statuses and source addresses are real, and that nothing is left running.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { request } from './harness/requests.js';
import {
  groupAlive,
  isRoot,
  nginxSkipReason,
  processAlive,
  rootSkipReason,
  runningServerCount,
  ServerStartError,
  startNginx,
  stopAllServers,
} from './harness/servers.js';

const skip = nginxSkipReason();
if (skip) console.warn(`[servers-nginx] skipped: ${skip}`);
const rootSkip = rootSkipReason();
if (!skip && rootSkip) console.warn(`[servers-nginx] file-permission test skipped: ${rootSkip}`);

afterEach(stopAllServers);

describe.skipIf(!!skip)('nginx harness', () => {
  it('deny all answers 403, and the error log says why', async () => {
    const s = await startNginx({
      config: 'location / { deny all; }\n',
      files: { 'html/index.html': 'hello\n' },
    });
    const mark = s.logMark();
    const r = await request({ port: s.port, path: '/' });
    expect(r.status).toBe(403);
    expect(s.errorLogSince(mark)).toContain('access forbidden by rule');
  });

  it('uses the source address: allow 127.0.0.7; deny all', async () => {
    const s = await startNginx({
      config: ['server {', '    listen 80;', '    root www;', '    location /admin/ { allow 127.0.0.7; deny all; }', '}', ''].join('\n'),
      files: { 'www/admin/index.html': 'admin\n' },
    });
    const allowed = await request({ port: s.port, path: '/admin/', from: '127.0.0.7' });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toBe('admin\n');
    expect((await request({ port: s.port, path: '/admin/', from: '127.0.0.1' })).status).toBe(403);
    expect((await request({ port: s.port, path: '/admin/', from: '127.0.0.8' })).status).toBe(403);
  });

  it('sends the path as written (no client-side normalisation)', async () => {
    const s = await startNginx({
      config:
        'location = /a/../b { return 200 "raw-dotdot"; }\nlocation = /b { return 200 "normalised"; }\nlocation / { return 200 "other:$request_uri"; }\n',
    });
    // nginx itself normalises /a/../b to /b for location matching; $request_uri keeps the raw form
    expect((await request({ port: s.port, path: '/a/../b' })).body).toBe('normalised');
    const enc = await request({ port: s.port, path: '/x/%2e%2e/y' });
    expect(enc.body).toBe('other:/x/%2e%2e/y');
  });

  it('resolves relative includes of a wrapped fragment against the fixture root', async () => {
    const s = await startNginx({
      config: 'location /closed/ { include snippets/deny.conf; }\nlocation / { return 200; }\n',
      files: { 'snippets/deny.conf': 'deny all;\n' },
    });
    expect((await request({ port: s.port, path: '/closed/' })).status).toBe(403);
    expect((await request({ port: s.port, path: '/open' })).status).toBe(200);
  });

  it('accepts a full main-context config with its own pid, user and absolute log paths', async () => {
    const s = await startNginx({
      config: [
        'user nobody nogroup;',
        'worker_processes 2;',
        'pid /run/nginx.pid;',
        'events { worker_connections 64; }',
        'http {',
        '    access_log /var/log/nginx/why403-harness-should-not-exist.log;',
        '    server { listen 8080 default_server; listen [::]:8080 default_server; return 403; }',
        '    server { listen 8081; return 200 "second"; }',
        '}',
        '',
      ].join('\n'),
    });
    expect(Object.keys(s.ports)).toEqual(['8080', '8081']);
    expect((await request({ port: s.port, path: '/' })).status).toBe(403);
    expect((await request({ port: s.ports['8081'], path: '/' })).body).toBe('second');
    expect(existsSync('/var/log/nginx/why403-harness-should-not-exist.log')).toBe(false);
  });

  it.skipIf(!!rootSkip)('a file readable only by root gives 403 with the unprivileged worker', async () => {
    expect(isRoot).toBe(true);
    const s = await startNginx({
      config: 'server { root www; }\n',
      files: { 'www/open.html': 'open\n', 'www/secret.html': { content: 'secret\n', mode: 0o600 } },
    });
    expect((await request({ port: s.port, path: '/open.html' })).status).toBe(200);
    const mark = s.logMark();
    expect((await request({ port: s.port, path: '/secret.html' })).status).toBe(403);
    expect(s.errorLogSince(mark)).toContain('(13: Permission denied)');
  });

  it('reports a bad config with the error log and leaves no process behind', async () => {
    let err: unknown;
    try {
      await startNginx({ config: 'location / { deny all }\n' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ServerStartError);
    const e = err as ServerStartError;
    expect(e.message).toMatch(/unexpected "}"|emerg/);
    expect(e.pid).toBeTypeOf('number');
    expect(processAlive(e.pid!)).toBe(false);
    expect(groupAlive(e.pid!)).toBe(false);
    expect(runningServerCount()).toBe(0);
  });

  it('bounds the start: a server not ready in time is killed and reported', async () => {
    // with a 0 ms bound the first readiness check (right after spawn) is also the last
    const err = await startNginx({ config: 'return 204;\n', startTimeoutMs: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerStartError);
    const e = err as ServerStartError;
    expect(e.message).toMatch(/did not accept connections on 127\.0\.0\.1:\d+ within 0 ms/);
    expect(groupAlive(e.pid!)).toBe(false);
    expect(runningServerCount()).toBe(0);
  });

  it('stop() kills master and workers by PID and removes the prefix', async () => {
    const s = await startNginx({ config: 'return 204;\n' });
    expect((await request({ port: s.port, path: '/' })).status).toBe(204);
    expect(groupAlive(s.pid)).toBe(true);
    await s.stop();
    expect(processAlive(s.pid)).toBe(false);
    expect(groupAlive(s.pid)).toBe(false);
    expect(existsSync(s.prefix)).toBe(false);
    await s.stop(); // idempotent
    await expect(request({ port: s.port, path: '/', timeoutMs: 1000 })).rejects.toThrow(/ECONNREFUSED|failed/);
  });

  // A test process that dies (uncaught exception) or is killed (SIGTERM, as a test runner does) must
  // not leave a server behind: the harness's 'exit'/signal handlers kill it by PID.
  const viteNode = join(process.cwd(), 'node_modules/vite-node/vite-node.mjs');
  it.skipIf(!existsSync(viteNode)).each([
    ['an uncaught exception', 'throw new Error("simulated crash");', null],
    ['SIGTERM', 'setInterval(() => {}, 1000);', 'SIGTERM'],
  ] as const)(
    'a test process that ends by %s leaves no server behind',
    async (_what, ending, signal) => {
      const dir = mkdtempSync(join(tmpdir(), 'why403-crash-'));
      let child: ReturnType<typeof spawn> | undefined;
      try {
        const servers = fileURLToPath(new URL('./harness/servers.ts', import.meta.url));
        const script = join(dir, 'crash.ts');
        writeFileSync(
          script,
          `import { startNginx } from ${JSON.stringify(servers)};\n` +
            `const s = await startNginx({ config: 'return 204;\\n' });\n` +
            `console.log('STARTED ' + JSON.stringify({ pid: s.pid, prefix: s.prefix }));\n` +
            `process.stdin.once('data', () => { ${ending} });\n`,
        );
        const c = spawn(process.execPath, [viteNode, script], { stdio: ['pipe', 'pipe', 'pipe'] });
        child = c;
        const exited = new Promise<void>((r) => c.once('exit', () => r()));
        const started = await new Promise<{ pid: number; prefix: string }>((resolve, reject) => {
          let out = '';
          const t = setTimeout(() => reject(new Error(`child did not start a server: ${out}`)), 15_000);
          c.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            const m = /STARTED (\{.*\})/.exec(out);
            if (m) {
              clearTimeout(t);
              resolve(JSON.parse(m[1]));
            }
          });
        });
        expect(groupAlive(started.pid)).toBe(true);
        c.stdin.write('go\n'); // now the child ends its own way
        if (signal) c.kill(signal);
        await exited;
        for (let i = 0; i < 40 && groupAlive(started.pid); i++) await new Promise((r) => setTimeout(r, 50));
        expect(groupAlive(started.pid)).toBe(false);
        expect(existsSync(started.prefix)).toBe(false);
      } finally {
        if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
    },
    30_000,
  );
});
