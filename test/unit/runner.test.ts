import { expect } from 'chai';
import type { Engine, ExecResult } from '../../src/lab/engine.js';
import { loadLabInputs, type LabContext } from '../../src/lab/lab.js';
import { runScenario } from '../../src/runner/runner.js';
import type { Scenario } from '../../src/scenario/schema.js';
import { scenarioSchema } from '../../src/scenario/schema.js';
import { defaultTopologyPath } from '../../src/topology/load.js';
import { silentProgress } from '../../src/util/progress.js';

/**
 * A stub of the engine interface: a two-node pair whose VIP follows a simple rule (the running,
 * unfrozen node with the higher priority holds it) and a client whose tunnel works while a holder
 * exists. It records every command, so the runner's ordering and its final heal can be checked
 * without a lab. The real stack is exercised by test/e2e.
 */
class FakeLab implements Partial<Engine> {
  readonly info = { name: 'local' as const, accel: 'native' as const, kernel: 'fake' };
  clock = 1000;
  state: Record<string, string> = { 'l-a': 'running', 'l-b': 'running', 'l-client': 'running', 'l-lanhost': 'running' };
  log: string[] = [];
  failInject = false;
  vrrpLog: Record<string, string[]> = { 'l-a': ['999.000000 INSTANCE "VI_1" MASTER 150'], 'l-b': ['999.000000 INSTANCE "VI_1" BACKUP 100'] };
  nft = new Set<string>();
  probeLog = '';

  holder(): string | undefined {
    return ['l-a', 'l-b'].find((c) => this.state[c] === 'running');
  }

  tick(): number {
    this.clock += 0.25;
    return this.clock;
  }

  containerState(c: string): Promise<string | undefined> {
    return Promise.resolve(this.state[c]);
  }

  killContainer(c: string): Promise<void> {
    this.log.push(`kill ${c}`);
    this.state[c] = 'exited';
    const other = c === 'l-a' ? 'l-b' : 'l-a';
    this.vrrpLog[other]!.push(`${(this.clock + 1).toFixed(6)} INSTANCE "VI_1" MASTER 100`);
    return Promise.resolve();
  }

  startContainer(c: string): Promise<void> {
    this.log.push(`start ${c}`);
    this.state[c] = 'running';
    return Promise.resolve();
  }

  exec(c: string, argv: string[]): Promise<ExecResult> {
    const cmd = argv.join(' ');
    const t = this.tick();
    const ok = (stdout: string): Promise<ExecResult> => Promise.resolve({ exitCode: 0, stdout, stderr: '' });
    if (cmd.includes('vipdrill-ctl status')) {
      const holds = this.holder() === c;
      return ok([`daemon.keepalived=running 1`, `vrrp.state=${holds ? 'MASTER' : 'BACKUP'}`, ...(holds ? ['addr=eth1 10.213.1.100/24'] : []), `clock=${t}`].join('\n'));
    }
    if (cmd.includes('client-status')) return ok(`ike=up\nchild=up\nl2tp=up\nppp=up\npppdev=ppp0\ntunnelip=10.213.3.10\nlan=${this.holder() ? 'up' : 'down'}\nclock=${t}`);
    if (cmd.includes('setsid')) return ok('4242\n');
    if (cmd.includes('cat /var/log/vipdrill/probe-')) return ok(this.probeLog);
    if (cmd.includes('lan-check')) return ok(`ppp=up\nlan=${this.holder() ? 'up' : 'down'}\nclock=${t}`);
    if (cmd.includes('/run/vipdrill/boot')) return ok('ok');
    if (cmd.startsWith('cat /var/log/vipdrill/vrrp.log')) return ok(this.vrrpLog[c]!.join('\n'));
    if (cmd.includes('grep -c')) return ok('0');
    if (cmd.includes('ps -eo')) return ok('');
    if (cmd.includes('pidof pppd')) return ok(this.holder() === c ? '1' : '0');
    if (cmd.includes('nft add rule')) {
      this.log.push(`nft add ${c}`);
      if (this.failInject) return Promise.resolve({ exitCode: 1, stdout: `${t}\n`, stderr: 'Error: simulated' });
      this.nft.add(c);
      return ok(`${t}\n`);
    }
    if (cmd.includes('nft delete')) {
      this.log.push(`nft remove ${c}`);
      this.nft.delete(c);
      return ok(`${t}\n`);
    }
    if (cmd.includes('nft list table inet vipdrill >/dev/null')) return ok(`${this.nft.has(c) ? 'yes' : 'no'}\n0`);
    return ok(`${t}\n`);
  }
}

