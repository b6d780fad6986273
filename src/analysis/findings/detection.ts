import { formatMs } from '../../util/time.js';
import { FILES, type Rule } from './finding.js';

/**
 * Detection dominating the reconnect: the client took longer to notice the dead peer than to build
 * everything again, and the detector that fired names the timer to shorten.
 */
export const detectionDominates: Rule = ({ result: r, profile: p }) => {
  const rc = r.metrics.reconnect;
  const detect = rc?.phasesMs.detect;
  if (!rc || detect === null || detect === undefined || rc.reconnectMs === undefined || rc.reconnectMs < 5000) return undefined;
  if (detect < rc.reconnectMs * 0.5) return undefined;
  const d = rc.milestones.find((x) => x.name === 'detect');
  const evidence = d ? [{ t: d.t, what: `${d.source}: ${d.line ?? ''}` }] : [];
  const dpd = rc.detectedBy === 'dpd';
  const lcp = rc.detectedBy === 'lcp-echo';
  if (!dpd && !lcp) return undefined;
  const dpdMs = (p.ike.dpdDelay + p.ike.dpdTimeout) * 1000;
  const lcpMs = p.ppp.lcpEchoInterval * p.ppp.lcpEchoFailure * 1000;
  return {
    id: dpd ? 'detection-by-dpd' : 'detection-by-lcp',
    mechanism: `Noticing the dead peer took ${formatMs(detect)} of the ${formatMs(rc.reconnectMs)} reconnect, by ${dpd ? `charon's DPD (every ${p.ike.dpdDelay} s, timeout ${p.ike.dpdTimeout} s: up to ${formatMs(dpdMs)})` : `pppd's LCP echoes (every ${p.ppp.lcpEchoInterval} s, ${p.ppp.lcpEchoFailure} unanswered: about ${formatMs(lcpMs)})`}, before ${dpd ? `LCP (about ${formatMs(lcpMs)})` : `DPD (up to ${formatMs(dpdMs)})`}.`,
    evidence,
    impactMs: detect,
    remedy: dpd
      ? [
          { file: FILES.swanctl, line: `dpd_delay = ${Math.max(1, Math.floor(p.ike.dpdDelay / 2))}s`, why: 'DPD probes the peer sooner', profile: 'ike.dpdDelay', value: Math.max(1, Math.floor(p.ike.dpdDelay / 2)) },
          { file: FILES.pppOptions, line: `lcp-echo-interval ${Math.max(1, Math.floor(p.ppp.lcpEchoInterval / 2))}`, why: 'or let LCP, which runs inside the tunnel, notice first', profile: 'ppp.lcpEchoInterval', value: Math.max(1, Math.floor(p.ppp.lcpEchoInterval / 2)) },
        ]
      : [
          { file: FILES.pppOptions, line: `lcp-echo-failure ${Math.max(1, p.ppp.lcpEchoFailure - 1)}`, why: 'pppd gives up after fewer unanswered echoes', profile: 'ppp.lcpEchoFailure', value: Math.max(1, p.ppp.lcpEchoFailure - 1) },
          { file: FILES.swanctl, line: `dpd_delay = ${Math.max(1, Math.floor(p.ike.dpdDelay / 2))}s`, why: 'or let DPD notice first', profile: 'ike.dpdDelay', value: Math.max(1, Math.floor(p.ike.dpdDelay / 2)) },
        ],
    confidence: 'high',
  };
};
