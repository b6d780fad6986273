import { VipdrillError } from '../errors.js';
import type { LabContext } from '../lab/lab.js';
import type { Host } from './types.js';

/** Where faults land: a host's container, its static addresses, and vipdrill's own nft tables. */

/** The table vipdrill owns in each lab container for network faults; rules carry `comment "<fault id>"`. */
export const FAULT_TABLE = 'inet vipdrill';

export function container(lab: LabContext, h: Host): string {
  const c = lab.record.containers[h];
  if (!c) throw new VipdrillError('CONFIG_INVALID', `lab ${lab.record.name} has no host "${h}"`);
  return c;
}

/** The static addresses of a host (never the VIPs: they move). */
export function addressesOf(lab: LabContext, h: Host): string[] {
  const t = lab.topology;
  // behind a NAT router the nodes see the client at the router's wan address
  if (h === 'client') return t.client.nat ? [t.client.wan, t.client.nat.outside] : [t.client.wan];
  if (h === 'lanhost') return [t.lanhost.lan];
  const n = t.nodes[h]!;
  return [n.wan, n.lan];
}

/** Address of a host on one network (for interface lookup inside its container). */
export function addressOn(lab: LabContext, h: Host, net: 'wan' | 'lan'): string {
  const t = lab.topology;
  const a = h === 'client' ? (net === 'wan' ? t.client.wan : undefined) : h === 'lanhost' ? (net === 'lan' ? t.lanhost.lan : undefined) : t.nodes[h]![net];
  if (!a) throw new VipdrillError('CONFIG_INVALID', `${h} has no ${net} interface`);
  return a;
}

/** ARP is not IP: a partition drops it in this table too, or the isolated node keeps answering for the VIP. */
export const ARP_FAULT_TABLE = 'arp vipdrill';
/** per-interface egress chains: the one hook that sees what packet sockets send */
export const DEV_FAULT_TABLE = 'netdev vipdrill';

/**
 * The nft transaction adding `rules` (each "<chain> <match>", "arp:<chain> <match>" for ARP, or
 * "egress:<dev>" for everything leaving an interface) that drop, tagged with the fault id, as `add` lines:
 * what a host's agent commits atomically (nft-apply).
 */
export function nftLines(id: string, rules: string[]): string[] {
  const arp = rules.some((r) => r.startsWith('arp:'));
  // egress:<dev>: everything leaving <dev>, packet sockets included (keepalived's gratuitous ARPs), which
  // no inet or arp hook sees
  const devs = rules.filter((r) => r.startsWith('egress:')).map((r) => r.slice('egress:'.length));
  for (const d of devs) if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(d)) throw new RangeError(`not an interface name: ${JSON.stringify(d)}`);
  const chainOf = (d: string) => `egress_${d.replace(/[^a-zA-Z0-9]/g, '_')}`;
  const lines = [
    `add table ${FAULT_TABLE}`,
    ...['input', 'output', 'forward'].map((ch) => `add chain ${FAULT_TABLE} ${ch} { type filter hook ${ch} priority -50; policy accept; }`),
    ...(arp ? [`add table ${ARP_FAULT_TABLE}`, ...['input', 'output'].map((ch) => `add chain ${ARP_FAULT_TABLE} ${ch} { type filter hook ${ch} priority -50; policy accept; }`)] : []),
    ...(devs.length > 0 ? [`add table ${DEV_FAULT_TABLE}`, ...devs.map((d) => `add chain ${DEV_FAULT_TABLE} ${chainOf(d)} { type filter hook egress device "${d}" priority -50; policy accept; }`)] : []),
    ...rules.map((r) => {
      if (r.startsWith('egress:')) return `add rule ${DEV_FAULT_TABLE} ${chainOf(r.slice('egress:'.length))} counter drop comment "${id}"`;
      const table = r.startsWith('arp:') ? ARP_FAULT_TABLE : FAULT_TABLE;
      const [chain, ...match] = r.replace(/^arp:/, '').split(' ');
      return `add rule ${table} ${chain} ${match.join(' ')} counter drop comment "${id}"`;
    }),
  ];
  return lines;
}

