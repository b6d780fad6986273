import { expect } from 'chai';
import fc from 'fast-check';
import { parseVrrpLog, splitBrain, vipTakeoverMs } from '../../../src/analysis/metrics.js';
import { decomposeReconnect, PHASES, type LogLine } from '../../../src/analysis/reconnect.js';
import { simulateReconnect, type Detector, type ReconnectTruth } from '../../sim/daemons.js';
import { bothMaster, vrrpLog, type NodeTimeline, type VrrpState } from '../../sim/keepalived.js';
import { RUNS, scale } from './arbitraries.js';

/**
 * The VRRP timeline (split brain, takeover) and the reconnect's phases on generated streams with known
 * truth (test/sim/keepalived.ts, test/sim/daemons.ts): recovered exactly (the logs stamp µs), and on
 * streams with lost or shuffled lines the invariants still hold.
 */

// a small epoch, so float sums are exact to well below the logs' µs (at 1.8e9 s a double holds 0.24 µs)
const T0 = 1000;

const timeline = (node: string): fc.Arbitrary<NodeTimeline> =>
  fc.array(fc.record({ gapUs: fc.integer({ min: 1, max: 4_000_000 }), state: fc.constantFrom<VrrpState>('INIT', 'BACKUP', 'MASTER', 'MASTER', 'FAULT', 'STOP') }), { maxLength: 14 }).map((cs) => {
    let us = 0;
    return { node, changes: cs.map((c) => ({ t: Number((T0 + (us += c.gapUs) / 1e6).toFixed(6)), state: c.state })) };
  });

const vrrpCase = fc.record({
  a: timeline('a'),
  b: timeline('b'),
  fromMs: fc.integer({ min: 0, max: 20000 }),
  lenMs: fc.integer({ min: 1, max: 60000 }),
  toleranceMs: fc.constantFrom(0, 500, 900, 3000),
  noise: fc.constantFrom(0, 1, 3),
});

const sum = (ps: [number, number][]) => ps.reduce((x, [s, e]) => x + (e - s) * 1000, 0);

describe('property: the VRRP timeline on generated keepalived logs', function () {
  this.timeout(60000 * scale);

  it(`split brain and handover overlap match the truth's both-MASTER time (${RUNS.vrrp} generated pairs of logs)`, () => {
    fc.assert(
      fc.property(vrrpCase, ({ a, b, fromMs, lenMs, toleranceMs, noise }) => {
        const from = T0 + fromMs / 1000;
        const to = from + lenMs / 1000;
        const ts = [...parseVrrpLog(vrrpLog(a, noise), 'a'), ...parseVrrpLog(vrrpLog(b, noise), 'b')];
        const sb = splitBrain(ts, ['a', 'b'], from, to, toleranceMs);
        const truth = bothMaster(a, b, from, to);
        const long = truth.filter(([s, e]) => (e - s) * 1000 > toleranceMs);
        const eps = 1e-6 * (truth.length + 1);
        expect(sb.totalMs).to.be.closeTo(sum(long), eps);
        expect(sb.handoverMs).to.be.closeTo(sum(truth) - sum(long), eps);
        expect(sb.longestMs).to.be.closeTo(Math.max(0, ...long.map(([s, e]) => (e - s) * 1000)), eps);
        expect(sb.totalMs).to.be.at.most(lenMs + eps);
      }),
      { numRuns: RUNS.vrrp },
    );
  });

  it(`the takeover is the other node's first MASTER line after the fault, never before it (${RUNS.vrrp} generated logs)`, () => {
    fc.assert(
      fc.property(timeline('b'), fc.integer({ min: 0, max: 30000 }), (b, faultMs) => {
        const fault = T0 + faultMs / 1000;
        const tk = vipTakeoverMs(parseVrrpLog(vrrpLog(b), 'b'), 'a', fault);
        const truth = b.changes.find((c) => c.state === 'MASTER' && c.t >= fault);
        if (!truth) expect(tk).to.equal(undefined);
        else {
          expect(tk!.ms).to.be.at.least(0);
          expect(tk!.ms).to.be.closeTo((truth.t - fault) * 1000, 1e-3);
        }
      }),
      { numRuns: RUNS.vrrp },
    );
  });

  it(`with lines lost, split brain stays inside the window and its longest period inside its total (${RUNS.vrrp} generated logs)`, () => {
    fc.assert(
      fc.property(vrrpCase, fc.integer({ min: 2, max: 5 }), ({ a, b, fromMs, lenMs, toleranceMs }, every) => {
        const drop = (t: string) => t.split('\n').filter((_, i) => i % every !== 1).join('\n');
        const from = T0 + fromMs / 1000;
        const sb = splitBrain([...parseVrrpLog(drop(vrrpLog(a)), 'a'), ...parseVrrpLog(drop(vrrpLog(b)), 'b')], ['a', 'b'], from, from + lenMs / 1000, toleranceMs);
        expect(sb.totalMs).to.be.within(0, lenMs + 1e-3);
        expect(sb.longestMs).to.be.at.most(sb.totalMs + 1e-6);
        for (const [s, e] of sb.periods) expect(s >= from - 1e-9 && e <= from + lenMs / 1000 + 1e-9 && e > s).to.equal(true);
      }),
      { numRuns: RUNS.vrrp },
    );
  });
});

