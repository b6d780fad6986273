import type { Scenario } from '../scenario/schema.js';
import { formatMs } from '../util/time.js';
import type { ExpectationResult, ScenarioResult } from '../run/result.js';

/** A fault carried out later than this after it was asked leaves the takeover uncertain (ms). */
export const TAKEOVER_UNCERTAIN_MS = 250;

/** The scenario's expectations against the repeat's figures: each with what was expected and what was got. */
export function judge(sc: Scenario, r: ScenarioResult, nodes: string[]): ExpectationResult[] {
  const x = sc.expect;
  const m = r.metrics;
  const out: ExpectationResult[] = [];
  const add = (name: string, expected: string, actual: string, ok: boolean, undecided = false, limit?: { limitMs: number; valueMs?: number }) =>
    out.push({
      name,
      ok,
      detail: `expected ${expected}, got ${actual}`,
      expected,
      actual,
      ...(undecided ? { undecided } : {}),
      ...(limit ? { limitMs: limit.limitMs, ...(limit.valueMs !== undefined ? { valueMs: limit.valueMs, marginMs: limit.limitMs - limit.valueMs } : {}) } : {}),
    });
  const who = (w: string) => (w === 'original' ? r.holderAtStart : w === 'other' ? nodes.find((n) => n !== r.holderAtStart) : w);
  if (x.vipMoved !== undefined) add('vipMoved', String(x.vipMoved), m.newHolder ? `true (to ${m.newHolder})` : 'false', (m.newHolder !== undefined) === x.vipMoved);
  if (x.vipTakeover) {
    const t = m.vipTakeoverMs;
    // a fault carried out late (a loaded engine's kill) puts the takeover between t - latency and t:
    // undecided when the limit lies inside that range
    const lat = m.takeoverCheck?.faultLatencyMs ?? 0;
    // when the node died, ms after the kill was asked: seen by the probe where it could (a narrow
    // edge), else anywhere in the kill's bracket
    const death = m.takeoverCheck?.deathMs;
    const [d0, d1] = death ?? [0, lat];
    const low = t !== undefined ? Math.max(0, t - d1) : undefined;
    const high = t !== undefined ? t - d0 : undefined;
    const wide = d1 - d0 > TAKEOVER_UNCERTAIN_MS;
    const range =
      t === undefined
        ? undefined
        : wide
          ? `${formatMs(low!)} to ${formatMs(high!)} (the kill was carried out within ${formatMs(lat)} of being asked)`
          : death && d0 > TAKEOVER_UNCERTAIN_MS
            ? `${formatMs(high!)} from the node's death, which the probe saw ${formatMs(d0)} to ${formatMs(d1)} after the kill was asked`
            : undefined;
    const undecided = t !== undefined && wide && low! <= x.vipTakeover.max && high! > x.vipTakeover.max;
    add('vipTakeover', `<= ${formatMs(x.vipTakeover.max)}`, t !== undefined ? (range ?? formatMs(t)) : 'the VIP never moved', t !== undefined && !undecided && high! <= x.vipTakeover.max, undecided, { limitMs: x.vipTakeover.max, ...(high !== undefined ? { valueMs: high } : {}) });
  }
  if (x.tunnelRestored) {
    const actual = !m.tunnelSeenDown ? 'no outage seen (probe and sampling)' : m.tunnelRestoredMs !== undefined ? formatMs(m.tunnelRestoredMs) : 'not restored';
    add('tunnelRestored', `<= ${formatMs(x.tunnelRestored.max)}`, actual, !m.tunnelSeenDown || (m.tunnelRestoredMs !== undefined && m.tunnelRestoredMs <= x.tunnelRestored.max), false, { limitMs: x.tunnelRestored.max, ...(m.tunnelRestoredMs !== undefined ? { valueMs: m.tunnelRestoredMs } : {}) });
  }
  if (x.outage) {
    const o = m.outageMs;
    const probeOk = m.probe !== undefined && m.probe.error === undefined;
    const actual = !probeOk ? `no probe (${m.probe?.error ?? 'not run'})` : o === undefined ? 'no outage' : formatMs(o);
    const passed = probeOk && (o === undefined ? x.outage.min === 0 : o >= x.outage.min && o <= x.outage.max);
    add('outage', `${x.outage.min > 0 ? `>= ${formatMs(x.outage.min)} and ` : ''}<= ${formatMs(x.outage.max)}`, actual, passed, false, { limitMs: x.outage.max, ...(o !== undefined ? { valueMs: o } : {}) });
  }
  if (x.failbackOutage) {
    const o = m.failbackOutageMs;
    const probeOk = m.probe !== undefined && m.probe.error === undefined;
    add('failbackOutage', `<= ${formatMs(x.failbackOutage.max)}`, !probeOk ? `no probe (${m.probe?.error ?? 'not run'})` : o === undefined ? 'no outage after a revert' : `${formatMs(o)}${m.failbackTakeoverMs !== undefined ? ` (the VIP back on ${m.failback?.node ?? '?'} ${formatMs(m.failbackTakeoverMs)} after the revert)` : ''}`, probeOk && (o === undefined || o <= x.failbackOutage.max), false, { limitMs: x.failbackOutage.max, ...(o !== undefined ? { valueMs: o } : {}) });
  }
  if (x.probeLoss) {
    const p = m.probe;
    const ok = p !== undefined && p.error === undefined;
    add('probeLoss', `<= ${x.probeLoss.max} probes lost outside outages`, ok ? `${p.lostOutsideOutages} of ${p.sent} lost, ${m.outages?.length ?? 0} outage(s), achieved interval ${m.probeIntervalMs?.toFixed(2)} ms` : 'no probe', ok && p.lostOutsideOutages <= x.probeLoss.max);
  }
  if (x.splitBrain) {
    const seen = m.splitBrainMs > 0 || m.splitBrainSampled;
    add('splitBrain', x.splitBrain, seen ? `detected (${formatMs(m.splitBrainMs)} with both MASTER${m.splitBrainSampled ? ', two VIP holders sampled' : ''})` : 'none', seen === (x.splitBrain === 'detected'));
  }
  if (x.finalHolder) add('finalHolder', `${x.finalHolder} (${who(x.finalHolder)})`, m.finalHolder ?? 'no single holder', m.finalHolder === who(x.finalHolder));
  if (x.authFailure) {
    const seen = Object.keys(m.authFailures).length > 0;
    add('authFailure', x.authFailure, seen ? `detected (${Object.entries(m.authFailures).map(([k, n]) => `${n} on ${k}`).join(', ')})` : 'none', seen === (x.authFailure === 'detected'));
  }
  if (x.routing) {
    const s = m.routingSymmetric;
    add('routing', x.routing, s === null || s === undefined ? `undecided (${m.symmetry?.evidence ?? 'no counters'})` : `${s ? 'symmetric' : 'asymmetric'} (${m.symmetry!.evidence})`, s !== null && s !== undefined && s === (x.routing === 'symmetric'));
  }
  if (x.reauthenticated !== undefined) {
    const se = m.sessions;
    const did = se?.reauthOn !== undefined && se.reauthOn === m.newHolder && se.clientAddress !== undefined;
    add('reauthenticated', x.reauthenticated ? `CHAP on the new holder and an address` : 'no new authentication', se?.reauthOn ? `CHAP answered by ${se.reauthOn}${se.clientAddress ? `, client got ${se.clientAddress}` : ', no address'}` : 'no CHAP after the fault', did === x.reauthenticated);
  }
  if (x.calibrate) {
    const c = m.calibration;
    add('calibrate', `${x.calibrate} measured within its tolerance of the truth`, c ? c.detail : 'nothing to calibrate against (no blackout or no keepalived log line)', c?.ok === true);
  }
  if (x.sessionOn) add('sessionOn', `${x.sessionOn} (${who(x.sessionOn)})`, m.sessionNode ?? 'no session', m.sessionNode === who(x.sessionOn));
  return out;
}
