import { expect } from 'chai';
import { parseProbe } from '../../src/analysis/dataplane.js';
import { computeFigures, type FigureInputs } from '../../src/analysis/figures.js';
import { judge } from '../../src/analysis/judge.js';
import type { RunEvent } from '../../src/run/events.js';
import type { ScenarioResult } from '../../src/run/result.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { defaultTopologyPath, loadProfile, loadTopology } from '../../src/topology/load.js';
import { simulatePing } from '../sim/ping.js';

/**
 * The tunnel-restored figure of a node crash: the status samples (a ping each 0.25-1 s) can miss a short
 * outage on a loaded host; the forward probe does not, and its first probe through after the fault's
 * outage is the figure. Without a probe the samples still give it.
 */
describe('tunnel restored: by the probe, else by the samples', () => {
  const { topology } = loadTopology(defaultTopologyPath());
  const profile = loadProfile('fast');
  // a crash at 102 s; the probe loses everything sent in [102.05, 110.3); the revert is asked at 130 s
  const probe = parseProbe(simulatePing({ start: 100, durationS: 40, intervalMs: 5, outages: [{ down: 102.05, up: 110.3 }], stalls: [], rttMs: 2, extraMs: [0, 1], lateMs: [0], lossSpacingMs: 10, restartAfter: [], restartDelayMs: 0, firstSeq: 1, dupEvery: 0, drain: true }).text, 5);
  const events = [
    { seq: 0, t: 102, kind: 'fault.inject', message: 'crash', step: 0 },
    { seq: 1, t: 130, kind: 'fault.revert', message: 'reverted', step: 0, data: { asked: 130 } },
  ] as RunEvent[];
  const figures = (tunnelSamples: { t: number; up: boolean }[], forward?: typeof probe) => {
    const result = {
      labStart: 99,
      labEnd: 141,
      firstFaultAt: 102,
      holderAtFault: 'east',
      metrics: { tunnelSeenDown: false, splitBrainMs: 0, splitBrainLongestMs: 0, splitBrainSampled: false, handoverOverlapMs: 0, splitBrainToleranceMs: 0, authFailures: {}, resolution: { vrrp: '', tunnel: '' } },
      vrrp: [],
      events,
    } as unknown as ScenarioResult;
    const inputs: FigureInputs = {
      result, lab: { topology, profile }, events, injections: [102], containerEvents: [], samples: [], tunnelSamples,
      vrrpLogs: {}, keepalivedMasterLines: {}, clientLines: [], nodePppLines: [], arpText: '', macs: {}, probeReports: forward ? { forward } : {}, probeErrors: forward ? {} : { forward: 'not run' },
      snapshots: [], blackouts: [], sessionsBefore: {}, sessionsAfter: {}, authBaseline: new Map(), authCounts: new Map(),
    };
    computeFigures(inputs);
    return result.metrics;
  };
  // the samples saw the tunnel up throughout: before the crash, and again only once it was back
  const missed = [{ t: 101, up: true }, { t: 111.5, up: true }, { t: 125, up: true }];

  it('the samples missed the outage: the probe gives it, from the fault to the first probe through', () => {
    const m = figures(missed, probe);
    expect(m.tunnelSeenDown).to.equal(true);
    expect(m.tunnelRestoredBy).to.equal('probe');
    expect(m.tunnelRestoredMs).to.be.within(8300, 8310);
    expect(m.resolution.tunnel).to.match(/^tunnel restored: the forward probe/);
  });

  it('a tunnelRestored bound shorter than the outage fails, where sampling alone passed it as "not seen down"', () => {
    const sc = { expect: { tunnelRestored: { max: 5000 } } } as unknown as Scenario;
    const withProbe = judge(sc, { metrics: figures(missed, probe) } as ScenarioResult, ['east', 'west']);
    expect(withProbe.find((e) => e.name === 'tunnelRestored')?.ok).to.equal(false);
    const sampledOnly = judge(sc, { metrics: figures(missed) } as ScenarioResult, ['east', 'west']);
    expect(sampledOnly.find((e) => e.name === 'tunnelRestored')).to.include({ ok: true, actual: 'no outage seen (probe and sampling)' });
  });

  it('without a probe, the samples give it', () => {
    const m = figures([{ t: 101, up: true }, { t: 104, up: false }, { t: 111.5, up: true }]);
    expect(m.tunnelRestoredBy).to.equal('sampling');
    expect(m.tunnelRestoredMs).to.be.closeTo(9500, 1e-6);
  });

  it('an outage that began after the revert (a failback) is not the tunnel restored', () => {
    const late = parseProbe(simulatePing({ start: 100, durationS: 40, intervalMs: 5, outages: [{ down: 131, up: 133 }], stalls: [], rttMs: 2, extraMs: [0], lateMs: [0], lossSpacingMs: 10, restartAfter: [], restartDelayMs: 0, firstSeq: 1, dupEvery: 0, drain: true }).text, 5);
    const m = figures(missed, late);
    expect(m.tunnelRestoredMs).to.equal(undefined);
    expect(m.tunnelSeenDown).to.equal(false);
  });
});
