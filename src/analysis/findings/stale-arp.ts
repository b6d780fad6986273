import { formatMs } from '../../util/time.js';
import type { Profile } from '../../topology/schema.js';
import { masterIntervals } from '../metrics.js';
import { FILES, type Finding, type Remedy, type Rule, type RuleInput } from './finding.js';
import { splitView } from './split.js';

/**
 * A stale ARP entry on the client, during a split brain or after its heal or a failback: the client's
 * packets went to the MAC that claimed the VIP last, not to the node with its IPsec SA, until that node
 * claimed it again. Evidence: the VIP's ARP claims seen on the client's segment, and the client's own ARP
 * entry for the VIP as the samples read it (the entry pointing at the wrong node is the mechanism itself).
 * Of the two cases, the one with the larger impact is the finding.
 */
export const staleArp: Rule = (x) => {
  const fs = [duringSplit(x), afterRevert(x)].filter((f): f is Finding => f !== undefined);
  return fs.sort((a, b) => b.impactMs - a.impactMs)[0];
};

const remedies = (p: Profile): Remedy[] => [
  { file: FILES.keepalived, line: `garp_master_refresh 2 (vrrp_instance; now ${p.vrrp.garpMasterRefresh})`, why: 'the master repeats its gratuitous ARPs every 2 s, so a stale entry lives at most that long', profile: 'vrrp.garpMasterRefresh', value: 2 },
  { file: FILES.keepalived, line: 'garp_lower_prio_repeat 5 (vrrp_instance)', why: 'a master that hears a lower-priority advert (the other side of a healed split) announces itself again', profile: 'vrrp.garpLowerPrioRepeat', value: 5 },
  { file: FILES.keepalived, line: `garp_master_repeat ${Math.max(10, p.vrrp.garpMasterRepeat)} (vrrp_instance)`, why: 'more gratuitous ARPs at each transition to MASTER', profile: 'vrrp.garpMasterRepeat', value: Math.max(10, p.vrrp.garpMasterRepeat) },
];

/**
 * During a split brain both nodes are MASTER and both claim the VIP: the claims of the node without the
 * client's IPsec SA move the client's ARP entry to it, and the client's packets go nowhere until the node
 * with the SA claims the VIP again, by which time pppd's LCP echoes may have given up the session (then
 * the client rebuilds PPP, L2TP and IKE). Fires when a fault's outage began within 0.5 s of such a claim.
 */
function duringSplit(x: RuleInput): Finding | undefined {
  const split = splitView(x);
  if (!split) return undefined;
  const { result: r, profile: p } = x;
  const m = r.metrics;
  const { at, nodes, periods, claims, rel } = split;
  // the node that held the VIP (and so the client's SA) when the fault began
  const owner = nodes.find((n) => masterIntervals(r.vrrp, n, at, at + 0.001).some(([from]) => from <= at));
  if (!owner) return undefined;
  const hit = (m.outages ?? [])
    .filter((o) => o.cause === 'fault' && o.ms >= 1000 && periods.some(([a, b]) => o.from >= a - 0.5 && o.from <= b))
    .map((o) => ({ o, claim: claims.filter((c) => c.t <= o.from + 0.05 && c.t >= o.from - 0.5 && c.node !== undefined && c.node !== owner).at(-1) }))
    .filter((x) => x.claim !== undefined)
    .sort((a, b) => b.o.ms - a.o.ms)[0];
  if (!hit) return undefined;
  const { o, claim } = hit as { o: (typeof hit)['o']; claim: NonNullable<(typeof hit)['claim']> };
  const back = claims.find((c) => c.t > o.from && c.node === owner);
  const gaveUp = m.reconnect?.milestones.find((x) => x.name === 'detect');
  const wrong = (m.arp?.neighbour ?? []).find((e) => e.t >= o.from && e.t <= o.to && e.mac !== null && e.node !== owner);
  return {
    id: 'stale-arp',
    mechanism: `During the split brain both nodes were MASTER and both claimed the VIP: ${claim.node}'s ${claim.kind} at ${rel(claim.t)} moved the client's ARP entry for the VIP to ${claim.node}, which has no IPsec SA for the client, and its packets went nowhere for ${formatMs(o.ms)}. ${back ? `${owner}, which held the client's SA, claimed the VIP again only at ${rel(back.t)}` : `${owner}, which held the client's SA, did not claim the VIP again while the outage lasted`}${gaveUp && (!back || gaveUp.t < back.t) ? `; before that, at ${rel(gaveUp.t)}, ${gaveUp.source} had given the session up, so the client rebuilt its tunnel` : ''}.`,
    evidence: [
      { t: claim.t, what: `ARP: ${claim.node} claimed the VIP (${claim.kind}) while both nodes were MASTER` },
      { t: o.from, what: `the client's outage began (${formatMs(o.ms)})` },
      ...(wrong ? [{ t: wrong.t, what: `the client's ARP entry for the VIP pointed at ${wrong.node ?? wrong.mac} (${wrong.state.join('/')})` }] : []),
      ...(gaveUp ? [{ t: gaveUp.t, what: `${gaveUp.source}: ${gaveUp.line ?? 'the dead peer noticed'}` }] : []),
      ...(back ? [{ t: back.t, what: `ARP: ${owner} claimed the VIP again (${back.kind})` }] : []),
    ],
    impactMs: o.ms,
    remedy: remedies(p),
    confidence: wrong ? 'high' : 'medium',
  };
}

