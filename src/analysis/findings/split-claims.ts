import { formatMs } from '../../util/time.js';
import { FILES, type Rule } from './finding.js';
import { splitView } from './split.js';

/**
 * Both nodes claiming the VIP in turn while both were MASTER: each gratuitous ARP moves the client's
 * entry for the VIP to the claimer, so the session the client has just built with one node loses its
 * packets to the other, again and again. A partition made of packet filters does not stop it: keepalived
 * sends its gratuitous ARPs on a packet socket, which no nft or iptables rule sees, so an "isolated"
 * master keeps claiming the VIP every garp_master_refresh. Fires on an outage of 1 s or more during which,
 * inside the split, the claimant changed at least twice (one change is a single stale entry: stale-arp).
 */
export const splitClaims: Rule = (x) => {
  const split = splitView(x);
  if (!split) return undefined;
  const { result: r } = x;
  const m = r.metrics;
  const { claims, periods, rel } = split;
  let best: { o: NonNullable<typeof m.outages>[number]; turns: typeof claims; overlapMs: number } | undefined;
  for (const o of (m.outages ?? []).filter((x) => x.ms >= 1000)) {
    // keepalived sends its first gratuitous ARPs a moment before it logs MASTER
    const inSplit = (s: number) => periods.some(([a, b]) => s >= a - 0.5 && s <= b);
    const seen = claims.filter((c) => c.node !== undefined && c.t >= o.from - 0.5 && c.t <= o.to && inSplit(c.t));
    // the claims at which the claimant changed (the first one counts as where the sequence starts)
    const turns = seen.filter((c, i) => i === 0 || c.node !== seen[i - 1]!.node);
    if (turns.length < 3) continue;
    const overlapMs = periods.reduce((s, [a, b]) => s + Math.max(0, Math.min(b, o.to) - Math.max(a, o.from)) * 1000, 0);
    if (!best || overlapMs > best.overlapMs) best = { o, turns, overlapMs };
  }
  if (!best) return undefined;
  const partitioned = r.events.some((e) => e.kind === 'fault.inject' && e.data?.kind === 'partition');
  const gaveUp = (m.reconnect?.notable ?? []).filter((n) => /no answer to LCP echo requests/.test(n.what) && n.t >= best.o.from && n.t <= best.o.to);
  const shown = best.turns.slice(0, 6).map((c) => `${c.node} at ${rel(c.t)}`).join(', ');
  return {
    id: 'split-brain-arp-claims',
    mechanism: `While both nodes were MASTER (${formatMs(best.overlapMs)} of the ${formatMs(best.o.ms)} outage) both claimed the VIP in turn: ${shown}${best.turns.length > 6 ? ', …' : ''} (${best.turns.length - 1} changes of claimant). Each claim moved the client's ARP entry for the VIP to the claimer, so the session the client had just built with one node lost its packets to the other${gaveUp.length > 0 ? `: pppd gave the session up ${gaveUp.length} time(s) (no answer to its LCP echoes, first at ${rel(gaveUp[0]!.t)})` : ''}.${partitioned ? " The partition was made of packet filters, and keepalived sends its gratuitous ARPs on a packet socket that no nft or iptables rule sees: the 'isolated' master kept claiming the VIP at every garp_master_refresh." : ''}`,
    evidence: [
      ...best.turns.slice(0, 6).map((c) => ({ t: c.t, what: `ARP: ${c.node} claimed the VIP (${c.kind})` })),
      ...gaveUp.slice(0, 3).map((n) => ({ t: n.t, what: n.what })),
    ],
    impactMs: best.overlapMs,
    remedy: [
      { file: FILES.keepalived, line: 'vrrp_script chk_upstream { script "/usr/bin/ping -c1 -W1 <the LAN gateway or a LAN host>"; interval 1; fall 2; rise 2 } and track_script { chk_upstream } in the vrrp_instance', why: 'a master cut off from its networks fails the check, goes to FAULT, removes the VIP and stops claiming it, so only one node answers the client' },
      { file: '/etc/nftables.conf (each node, and every firewall between them)', line: 'accept ip protocol 112 (VRRP) between the nodes\' WAN addresses, before any drop', why: 'a split brain needs only the adverts blocked: while both nodes hear each other, one is BACKUP and claims nothing' },
    ],
    confidence: partitioned ? 'high' : 'medium',
  };
};
