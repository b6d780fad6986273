import type { NeighbourReading } from '../analysis/arp.js';
/** What one node's agent reports (src/hosts/lab-host.ts). */
export interface NodeStatus {
  name: string;
  container: string;
  containerState: string;
  vrrpState: string;
  holdsVip: boolean;
  holdsLanVip: boolean;
  daemons: Record<string, boolean>;
  addresses: { dev: string; cidr: string }[];
  /** the lab kernel's CLOCK_REALTIME when the sample was taken (seconds) */
  clock?: number;
}

export interface ClientStatus {
  ikeSa: boolean;
  childSa: boolean;
  l2tpTunnel: boolean;
  pppUp: boolean;
  tunnelIp: string | null;
  lanReachable: boolean;
  clock?: number;
  /** a lan-check sample: ikeSa/childSa/l2tpTunnel were not looked at */
  lanCheckOnly?: boolean;
  /** the client's neighbour (ARP) entry for the VIP when asked: whom it sends the VIP's packets to (null: none) */
  neigh?: NeighbourReading | null;
}
