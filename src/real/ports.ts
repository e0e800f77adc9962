/**
 * Free TCP ports on 127.0.0.1 for the real-server tests. Ports are picked at random below Linux's
 * ephemeral range (32768+), so they never collide with the source ports of our own client sockets,
 * and are checked by binding them once. Another process can still take a port between the check and
 * the server's bind; servers.ts retries the start with new ports when the server says
 * "Address already in use".
 */
import { lazy } from '../lazy.js';

const net = lazy<typeof import('node:net')>('node:net');

export const LOOPBACK = '127.0.0.1';
const LOW = 20000;
const HIGH = 32767;
/** Ports this process handed out, so parallel starts in one process never get the same one. */
const handedOut = new Set<number>();

/** True when 127.0.0.1:port can be bound right now. */
export function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net().createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host: LOOPBACK, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** `n` distinct free ports on 127.0.0.1 (at least 1024, so no server ever needs a privileged port). */
export async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let tries = 0; out.length < n; tries++) {
    if (tries > 500) throw new Error(`could not find ${n} free ports on ${LOOPBACK} in ${LOW}-${HIGH}`);
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    if (handedOut.has(port) || out.includes(port)) continue;
    if (await canBind(port)) {
      out.push(port);
      handedOut.add(port);
    }
  }
  return out;
}

export async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}

/** Let a port be handed out again (after its server stopped). */
export function releasePorts(ports: Iterable<number>): void {
  for (const p of ports) handedOut.delete(p);
}
