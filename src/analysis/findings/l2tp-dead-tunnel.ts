import { formatMs } from '../../util/time.js';
import { FILES, type Rule } from './finding.js';

/**
 * xl2tpd holding on to a dead tunnel: the L2TP phase is the longest of the reconnect, and xl2tpd's own
 * lines show it retransmitting on the old tunnel, or its stale state, before it dialled again.
 */
export const l2tpDeadTunnel: Rule = ({ result: r, profile: p }) => {
  const rc = r.metrics.reconnect;
  const l2tp = rc?.phasesMs.l2tp;
  if (!rc || l2tp === null || l2tp === undefined || rc.longest?.phase !== 'l2tp' || l2tp < 3000) return undefined;
  const stale = rc.notable.filter((n) => /stale state on the old tunnel|gave up the tunnel|old call's pppd exited|the session ended/.test(n.what));
  if (stale.length === 0) return undefined;
  return {
    id: 'l2tp-dead-tunnel',
    mechanism: `xl2tpd kept the old tunnel and call after the failover: the L2TP phase took ${formatMs(l2tp)}, the longest of the reconnect, and only after the old session was torn down (${stale.length} line(s)) did it dial the new holder. With max retries ${p.l2tp.maxRetries} and a redial every ${p.l2tp.redialTimeout} s it waits out its control retransmits on a tunnel nobody answers${p.l2tp.maxRetries <= 1 && p.ppp.lcpMaxTerminate <= 1 ? '; the profile is at its shortest there already, so the wait is the new tunnel failing (look at the other findings)' : ''}.`,
    evidence: stale.slice(0, 5).map((n) => ({ t: n.t, what: n.what })),
    impactMs: l2tp,
    // only changes that change something: a profile already at 1 retry and 1 terminate has none left here
    remedy: [
      ...(p.l2tp.maxRetries > 1 ? [{ file: FILES.xl2tpd, line: `max retries = ${p.l2tp.maxRetries - 1}`, why: 'xl2tpd gives up a dead tunnel after fewer control retransmits', profile: 'l2tp.maxRetries', value: p.l2tp.maxRetries - 1 }] : []),
      ...(p.ppp.lcpMaxTerminate > 1 ? [{ file: FILES.pppOptions, line: `lcp-max-terminate ${p.ppp.lcpMaxTerminate - 1}`, why: 'pppd ends the dead session sooner (its Terminate-Requests go to a peer that is gone), so xl2tpd redials sooner', profile: 'ppp.lcpMaxTerminate', value: p.ppp.lcpMaxTerminate - 1 }] : []),
      ...(p.ppp.lcpRestart > 1 ? [{ file: FILES.pppOptions, line: `lcp-restart ${Math.max(1, Math.floor(p.ppp.lcpRestart / 2))}`, why: 'a shorter wait between those Terminate-Requests', profile: 'ppp.lcpRestart', value: Math.max(1, Math.floor(p.ppp.lcpRestart / 2)) }] : []),
    ],
    confidence: 'medium',
  };
};
