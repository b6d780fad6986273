import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAULT_KINDS } from '../../src/faults/catalog.js';
import { scenarioJsonSchema } from '../../src/scenario/json-schema.js';
import { loadScenario, loadSuite, validateScenarios } from '../../src/scenario/load.js';
import { cli, fixture, repoRoot } from '../helpers.js';

const scenariosDir = join(repoRoot, 'scenarios');
const shipped = readdirSync(scenariosDir).filter((f) => f.endsWith('.yaml')).map((f) => join(scenariosDir, f));
const brokenDir = fixture('scenarios-broken');
const broken = readdirSync(brokenDir).filter((f) => f.endsWith('.yaml'));

describe('scenario files', function () {
  // some tests start the CLI: seconds on a loaded CI machine
  this.timeout(20_000);
  it('every shipped scenario validates, and together they use every fault kind', () => {
    const vs = validateScenarios(shipped);
    expect(vs.filter((v) => !v.ok).map((v) => `${v.file}: ${v.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`)).to.deep.equal([]);
    expect(vs.length).to.be.at.least(15);
    const used = new Set(vs.flatMap((v) => v.scenario!.steps.flatMap((s) => ('fault' in s ? [s.fault] : []))));
    expect(FAULT_KINDS.filter((k) => !used.has(k))).to.deep.equal([]);
  });

  it('the default suite lists shipped files only, the full suite every one', () => {
    for (const f of loadSuite('default')) expect(shipped).to.include(f);
    expect(loadSuite('full').map((f) => f.split('/').pop()).sort()).to.deep.equal(shipped.map((f) => f.split('/').pop()).sort());
  });

  it('parses durations to milliseconds and fills defaults', () => {
    const s = loadScenario(join(scenariosDir, 'kill-xl2tpd-restarted.yaml'));
    const f = s.steps[0]!;
    expect(f).to.include({ fault: 'kill-daemon', daemon: 'xl2tpd', signal: 'KILL', restart: true, for: 5000 });
    expect(s.repeat).to.equal(1);
  });

  for (const file of broken) {
    it(`rejects broken/${file} naming the file and the field`, () => {
      const want = /^# expect: (.*)$/m.exec(readFileSync(join(brokenDir, file), 'utf8'))![1]!;
      const [path, ...rest] = want.split(': ');
      const [v] = validateScenarios([join(brokenDir, file)]);
      expect(v!.ok).to.equal(false);
      expect(v!.file).to.match(new RegExp(`${file.replace('.', '\\.')}$`));
      const lines = v!.issues.map((i) => `${i.path}: ${i.message}`);
      expect(lines.some((l) => l.startsWith(`${path}: `) && l.includes(rest.join(': '))), `got ${lines.join(' | ')}`).to.equal(true);
    });
  }

  it('vipdrill validate exits 2 on the broken folder, one FAIL line per file, and 0 on scenarios/', () => {
    const bad = spawnSync(process.execPath, [cli, 'validate', brokenDir], { encoding: 'utf8' });
    expect(bad.status).to.equal(2);
    expect(bad.stdout.match(/^FAIL /gm)).to.have.length(broken.length);
    const good = spawnSync(process.execPath, [cli, 'validate', scenariosDir], { encoding: 'utf8' });
    expect(good.status, good.stdout).to.equal(0);
  });

  it('vipdrill run rejects a broken file before creating anything (exit 2)', () => {
    const r = spawnSync(process.execPath, [cli, 'run', join(brokenDir, 'unknown-target.yaml'), '--report-dir', '/nonexistent/never-created'], { encoding: 'utf8' });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/unknown-target\.yaml: steps\[0\]\.target: expected a node/);
  });

  it('the committed JSON Schema matches the zod schema', () => {
    const committed = JSON.parse(readFileSync(join(scenariosDir, 'scenario.schema.json'), 'utf8')) as unknown;
    expect(committed, 'run: node dist/src/cli/main.js schema > scenarios/scenario.schema.json').to.deep.equal(scenarioJsonSchema());
  });
});

describe('free node names', function () {
  this.timeout(20_000);
  const eastWest = join(repoRoot, 'lab', 'topologies', 'east-west.yaml');

  it('every shipped scenario names its hosts by role, so it runs on a topology whose nodes are east and west', async () => {
    const { loadTopology } = await import('../../src/topology/load.js');
    const { targetIssues } = await import('../../src/scenario/load.js');
    const t = loadTopology(eastWest).topology;
    expect(Object.keys(t.nodes)).to.deep.equal(['east', 'west']);
    const wrong = validateScenarios(shipped).flatMap((v) => targetIssues(v.scenario!, t).map((i) => `${v.file}: ${i.path}: ${i.message}`));
    expect(wrong).to.deep.equal([]);
  });

  it('a scenario naming a node the topology does not have is refused with the file, the field and the nodes it has', async () => {
    const { loadTopology } = await import('../../src/topology/load.js');
    const { targetIssues } = await import('../../src/scenario/load.js');
    const t = loadTopology(eastWest).topology;
    const sc = loadScenario(join(scenariosDir, 'node-crash.yaml'));
    const issues = targetIssues({ ...sc, steps: [{ ...sc.steps[0]!, target: 'a' } as (typeof sc.steps)[number], { wait: 'vip-on-b', within: 1000 }], expect: { ...sc.expect, finalHolder: 'b' } }, t);
    expect(issues).to.deep.equal([
      { path: 'steps[0].target', message: 'expected a node or a role of topology "eastwest" (east, west, master, backup), got "a"' },
      { path: 'steps[1].wait', message: 'expected a node of topology "eastwest" (east, west), got "b"' },
      { path: 'expect.finalHolder', message: 'expected a node, original or other of topology "eastwest" (east, west, original, other), got "b"' },
    ]);
  });

  it('validate names the topology\'s nodes for a target it does not have (exit 2)', () => {
    const r = spawnSync(process.execPath, [cli, 'validate', join(brokenDir, 'unknown-target.yaml')], { encoding: 'utf8' });
    expect(r.status).to.equal(2);
    expect(r.stdout).to.contain('steps[0].target: expected a node or a role of topology "vipdrill" (a, b, master, backup), got "c"');
  });
});
