import { VipdrillError } from '../errors.js';
import { cidrsOverlap, parseCidr } from '../util/ip.js';
import type { Route } from './engine.js';

export interface GuardedSubnet {
  field: string;
  subnet: string;
}

export interface SubnetConflict extends GuardedSubnet {
  route: Route;
}

/**
 * A Docker network on a subnet that overlaps a route the host uses takes that route over and cuts the
 * host off (LAB-FACTS §2). Return every overlap with a route that is not the lab's own bridge.
 */
export function findSubnetConflicts(subnets: GuardedSubnet[], routes: Route[], ownDevices: string[]): SubnetConflict[] {
  const conflicts: SubnetConflict[] = [];
  for (const s of subnets) {
    const mine = parseCidr(s.subnet);
    if (!mine) continue;
    for (const r of routes) {
      if (r.dst === 'default' || r.dst === '0.0.0.0/0') continue;
      if (r.dev && ownDevices.includes(r.dev)) continue;
      const theirs = parseCidr(r.dst);
      if (theirs && cidrsOverlap(mine, theirs)) conflicts.push({ ...s, route: r });
    }
  }
  return conflicts;
}

export function assertNoSubnetConflicts(subnets: GuardedSubnet[], routes: Route[], ownDevices: string[], where: string): void {
  const conflicts = findSubnetConflicts(subnets, routes, ownDevices);
  if (conflicts.length === 0) return;
  const lines = conflicts.map(
    (c) => `  ${c.field} ${c.subnet} overlaps the route "${c.route.dst}${c.route.dev ? ` dev ${c.route.dev}` : ''}${c.route.protocol ? ` proto ${c.route.protocol}` : ''}"`,
  );
  throw new VipdrillError(
    'SUBNET_OVERLAP',
    [`refusing to create lab networks that overlap routes of the ${where} (it would take those routes over):`, ...lines, 'Choose other subnets in the topology file (networks.*.subnet). Nothing was created.'].join('\n'),
  );
}
