import type { ScenarioResult } from '../run/result.js';
import type { Outage, ProbeReport } from './dataplane.js';
import { PHASES } from './reconnect.js';

/**
 * What every analysed result must satisfy before it is written. A violation is a defect of the
 * analysis, not a property of the lab: the repeat becomes an analysis error (exit 2) that names it,
 * never a figure nobody can trust. The property tests (test/unit/properties) hold the analyses to
 * the same rules on generated streams.
 */

/** Slack for sums of floats (ms). */
const EPS_MS = 1e-6;
/** A time or figure for a message, whatever a corrupted result holds there. */
const f6 = (x: unknown) => (typeof x === 'number' ? x.toFixed(6) : String(x));
const f3 = (x: unknown) => (typeof x === 'number' ? x.toFixed(3) : String(x));

/** The rules one probe report must keep: ordered edges, losses accounted for, outages inside the run. */
export function probeViolations(p: Pick<ProbeReport, 'direction' | 'sent' | 'received' | 'lostOutsideOutages' | 'firstReply' | 'lastReply'>, outages: Outage[]): string[] {
  const out: string[] = [];
  const name = `${p.direction} probe`;
  let lostIn = 0;
  for (const [k, o] of outages.entries()) {
    const at = `${name} outage ${k + 1} (from ${f6(o.from)})`;
    if (!(o.to >= o.from)) out.push(`${at}: ends (${f6(o.to)}) before it starts`);
    if (!(o.ms >= 0) || !(o.gapMs >= 0)) out.push(`${at}: a negative duration (${o.ms} ms, gap ${o.gapMs} ms)`);
    if (o.start && o.end) {
      const e = [o.start[0], o.start[1], o.end[0], o.end[1]];
      const ordered = o.start[0] <= o.start[1] && o.end[0] <= o.end[1] && o.start[0] <= o.end[0] && o.start[1] <= o.end[1];
      if (!ordered) out.push(`${at}: edges out of order [${o.start.map(f6).join(', ')}] → [${o.end.map(f6).join(', ')}]`);
      if (e.some((x) => !Number.isFinite(x))) out.push(`${at}: an edge is not a finite time`);
    }
    if (o.resolutionMs !== undefined && !(o.resolutionMs >= 0)) out.push(`${at}: resolution ${o.resolutionMs} ms is negative`);
    if (o.lost !== undefined) {
      if (o.lost < 1) out.push(`${at}: no probe was lost in it (an outage is a gap in which probes were lost)`);
      lostIn += o.lost;
    }
    if (p.firstReply !== undefined && p.lastReply !== undefined && (o.from < p.firstReply - 1e-9 || o.to > p.lastReply + 1e-9)) {
      out.push(`${at}: lies outside the probe's run [${f6(p.firstReply)}, ${f6(p.lastReply)}]`);
    }
  }
  if (p.lostOutsideOutages < 0) out.push(`${name}: ${p.lostOutsideOutages} probes lost outside outages`);
  if (outages.every((o) => o.lost !== undefined) && p.sent - p.received !== lostIn + p.lostOutsideOutages) {
    out.push(`${name}: ${p.sent - p.received} probes unanswered, but ${lostIn} in outages + ${p.lostOutsideOutages} outside`);
  }
  return out;
}

/** Every rule an analysed repeat must keep; an empty list when it keeps them all. */
export function analysisViolations(r: ScenarioResult): string[] {
  const m = r.metrics;
  const out: string[] = [];
  if (m.probe && !m.probe.error) out.push(...probeViolations(m.probe, m.outages ?? []));
  if (m.reverseProbe && !m.reverseProbe.error) out.push(...probeViolations(m.reverseProbe, m.reverseProbe.outages));
  if (m.phasesMs) {
    const seen = PHASES.map((p) => m.phasesMs![p]).filter((x): x is number => x !== null);
    if (seen.some((x) => !(x >= 0))) out.push(`reconnect: a negative phase (${PHASES.map((p) => `${p} ${m.phasesMs![p]}`).join(', ')})`);
    const sum = seen.reduce((a, b) => a + b, 0);
    if (m.reconnectMs !== undefined && m.phasesMs.firstPacket !== null && Math.abs(sum - m.reconnectMs) > EPS_MS * Math.max(1, m.reconnectMs)) {
      out.push(`reconnect: the phases add up to ${f3(sum)} ms, not the reconnect's ${f3(m.reconnectMs)} ms`);
    }
  }
  if (m.vipTakeoverMs !== undefined && !(m.vipTakeoverMs >= 0)) out.push(`takeover: ${f3(m.vipTakeoverMs)} ms, before the fault`);
  if (m.failbackTakeoverMs !== undefined && !(m.failbackTakeoverMs >= 0)) out.push(`failback takeover: ${f3(m.failbackTakeoverMs)} ms, before the revert`);
  const repeatMs = (r.labEnd - r.labStart) * 1000;
  if (!(m.splitBrainMs >= 0) || m.splitBrainMs > repeatMs + EPS_MS) out.push(`split brain: ${f3(m.splitBrainMs)} ms, outside [0, the repeat's ${f3(repeatMs)} ms]`);
  if (m.splitBrainLongestMs > m.splitBrainMs + EPS_MS) out.push(`split brain: the longest period (${m.splitBrainLongestMs} ms) exceeds the total (${m.splitBrainMs} ms)`);
  return out;
}
