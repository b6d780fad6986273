import type { BlackoutWindow, RunEvent, ScenarioResult } from '../run/result.js';
import type { Profile, Topology } from '../topology/schema.js';
import { CONDITION_FAULTS } from '../scenario/schema.js';
import { formatMs } from '../util/time.js';
import { neighbourEntries, parseArp, type NeighbourReading } from './arp.js';
import { attribute, failback, revertAskedAt, type AttributedOutage } from './failback.js';
import { DEFAULT_PROBE_INTERVAL_MS, type Outage, type ProbeReport } from './dataplane.js';
import { advertTakeover, type Advert } from './adverts.js';
import { judgeTakeover, parseVrrpLog, splitBrain, tunnelRestored, vipTakeoverMs, type VrrpTransition } from './metrics.js';
import { decomposeReconnect, type LogLine } from './reconnect.js';
import { handoverMoments, judgeSymmetry, type CounterSnapshot } from './symmetry.js';

/** How far after its notify line keepalived's MASTER log line may be stamped and still be the same transition (s). */
const SAME_TRANSITION_S = 0.2;

/**
 * Every figure of a repeat, from what the run recorded: the runner's events and samples, the watchers'
 * raw output and the hosts' stamped logs, read once after the run. A pure function: it asks the lab
 * nothing (src/run/scenario.ts gathers the evidence first), so it is tested on recorded inputs.
 */

/** A look at the client's tunnel (a ping through ppp), with its ARP entry for the VIP where it was read. */
export interface TunnelSample {
  t: number;
  up: boolean;
  neigh?: NeighbourReading | null;
}

/** One look at the lab, as far as the figures need it. */
export interface SampleView {
  t: number;
  holders: string[];
  nodes: { name: string; daemons: Record<string, boolean> }[];
  client?: { lanReachable: boolean };
}

export interface FigureInputs {
  /** filled in place: metrics, vrrp (labStart, labEnd, firstFaultAt and holderAtFault are read) */
  result: ScenarioResult;
  lab: { topology: Topology; profile: Profile };
  calibrate?: 'outage' | 'takeover' | 'calm';
  events: RunEvent[];
  /** lab-clock times of every inject */
  injections: number[];
  /** the runner's own VRRP marks (a node crashed, frozen, resumed; a keepalived killed) */
  containerEvents: VrrpTransition[];
  samples: SampleView[];
  tunnelSamples: TunnelSample[];
  end?: SampleView;
  tunnelIpAtStart?: string;
  /** per node: its whole vrrp.log, and the times of keepalived's "Entering MASTER STATE" lines */
  vrrpLogs: Record<string, string | undefined>;
  keepalivedMasterLines: Record<string, number[]>;
  /** the client's charon, xl2tpd, pppd and watchdog lines from before the first fault to after the end */
  clientLines: LogLine[];
  nodePppLines: { node: string; line: LogLine }[];
  arpText: string;
  macs: Record<string, string>;
  /** per node: the VRRP adverts it received from its peer (its wan capture, less its own) */
  adverts?: Record<string, Advert[]>;
  /** the hosts' worst scheduling lag from the first fault to the end (ms): starvation's, computed before the figures */
  hostLagMs?: number;
  probeReports: Partial<Record<'forward' | 'reverse', ProbeReport>>;
  probeErrors: Partial<Record<'forward' | 'reverse', string>>;
  snapshots: CounterSnapshot[];
  blackouts: BlackoutWindow[];
  sessionsBefore: Record<string, number>;
  sessionsAfter: Record<string, number>;
  authBaseline: Map<string, number>;
  authCounts: Map<string, number>;
}

/** A reconnect milestone for the event stream. */
export interface PhaseEvent {
  message: string;
  t: number;
  phase: string;
}

