import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers.js';

const vipdrill = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 20_000 });

/** The exit-code contract: 0 ok, 1 only for a failed verdict, 2 for usage errors and anything vipdrill could not do or decide. */
describe('the command line', function () {
  // each test starts the CLI several times: seconds on a slow host, and no timing is tested here
  this.timeout(60_000);
  it('usage errors exit 2, not commander\'s 1: an unknown option, an unknown command, a bad choice, a missing argument', () => {
    for (const args of [['run', '--no-such-flag'], ['no-such-command'], ['up', '--engine', 'kvm'], ['up', '--timeout']]) {
      const r = vipdrill(...args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(/error: /);
    }
  });

  it('run --try-remedies refuses, before any lab is touched: one repeat (no interval), two scenarios, real hosts, a field that is none', () => {
    const cases: [string[], RegExp][] = [
      [['run', 'scenarios/split-brain.yaml', '--try-remedies', '--repeat', '1'], /--repeat 1: --try-remedies compares medians with their intervals, which need at least 2 repeats per arm/],
      [['run', 'scenarios/split-brain.yaml', 'scenarios/node-crash.yaml', '--try-remedies'], /--try-remedies measures one scenario; got 2 files/],
      [['run', 'scenarios/split-brain.yaml', '--try-remedies', '-t', 'lab/topologies/remote.example.yaml'], /does not change real hosts/],
      [['run', 'scenarios/split-brain.yaml', '--remedy', 'vrrp.garpMasterRefres=2'], /vrrp.garpMasterRefres is not a profile field a remedy can set \(did you mean "vrrp.garpMasterRefresh"\?\)/],
    ];
    for (const [args, msg] of cases) {
      const r = vipdrill(...args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(msg);
    }
    // a lab that is not up: refused with nothing written (no run folder)
    const dir = join(tmpdir(), `vipdrill-remedies-cli-${process.pid}`);
    const r = vipdrill('run', 'scenarios/split-brain.yaml', '--try-remedies', '--lab', 'no-such-lab-here', '--report-dir', dir);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/no lab named "no-such-lab-here" is up/);
    expect(existsSync(dir), 'the report dir').to.equal(false);
  });

  it('help and version exit 0', () => {
    expect(vipdrill('--version').status).to.equal(0);
    expect(vipdrill('--help').status).to.equal(0);
    expect(vipdrill('run', '--help').status).to.equal(0);
  });

  it('every command takes --json, and in JSON mode an error is JSON on stdout with its code and message', () => {
    const r = vipdrill('report', '/nonexistent/run', '--json');
    expect(r.status).to.equal(2);
    const e = (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error;
    expect(e.code).to.equal('CONFIG_INVALID');
    expect(e.message).to.match(/\/nonexistent\/run is not a vipdrill run directory/);
    const u = vipdrill('run', '--no-such-flag', '--json');
    expect(u.status).to.equal(2);
    expect((JSON.parse(u.stdout) as { error: { code: string } }).error.code).to.equal('USAGE');
    const s = vipdrill('schema', '--json');
    expect(s.status).to.equal(0);
    expect((JSON.parse(s.stdout) as { $schema?: string }).$schema).to.be.a('string');
  });

  it('plan reaches no host: it prints every lease, inject and revert of a remote drill, and names every scenario\'s problems at once (exit 2)', function () {
    // three CLI starts: more than mocha's default 2 s on a busy host
    this.timeout(30_000);
    const example = 'lab/topologies/remote.example.yaml';
    const ok = vipdrill('plan', 'scenarios/kill-charon.yaml', '-t', example, '--json');
    expect(ok.status, ok.stderr).to.equal(0);
    const [p] = JSON.parse(ok.stdout) as { remote: boolean; steps: { leases: { host: string; what: string }[]; inject: { host: string }[] }[] }[];
    expect(p!.remote).to.equal(true);
    expect(p!.steps[0]!.leases.map((l) => l.host)).to.deep.equal(['a']);
    expect(vipdrill('run', 'scenarios/kill-charon.yaml', '-t', example, '--dry-run').stdout).to.match(/lease\.arm vipdrill-step0-0 \(30 s, renewed every 5 s\); on lapse: \S+vipdrill-fault daemon-up charon/);
    const bad = vipdrill('plan', 'scenarios/partition-master.yaml', 'scenarios/node-crash.yaml', '-t', example, '--json');
    expect(bad.status).to.equal(2);
    const msg = (JSON.parse(bad.stdout) as { error: { message: string } }).error.message;
    expect(msg).to.match(/partition-master\.yaml: steps\[0\]\.fault: partition is not allowed/);
    expect(msg).to.match(/node-crash\.yaml: steps\[0\]\.fault: node-crash on real hosts needs the commands that power a node off and on/);
  });
});
