import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseProbe } from '../../src/analysis/dataplane.js';
import { computeFigures, type FigureInputs } from '../../src/analysis/figures.js';
import { judge } from '../../src/analysis/judge.js';
import { rebuildFromStream } from '../../src/report/load.js';
import { windowOf } from '../../src/tune/analysis.js';
import { fixture } from '../helpers.js';
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

/**
 * A condition (CPU load, an impaired link) lasts and provokes nothing at a known moment: a takeover 8 s
 * into a load is a false failover, not an 8 s takeover, and its outage counts from its own start. The same
 * timeline after a crash is a takeover counted from the crash.
 */
describe('figures of an effect that came during a condition', () => {
  const { topology } = loadTopology(defaultTopologyPath());
  const profile = loadProfile('fast');
  // the inject at 102 s; b takes the VIP at 110 s; the probe loses everything in [110.05, 115.3)
  const probe = parseProbe(simulatePing({ start: 100, durationS: 40, intervalMs: 5, outages: [{ down: 110.05, up: 115.3 }], stalls: [], rttMs: 2, extraMs: [0, 1], lateMs: [0], lossSpacingMs: 10, restartAfter: [], restartDelayMs: 0, firstSeq: 1, dupEvery: 0, drain: true }).text, 5);
  const figures = (kind: string, keepalivedMasterLines: Record<string, number[]> = {}) => {
    const events = [
      { seq: 0, t: 102, kind: 'fault.inject', message: kind, step: 0, data: { id: 'load', kind } },
      { seq: 1, t: 130, kind: 'fault.revert', message: 'reverted', step: 0, data: { id: 'load', kind, asked: 130 } },
    ] as RunEvent[];
    const result = {
      labStart: 99, labEnd: 141, firstFaultAt: 102, holderAtFault: 'a',
      metrics: { tunnelSeenDown: false, splitBrainMs: 0, splitBrainLongestMs: 0, splitBrainSampled: false, handoverOverlapMs: 0, splitBrainToleranceMs: 0, authFailures: {}, resolution: { vrrp: '', tunnel: '' } },
      vrrp: [], events,
    } as unknown as ScenarioResult;
    computeFigures({
      result, lab: { topology, profile }, events, injections: [102], containerEvents: [], samples: [], tunnelSamples: [{ t: 101, up: true }, { t: 125, up: true }],
      vrrpLogs: { a: '99.000000 INSTANCE "vi_wan" MASTER\n110.200000 INSTANCE "vi_wan" BACKUP\n', b: '99.000000 INSTANCE "vi_wan" BACKUP\n110.000000 INSTANCE "vi_wan" MASTER\n' },
      keepalivedMasterLines, clientLines: [], nodePppLines: [], arpText: '', macs: {}, probeReports: { forward: probe }, probeErrors: {},
      snapshots: [], blackouts: [], sessionsBefore: {}, sessionsAfter: {}, authBaseline: new Map(), authCounts: new Map(),
    });
    return result.metrics;
  };

  for (const kind of ['cpu-load', 'degrade']) {
    it(`${kind}: the takeover is unprovoked (no takeover time), the outage and the tunnel restored count from the outage's start`, () => {
      const m = figures(kind);
      expect(m.vipTakeoverMs).to.equal(undefined);
      expect(m.newHolder).to.equal('b');
      expect(m.unprovokedTakeover).to.deep.include({ node: 'b', during: kind });
      expect(m.unprovokedTakeover!.sinceConditionMs).to.be.closeTo(8000, 1e-6);
      expect(m.outageFaultAt).to.equal(probe.outages[0]!.from);
      expect(m.tunnelRestoredMs).to.be.within(5200, 5300);
    });
  }

  it('node-crash: the same timeline is an 8 s takeover, and the tunnel restored counts from the crash', () => {
    const m = figures('node-crash');
    expect(m.vipTakeoverMs).to.be.closeTo(8000, 1e-6);
    expect(m.unprovokedTakeover).to.equal(undefined);
    expect(m.outageFaultAt).to.equal(102);
    expect(m.tunnelRestoredMs).to.be.within(13_250, 13_350);
  });

  it("node-crash: keepalived's MASTER log line is the takeover, even when its stamper ran after the notify's (a realtime VRRP process)", () => {
    // stamped 100 ms before the notify line: the transition itself
    expect(figures('node-crash', { b: [109.9] }).takeoverCheck?.keepalivedLogMs).to.be.closeTo(7900, 1e-6);
    // stamped 5.5 ms after it (seen on the real stack with vrrp.rtPriority 50): the same transition, bounded by the notify
    const late = figures('node-crash', { b: [110.0055] });
    expect(late.takeoverCheck?.keepalivedLogMs).to.be.closeTo(8000, 1e-6);
    expect(late.vipTakeoverMs).to.be.closeTo(8000, 1e-6);
    // half a second after it: another transition, not this one's
    expect(figures('node-crash', { b: [110.5] }).takeoverCheck?.keepalivedLogMs).to.equal(undefined);
  });
});

/**
 * The same rule on a stream recorded on the real stack (TCG lab, 2026-12-04): a 10-minute false-failover
 * window of the tuner, one busy loop on the LAN host and 5 % loss on the master's WAN. 294 s into the
 * load the client's xl2tpd gave its tunnel up ("Maximum retries exceeded": max retries 1 and two lost
 * control messages) and the tunnel was down for 5.2 s with no VRRP transition.
 */
describe('a false-failover window recorded on the real stack, rebuilt from its events.jsonl', () => {
  const text = gunzipSync(readFileSync(fixture('streams', 'false-failover-l2tp-timeout.jsonl.gz'))).toString('utf8');
  const evidence = (JSON.parse(text.trim().split('\n').at(-1)!) as { evidence: { probeReports: { forward: { outages: { from: number; to: number; ms: number }[] } } } }).evidence;
  // the one gap of the forward probe longer than a second, read from the evidence itself
  const gap = evidence.probeReports.forward.outages.filter((o) => o.ms >= 1000);

  it('the outage, the tunnel restored and the reconnect count from the outage\'s own start, not from the load 294 s before', () => {
    expect(gap).to.have.length(1);
    const r = rebuildFromStream(text)!;
    const m = r.metrics;
    expect(m.outageFaultAt).to.equal(gap[0]!.from);
    expect(gap[0]!.from - r.firstFaultAt!).to.be.within(290, 300);
    expect(m.tunnelRestoredMs).to.be.closeTo((gap[0]!.to - gap[0]!.from) * 1000, 50);
    expect(m.reconnectMs).to.be.below(10_000);
    expect([m.vipTakeoverMs, m.unprovokedTakeover, m.newHolder]).to.deep.equal([undefined, undefined, undefined]);
    // the tuner's count of the same window: no takeover, one outage of 1 s or more
    const w = windowOf(r, 600_000, 0.3);
    expect([w.transitions.length, w.outages.length]).to.deep.equal([0, 1]);
  });
});