const reconnectCase: fc.Arbitrary<ReconnectTruth> = fc.record({
  fault: fc.integer({ min: 0, max: 1e6 }).map((us) => T0 + 100 + us / 1e6),
  detector: fc.constantFrom<Detector>('dpd', 'ike-retransmit', 'lcp-echo', 'l2tp-retransmit', 'pppd-hangup', 'call-watchdog'),
  detectMs: fc.integer({ min: 1, max: 60000 }),
  ikeMs: fc.option(fc.integer({ min: 1, max: 20000 }), { nil: null }),
  l2tpMs: fc.integer({ min: 1, max: 20000 }),
  pppMs: fc.integer({ min: 1, max: 5000 }),
  firstPacketMs: fc.integer({ min: 0, max: 2000 }),
  failedAttempts: fc.integer({ min: 0, max: 3 }),
  chatter: fc.integer({ min: 0, max: 10 }),
});

/** The reconnect's invariants: no phase negative, and the phases add up to the reconnect. */
function phaseProblems(r: ReturnType<typeof decomposeReconnect>): string[] {
  const seen = PHASES.map((p) => r.phasesMs[p]).filter((x): x is number => x !== null);
  const out = seen.filter((x) => !(x >= 0)).map((x) => `negative phase ${x}`);
  if (r.reconnectMs !== undefined && Math.abs(seen.reduce((a, b) => a + b, 0) - r.reconnectMs) > 1e-6 * Math.max(1, r.reconnectMs)) out.push(`phases ${seen.join('+')} != reconnect ${r.reconnectMs}`);
  return out;
}

describe('property: the reconnect phases on generated daemon logs', function () {
  this.timeout(60000 * scale);

  it(`recovers each phase and how the client noticed, exactly; the phases add up (${RUNS.reconnect} generated reconnects)`, () => {
    fc.assert(
      fc.property(reconnectCase, (x) => {
        const sim = simulateReconnect(x);
        const r = decomposeReconnect(sim.lines, x.fault, sim.firstThrough);
        const d = sim.at;
        const ms = (a: number, b: number) => (b - a) * 1000;
        expect(r.detectedBy).to.equal(x.detector);
        expect(r.phasesMs.detect).to.be.closeTo(ms(x.fault, d.detect), 1e-3);
        if (d.ike === undefined) expect(r.phasesMs.ike).to.equal(null);
        else expect(r.phasesMs.ike).to.be.closeTo(ms(d.detect, d.ike), 1e-3);
        expect(r.phasesMs.l2tp).to.be.closeTo(ms(d.ike ?? d.detect, d.l2tp), 1e-3);
        expect(r.phasesMs.ppp).to.be.closeTo(ms(d.l2tp, d.ppp), 1e-3);
        expect(r.phasesMs.firstPacket).to.be.closeTo(ms(d.ppp, sim.firstThrough), 1e-3);
        expect(r.reconnectMs).to.be.closeTo(ms(x.fault, sim.firstThrough), 1e-3);
        expect(phaseProblems(r)).to.deep.equal([]);
      }),
      { numRuns: RUNS.reconnect },
    );
  });

  it(`keeps its invariants when lines are lost and logs interleave out of order (${RUNS.reconnect} generated reconnects)`, () => {
    fc.assert(
      fc.property(reconnectCase, fc.integer({ min: 2, max: 6 }), fc.integer({ min: 0, max: 1000 }), (x, every, shift) => {
        const sim = simulateReconnect(x);
        // every n-th line lost; one source's stamps a little off (a second log read late)
        const lines: LogLine[] = sim.lines.filter((_, i) => i % every !== 1).map((l) => (l.source === 'xl2tpd' ? { ...l, t: l.t + shift / 1000 } : l));
        expect(phaseProblems(decomposeReconnect(lines, x.fault, sim.firstThrough))).to.deep.equal([]);
      }),
      { numRuns: RUNS.reconnect },
    );
  });
});
