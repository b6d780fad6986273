import { formatMs } from '../../util/time.js';
import { FILES, type Rule } from './finding.js';

/**
 * A second outage caused by preemption: the old master came back and took the VIP again, and the
 * client reconnected a second time for it.
 */
export const preemptFailback: Rule = ({ result: r, profile: p }) => {
  const m = r.metrics;
  const fb = m.failback;
  if (!p.vrrp.preempt || fb?.outageMs === undefined || fb.takeoverMs === undefined || fb.outageMs < 1000) return undefined;
  const back = r.vrrp.find((v) => v.node === fb.node && v.state === 'MASTER' && fb.revertAt !== undefined && v.t >= fb.revertAt);
  return {
    id: 'preempt-failback',
    mechanism: `The old master (${fb.node}) took the VIP back ${formatMs(fb.takeoverMs)} after it returned (preempt${p.vrrp.preemptDelay > 0 ? ` after ${p.vrrp.preemptDelay} s` : ', at once'}), and the client lost ${formatMs(fb.outageMs)} more reconnecting to it: a second failover nobody asked for.`,
    evidence: [...(fb.revertAt !== undefined ? [{ t: fb.revertAt, what: 'the fault was reverted: the old master returned' }] : []), ...(back ? [{ t: back.t, what: `${fb.node}'s keepalived entered MASTER again` }] : [])],
    impactMs: fb.outageMs,
    remedy: [
      { file: FILES.keepalived, line: 'nopreempt (vrrp_instance, with state BACKUP on both nodes)', why: 'the node that took over keeps the VIP; no second outage', profile: 'vrrp.preempt', value: false },
      { file: FILES.keepalived, line: 'preempt_delay 60 (vrrp_instance)', why: 'or let the returning node settle (its IPsec and L2TP daemons up) before it takes the VIP back', profile: 'vrrp.preemptDelay', value: 60 },
    ],
    confidence: 'high',
  };
};
