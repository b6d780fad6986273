import { formatMs } from '../../util/time.js';
import { FILES, type Rule } from './finding.js';

/**
 * IKE retransmissions into a VIP nobody answered: the client's charon kept retransmitting its IKE
 * requests, the first of them before any node held the VIP again, and each lost retransmit costs its
 * backoff (1 s, 1.8 s, 3.2 s, … in strongSwan's defaults).
 */
export const ikeToVoid: Rule = ({ result: r }) => {
  const rc = r.metrics.reconnect;
  if (!rc) return undefined;
  const retx = rc.notable.filter((n) => n.what === 'charon: IKE request retransmitted');
  if (retx.length < 3) return undefined;
  const held = r.metrics.takeoverFaultAt !== undefined && r.metrics.vipTakeoverMs !== undefined ? r.metrics.takeoverFaultAt + r.metrics.vipTakeoverMs / 1000 : undefined;
  const span = (retx.at(-1)!.t - retx[0]!.t) * 1000;
  if (span < 2000) return undefined;
  return {
    id: 'ike-retransmits-to-void',
    mechanism: `charon retransmitted its IKE request ${retx.length} times over ${formatMs(span)}${held !== undefined && retx[0]!.t < held ? ', the first before any node held the VIP again' : ''}: requests into a VIP nobody answered, each waiting out its backoff before the next.`,
    evidence: retx.slice(0, 6).map((n) => ({ t: n.t, what: 'charon: IKE request retransmitted' })),
    impactMs: span,
    remedy: [
      { file: '/etc/strongswan.d/charon.conf', line: 'retransmit_timeout = 1.0 and retransmit_base = 1.4', why: 'shorter backoffs: the request that reaches the new holder goes out sooner' },
      { file: FILES.keepalived, line: 'garp_master_refresh 2 (vrrp_instance)', why: 'the new holder announces the VIP again soon, so the client\'s retransmits reach it (a stale ARP entry sends them to the old one)', profile: 'vrrp.garpMasterRefresh', value: 2 },
    ],
    confidence: 'medium',
  };
};
