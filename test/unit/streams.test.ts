import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { analysisViolations, probeViolations } from '../../src/analysis/checks.js';
import { parseProbe } from '../../src/analysis/dataplane.js';
import { computeFigures } from '../../src/analysis/figures.js';
import type { ScenarioResult } from '../../src/run/result.js';
import { defaultTopologyPath, loadProfile, loadTopology } from '../../src/topology/load.js';
import { fixture } from '../helpers.js';
import { simulatePing, type PingTruth } from '../sim/ping.js';
import { truthProblems } from './properties/probe-truth.js';

/**
 * Regression fixtures of the probe analysis (test/fixtures/streams, written by
 * test/make-stream-fixtures.ts): the minimal streams the property tests shrank failures to, and the calm
 * case of a loaded host.
 */

describe('streams the generator found the probe analysis failing on', () => {
  const dir = fixture('streams');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
    const { defect, truth, text } = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as { defect: string; truth: PingTruth; text: string };
    it(`${f.replace('.json', '')}: ${defect}`, () => {
      // the fixture is the simulator's stream for its truth (the simulator has not drifted)
      const sim = simulatePing(truth);
      expect(sim.text).to.equal(text);
      const p = parseProbe(text, truth.intervalMs);
      const problems = [...probeViolations(p, p.outages), ...truthProblems(truth, sim.sent, p)];
      expect(problems, problems.join('\n')).to.deep.equal([]);
    });
  }
});

describe('the calm case of a loaded host (60 s, no fault, every probe answered, 660 stalls of the prober)', () => {
  const text = gunzipSync(readFileSync(fixture('streams', 'calm-loaded.ping.gz'))).toString('utf8');
  const p = parseProbe(text, 5);

  it('gives no outage and no lost probe; the stalls are stalls', () => {
    expect(p.sent).to.equal(p.received);
    expect(p.outages).to.deep.equal([]);
    expect(p.lostOutsideOutages).to.equal(0);
    expect(p.stalls.length).to.be.greaterThan(50);
    expect(Math.max(...p.stalls.map((s) => s.gapMs))).to.be.within(400, 560);
  });

  it('passes calibrate-calm, and the result keeps every invariant', () => {
    const { topology } = loadTopology(defaultTopologyPath());
    const profile = loadProfile('fast');
    const result = {
      labStart: p.firstReply! - 1,
      labEnd: p.lastReply! + 1,
      metrics: { tunnelSeenDown: false, splitBrainMs: 0, splitBrainLongestMs: 0, splitBrainSampled: false, handoverOverlapMs: 0, splitBrainToleranceMs: 0, authFailures: {}, resolution: { vrrp: '', tunnel: '' } },
      vrrp: [],
      events: [],
    } as unknown as ScenarioResult;
    computeFigures({
      result, lab: { topology, profile }, calibrate: 'calm', events: [], injections: [], containerEvents: [], samples: [], tunnelSamples: [],
      vrrpLogs: {}, keepalivedMasterLines: {}, clientLines: [], nodePppLines: [], arpText: '', macs: {}, probeReports: { forward: p }, probeErrors: {},
      snapshots: [], blackouts: [], sessionsBefore: {}, sessionsAfter: {}, authBaseline: new Map(), authCounts: new Map(),
    });
    expect(result.metrics.calibration?.ok, result.metrics.calibration?.detail).to.equal(true);
    expect(analysisViolations(result)).to.deep.equal([]);
  });
});
