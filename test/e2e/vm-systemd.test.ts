import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { SshHost } from '../../src/hosts/ssh.js';
import { accessOf } from '../../src/lab/remote.js';
import type { HostEvent } from '../../src/run/events.js';
import type { LabInfo, ScenarioResult } from '../../src/run/result.js';
import type { Remote } from '../../src/topology/schema.js';
import { waitFor } from '../../src/util/time.js';
import { cli, fixture } from '../helpers.js';

/**
 * Nodes whose stack systemd runs, as on a staging pair (`up --systemd`: systemd is PID 1, the daemons are
 * Debian's keepalived.service, strongswan.service and xl2tpd.service), drilled as real hosts over SSH
 * alone: the agent stops and starts daemons through their units and reads the VRRP timeline and the
 * logs from the journal. Runs after the VM suite (which removed its lab and VM), on a lab of its own.
 */
describe('systemd nodes over SSH (end to end)', function () {
  this.timeout(1_800_000);
  const LAB = 'vd-sd';
  const reportDir = mkdtempSync(join(tmpdir(), 'vipdrill-e2e-sd-'));
  let remoteTopology = '';
  const down = () => spawnSync(process.execPath, [cli, 'down', '--name', LAB], { encoding: 'utf8' });
  const conns = new Map<string, SshHost>();
  /** the test's own look at a host, over SSH like the drill's */
  const on = async (h: string, argv: string[]) => {
    if (!conns.get(h)?.isOpen) {
      const doc = parse(readFileSync(remoteTopology, 'utf8')) as { remote: Remote };
      const a = accessOf(doc.remote, remoteTopology).get(h)!;
      conns.set(h, await SshHost.connect(`test ${h}`, a.access, a.jump));
    }
    return conns.get(h)!.exec(argv);
  };

  before(() => down());
  after(function () {
    this.timeout(180_000);
    for (const c of conns.values()) c.close();
    down();
  });

  it("up --systemd --ssh: the nodes boot systemd and run the stack as Debian's units, and the tunnel comes up", () => {
    const r = spawnSync(process.execPath, [cli, 'up', '--name', LAB, '--systemd', '--ssh', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    expect(r.status, r.stdout.slice(-1500)).to.equal(0);
    remoteTopology = (JSON.parse(r.stdout) as { remoteTopology: string }).remoteTopology;
    expect(remoteTopology).to.be.a('string');
  });

  it('a clean stop of charon on the master fails over; a SIGKILL is undone by its unit (Restart=on-abnormal), seen in the journal', () => {
    const r = spawnSync(process.execPath, [cli, 'run', 'scenarios/stop-charon.yaml', 'scenarios/kill-charon.yaml', '-t', remoteTopology, '--yes', '--json', '--report-dir', reportDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const out = JSON.parse(r.stdout) as { dir: string; results: { scenario: string; verdict: string; reason?: string; metrics: { outageMs?: number; vipTakeoverMs?: number; newHolder?: string } }[] };
    for (const x of out.results) process.stderr.write(`      systemd ${x.scenario}: ${x.verdict} outage ${x.metrics.outageMs ?? '-'} ms, takeover ${x.metrics.vipTakeoverMs ?? '-'} ms${x.reason ? ` (${x.reason})` : ''}\n`);
    const starved = (x: (typeof out.results)[number]) => x.verdict === 'error' && /^host starved during the fault/.test(x.reason ?? '');
    const [stop, kill] = out.results;
    // the takeover is timed from keepalived's "Entering MASTER STATE" in the new master's journal
    expect(stop!.scenario).to.equal('stop-charon');
    if (!starved(stop!)) {
      expect(stop!.verdict, stop!.reason).to.equal('passed');
      expect(stop!.metrics.vipTakeoverMs).to.be.a('number');
      expect(stop!.metrics.newHolder).to.be.a('string');
    }
    // Debian's strongswan.service restarts a crashed charon: the VIP stays, and the run says so
    expect(kill!.scenario).to.equal('kill-charon');
    if (!starved(kill!)) expect(kill!.reason ?? '', kill!.verdict).to.match(/vip-moved not reached/);
    const events = readFileSync(join(out.dir, 'kill-charon', 'repeat-1', 'events.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as HostEvent & { source: string });
    const exit = events.find((e) => e.ev === 'daemon.exit' && e.daemon === 'charon');
    const back = events.find((e) => e.ev === 'daemon.start' && e.daemon === 'charon');
    expect(exit, 'charon exit from the journal').to.not.equal(undefined);
    expect(back, 'charon started again by systemd').to.not.equal(undefined);
    expect(back!.host).to.equal(exit!.host);
    expect(back!.t - exit!.t).to.be.within(0, 30);
    // and the failed verdict says why: the unit-restart finding, with the exit and the start as evidence
    const killed = JSON.parse(readFileSync(join(out.dir, 'kill-charon', 'repeat-1', 'result.json'), 'utf8')) as ScenarioResult;
    expect((killed.findings ?? []).map((f) => f.id)).to.include('unit-restart');
    const info = JSON.parse(readFileSync(join(out.dir, 'run.json'), 'utf8')) as { labs: LabInfo[] };
    const hosts = info.labs[0]!.remote!.hosts;
    expect(['a', 'b'].map((n) => hosts[n]!.layout)).to.deep.equal(['systemd', 'systemd']);
    expect(hosts.client!.layout).to.equal('lab');
  });

  it("kill -9 of the controller with charon stopped: the host's lease starts strongswan.service again within lease + 5 s", async () => {
    const doc = parse(readFileSync(remoteTopology, 'utf8')) as { name: string; remote: Remote };
    const ttl = doc.remote.lease!.ttl;
    const child = spawn(process.execPath, [cli, 'run', fixture('scenarios', 'remote-hold-charon.yaml'), '-t', remoteTopology, '--yes', '--report-dir', reportDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor('charon stopped and the VIP moved', () => Promise.resolve(err), (e) => /wait\.ok\s+vip-moved/.test(e), (e) => e.split('\n').slice(-2).join(' | '), { timeoutMs: 240_000, intervalMs: 100 });
    const node = /fault\.inject\s+step0: SIGTERM charon on (\S+?),/.exec(err)![1]!;
    expect((await on(node, ['systemctl', 'is-active', 'strongswan.service'])).stdout.trim()).to.not.equal('active');
    child.kill('SIGKILL');
    const killed = Date.now();
    await new Promise((r) => child.once('exit', r));
    await waitFor(`strongswan.service active again on ${node}`, async () => (await on(node, ['systemctl', 'is-active', 'strongswan.service'])).stdout.trim(), (s) => s === 'active', (s) => s, { timeoutMs: (ttl + 30) * 1000, intervalMs: 250 });
    const log = (await on(node, ['cat', '/var/log/vipdrill/lease.log'])).stdout;
    expect(log).to.match(/lease vipdrill-step0-\d lapsed \((watchdog|systemd timer)[^)]*\): reverted fault in [\d.]+ s/);
    const done = Number(log.trim().split('\n').pop()!.split(' ')[0]);
    const ms = (done - killed / 1000) * 1000;
    process.stderr.write(`      ${node}: strongswan.service started by its lease ${ms.toFixed(0)} ms after the kill (lease ${ttl} s, its log)\n`);
    expect(ms).to.be.within(0, (ttl + 5) * 1000);
    const reap = spawnSync(process.execPath, [cli, 'reap', '--name', doc.name], { encoding: 'utf8' });
    expect(reap.status, reap.stderr).to.equal(0);
    await waitFor('the agent install to be removed', async () => (await on(node, ['sh', '-c', 'ls /usr/local/lib/vipdrill 2>/dev/null; true'])).stdout.trim(), (s) => s === '', (s) => s, { timeoutMs: 30_000, intervalMs: 500 });
  });

  it('nothing of vipdrill is left on the systemd hosts: no rule, no lease, no agent, no lease timer', async () => {
    const doc = parse(readFileSync(remoteTopology, 'utf8')) as { remote: Remote };
    const left: string[] = [];
    for (const [h, a] of accessOf(doc.remote, remoteTopology)) {
      if (h === 'client' || h === 'lanhost') continue;
      const ssh = await SshHost.connect(`test ${h}`, a.access, a.jump);
      try {
        const r = await ssh.exec(['sh', '-c', 'nft list tables | grep -w vipdrill; ls -A /run/vipdrill/leases 2>/dev/null; ls /usr/local/lib/vipdrill 2>/dev/null; systemctl list-units --all --no-legend "vipdrill-lease-*"; true']);
        left.push(...r.stdout.split('\n').filter(Boolean).map((l) => `${h}: ${l}`));
        const active = await ssh.exec(['systemctl', 'is-active', 'strongswan.service', 'keepalived.service', 'xl2tpd.service']);
        expect(active.stdout.trim().split('\n'), `${h}: the stack's units after the drills`).to.deep.equal(['active', 'active', 'active']);
      } finally {
        ssh.close();
      }
    }
    expect(left).to.deep.equal([]);
  });
});
