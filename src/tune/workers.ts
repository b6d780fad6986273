import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { stringify } from 'yaml';
import { VipdrillError } from '../errors.js';
import { loadTopology } from '../topology/load.js';
import type { Topology } from '../topology/schema.js';
import { broadcast, cidrContains, formatIpv4, parseCidr, parseIpv4, type Cidr } from '../util/ip.js';

/**
 * The labs of `vipdrill tune --workers N`: worker 1 runs the topology as given; worker k runs a copy whose
 * every subnet, and every address in it, moves k − 1 blocks up (a block: the smallest power-of-two span
 * that holds all of the topology's subnets). So no two workers' labs share a subnet, whichever engine
 * they share; `up` then checks each one against the host's routes and the labs already up, as always.
 */

function subnetsOf(t: Topology): Cidr[] {
  return [t.networks.wan.subnet, t.networks.lan.subnet, t.pool.subnet, ...(t.client.nat ? [t.client.nat.subnet] : [])].map((s) => parseCidr(s)!);
}

/** The span (a power of two) that holds every subnet of the topology, aligned. */
export function blockOf(t: Topology): { base: number; size: number } {
  const cs = subnetsOf(t);
  const lo = Math.min(...cs.map((c) => c.network));
  const hi = Math.max(...cs.map((c) => broadcast(c)));
  let size = 1;
  while (Math.floor(lo / size) !== Math.floor(hi / size)) size *= 2;
  return { base: Math.floor(lo / size) * size, size };
}

/** The topology moved `k` blocks up: every address and subnet inside one of its subnets is shifted. */
export function shiftTopology(t: Topology, k: number): Topology {
  if (k === 0) return t;
  const { base, size } = blockOf(t);
  const offset = k * size;
  if (base + offset + size > 2 ** 32) throw new VipdrillError('CONFIG_INVALID', `worker ${k + 1}: no room above the topology's subnets for another lab`);
  const cs = subnetsOf(t);
  const move = (s: string): string => {
    const [addr, prefix] = s.split('/');
    const ip = parseIpv4(addr ?? '');
    if (ip === undefined || !cs.some((c) => cidrContains(c, ip))) return s;
    return formatIpv4(ip + offset) + (prefix !== undefined ? `/${prefix}` : '');
  };
  const walk = (v: unknown): unknown => (typeof v === 'string' ? move(v) : Array.isArray(v) ? v.map(walk) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([key, x]) => [key, walk(x)])) : v);
  return walk(t) as Topology;
}

/** Write worker k's topology beside the run (config paths made absolute) and return its file. */
export function workerTopologyFile(dir: string, topologyFile: string, k: number): string {
  if (k === 0) return topologyFile;
  const loaded = loadTopology(topologyFile);
  const t = shiftTopology(loaded.topology, k);
  const config = t.config ? Object.fromEntries(Object.entries(t.config).map(([key, p]) => [key, p && !isAbsolute(p) ? join(dirname(loaded.file), p) : p])) : undefined;
  const file = join(dir, 'workers', `w${k + 1}`, 'topology.yaml');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `# worker ${k + 1} of a vipdrill tune run: ${loadTopology(topologyFile).file} moved ${k} block(s) up\n${stringify({ ...t, ...(config ? { config } : {}) }, { lineWidth: 0 })}`);
  return file;
}