/** How an outage's edges were found, in words: "edges 21.5 and 8.2 ms wide, gap 1.1 s". */
function edgeWords(o: Outage, intervalMs?: number): string {
  if (!o.start || !o.end) return `gap ${formatMs(o.gapMs)} less one ${intervalMs?.toFixed(2) ?? '?'} ms interval`;
  const w = (e: [number, number]) => ((e[1] - e[0]) * 1000).toFixed(1);
  return `edges ${w(o.start)} and ${w(o.end)} ms wide, gap ${formatMs(o.gapMs)}`;
}

/**
 * The outage the fault caused, among every gap of the probe: the gap in which sampling saw the tunnel
 * down while the fault was active, else the longest gap that began while it was active (a loaded lab has
 * short blips; the first gap after the fault is not always the fault's). A gap that began after the
 * fault was reverted is a consequence of the revert (a crashed master returning and preempting: the
 * failback), listed with the others but not the fault's; only when no gap began while the fault was
 * active is the gap sampling saw down, or the longest after, taken.
 */
export function faultOutage(gaps: Outage[], faultAt: number, seenDownAt?: number, revertAt?: number): Outage | undefined {
  const end = revertAt ?? Infinity;
  const longest = (xs: Outage[]) => xs.reduce<Outage | undefined>((a, b) => (!a || b.gapMs > a.gapMs ? b : a), undefined);
  const seen = (xs: Outage[]) => (seenDownAt !== undefined ? xs.find((o) => o.from <= seenDownAt && o.to >= seenDownAt) : undefined);
  const active = gaps.filter((o) => o.to > faultAt && o.from <= end);
  if (active.length > 0) return (seenDownAt !== undefined && seenDownAt <= end ? seen(active) : undefined) ?? longest(active);
  return seen(gaps) ?? longest(gaps.filter((o) => o.to > faultAt));
}

/** Overlaps shorter than three adverts (at least 500 ms) are a handover, not a split brain. */
export function splitBrainToleranceMs(advertIntSeconds: number): number {
  return Math.max(500, 3 * advertIntSeconds * 1000);
}

/** calibrate-calm: the achieved interval may be at most this many nominal intervals (a calm lab keeps ping's pace) */
export const CALM_INTERVAL_LIMIT = 1.5;

