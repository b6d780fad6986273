import type { Profile, Topology } from '../topology/schema.js';

/** A file to place in a lab container. */
export interface LabFile {
  path: string;
  content: string;
  mode: number;
  /** contains a secret: never printed, masked in snapshots */
  secret?: boolean;
}

export interface Secrets {
  psk: string;
  chap: string;
}

/** Interface names inside one container, resolved by address after it started. */
export interface Ifaces {
  wan?: string;
  lan?: string;
}

export interface RenderInput {
  topology: Topology;
  profile: Profile;
  secrets: Secrets;
  /** per container name (node names, "client", "lanhost") */
  ifaces: Record<string, Ifaces>;
}

/** A daemon the supervisor runs (lab/images/lab/rootfs/usr/local/sbin/vipdrill-supervisor). */
export interface DaemonSpec {
  name: string;
  cmd: string;
  pre?: string;
  post?: string;
  restart?: 'always' | 'never';
  delaySeconds?: number;
}

export function prefixLen(subnet: string): string {
  return subnet.split('/')[1]!;
}

export function iface(input: RenderInput, container: string, net: 'wan' | 'lan'): string {
  const name = input.ifaces[container]?.[net];
  if (!name) throw new Error(`interface for ${net} in ${container} was not resolved`);
  return name;
}
