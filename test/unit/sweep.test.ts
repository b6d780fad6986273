import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProfile } from '../../src/topology/load.js';
import { expandPoints, loadSweep, sweepJsonSchema, sweepSchema } from '../../src/tune/sweep.js';
import { configIssues, repoRoot } from '../helpers.js';

const issuesOf = (f: () => unknown) => configIssues(f).map((i) => `${i.path}: ${i.message}`);

describe('sweep files (the input side of vipdrill tune)', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'vipdrill-sweep-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (text: string) => {
    const f = join(dir, `s${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(f, text);
    return f;
  };

  it('every shipped sweep loads, and the committed JSON Schema matches the zod schema', () => {
    const sweeps = readdirSync(join(repoRoot, 'lab', 'sweeps')).filter((f) => f.endsWith('.yaml'));
    expect(sweeps.length).to.be.at.least(3);
    for (const f of sweeps) expect(loadSweep(join(repoRoot, 'lab', 'sweeps', f)).points.length, f).to.be.at.least(1);
    const committed = JSON.parse(readFileSync(join(repoRoot, 'lab', 'sweeps', 'sweep.schema.json'), 'utf8')) as unknown;
    expect(committed, 'run: node dist/src/cli/main.js schema --sweep > lab/sweeps/sweep.schema.json').to.deep.equal(sweepJsonSchema());
  });

  it('a grid is every combination; one at a time varies each parameter around base, base included once', () => {
    const base = loadProfile('fast');
    const s = sweepSchema.parse({ name: 'g', base: 'fast', parameters: { 'vrrp.advertInt': [0.3, 1], 'ppp.lcpEchoInterval': [1, 2, 3] } });
    const grid = expandPoints(s, base);
    expect(grid.map((p) => p.id)).to.deep.equal(['vrrp.advertInt=0.3,ppp.lcpEchoInterval=1', 'vrrp.advertInt=0.3,ppp.lcpEchoInterval=2', 'vrrp.advertInt=0.3,ppp.lcpEchoInterval=3', 'vrrp.advertInt=1,ppp.lcpEchoInterval=1', 'vrrp.advertInt=1,ppp.lcpEchoInterval=2', 'vrrp.advertInt=1,ppp.lcpEchoInterval=3']);
    expect(grid[4]!.profile.vrrp.advertInt).to.equal(1);
    expect(grid[4]!.profile.ppp.lcpEchoInterval).to.equal(2);
    expect(base.vrrp.advertInt, 'base untouched').to.equal(0.3);
    // fast has advertInt 0.3 and lcpEchoInterval 1: the values equal to base are the base point
    const one = expandPoints({ ...s, oneAtATime: true }, base);
    expect(one.map((p) => p.id)).to.deep.equal(['base', 'vrrp.advertInt=1', 'ppp.lcpEchoInterval=2', 'ppp.lcpEchoInterval=3']);
  });

  it('a point the daemons would silently change is refused before anything runs, with its reason', () => {
    const v2 = issuesOf(() => loadSweep(file('name: v2\nbase: fast\nparameters:\n  vrrp.version: [2, 3]\n')));
    expect(v2).to.deep.equal(['parameters (point vrrp.version=2): vrrp.advertInt: VRRPv2 adverts are whole seconds (keepalived rounds 0.3); expected an integer or vrrp.version: 3']);
    const dpd = issuesOf(() => loadSweep(file('name: d\nbase: fast\noneAtATime: true\nparameters:\n  ike.dpdDelay: [5]\n')));
    expect(dpd).to.deep.equal(['parameters (point ike.dpdDelay=5): ike.dpdTimeout: 3 s is shorter than ike.dpdDelay (5 s); expected dpdTimeout >= dpdDelay']);
  });

  it('an unknown parameter gets "did you mean"; a missing base profile or scenario is named', () => {
    const u = issuesOf(() => loadSweep(file('name: u\nbase: fast\nparameters:\n  vrrp.advertInterval: [1]\n')));
    expect(u[0]).to.match(/^parameters\.vrrp\.advertInterval: not a profile field a sweep can vary \(did you mean "vrrp\.advertInt"\?\); expected one of vrrp\.version, /);
    const b = issuesOf(() => loadSweep(file('name: b\nbase: turbo\nscenarios: [no-such]\nparameters:\n  vrrp.advertInt: [1]\n')));
    expect(b).to.deep.equal(['base: no profile named "turbo"; expected one of lab/profiles/*.yaml or a path to a profile file', 'scenarios[0]: no scenario "no-such" (expected a name under scenarios/ or a path)']);
  });

  it('durations and defaults: budget in hours, the false-failover check filled in', () => {
    const s = sweepSchema.parse({ name: 'x', base: 'fast', parameters: { 'vrrp.advertInt': [1] }, budget: '3h', falseFailover: { calm: '2m', degrade: { delay: '20ms' } } });
    expect([s.budget, s.falseFailover.calm, s.falseFailover.degrade.delay, s.falseFailover.maxRate, s.repeats, s.scenarios]).to.deep.equal([10_800_000, 120_000, 20, 0.01, 10, ['node-crash']]);
  });
});
