import { expect } from 'chai';
import fc from 'fast-check';
import { probeViolations } from '../../../src/analysis/checks.js';
import { parseProbe } from '../../../src/analysis/dataplane.js';
import { damage, simulatePing } from '../../sim/ping.js';
import { RUNS, scale } from './arbitraries.js';
import { pingTruth, START, truthProblems } from './probe-truth.js';

/**
 * The probe analysis on generated ping output with known truth (test/sim/ping.ts): outages at any
 * place and length, stalls of the prober (also at an outage's edge), late, reordered and duplicated
 * replies, restarts of ping, wrapping sequence numbers. It must find every outage long enough to see,
 * with edges that hold the truth and an estimate within its own stated resolution, and never one in
 * which nothing was lost; and on damaged logs (a stepped clock, lost and cut lines) keep its invariants.
 */

describe('property: the probe analysis on generated ping streams', function () {
  this.timeout(60000 * scale);

  it(`recovers every outage within its resolution, and keeps its invariants (${RUNS.probe} generated streams)`, () => {
    fc.assert(
      fc.property(pingTruth, (truth) => {
        const sim = simulatePing(truth);
        const p = parseProbe(sim.text, truth.intervalMs);
        const problems = [...probeViolations(p, p.outages), ...truthProblems(truth, sim.sent, p)];
        expect(problems, problems.join('\n')).to.deep.equal([]);
      }),
      { numRuns: RUNS.probe },
    );
  });

  it(`keeps its invariants on damaged logs: a stepped clock, lost lines, a cut head or tail (${RUNS.probe} generated streams)`, () => {
    const hurt = fc.record({
      clockStep: fc.option(fc.record({ at: fc.double({ min: START, max: START + 5, noNaN: true }), byS: fc.double({ min: -2, max: 2, noNaN: true }) }), { nil: undefined }),
      dropEvery: fc.constantFrom(0, 3, 17, 101),
      cutTail: fc.integer({ min: 0, max: 40 }),
      cutHead: fc.integer({ min: 0, max: 30 }),
    });
    fc.assert(
      fc.property(pingTruth, hurt, (truth, d) => {
        const text = damage(simulatePing(truth).text, d);
        const p = parseProbe(text, truth.intervalMs);
        const problems = probeViolations(p, p.outages);
        expect(problems, problems.join('\n')).to.deep.equal([]);
      }),
      { numRuns: RUNS.probe },
    );
  });
});
