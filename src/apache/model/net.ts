/**
 * Client-address matching as APR does it for `Require ip` and `Allow/Deny from`
 * (apr_ipsubnet_create / apr_ipsubnet_test): full addresses, partial IPv4 (`10.1` = 10.1.0.0/16,
 * only without a mask), `a.b.c.d/nn`, `a.b.c.d/255.255.0.0`, IPv6 with or without `/nn`.
 * An IPv4-mapped IPv6 client (::ffff:a.b.c.d) is tested against IPv4 subnets.
 */

export interface Subnet {
  family: 4 | 6;
  /** 16 bytes for IPv6, 4 for IPv4. */
  addr: number[];
  mask: number[];
}

function parseV4Full(s: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? b : null;
}

export function parseV6(s: string): number[] | null {
  let str = s;
  if (str.startsWith('[') && str.endsWith(']')) str = str.slice(1, -1);
  if (!/^[0-9a-fA-F:.]+$/.test(str) || !str.includes(':')) return null;
  let tail: number[] = [];
  const lastColon = str.lastIndexOf(':');
  const lastPart = str.slice(lastColon + 1);
  if (lastPart.includes('.')) {
    const v4 = parseV4Full(lastPart);
    if (!v4) return null;
    tail = v4;
    str = str.slice(0, lastColon + 1) + '0:0';
  }
  const halves = str.split('::');
  if (halves.length > 2) return null;
  const toGroups = (h: string) => (h === '' ? [] : h.split(':'));
  const left = toGroups(halves[0]);
  const right = halves.length === 2 ? toGroups(halves[1]) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null;
  const groups = [...left, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...right];
  const bytes: number[] = [];
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const v = parseInt(g, 16);
    bytes.push(v >> 8, v & 255);
  }
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

function bitsMask(len: number, bits: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < len; i++) {
    const b = Math.max(0, Math.min(8, bits - i * 8));
    out.push(b === 0 ? 0 : (0xff << (8 - b)) & 0xff);
  }
  return out;
}

/** Parse `ip[/mask]`; null when it does not look like an address (it is then a host name). */
export function parseSubnet(spec: string): Subnet | null {
  const slash = spec.indexOf('/');
  const ip = slash >= 0 ? spec.slice(0, slash) : spec;
  const maskStr = slash >= 0 ? spec.slice(slash + 1) : null;
  if (ip.includes(':')) {
    const a = parseV6(ip);
    if (!a) return null;
    let bits = 128;
    if (maskStr !== null) {
      if (!/^\d+$/.test(maskStr) || Number(maskStr) > 128) return null;
      bits = Number(maskStr);
    }
    const mask = bitsMask(16, bits);
    return { family: 6, addr: a.map((x, i) => x & mask[i]), mask };
  }
  let addr = parseV4Full(ip);
  let mask: number[];
  if (addr) {
    mask = [255, 255, 255, 255];
  } else {
    if (maskStr !== null) return null;
    // Partial network: 1 to 3 leading octets, optionally with a trailing dot.
    const m = /^(\d{1,3})(?:\.(\d{1,3}))?(?:\.(\d{1,3}))?\.?$/.exec(ip);
    if (!m) return null;
    const parts = m
      .slice(1)
      .filter((x) => x !== undefined)
      .map(Number);
    if (parts.some((x) => x > 255)) return null;
    addr = [...parts, ...Array(4 - parts.length).fill(0)];
    mask = bitsMask(4, parts.length * 8);
  }
  if (maskStr !== null) {
    if (/^\d+$/.test(maskStr)) {
      if (Number(maskStr) > 32) return null;
      mask = bitsMask(4, Number(maskStr));
    } else {
      const mm = parseV4Full(maskStr);
      if (!mm) return null;
      mask = mm;
    }
  }
  return { family: 4, addr: addr.map((x, i) => x & mask[i]), mask };
}

/** Parse a client address (IPv4 or IPv6) into bytes. */
export function parseClient(ip: string): { family: 4 | 6; bytes: number[] } | null {
  const v4 = parseV4Full(ip);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseV6(ip);
  if (v6) return { family: 6, bytes: v6 };
  return null;
}

export function subnetMatches(sub: Subnet, clientIp: string): boolean {
  const c = parseClient(clientIp);
  if (!c) return false;
  let bytes = c.bytes;
  if (c.family === 6 && sub.family === 4) {
    const mapped = bytes.slice(0, 10).every((x) => x === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
    if (!mapped) return false;
    bytes = bytes.slice(12);
  } else if (c.family !== sub.family) {
    return false;
  }
  return bytes.every((b, i) => (b & sub.mask[i]) === sub.addr[i]);
}

/** `Require local`: loopback (127.0.0.0/8, ::1) or the server's own address (mod_authz_host). */
export function isLocal(clientIp: string, serverIp?: string): boolean {
  const lo = parseSubnet('127.0.0.0/8')!;
  if (subnetMatches(lo, clientIp)) return true;
  const c = parseClient(clientIp);
  if (c && c.family === 6 && c.bytes.slice(0, 15).every((x) => x === 0) && c.bytes[15] === 1) return true;
  return serverIp !== undefined && serverIp === clientIp;
}

/** A client address inside `sub` for a sample request: the network's first host when the mask leaves
 * room for one (10.0.0.0/8 → 10.0.0.1), else its one address. */
export function exampleClient(sub: Subnet): string {
  const b = [...sub.addr];
  const last = b.length - 1;
  if (sub.mask[last] !== 255) b[last] |= 1;
  if (sub.family === 4) return b.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  return groups.join(':');
}
