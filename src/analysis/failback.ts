import type { RunEvent } from '../run/events.js';
import type { Outage } from './dataplane.js';
import type { VrrpTransition } from './metrics.js';

/**
 * Every outage of a repeat, attributed: to the fault (it began while a fault was active), to a revert (it
 * began after a fault was reverted: a returning master preempting, a healed link), or unexplained (before
 * any fault). The failback, measured like the failover: the longest outage a revert caused, and how long
 * after the revert the node that held the VIP at the fault took it back. A revert counts from when it was
 * asked (`data.asked` of its fault.revert event), else from when it returned.
 */

export type OutageCause = 'fault' | 'revert' | 'unexplained';

export interface AttributedOutage extends Outage {
  cause: OutageCause;
  /** the fault step's id whose inject (cause fault) or revert (cause revert) came last before the outage began */
  step?: string;
}

interface Mark {
  t: number;
  kind: 'inject' | 'revert';
  id: string;
}

/** When a revert was asked (`data.asked` of its fault.revert event), else when it returned. */
export function revertAskedAt(e: RunEvent): number {
  return typeof e.data?.asked === 'number' ? e.data.asked : e.t;
}

function marks(events: RunEvent[]): Mark[] {
  return events
    .filter((e) => e.kind === 'fault.inject' || e.kind === 'fault.revert')
    // a revert counts from when it was asked (a node restart takes seconds, and its failback can begin before it returns)
    .map((e) => ({ t: e.kind === 'fault.revert' ? revertAskedAt(e) : e.t, kind: e.kind === 'fault.inject' ? ('inject' as const) : ('revert' as const), id: typeof e.data?.id === 'string' ? e.data.id : '' }))
    .sort((a, b) => a.t - b.t);
}

/** The cause of an outage that began at `from`: the last fault mark before it (any fault still active makes it the fault's). */
export function attribute(outages: Outage[], events: RunEvent[]): AttributedOutage[] {
  const ms = marks(events);
  return outages.map((o) => {
    const before = ms.filter((m) => m.t <= o.from);
    if (before.length === 0) return { ...o, cause: 'unexplained' as const };
    // faults still active when it began: injected, not reverted yet
    const active = new Set<string>();
    for (const m of before) {
      if (m.kind === 'inject') active.add(m.id);
      else active.delete(m.id);
    }
    const last = before.at(-1)!;
    if (active.size > 0) return { ...o, cause: 'fault' as const, step: [...active].at(-1)! };
    return { ...o, cause: 'revert' as const, step: last.id };
  });
}

export interface Failback {
  /** the longest outage a revert caused, client → LAN (ms) */
  outageMs?: number;
  reverseOutageMs?: number;
  /** the revert it followed (lab clock, s) */
  revertAt?: number;
  /** revert → the node that held the VIP at the fault is MASTER again (keepalived's own line; ms) */
  takeoverMs?: number;
  /** that node */
  node?: string;
}

export function failback(fwd: AttributedOutage[], rev: AttributedOutage[], events: RunEvent[], vrrp: VrrpTransition[], holderAtFault: string | undefined): Failback {
  const longest = (xs: AttributedOutage[]) => xs.filter((o) => o.cause === 'revert').reduce<AttributedOutage | undefined>((a, b) => (!a || b.ms > a.ms ? b : a), undefined);
  const f = longest(fwd);
  const r = longest(rev);
  const reverts = marks(events).filter((m) => m.kind === 'revert');
  const out: Failback = {};
  if (f) out.outageMs = f.ms;
  if (r) out.reverseOutageMs = r.ms;
  // the takeover back: from the first revert, the fault's holder's first MASTER line after it
  const revert = reverts[0];
  if (revert && holderAtFault) {
    const back = vrrp.filter((v) => v.source === 'keepalived' && v.node === holderAtFault && v.state === 'MASTER' && v.t >= revert.t).sort((a, b) => a.t - b.t)[0];
    out.revertAt = revert.t;
    if (back) {
      out.takeoverMs = (back.t - revert.t) * 1000;
      out.node = back.node;
    }
  }
  return out;
}
