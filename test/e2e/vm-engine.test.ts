import { spawn, spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { crashVipHolder } from '../../src/drill/crash.js';
import type { Engine } from '../../src/lab/engine.js';
import { status, type UpResult } from '../../src/lab/lab.js';
import { downCommand, reapCommand, upCommand } from '../../src/lab/lifecycle.js';
import { readLab } from '../../src/lab/state.js';
import { findVipdrillQemus } from '../../src/lab/vm/qemu.js';
import { consoleProgress, silentProgress } from '../../src/util/progress.js';
import { waitFor } from '../../src/util/time.js';
import { cli } from '../helpers.js';

/**
 * End to end on the VM engine: the full stack (keepalived, charon, xl2tpd, pppd with kernel PPP, L2TP
 * and ESP) in Docker inside a Debian VM. One VM boot for the whole file.
 */
describe('VM engine, full stack (end to end)', function () {
  this.timeout(1_800_000);
  const LAB = 'vd-e2e';
  let engine: Engine;
  let lab: UpResult;

  before(async () => {
    await reapCommand({ all: false, name: LAB }, silentProgress).catch(() => {});
  });

  it('reap stops the VM of a controller killed with SIGKILL while the VM boots', async () => {
    const name = 'vd-e2e-reap';
    const child = spawn(process.execPath, [cli, 'up', '--engine', 'vm', '--name', name], { stdio: 'ignore' });
    const qemus = await waitFor('the lab VM to start', () => findVipdrillQemus(), (q) => q.some((x) => x.lab === name), (q) => `${q.length} VMs`, { timeoutMs: 900_000, intervalMs: 200 });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const pid = qemus.find((q) => q.lab === name)!.pid;
    const r = spawnSync(process.execPath, [cli, 'reap', '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect((JSON.parse(r.stdout) as { vms: number }).vms).to.be.at.least(1);
    expect((await findVipdrillQemus()).map((q) => q.pid)).not.to.include(pid);
    expect(readLab(name)).to.equal(undefined);
  });

  it('up (fast profile) brings the tunnel up through the VIP and reaches the LAN host through ppp0', async () => {
    const r = await upCommand({ topologyFile: 'lab/topologies/default.yaml', profile: 'fast', name: LAB, engine: 'vm', waitUntil: 'tunnel', progress: consoleProgress() });
    engine = r.engine;
    lab = r.result;
    expect(engine.info.name).to.equal('vm');
    const s = await status(engine, lab.record);
    expect(s.vipHolders).to.have.length(1);
    expect(s.client.pppUp).to.equal(true);
    expect(s.client.lanReachable).to.equal(true);
    expect(s.client.tunnelIp).to.match(/^10\.213\.3\./);
  });

  it('status --json reports exactly one VIP holder and a working tunnel', () => {
    const r = spawnSync(process.execPath, [cli, 'status', '--name', LAB, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const s = JSON.parse(r.stdout) as { engine: string; vipHolder: string | null; nodes: { holdsVip: boolean; daemons: Record<string, boolean> }[]; client: { pppUp: boolean; lanReachable: boolean; ikeSa: boolean; l2tpTunnel: boolean } };
    expect(s.engine).to.equal('vm');
    expect(s.vipHolder).to.be.a('string');
    expect(s.nodes.filter((n) => n.holdsVip)).to.have.length(1);
    expect(s.nodes.every((n) => n.daemons.keepalived && n.daemons.charon && n.daemons.xl2tpd)).to.equal(true);
    expect(s.client).to.include({ pppUp: true, lanReachable: true, ikeSa: true, l2tpTunnel: true });
  });

  it('crashing the VIP holder moves the VIP and the client tunnel comes back to the LAN', async () => {
    const r = await crashVipHolder(engine, lab, consoleProgress());
    process.stderr.write(`      measured (lab clock): VIP takeover ${r.vipTakeoverMs.toFixed(0)} ms, tunnel restored ${r.tunnelRestoredMs.toFixed(0)} ms (±${r.resolutionMs} ms)\n`);
    expect(r.newHolder).not.to.equal(r.killed);
    expect(r.vipTakeoverMs).to.be.greaterThan(0);
    expect(r.tunnelRestoredMs).to.be.greaterThan(r.vipTakeoverMs);
    const s = await status(engine, lab.record);
    expect(s.vipHolder).to.equal(r.newHolder);
    expect(s.client.lanReachable).to.equal(true);
  });

  it('down leaves no qemu process, container, network or state of the run', async () => {
    await engine.close();
    const pid = lab.record.vm!.pid;
    await downCommand(LAB, silentProgress);
    expect((await findVipdrillQemus()).filter((q) => q.lab === LAB || q.pid === pid)).to.deep.equal([]);
    expect(readLab(LAB)).to.equal(undefined);
  });

  after(async () => {
    await reapCommand({ all: true, name: LAB }, silentProgress).catch(() => {});
  });
});
