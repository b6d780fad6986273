import type { ArpClaim } from '../arp.js';
import { splitBrain } from '../metrics.js';
import type { RuleInput } from './finding.js';

/**
 * What the rules about a split brain (stale-arp during the split, split-brain-arp-claims) read: the
 * fault's time, the pair, the periods with both nodes MASTER and the VIP's ARP claims; nothing when the
 * repeat had no split or no claims.
 */
export interface SplitView {
  at: number;
  nodes: [string, string];
  periods: [number, number][];
  claims: ArpClaim[];
  /** a lab time as seconds after the fault: "+1.2 s" */
  rel: (t: number) => string;
}

export function splitView({ result: r, topology: t }: RuleInput): SplitView | undefined {
  const claims = r.metrics.arp?.claims ?? [];
  const at = r.firstFaultAt;
  const nodes = Object.keys(t.nodes) as [string, string];
  if (at === undefined || !r.metrics.splitBrainMs || claims.length === 0 || nodes.length !== 2) return undefined;
  return { at, nodes, periods: splitBrain(r.vrrp, nodes, r.labStart, r.labEnd).periods, claims, rel: (s) => `+${(s - at).toFixed(1)} s` };
}
