import { formatMs } from '../../util/time.js';
import { FILES, type Rule } from './finding.js';

/**
 * A stale ARP entry on the client after a healed split brain or a failback: the client's packets went
 * to the MAC that claimed the VIP last, and the node that kept the VIP did not claim it again while the
 * outage lasted. Evidence: the VIP's ARP claims seen on the client's segment, and the client's own ARP
 * entry for the VIP as the samples read it (the entry pointing at the wrong node is the mechanism itself).
 */
export const staleArp: Rule = ({ result: r, profile: p }) => {
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
    remedy: [
      { file: FILES.keepalived, line: `garp_master_refresh 2 (vrrp_instance; now ${p.vrrp.garpMasterRefresh})`, why: 'the master repeats its gratuitous ARPs every 2 s, so a stale entry lives at most that long', profile: 'vrrp.garpMasterRefresh', value: 2 },
      { file: FILES.keepalived, line: 'garp_lower_prio_repeat 5 (vrrp_instance)', why: 'a master that hears a lower-priority advert (the other side of a healed split) announces itself again', profile: 'vrrp.garpLowerPrioRepeat', value: 5 },
      { file: FILES.keepalived, line: `garp_master_repeat ${Math.max(10, p.vrrp.garpMasterRepeat)} (vrrp_instance)`, why: 'more gratuitous ARPs at each transition to MASTER', profile: 'vrrp.garpMasterRepeat', value: Math.max(10, p.vrrp.garpMasterRepeat) },
    ],
    confidence: wrong ? 'high' : p.vrrp.version === 3 ? 'medium' : 'low',
  };
};
