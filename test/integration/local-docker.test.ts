import { spawn, spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { LocalEngine } from '../../src/lab/engines/local.js';
import { LABEL_LAB } from '../../src/lab/engine.js';
import { nodesStatus } from '../../src/lab/lab.js';
import { LabHosts } from '../../src/hosts/lab-hosts.js';
import { downCommand, upCommand } from '../../src/lab/lifecycle.js';
import { readLab } from '../../src/lab/state.js';
import { silentProgress } from '../../src/util/progress.js';
import { waitFor } from '../../src/util/time.js';
import { cli, fixture } from '../helpers.js';

/** `docker ps -a` / `docker network ls` filtered by our label, through the real docker CLI. */
function dockerLeftovers(lab?: string): string[] {
  const filter = lab ? `label=${LABEL_LAB}=${lab}` : `label=${LABEL_LAB}`;
  const ps = spawnSync('docker', ['ps', '-a', '-q', '--filter', filter], { encoding: 'utf8' });
  const nets = spawnSync('docker', ['network', 'ls', '-q', '--filter', filter], { encoding: 'utf8' });
  expect(ps.status, ps.stderr).to.equal(0);
  return [...ps.stdout.split('\n'), ...nets.stdout.split('\n')].filter(Boolean);
}

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('local Docker engine (integration, real Docker)', function () {
  this.timeout(600_000);
  let engine: LocalEngine;

  before(async () => {
    engine = await LocalEngine.connect();
    await downCommand('vd-it', silentProgress).catch(() => {});
    await downCommand('vd-it-reap', silentProgress).catch(() => {});
  });

  it('a keepalived pair elects one master; docker kill of the master moves the VIP; down leaves nothing', async () => {
    const { result, engine: e } = await upCommand({ topologyFile: fixture('topologies', 'it-local.yaml'), name: 'vd-it', engine: 'local', waitUntil: 'vrrp', progress: silentProgress });
    const hosts = new LabHosts(e, result);
    try {
      // `up --wait vrrp` returns at one holder; when b won the first election (its checks passed first),
      // a, the higher priority with preempt, takes the VIP over a few adverts later
      const before = await waitFor('a, the higher priority, to hold the VIP (preempt)', () => nodesStatus(hosts), (ns) => ns.find((n) => n.name === 'a')!.holdsVip && ns.find((n) => n.name === 'a')!.vrrpState === 'MASTER' && ns.filter((n) => n.holdsVip).length === 1, (ns) => JSON.stringify(ns.map((n) => [n.name, n.vrrpState, n.holdsVip])), { timeoutMs: 15_000, intervalMs: 100 });
      const masters = before.filter((n) => n.vrrpState === 'MASTER');
      expect(masters, JSON.stringify(before)).to.have.length(1);
      expect(before.filter((n) => n.holdsVip)).to.deep.equal(masters);
      // every container carries the three labels
      const objs = await e.list({ [LABEL_LAB]: 'vd-it' });
      expect(objs.containers).to.have.length(4);
      expect(objs.networks).to.have.length(2);
      for (const c of objs.containers) expect(Object.keys(c.labels)).to.include.members(['vipdrill.lab', 'vipdrill.run', 'vipdrill.role']);

      await e.killContainer(result.record.containers.a!, 'SIGKILL');
      // the VIP comes with keepalived's MASTER; the state its notify hook records may follow it by a moment
      // (a's agent is gone at once; the engine may still be tearing a down, and a's state is then unknown)
      const after = await waitFor('b to take the VIP and be MASTER', () => nodesStatus(hosts), (ns) => ns.find((n) => n.name === 'b')!.holdsVip && ns.find((n) => n.name === 'b')!.vrrpState === 'MASTER' && ns.find((n) => n.name === 'a')!.containerState !== 'unknown', (ns) => JSON.stringify(ns.map((n) => [n.name, n.vrrpState])), { timeoutMs: 30_000, intervalMs: 100 });
      expect(after.find((n) => n.name === 'b')!.vrrpState).to.equal('MASTER');
      expect(after.find((n) => n.name === 'a')!.containerState).to.equal('exited');
      // keepalived logged the transitions on the lab clock
      const log = await e.exec(result.record.containers.b!, ['cat', '/var/log/vipdrill/vrrp.log']);
      expect(log.stdout).to.match(/^\d+\.\d+ INSTANCE "VI_1" MASTER 100$/m);
    } finally {
      hosts.release();
      await e.close();
      await downCommand('vd-it', silentProgress);
    }
    expect(dockerLeftovers('vd-it')).to.deep.equal([]);
    expect(readLab('vd-it')).to.equal(undefined);
  });

  it('reap cleans a lab whose controller was killed with SIGKILL', async () => {
    // --wait tunnel never completes here without PPP, so the controller is mid-run when killed
    const child = spawn(process.execPath, [cli, 'up', '-t', fixture('topologies', 'it-local.yaml'), '--name', 'vd-it-reap', '--engine', 'local', '--wait', 'tunnel'], { stdio: 'ignore' });
    await waitFor('the lab containers to exist', () => engine.list({ [LABEL_LAB]: 'vd-it-reap' }), (o) => o.containers.length === 4, (o) => `${o.containers.length} containers`, { timeoutMs: 120_000, intervalMs: 100 });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(dockerLeftovers('vd-it-reap')).not.to.deep.equal([]);
    expect(readLab('vd-it-reap')?.phase).to.equal('starting');

    const r = runCli(['reap', '--json']);
    expect(r.status, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as { labs: string[]; containers: number; networks: number };
    expect(report.labs).to.include('vd-it-reap');
    expect(report.containers).to.be.at.least(4);
    expect(dockerLeftovers('vd-it-reap')).to.deep.equal([]);
    expect(readLab('vd-it-reap')).to.equal(undefined);
  });

  it('up refuses a subnet that overlaps a host route, names the route, and creates nothing', () => {
    const r = runCli(['up', '-t', fixture('topologies', 'overlaps-docker0.yaml'), '--engine', 'local', '--wait', 'vrrp']);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/networks\.wan\.subnet 172\.17\.77\.0\/24 overlaps the route "172\.17\.0\.0\/16 dev docker0/);
    expect(dockerLeftovers('vd-it-overlap')).to.deep.equal([]);
  });

  it('a malformed topology is rejected before anything is created', () => {
    const r = runCli(['up', '-t', fixture('topologies', 'vip-outside-subnet.yaml'), '--engine', 'local']);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.match(/nothing was created/);
    expect(r.stderr).to.match(/vips\.wan: 10\.213\.9\.100 is outside/);
    expect(dockerLeftovers('t')).to.deep.equal([]);
  });

  it('preflight --json shows the local engine without the full stack here, naming PPP, L2TP and ESP', () => {
    const r = runCli(['preflight', '--json']);
    const report = JSON.parse(r.stdout) as { engines: { name: string; available: boolean; fullStack: boolean; missing: { name: string; fix: string }[] }[]; chosen: string | null };
    const local = report.engines.find((e) => e.name === 'local')!;
    expect(local.available).to.equal(true);
    if (!local.fullStack) {
      const names = local.missing.map((m) => m.name).join(' ');
      expect(names).to.match(/ppp_generic/).and.to.match(/l2tp_ppp/).and.to.match(/esp4/);
      expect(report.chosen).to.equal('vm');
    } else {
      expect(report.chosen).to.equal('local');
    }
  });

  it('preflight --engine local exits 2 when the local kernel cannot run the full stack, naming what is missing and the fix', function () {
    const all = JSON.parse(runCli(['preflight', '--json']).stdout) as { engines: { name: string; fullStack: boolean }[] };
    if (all.engines.find((e) => e.name === 'local')!.fullStack) this.skip();
    const r = runCli(['preflight', '--engine', 'local', '--json']);
    expect(r.status).to.equal(2);
    const out = JSON.parse(r.stdout) as { fullStack: boolean; problem: string };
    expect(out.fullStack).to.equal(false);
    expect(out.problem).to.match(/^--engine local cannot run the full stack here: missing ppp_generic \(PPP\) \(fix: .+\)/);
  });
});