function lab(): LabContext {
  const inputs = loadLabInputs(defaultTopologyPath(), 'fast', 'l');
  return { ...inputs, record: { name: 'l', runId: 'r', engine: 'local', topologyFile: inputs.loaded.file, profile: 'fast', createdAt: '', phase: 'ready', containers: { a: 'l-a', b: 'l-b', client: 'l-client', lanhost: 'l-lanhost' } } };
}

function scenario(doc: unknown): Scenario {
  return { ...scenarioSchema.parse(doc), file: 'inline.yaml' };
}

const run = (fake: FakeLab, doc: unknown) => runScenario(fake as unknown as Engine, lab(), scenario(doc), { repeat: 1, repeats: 1, progress: silentProgress, baselineTimeoutMs: 1000 });

describe('scenario runner (stub engine)', function () {
  this.timeout(10_000);
  it('a node crash: inject, wait, heal; events ordered on the lab clock; takeover from keepalived lines', async () => {
    const fake = new FakeLab();
    const r = await run(fake, {
      name: 'crash',
      description: 'd',
      steps: [{ fault: 'node-crash', target: 'master', for: 'until-healed' }, { wait: 'vip-moved', within: '2s' }, { heal: 'all' }],
      expect: { vipMoved: true, vipTakeover: { max: '2s' }, splitBrain: 'none' },
    });
    expect(r.verdict, r.reason).to.equal('passed');
    expect(fake.log).to.deep.equal(['kill l-a', 'start l-a']);
    expect(r.events.map((e) => e.kind)).to.deep.equal(['run.start', 'baseline.ok', 'probe', 'probe', 'fault.inject', 'wait.ok', 'fault.revert', 'heal', 'heal.final', 'baseline.ok', 'run.end']);
    const ts = r.events.map((e) => e.t);
    expect(ts).to.deep.equal([...ts].sort((x, y) => x - y));
    expect(r.metrics.newHolder).to.equal('b');
    expect(r.metrics.vipTakeoverMs).to.be.closeTo(1000, 300);
  });

  it('figures count from the fault that caused the effect, not from an earlier one', async () => {
    const fake = new FakeLab();
    const r = await run(fake, {
      name: 'two',
      description: 'd',
      steps: [{ fault: 'cut-client', target: 'backup', for: 'until-healed' }, { sleep: '500ms' }, { fault: 'node-crash', target: 'master', for: 'until-healed' }, { wait: 'vip-moved', within: '2s' }],
    });
    expect(r.verdict, r.reason).to.equal('passed');
    const injects = r.events.filter((e) => e.kind === 'fault.inject').map((e) => e.t);
    expect(r.metrics.takeoverFaultAt).to.equal(injects[1]);
    expect(r.metrics.vipTakeoverMs).to.be.closeTo(1000, 300);
  });

  it('a failed expectation is a failure (exit 1 material), with expected and actual', async () => {
    const r = await run(new FakeLab(), {
      name: 'crash',
      description: 'd',
      steps: [{ fault: 'node-crash', target: 'master', for: 'until-healed' }, { wait: 'vip-moved', within: '2s' }],
      expect: { vipMoved: false },
    });
    expect(r.verdict).to.equal('failed');
    expect(r.expectations).to.deep.equal([{ name: 'vipMoved', ok: false, detail: 'expected false, got true (to b)', expected: 'false', actual: 'true (to b)' }]);
  });

  it('a wait that times out fails the run, and the final heal still reverts the fault', async () => {
    const fake = new FakeLab();
    const r = await run(fake, { name: 'x', description: 'd', steps: [{ fault: 'partition', target: 'b', for: 'until-healed' }, { wait: 'tunnel-down', within: '300ms' }] });
    expect(r.verdict).to.equal('failed');
    expect(r.reason).to.match(/tunnel-down not reached within 300 ms/);
    expect(fake.log).to.deep.equal(['nft add l-b', 'nft remove l-b']);
    expect(fake.nft.size).to.equal(0);
  });

  it('a fault whose inject fails is still reverted (the revert is registered first), and the run is an error', async () => {
    const fake = new FakeLab();
    fake.failInject = true;
    const r = await run(fake, { name: 'x', description: 'd', steps: [{ fault: 'split-brain', for: '5s' }] });
    expect(r.verdict).to.equal('error');
    expect(r.reason).to.match(/split-brain rules in l-a failed/);
    expect(fake.log).to.deep.equal(['nft add l-a', 'nft remove l-a', 'nft remove l-b']);
  });

  it('a timed fault is reverted after its duration without a heal step', async () => {
    const fake = new FakeLab();
    const r = await run(fake, { name: 'x', description: 'd', steps: [{ fault: 'cut-client', target: 'backup', for: '200ms' }, { sleep: '400ms' }] });
    expect(r.verdict, r.reason).to.equal('passed');
    const kinds = r.events.map((e) => e.kind);
    expect(kinds.indexOf('fault.revert')).to.be.greaterThan(kinds.indexOf('fault.inject'));
    expect(kinds.indexOf('fault.revert')).to.be.lessThan(kinds.indexOf('sleep'));
  });

  it('an interrupt (Ctrl-C) stops the timeline and still heals', async () => {
    const fake = new FakeLab();
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('interrupted by SIGINT')), 300);
    const sc = scenario({ name: 'x', description: 'd', steps: [{ fault: 'partition', target: 'b', for: 'until-healed' }, { wait: 'tunnel-down', within: '60s' }] });
    const r = await runScenario(fake as unknown as Engine, lab(), sc, { repeat: 1, repeats: 1, progress: silentProgress, baselineTimeoutMs: 1000, signal: abort.signal });
    expect(r.verdict).to.equal('error');
    expect(r.reason).to.match(/interrupted by SIGINT/);
    expect(fake.log).to.deep.equal(['nft add l-b', 'nft remove l-b']);
  });

  it('a lab that is not at its baseline is an error before anything is injected', async () => {
    const fake = new FakeLab();
    fake.state['l-a'] = 'exited';
    fake.state['l-b'] = 'exited';
    const r = await run(fake, { name: 'x', description: 'd', steps: [{ fault: 'split-brain', for: '5s' }] });
    expect(r.verdict).to.equal('error');
    expect(r.reason).to.match(/not at its baseline/);
    expect(fake.log).to.deep.equal([]);
  });
});

describe('which node carries the session at the end', () => {
  const node = (name: string, pppd: boolean) => ({ name, container: `x-${name}`, containerState: 'running', vrrpState: 'BACKUP', holdsVip: false, holdsLanVip: false, daemons: { pppd }, addresses: [] });
  const sample = { t: 0, nodes: [node('a', false), node('b', false)], holders: ['a'], masters: ['a'] };
  it('is the node with pppd in the counts taken after the baseline, though the baseline sample saw none (it straddled the failback)', async () => {
    const { sessionNode } = await import('../../src/runner/observe.js');
    expect(sessionNode(sample, { a: 1, b: 0 })).to.equal('a');
  });
  it('else what the sample saw', async () => {
    const { sessionNode } = await import('../../src/runner/observe.js');
    expect(sessionNode({ ...sample, nodes: [node('a', false), node('b', true)] }, { a: 1, b: 1 })).to.equal('b');
    expect(sessionNode(sample)).to.equal(undefined);
  });
});
