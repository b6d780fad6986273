import type { AdvertTakeover } from './adverts.js';
import { VRRP_STATES } from '../run/events.js';
import { formatMs } from '../util/time.js';

/**
 * Figures computed from timestamps taken inside the lab: keepalived's own state lines (vrrp.log,
 * written by its notify_fifo with the lab clock) and the runner's lab-clock samples.
 */

export interface VrrpTransition {
  t: number;
  node: string;
  state: string;
  /** where the line came from: keepalived's notify fifo, or the runner (container crashed/stopped/frozen/started) */
  source: 'keepalived' | 'runner';
}


/** `<epoch> INSTANCE "VI_1" MASTER 150` lines of /var/log/vipdrill/vrrp.log. */
export function parseVrrpLog(text: string, node: string): VrrpTransition[] {
  const out: VrrpTransition[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+\.\d+) INSTANCE "[^"]+" (\w+)/.exec(line.trim());
    // state changes only: notify_fifo also reports events such as MASTER_RX_LOWER_PRI
    if (m && VRRP_STATES.has(m[2]!)) out.push({ t: Number(m[1]), node, state: m[2]!, source: 'keepalived' });
  }
  return out;
}

/** Intervals [from, to) during which `node` was MASTER, clipped to the window. */
export function masterIntervals(ts: VrrpTransition[], node: string, from: number, to: number): [number, number][] {
  const mine = ts.filter((x) => x.node === node).sort((x, y) => x.t - y.t);
  const out: [number, number][] = [];
  let state = [...mine].reverse().find((x) => x.t <= from)?.state ?? 'UNKNOWN';
  let since = from;
  for (const x of mine) {
    if (x.t <= from) continue;
    if (x.t >= to) break;
    if (state === 'MASTER' && x.state !== 'MASTER') out.push([since, x.t]);
    if (state !== 'MASTER' && x.state === 'MASTER') since = x.t;
    state = x.state;
  }
  if (state === 'MASTER') out.push([since, to]);
  return out;
}

/**
 * Total time (ms) with both nodes MASTER, and the longest single overlap. Overlaps up to `toleranceMs`
 * are a normal handover (the preempting node logs MASTER a moment before the other logs BACKUP) and are
 * reported apart as `handoverMs`, not as split brain.
 */
export function splitBrain(ts: VrrpTransition[], nodes: [string, string], from: number, to: number, toleranceMs = 0): { totalMs: number; longestMs: number; periods: [number, number][]; handoverMs: number } {
  const a = masterIntervals(ts, nodes[0], from, to);
  const b = masterIntervals(ts, nodes[1], from, to);
  const periods: [number, number][] = [];
  for (const [a0, a1] of a) for (const [b0, b1] of b) {
    const s = Math.max(a0, b0);
    const e = Math.min(a1, b1);
    if (e > s) periods.push([s, e]);
  }
  const long = periods.filter(([s, e]) => (e - s) * 1000 > toleranceMs);
  const ms = long.map(([s, e]) => (e - s) * 1000);
  const handoverMs = periods.filter((p) => !long.includes(p)).reduce((x, [s, e]) => x + (e - s) * 1000, 0);
  return { totalMs: ms.reduce((x, y) => x + y, 0), longestMs: Math.max(0, ...ms), periods: long, handoverMs };
}

/** Fault -> the first MASTER transition of a node other than the holder at the fault (ms). */
export function vipTakeoverMs(ts: VrrpTransition[], holderAtFault: string, faultAt: number): { ms: number; node: string } | undefined {
  const x = ts.filter((v) => v.source === 'keepalived' && v.node !== holderAtFault && v.state === 'MASTER' && v.t >= faultAt).sort((p, q) => p.t - q.t)[0];
  return x ? { ms: (x.t - faultAt) * 1000, node: x.node } : undefined;
}

/**
 * From samples of the client's tunnel (lab clock): the first time it was seen working again after being
 * seen down, after `from`; the down sample must come before `until` (the fault's revert): a tunnel first
 * seen down after the revert is the failback's, not the fault's, so every repeat means the same by it.
 */
export function tunnelRestored(samples: { t: number; up: boolean }[], from: number, until = Infinity): { downAt?: number; upAt?: number } {
  const after = samples.filter((s) => s.t >= from).sort((x, y) => x.t - y.t);
  const down = after.find((s) => !s.up && s.t < until);
  if (!down) return {};
  const up = after.find((s) => s.t > down.t && s.up);
  return { downAt: down.t, ...(up ? { upAt: up.t } : {}) };
}

