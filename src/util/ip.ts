/** IPv4 arithmetic for subnets, lab addresses and the host-route guard. */

export interface Cidr {
  network: number;
  prefix: number;
  text: string;
}

const OCTETS = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIpv4(text: string): number | undefined {
  const m = OCTETS.exec(text);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return ((o[0]! << 24) >>> 0) + (o[1]! << 16) + (o[2]! << 8) + o[3]!;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function parseCidr(text: string): Cidr | undefined {
  const [addr, p, extra] = text.split('/');
  if (extra !== undefined || addr === undefined) return undefined;
  const ip = parseIpv4(addr);
  const prefix = p === undefined ? 32 : /^\d{1,2}$/.test(p) ? Number(p) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) return undefined;
  return { network: (ip & mask(prefix)) >>> 0, prefix, text };
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return ((ip & mask(c.prefix)) >>> 0) === c.network;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.network & mask(p)) >>> 0) === ((b.network & mask(p)) >>> 0);
}

export function broadcast(c: Cidr): number {
  return (c.network | (~mask(c.prefix) >>> 0)) >>> 0;
}

/** The address Docker gives the bridge (the network's gateway): the first host address. */
export function firstHost(c: Cidr): number {
  return c.network + 1;
}

/** Documentation ranges (RFC 5737) that these machines route: never a lab default. */
export const FORBIDDEN_DEFAULTS = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'];
