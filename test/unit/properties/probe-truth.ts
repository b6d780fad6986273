import fc from 'fast-check';
import type { Outage, ProbeReport } from '../../../src/analysis/dataplane.js';
import type { PingTruth, SentProbe } from '../../sim/ping.js';
import { windows } from './arbitraries.js';

/** Generated truths for the probe simulator, and what a report must show of them. */

export const START = 1796116000;

export const pingTruth: fc.Arbitrary<PingTruth> = fc
  .record({
    durationS: fc.integer({ min: 1, max: 5 }),
    intervalMs: fc.integer({ min: 2, max: 20 }),
    outages: windows(5, 1, 1500),
    stalls: windows(6, 1, 600),
    rttMs: fc.double({ min: 0.2, max: 5, noNaN: true }),
    extraMs: fc.array(fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.double({ min: 0, max: 300, noNaN: true }), weight: 1 }), { minLength: 1, maxLength: 24 }),
    lateMs: fc.array(fc.double({ min: 0, max: 4, noNaN: true }), { maxLength: 12 }),
    lossExtraMs: fc.double({ min: 0, max: 15, noNaN: true }),
    restartAfter: fc.subarray([0, 1, 2, 3, 4]),
    restartDelayMs: fc.integer({ min: 20, max: 300 }),
    firstSeq: fc.constantFrom(1, 1, 65400),
    dupEvery: fc.constantFrom(0, 0, 0, 7, 31),
    drain: fc.boolean(),
  })
  .map((r) => ({
    ...r,
    start: START,
    outages: r.outages.map(([a, b]) => ({ down: START + a, up: START + b })),
    stalls: r.stalls.map(([a, b]) => ({ from: START + a, to: START + b })),
    lossSpacingMs: r.intervalMs + r.lossExtraMs,
  }));

/** The reported outage of the probes lost between two through, the second sent at `to`. */
function cover(outages: Outage[], lost: number, to: number): Outage | undefined {
  return outages.find((o) => (o.lost === undefined || o.lost === lost) && o.to >= to - 0.0011 && o.from <= to);
}

/** What the truth says the report must show, checked against it; returns the problems found. */
export function truthProblems(truth: PingTruth, sent: SentProbe[], p: ProbeReport): string[] {
  const out: string[] = [];
  // print truncation of round trips (≤ 1 ms at 100 ms and more) and µs stamps
  const eps = 0.0011;
  // how long ping was held at most: stalls that touch are one
  const held = truth.stalls.reduce<[number, number][]>((acc, s) => {
    const last = acc.at(-1);
    if (last && s.from <= last[1]) last[1] = Math.max(last[1], s.to);
    else acc.push([s.from, s.to]);
    return acc;
  }, []);
  const maxStallMs = Math.max(0, ...held.map(([f, t]) => (t - f) * 1000));
  const answered = sent.filter((s) => s.answered);
  if (p.received !== answered.length) out.push(`received ${p.received}, truth ${answered.length}`);
  const window = (t: number) => truth.outages.find((o) => t >= o.down && t < o.up);
  for (let i = 1; i < answered.length; i++) {
    const a = answered[i - 1]!;
    const b = answered[i]!;
    // what lies between, as far as ping's lines show it (a probe sent just before ping ended leaves none)
    const between = sent.filter((s) => s.visible && ((s.run === a.run && s.seq > a.seq && (s.run < b.run || s.seq < b.seq)) || (s.run === b.run && s.run > a.run && s.seq < b.seq)));
    if (between.length === 0 || between.some((s) => !s.lost)) continue;
    // the gap as the probe defines it: from a's reply back to b's send
    const gapMs = (b.t - a.t) * 1000 - a.rttMs!;
    const o = cover(p.outages, between.length, b.t);
    const D = window(between[0]!.t)!.down;
    const U = window(between.at(-1)!.t)!.up;
    if (!o) {
      if (gapMs > p.thresholdMs + maxStallMs + 1) out.push(`no outage reported for the ${between.length} probes lost from ${(D - START).toFixed(4)} to ${(U - START).toFixed(4)} (gap ${gapMs.toFixed(1)} ms)`);
      continue;
    }
    if (a.run !== b.run) {
      if (o.to + eps < U) out.push(`outage across a restart ends at ${(o.to - START).toFixed(4)}, before the path came back at ${(U - START).toFixed(4)}`);
      continue;
    }
    if (!o.start || !o.end) {
      out.push(`an outage inside one run of ping without edges`);
      continue;
    }
    const slack = eps;
    if (D < o.start[0] - slack || D > o.start[1] + slack) out.push(`the path broke at ${(D - START).toFixed(6)}, outside the start edge [${(o.start[0] - START).toFixed(6)}, ${(o.start[1] - START).toFixed(6)}]`);
    if (U < o.end[0] - slack || U > o.end[1] + slack) out.push(`the path came back at ${(U - START).toFixed(6)}, outside the end edge [${(o.end[0] - START).toFixed(6)}, ${(o.end[1] - START).toFixed(6)}]`);
    const err = Math.abs(o.ms - (U - D) * 1000);
    if (err > (o.resolutionMs ?? 0) + 2 * eps * 1000) out.push(`outage ${o.ms.toFixed(2)} ms, truth ${((U - D) * 1000).toFixed(2)} ms: off by ${err.toFixed(2)} ms, beyond its resolution ±${o.resolutionMs?.toFixed(2)} ms`);
  }
  for (const o of p.outages) {
    const lo = o.start?.[0] ?? o.from - 1;
    const hi = o.end?.[1] ?? o.to;
    if (!sent.some((s) => s.lost && s.t >= lo - eps && s.t <= hi + eps) && !sent.some((s) => !s.answered && s.t >= lo - eps && s.t <= hi + eps)) out.push(`an outage from ${(o.from - START).toFixed(4)} with no probe lost in it`);
  }
  return out;
}

