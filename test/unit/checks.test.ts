import { expect } from 'chai';
import { analysisViolations, probeViolations } from '../../src/analysis/checks.js';
import type { ScenarioResult } from '../../src/run/result.js';

/** The analysis' invariants, each seen to fire on a result that breaks it, and not on one that keeps it. */

const probe = { direction: 'forward' as const, sent: 100, received: 90, lostOutsideOutages: 4, firstReply: 10, lastReply: 20 };
const outage = { from: 12, to: 13, gapMs: 1000, ms: 990, lost: 6, start: [11.99, 12.01] as [number, number], end: [12.98, 13] as [number, number], resolutionMs: 20 };

const result = (m: Partial<ScenarioResult['metrics']>): ScenarioResult =>
  ({ labStart: 0, labEnd: 30, metrics: { splitBrainMs: 0, splitBrainLongestMs: 0, ...m } }) as unknown as ScenarioResult;

describe('the analysis invariants', () => {
  it('hold on a consistent probe report', () => {
    expect(probeViolations(probe, [outage])).to.deep.equal([]);
  });
  it('every loss is accounted for: in outages or outside them', () => {
    expect(probeViolations({ ...probe, lostOutsideOutages: 3 }, [outage]).join()).to.match(/10 probes unanswered, but 6 in outages \+ 3 outside/);
    expect(probeViolations({ ...probe, lostOutsideOutages: -1 }, []).join()).to.match(/-1 probes lost outside outages/);
  });
  it('an outage lies inside the probe\'s run', () => {
    expect(probeViolations(probe, [{ ...outage, to: 25 }]).join()).to.match(/lies outside the probe's run/);
  });
  it('a negative duration is refused', () => {
    expect(probeViolations(probe, [{ ...outage, ms: -1 }]).join()).to.match(/negative duration/);
  });
  it('the phases are never negative and add up to the reconnect', () => {
    const phasesMs = { detect: 100, ike: 200, l2tp: null, ppp: 50, firstPacket: 10 };
    expect(analysisViolations(result({ phasesMs, reconnectMs: 360 }))).to.deep.equal([]);
    expect(analysisViolations(result({ phasesMs, reconnectMs: 400 })).join()).to.match(/add up to 360.000 ms, not the reconnect's 400.000 ms/);
    expect(analysisViolations(result({ phasesMs: { ...phasesMs, ike: -40 }, reconnectMs: 120 })).join()).to.match(/a negative phase/);
  });
  it('the takeover is not before the fault', () => {
    expect(analysisViolations(result({ vipTakeoverMs: -1 })).join()).to.match(/takeover: -1.000 ms, before the fault/);
  });
  it('split brain lasts no longer than the repeat, and its longest period no longer than its total', () => {
    expect(analysisViolations(result({ splitBrainMs: 31000, splitBrainLongestMs: 31000 })).join()).to.match(/outside \[0, the repeat's 30000.000 ms\]/);
    expect(analysisViolations(result({ splitBrainMs: 100, splitBrainLongestMs: 200 })).join()).to.match(/exceeds the total/);
  });
});