/** What calibrate-takeover reads: keepalived's own lines and the wire, each ms after the fault. */
export interface TakeoverCheck {
  node: string;
  /** keepalived's "Entering MASTER STATE" line (stamped as the lab's log reader reads it from keepalived's pipe) */
  keepalivedLogMs?: number;
  /** the notify fifo line (stamped by the fifo reader) */
  notifyMs: number;
  /** the new holder's first ARP claim for the VIP, captured on the client's segment */
  wireMs?: number;
  /** the master-down interval VRRP predicts */
  expectedMs: number;
  /**
   * how long after it was asked the fault was seen carried out (a loaded engine's kill): the takeover
   * lies between vipTakeoverMs less this and vipTakeoverMs
   */
  faultLatencyMs?: number;
  /**
   * when the node really died, ms after the kill was asked: the forward probe's outage start edge (the
   * path through the master broke between the sends of the last probe through and the first lost), where it lies inside
   * the kill's bracket. The takeover then lies between vipTakeoverMs less its end and less its start.
   */
  deathMs?: [number, number];
  /** the takeover from the master's last advert the new holder received (its wan capture) */
  advert?: AdvertTakeover;
}

/** Slack for the capture: the claim crosses one bridge and is stamped by the client's kernel. */
export const WIRE_SLACK_MS = 5;

/**
 * keepalived's state line against the wire. keepalived logs "Entering MASTER STATE", then adds the
 * VIPs, sends its gratuitous ARPs and only then writes the notify fifo line (vrrp_state_master_tx ->
 * vrrp_state_become_master), so the new holder's first claim seen by the client must fall after the
 * state line and no later than the notify line plus the capture's slack. How long that pipeline takes
 * is keepalived's own (18-104 ms to the claim under TCG); the check is that the lab's stamps agree
 * with the order keepalived does things in, on one clock.
 * The state line is stamped when the lab's log reader reads it from keepalived's pipe, so a host that
 * ran its readers late (`stampLagMs`, the agents' worst measured scheduling lag) stamps it up to that
 * much late: a claim up to that much before the stamp is still in order (seen in a CI run on a slow
 * host: -45.8 ms with 611 ms of lag).
 */
export function judgeTakeover(t: TakeoverCheck & { keepalivedLogMs: number }, stampLagMs = 0): { errorMs: number; pipelineMs: number; toleranceMs: number; ok: boolean; detail: string } {
  const pipelineMs = t.notifyMs - t.keepalivedLogMs;
  const lag = Math.max(0, stampLagMs);
  // the claim's own stamp is the client kernel's, taken when its softirq ran: late by up to the lag too
  // (seen in a CI rehearsal on a slow day: +21.7 ms against a 6.8 ms pipeline, with 306 ms of lag)
  const toleranceMs = Math.max(0, pipelineMs) + WIRE_SLACK_MS + lag;
  const errorMs = t.wireMs !== undefined ? t.wireMs - t.keepalivedLogMs : NaN;
  const ok = Number.isFinite(errorMs) && errorMs >= -lag && errorMs <= toleranceMs;
  const wire = t.wireMs === undefined
    ? 'no ARP claim of the new holder was seen on the wire'
    : `the client saw ${t.node}'s first ARP claim for the VIP ${errorMs.toFixed(1)} ms later${ok ? ', inside' : errorMs < 0 ? ', before the state line: outside' : ', after the notify line: outside'} keepalived's own pipeline (VIPs added, gratuitous ARP sent, then the notify fifo line at +${pipelineMs.toFixed(1)} ms; allowed ${lag > 0 ? `-${lag.toFixed(1)}` : '0'} to ${toleranceMs.toFixed(1)} ms with ${WIRE_SLACK_MS} ms for the capture${lag > 0 ? ` and ${lag.toFixed(1)} ms of host lag for the stamps` : ''})`;
  return { errorMs, pipelineMs, toleranceMs, ok, detail: `keepalived's "Entering MASTER STATE" ${formatMs(t.keepalivedLogMs)} after the fault; ${wire}; VRRP's master-down interval predicts ${formatMs(t.expectedMs)}` };
}
