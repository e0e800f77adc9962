/**
 * Ports: free ports are real, and a start that loses the race for its port (another process binds it
 * first) is retried with new ports instead of failing the test.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as realPorts from './harness/ports.js';
import { request } from './harness/requests.js';
import { apacheSkipReason, startApache, stopAllServers } from './harness/servers.js';

const taken: number[] = [];
// the module servers.ts imports (test/harness/ports.ts re-exports it)
vi.mock('../src/real/ports.js', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../src/real/ports.js')>();
  return {
    ...mod,
    // the first request for ports gets `taken` (when set), later ones real free ports
    freePorts: async (n: number) => (taken.length ? taken.splice(0, n) : mod.freePorts(n)),
  };
});

const skip = apacheSkipReason();
if (skip) console.warn(`[servers-ports] Apache retry test skipped: ${skip}`);
let blocker: Server | null = null;
afterEach(async () => {
  await stopAllServers();
  if (blocker) await new Promise<void>((r) => blocker!.close(() => r()));
  blocker = null;
});

describe('ports', () => {
  it('hands out distinct ports in 20000..32767 that can be bound', async () => {
    const ports = await realPorts.freePorts(5);
    expect(new Set(ports).size).toBe(5);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(20000);
      expect(p).toBeLessThanOrEqual(32767);
      expect(await realPorts.canBind(p)).toBe(true);
    }
  });

  it.skipIf(!!skip)('a start whose port was taken meanwhile is retried on another port', async () => {
    const [busy] = await realPorts.freePorts(1);
    blocker = createServer(() => {});
    await new Promise<void>((r) => blocker!.listen(busy, '127.0.0.1', () => r()));
    taken.push(busy);
    const s = await startApache({ base: 'bare', config: '# nothing\n', files: { 'htdocs/index.html': 'hi\n' } });
    expect(taken).toEqual([]); // the taken port was handed out once
    expect(s.port).not.toBe(busy);
    expect((await request({ port: s.port, path: '/' })).status).toBe(200);
  });
});
