import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { findingsOf } from '../../src/analysis/findings/index.js';
import type { ScenarioResult } from '../../src/run/result.js';
import { defaultTopologyPath, loadProfile, loadTopology } from '../../src/topology/load.js';
import { candidates, changedProfile, clientOutages, compareArms, parseChange, type Arm } from '../../src/tune/remedies.js';
import { fixture } from '../helpers.js';

/** run --try-remedies, the pure half: the changes proposed by recorded findings, and the before/after comparison. */

const recorded = (scenario: string): ScenarioResult => JSON.parse(readFileSync(fixture('report-run', scenario, 'repeat-1', 'result.json'), 'utf8')) as ScenarioResult;
const topology = loadTopology(defaultTopologyPath()).topology;
// the profile the fixtures' repeats ran with (fast until 2026-12-07)
const fast = loadProfile('fast-plain');

/** A repeat whose client lost `ms` to the fault and `after` to the revert (only the figures the comparison reads). */
const repeat = (ms: number, after = 0, verdict: ScenarioResult['verdict'] = 'passed'): ScenarioResult => {
  const r = recorded('node-crash');
  r.verdict = verdict;
  r.metrics = { ...r.metrics, outageMs: ms, failbackOutageMs: after, outages: [{ from: 0, to: ms / 1000, ms, cause: 'fault' }, ...(after ? [{ from: 100, to: 100 + after / 1000, ms: after, cause: 'revert' as const }] : [])] } as ScenarioResult['metrics'];
  return r;
};

describe('run --try-remedies: what to try, and whether it helped', () => {
  it('--remedy field=value: a sweep parameter and a number or true/false; anything else is a usage error naming the field', () => {
    expect(parseChange('vrrp.garpLowerPrioRepeat=5')).to.deep.equal({ field: 'vrrp.garpLowerPrioRepeat', value: 5 });
    expect(parseChange('vrrp.preempt=false')).to.deep.equal({ field: 'vrrp.preempt', value: false });
    expect(() => parseChange('vrrp.garpMasterRefres=2')).to.throw(/not a profile field .*did you mean "vrrp.garpMasterRefresh"/);
    expect(() => parseChange('vrrp.advertInt=fast')).to.throw(/expected a number or true\/false/);
    expect(() => parseChange('advertInt')).to.throw(/expected <profile field>=<value>/);
  });

  it("the findings' profile remedies, each field once, largest impact first; the asked ones first; a value the profile has is skipped", () => {
    const r = recorded('node-crash');
    r.findings = findingsOf({ result: r, profile: fast, topology });
    // node-crash on fast: the preempting failback (11.9 s) proposes nopreempt and a 60 s preempt_delay
    const cs = candidates([r], fast);
    expect(cs.map((c) => [c.field, c.value, c.from])).to.deep.equal([
      ['vrrp.preempt', false, ['preempt-failback']],
      ['vrrp.preemptDelay', 60, ['preempt-failback']],
    ]);
    expect(cs[0]!.line).to.match(/^\/etc\/keepalived\/keepalived.conf: nopreempt/);
    const asked = candidates([r], fast, [{ field: 'vrrp.garpMasterRefresh', value: 2 }, { field: 'vrrp.preemptDelay', value: 30 }]);
    expect(asked.map((c) => `${c.field}=${c.value}`)).to.deep.equal(['vrrp.garpMasterRefresh=2', 'vrrp.preemptDelay=30', 'vrrp.preempt=false']);
    // fast already refreshes every 10 s: asking for 10 is no change
    expect(candidates([], fast, [{ field: 'vrrp.garpMasterRefresh', value: fast.vrrp.garpMasterRefresh }])).to.deep.equal([]);
  });

  it('a change the daemons would not run is refused before it runs, with the reason', () => {
    const v2 = loadProfile('distro-defaults');
    expect(changedProfile(v2, { field: 'vrrp.advertInt', value: 0.5 })).to.have.property('refused').that.matches(/VRRPv2 adverts are whole seconds/);
    expect(changedProfile(fast, { field: 'ike.dpdDelay', value: 10 })).to.have.property('refused').that.matches(/ike.dpdTimeout: 3 s is shorter than ike.dpdDelay \(10 s\)/);
    const ok = changedProfile(fast, { field: 'vrrp.garpLowerPrioRepeat', value: 5 });
    expect('profile' in ok && ok.profile.vrrp.garpLowerPrioRepeat).to.equal(5);
  });

  it("the client's outage is the fault's and the revert's together; an errored repeat is not measured", () => {
    expect(clientOutages(repeat(4000, 2500))).to.deep.equal({ fault: 4000, revert: 2500, total: 6500 });
    expect(clientOutages(repeat(4000, 0, 'error'))).to.equal(undefined);
  });

  it('helped only when the whole interval of the difference of medians is below 0; worse above; unclear across; not measured below 2 repeats', () => {
    const arm = (id: string, results: ScenarioResult[]): Arm => ({ id, label: id, results });
    // before: medians by hand — before 180 s; a change to ~5 s; one with the same spread as before
    const before = arm('before', [180_000, 175_000, 185_000, 178_000, 182_000].map((x) => repeat(x)));
    const stats = compareArms(
      [
        before,
        arm('shorter', [5000, 5200, 4800, 5100, 4900].map((x) => repeat(x))),
        arm('longer', [240_000, 250_000, 245_000, 238_000, 260_000].map((x) => repeat(x))),
        arm('same', [176_000, 186_000, 179_000, 181_000, 184_000].map((x) => repeat(x))),
        arm('one', [repeat(5000), repeat(1, 0, 'error')]),
      ],
      7,
    );
    expect(stats.map((s) => s.verdict)).to.deep.equal(['baseline', 'helped', 'worse', 'unclear', 'not measured']);
    expect(stats[0]!.total!.median).to.equal(180_000);
    expect(stats[1]!.diff!.estimate).to.equal(5000 - 180_000);
    expect(stats[1]!.diff!.high).to.be.below(0);
    expect(stats[3]!.diff!.low).to.be.below(0);
    expect(stats[3]!.diff!.high).to.be.above(0);
    expect([stats[4]!.n, stats[4]!.errors]).to.deep.equal([1, 1]);
    // seeded: the same seed gives the same intervals
    expect(compareArms([before, arm('shorter', [5000, 5200, 4800, 5100, 4900].map((x) => repeat(x)))], 7)[1]).to.deep.equal(stats[1]);
  });
});