/** Fill the repeat's figures in `x.result`; returns the reconnect's milestones for the event stream. */
export function computeFigures(x: FigureInputs): PhaseEvent[] {
  const { result, lab, tunnelSamples, samples, injections, probeReports, probeErrors, end } = x;
  const phases: PhaseEvent[] = [];
  // a node that was brought back is RESUMED from when its revert was asked: its keepalived can log its
  // first states before the revert returns (a restart takes seconds), and the mark must not hide them
  const reverts = x.events.filter((e) => e.kind === 'fault.revert');
  const askedAt = (t: number) => {
    const e = reverts.find((r) => Math.abs(r.t - t) < 1e-6);
    return e ? revertAskedAt(e) : t;
  };
  const vrrp: VrrpTransition[] = x.containerEvents.map((c) => (c.state === 'RESUMED' ? { ...c, t: askedAt(c.t) } : c));
  const nodes = Object.keys(lab.topology.nodes);
  for (const n of nodes) {
    const text = x.vrrpLogs[n];
    if (text === undefined) continue;
    const all = parseVrrpLog(text, n);
    // the state each node was in when the run started, then everything during the run
    const before = all.filter((x) => x.t < result.labStart).at(-1);
    vrrp.push(...(before ? [before] : []), ...all.filter((x) => x.t >= result.labStart));
  }
  vrrp.sort((x, y) => x.t - y.t);
  result.vrrp = vrrp;
  const m = result.metrics;
  const toleranceMs = splitBrainToleranceMs(lab.profile.vrrp.advertInt);
  const sb = splitBrain(vrrp, nodes as [string, string], result.labStart, result.labEnd, toleranceMs);
  m.splitBrainMs = sb.totalMs;
  m.handoverOverlapMs = sb.handoverMs;
  m.splitBrainToleranceMs = toleranceMs;
  m.splitBrainLongestMs = sb.longestMs;
  // two VIP holders in two samples in a row (one sample can catch a handover in flight)
  m.splitBrainSampled = samples.some((s, k) => k > 0 && s.holders.length > 1 && samples[k - 1]!.holders.length > 1);
  if (x.arpText || Object.keys(x.macs).length > 0) m.arp = { ...parseArp(x.arpText, lab.topology.vips.wan, x.macs), ...neighbourEntries(tunnelSamples, x.macs) };
  // the fault that caused an effect is the last one injected before it (a scenario may first plant a
  // wrong secret, then crash the master: the takeover counts from the crash)
  // a fault is active until its revert was asked (what follows the asking is the revert's, like a failback)
  const revertAfter = (t: number) =>
    reverts
      .map(revertAskedAt)
      .filter((at) => at > t)
      .sort((p, q) => p - q)[0];
  const cause = (t: number) => injections.filter((x) => x <= t).at(-1) ?? result.firstFaultAt!;
  // a condition (CPU load, an impaired link) lasts and provokes nothing at a known time: an effect whose
  // last inject is one counts from its own start (a false failover 282 s into a load is no 282 s takeover)
  const injected = new Map(x.events.filter((e) => e.kind === 'fault.inject').map((e) => [e.t, typeof e.data?.kind === 'string' ? e.data.kind : '']));
  const conditionAt = (t: number) => (CONDITION_FAULTS.has(injected.get(t) ?? '') ? injected.get(t) : undefined);
  const origin = (t: number) => (conditionAt(cause(t)) ? t : cause(t));
  if (result.firstFaultAt !== undefined && result.holderAtFault) {
    const tk = vipTakeoverMs(vrrp, result.holderAtFault, result.firstFaultAt);
    // when the new holder became MASTER, and the inject before it
    const masterAt = tk ? result.firstFaultAt + tk.ms / 1000 : 0;
    const during = tk ? conditionAt(cause(masterAt)) : undefined;
    if (tk && during) {
      m.newHolder = tk.node;
      m.unprovokedTakeover = { node: tk.node, t: masterAt, during, sinceConditionMs: (masterAt - cause(masterAt)) * 1000 };
    } else if (tk) {
      const from = cause(masterAt);
      const notifyMs = tk.ms - (from - result.firstFaultAt) * 1000;
      m.newHolder = tk.node;
      m.takeoverFaultAt = from;
      // keepalived's own "Entering MASTER STATE" line is the transition itself; the notify fifo line
      // comes after the VIPs were added (a pipeline ~150 ms long under TCG, found by calibration). Both are
      // stamped by the readers of their pipes: with a realtime VRRP process (vrrp.rtPriority) the fifo's
      // reader can stamp first (5.5 ms before the log line, 2026-12-08). keepalived wrote the log line
      // before the notify, so a log line stamped just after the notify is the same transition, bounded by
      // the notify's stamp; one later than SAME_TRANSITION_S is another transition.
      const notifyAt = from + notifyMs / 1000;
      const lines = (x.keepalivedMasterLines[tk.node] ?? []).filter((t) => t >= from && t <= result.labEnd);
      const logMs = lines[0] !== undefined && lines[0] <= notifyAt + SAME_TRANSITION_S ? (Math.min(lines[0], notifyAt) - from) * 1000 : undefined;
      m.vipTakeoverMs = logMs ?? notifyMs;
      const prio = lab.topology.nodes[tk.node]?.priority ?? 100;
      const adv = lab.profile.vrrp.advertInt;
      const skew = lab.profile.vrrp.version === 3 ? ((256 - prio) * adv) / 256 : (256 - prio) / 256;
      const wire = m.arp?.claims.find((c) => c.node === tk.node && c.t >= from);
      const bracket = x.events.find((e) => e.kind === 'fault.inject' && e.t === from)?.data?.bracket as { asked: number; seen: number } | undefined;
      m.takeoverCheck = { ...(bracket ? { faultLatencyMs: (bracket.seen - bracket.asked) * 1000 } : {}), node: tk.node, notifyMs, ...(logMs !== undefined ? { keepalivedLogMs: logMs } : {}), ...(wire ? { wireMs: (wire.t - from) * 1000 } : {}), expectedMs: (3 * adv + skew) * 1000 };
      // the takeover from the master's last advert on the wire, free of what the fault command cost
      const incoming = x.adverts?.[tk.node];
      const adverts = incoming && logMs !== undefined ? advertTakeover(incoming, { masterAt: from + logMs / 1000, faultAt: from, downMs: m.takeoverCheck.expectedMs, skewMs: skew * 1000, advertMs: adv * 1000, lagMs: x.hostLagMs ?? 0 }) : undefined;
      if (adverts) m.takeoverCheck.advert = adverts;
      m.resolution.vrrp = logMs !== undefined ? 'keepalived\'s own state line (stamped with the lab clock as it is written, µs); the notify fifo line as cross-check' : 'keepalived notify_fifo line stamped with the lab clock (µs)';
    }
    const tr = tunnelRestored(tunnelSamples, result.firstFaultAt, revertAfter(result.firstFaultAt));
    m.tunnelSeenDown = tr.downAt !== undefined;
    if (tr.downAt !== undefined && tr.upAt !== undefined) {
      const from = origin(tr.downAt);
      m.tunnelRestoredMs = (tr.upAt - from) * 1000;
      m.tunnelRestoredBy = 'sampling';
      m.outageFaultAt = from;
    }
  }
  const fwd = probeReports.forward;
  let outage: Outage | undefined;
  const seenDownAt = result.firstFaultAt !== undefined ? tunnelRestored(tunnelSamples, result.firstFaultAt, revertAfter(result.firstFaultAt)).downAt : undefined;
  if (fwd) {
    const { outages, ...rest } = fwd;
    m.probe = rest;
    m.outages = attribute(outages, x.events);
    m.probeIntervalMs = fwd.achievedIntervalMs ?? fwd.intervalMs;
    const from = m.outageFaultAt ?? m.takeoverFaultAt ?? result.firstFaultAt;
    outage = from !== undefined ? faultOutage(fwd.outages, from, seenDownAt, revertAfter(from)) : undefined;
    if (outage) {
      m.outageMs = outage.ms;
      if (conditionAt(cause(outage.from + 0.001))) m.outageFaultAt = outage.from;
      else m.outageFaultAt ??= cause(outage.from + 0.001);
      // the tunnel restored, by the data plane: the first probe through after the fault's outage, when
      // that outage began before the revert. Status samples (a ping each 0.25-1 s) miss a short outage
      // on a loaded host; the probe does not, and its figure is the finer one.
      const fault = m.outageFaultAt;
      const revertAt = revertAfter(fault);
      if (outage.from <= (revertAt ?? Infinity)) {
        m.tunnelSeenDown = true;
        m.tunnelRestoredMs = (outage.to - fault) * 1000;
        m.tunnelRestoredBy = 'probe';
      }
    }
  } else m.probe = { direction: 'forward', target: lab.topology.lanhost.lan, intervalMs: 5, sent: 0, received: 0, lostOutsideOutages: 0, stalls: [], thresholdMs: 0, error: probeErrors.forward ?? 'not run' };
  // a node crash carried out late: the probe saw the death, inside the kill's bracket (asked, seen)
  const tk = m.takeoverCheck;
  const kill = tk?.faultLatencyMs !== undefined ? (x.events.find((e) => e.kind === 'fault.inject' && e.t === m.takeoverFaultAt)?.data?.bracket as { asked: number; seen: number } | undefined) : undefined;
  if (tk && kill && outage?.start && outage.start[1] >= kill.asked && outage.start[0] <= kill.seen + 0.05) {
    const from = Math.max(kill.asked, outage.start[0]);
    const to = Math.min(kill.seen, outage.start[1]);
    if (to >= from) tk.deathMs = [(from - kill.asked) * 1000, (to - kill.asked) * 1000];
  }
  const rev = probeReports.reverse;
  if (rev) {
    m.reverseProbe = { ...rev, outages: attribute(rev.outages, x.events) };
    const from = m.outageFaultAt ?? result.firstFaultAt;
    const o = from !== undefined ? faultOutage(rev.outages, from, seenDownAt, revertAfter(from)) : undefined;
    if (o) m.reverseOutageMs = o.ms;
  } else m.reverseProbe = { direction: 'reverse', target: x.tunnelIpAtStart ?? '', intervalMs: 5, sent: 0, received: 0, lostOutsideOutages: 0, outages: [], stalls: [], thresholdMs: 0, error: probeErrors.reverse ?? 'not run' };

  // the failback: what the reverts cost, each way, and the old holder taking the VIP back
  const fb = failback(m.outages ?? [], (m.reverseProbe?.outages ?? []) as AttributedOutage[], x.events, vrrp, result.holderAtFault);
  if (fb.outageMs !== undefined || fb.takeoverMs !== undefined) {
    m.failback = fb;
    if (fb.outageMs !== undefined) m.failbackOutageMs = fb.outageMs;
    if (fb.reverseOutageMs !== undefined) m.failbackReverseOutageMs = fb.reverseOutageMs;
    if (fb.takeoverMs !== undefined) m.failbackTakeoverMs = fb.takeoverMs;
  }

  // the reconnect, phase by phase, from the client's daemons' logs
  const faultAt = m.outageFaultAt ?? m.takeoverFaultAt ?? result.firstFaultAt;
  // one read of the client's logs from the fault to the end serves the phases and the session check
  const clTo = Math.max(result.labEnd, (outage?.to ?? 0) + 1);
  const cl = faultAt !== undefined ? x.clientLines.filter((l) => l.t >= faultAt - 1 && l.t <= clTo) : [];
  if (faultAt !== undefined && outage) {
    const p = lab.profile;
    const hint = `DPD every ${p.ike.dpdDelay} s, timeout ${p.ike.dpdTimeout} s; LCP echo every ${p.ppp.lcpEchoInterval} s × ${p.ppp.lcpEchoFailure}; xl2tpd max retries ${p.l2tp.maxRetries}, redial ${p.l2tp.redialTimeout} s`;
    const vipMoves = vrrp.filter((v) => v.source === 'keepalived' && v.state === 'MASTER' && v.t >= faultAt).map((v) => ({ t: v.t, node: v.node }));
    m.reconnect = decomposeReconnect(cl, faultAt, outage.to, hint, vipMoves);
    m.phasesMs = m.reconnect.phasesMs;
    m.reconnectMs = m.reconnect.reconnectMs;
    for (const ms of m.reconnect.milestones.filter((x) => x.name !== 'fault' && x.name !== 'firstPacket')) {
      phases.push({ message: `${ms.name}: ${ms.source}: ${ms.line ?? ''}`, t: ms.t, phase: ms.name });
    }
    phases.push({ message: `firstPacket: the first probe through after the outage (reconnect ${formatMs(m.reconnectMs ?? 0)})`, t: outage.to, phase: 'firstPacket' });
  }

  // sessions: who answered CHAP after the fault, the client's new address, pppd's accounting lines
  const ppp = x.nodePppLines.filter((l) => l.line.t >= result.labStart && l.line.t <= result.labEnd);
  const after = faultAt ?? Infinity;
  // the node's pppd requires CHAP (auth, require-chap) and logs no success line of its own: IPCP
  // completing on it ("remote IP address") after the fault is the re-authentication
  const reauth = ppp.find((x) => x.line.t >= after && /CHAP peer authentication succeeded|remote IP address/.test(x.line.text));
  const addr = cl.find((l) => l.t >= after && l.source === 'pppd' && /local +IP address/.test(l.text));
  m.sessions = {
    before: x.sessionsBefore,
    after: x.sessionsAfter,
    ...(reauth ? { reauthOn: reauth.node, reauthAt: reauth.line.t } : {}),
    ...(addr ? { clientAddress: /local +IP address (\S+)/.exec(addr.text)![1]! } : {}),
    accounting: ppp.filter((x) => /Connect time|Sent \d+ bytes/.test(x.line.text)).map((x) => ({ node: x.node, t: x.line.t, line: x.line.text })),
  };

  // routing symmetry from the nodes' counters: a window that holds a handover in flight is not judged
  const inFlight = handoverMoments(
    vrrp.filter((v) => v.t >= result.labStart).map((v) => v.t),
    tunnelSamples.filter((x) => !x.up).map((x) => x.t),
  );
  const sym = judgeSymmetry(x.snapshots, inFlight);
  m.symmetry = sym;
  m.routingSymmetric = sym.symmetric;

  // calibration against a known truth
  if (x.calibrate === 'outage') {
    const w = x.blackouts.at(-1);
    // the gap that overlaps the blackout window the most
    const overlap = (g: Outage) => (w ? Math.min(g.to, w.off) - Math.max(g.from, w.on) : 0);
    const o = w && fwd ? fwd.outages.filter((g) => overlap(g) > 0).sort((x, y) => overlap(y) - overlap(x))[0] : undefined;
    if (w && o) {
      // "one probe interval": the spacing of the probes where the outage's edges are. ping keeps its
      // interval while replies come back, waits at least 10 ms (iputils' MIN_INTERVAL_MS) while one is
      // outstanding, and may stall as the fault lands: the edges are as wide as that, and
      // the outage's own resolution (half the two edges' widths; one interval for a regular probe) says so
      const res = Math.max(m.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS, o.resolutionMs ?? 0);
      const tol = res + 5;
      const err = o.ms - w.appliedMs;
      // the truth is itself known to ±uncertainty (the brackets around the two commits): judged against both
      const ok = Math.abs(err) <= tol + w.uncertaintyMs;
      m.calibration = {
        kind: 'outage',
        truthMs: w.appliedMs,
        truthUncertaintyMs: w.uncertaintyMs,
        measuredMs: o.ms,
        errorMs: err,
        toleranceMs: tol,
        ...(o.resolutionMs !== undefined ? { resolutionMs: o.resolutionMs } : {}),
        ok,
        detail: `blackout applied ${formatMs(w.appliedMs)} (±${w.uncertaintyMs.toFixed(1)} ms), probe measured ${formatMs(o.ms)} (±${res.toFixed(1)} ms: ${edgeWords(o, m.probeIntervalMs)}): error ${err.toFixed(1)} ms, tolerance ±${tol.toFixed(1)} ms (the probe's resolution + 5 ms)${w.uncertaintyMs > 1 ? ` + ${w.uncertaintyMs.toFixed(1)} ms of the truth's own uncertainty` : ''}`,
      };
    }
  } else if (x.calibrate === 'takeover' && m.takeoverCheck?.keepalivedLogMs !== undefined) {
    // keepalived's log line against the wire: the new holder's first ARP claim seen by the client,
    // which keepalived sends between its state line and its notify fifo line
    const t = m.takeoverCheck;
    const j = judgeTakeover({ ...t, keepalivedLogMs: t.keepalivedLogMs! }, x.hostLagMs ?? 0);
    // and keepalived's timer against VRRP: the MASTER line less the master's last advert
    const band = t.advert?.detail ?? 'no advert of the old master was captured on the new holder: its timer cannot be checked against VRRP';
    m.calibration = { kind: 'takeover', truthMs: t.keepalivedLogMs!, measuredMs: t.wireMs ?? NaN, errorMs: j.errorMs, toleranceMs: j.toleranceMs, pipelineMs: j.pipelineMs, ok: j.ok && t.advert?.ok === true, detail: `${j.detail}; ${band}` };
  }

  if (x.calibrate === 'calm' && fwd) {
    const iv = m.probeIntervalMs ?? fwd.intervalMs;
    const out = fwd.outages.length;
    // ping never sends two probes closer than its interval; a calm lab keeps within half an interval more
    const limit = CALM_INTERVAL_LIMIT * fwd.intervalMs;
    m.calibration = { kind: 'calm', truthMs: fwd.intervalMs, measuredMs: iv, errorMs: iv - fwd.intervalMs, toleranceMs: limit - fwd.intervalMs, ok: iv <= limit && out === 0 && fwd.lostOutsideOutages === 0, detail: `${fwd.sent} probes over ${formatMs(((fwd.lastReply ?? 0) - (fwd.firstReply ?? 0)) * 1000)}: achieved interval ${iv.toFixed(2)} ms (nominal ${fwd.intervalMs} ms, limit ${limit.toFixed(1)} ms), ${out} outage(s), ${fwd.lostOutsideOutages} lost, ${fwd.stalls.length} stall(s) of the prober (longest ${formatMs(Math.max(0, ...fwd.stalls.map((x) => x.gapMs)))}, nothing lost); reverse: ${rev ? `${(rev.achievedIntervalMs ?? rev.intervalMs).toFixed(2)} ms, ${rev.outages.length} outage(s), ${rev.lostOutsideOutages} lost` : 'none'}` };
  }
  const gaps = tunnelSamples.slice(1).map((s, k) => (s.t - tunnelSamples[k]!.t) * 1000);
  const sampled = gaps.length > 0 ? `client tunnel sampled by ping through ppp, median interval ${formatMs([...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!)}` : 'client tunnel not sampled';
  m.resolution.tunnel = m.tunnelRestoredBy === 'probe' ? `tunnel restored: the forward probe's first probe through after the fault's outage; ${sampled}` : sampled;
  m.resolution.probe = m.probeIntervalMs !== undefined ? `ping every ${fwd?.intervalMs} ms (achieved ${m.probeIntervalMs.toFixed(2)} ms${fwd?.lossSpacingMs !== undefined ? `, ${fwd.lossSpacingMs.toFixed(1)} ms or more while a probe was unanswered` : ''}); each probe's send time bounded from ping's own -D stamps (its "no answer yet" lines, its replies less their round trips, the previous reply's print, never two sends closer than the interval); outage = middle of its start edge (last probe through sent, first lost sent) to middle of its end edge (last lost sent, first probe through sent), each ± half its width` : 'no probe';
  for (const [k, n] of x.authCounts) {
    const d = n - (x.authBaseline.get(k) ?? 0);
    if (d > 0) m.authFailures[k] = d;
  }
  if (end) {
    m.finalHolder = end.holders[0];
    m.sessionNode = sessionNode(end, x.sessionsAfter);
  }
  return phases;

}

/**
 * Which node carries the client's PPP session (a pppd process for it): the one node with pppd in the
 * per-node counts when there is exactly one, else the sample's. The counts are taken after the baseline
 * came back; the baseline sample queries the nodes before the client and can straddle a failback's
 * reconnect (the node's pppd not yet spawned, the client's session already up through it).
 */
export function sessionNode(s: SampleView, counts: Record<string, number> = {}): string | undefined {
  const carrying = Object.entries(counts).filter(([, n]) => n > 0).map(([k]) => k);
  if (carrying.length === 1) return carrying[0];
  return s.nodes.find((n) => n.daemons.pppd === true)?.name;
}