/** After a revert (a healed split brain, a failback): the client kept the entry of the node that claimed last. */
function afterRevert({ result: r, profile: p }: RuleInput): Finding | undefined {
  const m = r.metrics;
  const claims = m.arp?.claims ?? [];
  const holder = m.finalHolder;
  const lost = m.failbackOutageMs ?? 0;
  const o = (m.outages ?? []).filter((x) => x.cause === 'revert').sort((a, b) => b.ms - a.ms)[0];
  if (!holder || !o || lost < 5000 || claims.length === 0) return undefined;
  // who the client last heard claim the VIP when the outage began, and whether the holder spoke during it
  const before = claims.filter((c) => c.t <= o.from).at(-1);
  const during = claims.filter((c) => c.t > o.from && c.t < o.to && c.node === holder);
  // and the client's own ARP entry for the VIP, read by the samples while the outage lasted
  const wrong = (m.arp?.neighbour ?? []).find((e) => e.t >= o.from && e.t <= o.to && e.mac !== null && e.node !== holder);
  const claimed = before !== undefined && before.node !== holder && during.length === 0;
  if (!claimed && !wrong) return undefined;
  const entry = wrong ? [{ t: wrong.t, what: `the client's ARP entry for the VIP pointed at ${wrong.node ?? wrong.mac} (${wrong.mac}, ${wrong.state.join('/')}), not at ${holder}` }] : [];
  const mechanism = claimed
    ? `When the outage after the revert began, the last node the client heard claim the VIP was ${before.node ?? before.mac} (${before.kind} at ${formatMs((o.from - before.t) * 1000)} before), but ${holder} kept the VIP and sent no claim for the ${formatMs(lost)} the outage lasted: the client's ARP entry pointed at the wrong node until it expired${wrong ? ` (read on the client: ${wrong.node ?? wrong.mac}, ${wrong.state.join('/')})` : ''}.`
    : `During the ${formatMs(lost)} outage after the revert the client's own ARP entry for the VIP pointed at ${wrong!.node ?? wrong!.mac} (${wrong!.state.join('/')}), while ${holder} held the VIP: its claims did not replace the entry, and the client's packets went to the wrong node.`;
  return {
    id: 'stale-arp',
    mechanism,
    evidence: [
      ...(before ? [{ t: before.t, what: `ARP: ${before.node ?? before.mac} claimed the VIP (${before.kind})` }] : []),
      { t: o.from, what: claimed ? `the outage began; no claim by ${holder} until ${formatMs(o.ms)} later` : `the outage began (${formatMs(o.ms)})` },
      ...entry,
    ],
    impactMs: lost,
    remedy: remedies(p),
    confidence: wrong ? 'high' : p.vrrp.version === 3 ? 'medium' : 'low',
  };
}
