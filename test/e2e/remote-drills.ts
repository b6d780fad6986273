import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ed25519KeyPair } from '../../src/lab/ssh-keys.js';
import { parse, stringify } from 'yaml';
import { SshHost } from '../../src/hosts/ssh.js';
import { accessOf } from '../../src/lab/remote.js';
import { readLab } from '../../src/lab/state.js';
import type { LabInfo } from '../../src/run/result.js';
import type { Remote } from '../../src/topology/schema.js';
import { waitFor } from '../../src/util/time.js';
import { cli, fixture } from '../helpers.js';

type RemoteDoc = { name: string; remote: Remote } & Record<string, unknown>;

/**
 * Drills on a lab brought up with --ssh, reached as remote hosts through SSH alone (the VM's SSH as
 * the jump host; no docker exec, no shared files). Registered inside the VM suite, on its one lab.
 */
export function remoteDrills(ctx: () => { remoteTopology: string; reportDir: string }): void {
  const doc = () => parse(readFileSync(ctx().remoteTopology, 'utf8')) as RemoteDoc;
  const hosts = new Map<string, SshHost>();
  /** the test's own look at a host, over SSH like the drill's */
  const on = async (h: string, argv: string[]) => {
    // a connection of a host that was powered off and on (node-crash) is opened again
    for (let attempt = 0; ; attempt++) {
      if (!hosts.get(h)?.isOpen) {
        const a = accessOf(doc().remote, ctx().remoteTopology).get(h)!;
        hosts.set(h, await SshHost.connect(`test ${h}`, a.access, a.jump));
      }
      try {
        return await hosts.get(h)!.exec(argv);
      } catch (e) {
        hosts.get(h)?.close();
        if (attempt > 0) throw e;
      }
    }
  };
  const names = () => Object.keys(doc().remote.hosts);
  const leftovers = async () => {
    const out: string[] = [];
    for (const h of names()) {
      const r = await on(h, ['sh', '-c', 'nft list tables | grep -w vipdrill; ls -A /run/vipdrill/leases 2>/dev/null; ls /usr/local/lib/vipdrill 2>/dev/null; true']);
      out.push(...r.stdout.split('\n').filter(Boolean).map((l) => `${h}: ${l}`));
    }
    return out;
  };
  const variant = (edit: (d: RemoteDoc) => void) => {
    const d = doc();
    edit(d);
    const f = join(mkdtempSync(join(tmpdir(), 'vipdrill-remote-')), 'remote.yaml');
    writeFileSync(f, stringify(d, { lineWidth: 0 }));
    return f;
  };
  const run = (files: string[], topology: string, extra: string[] = ['--yes']) =>
    spawnSync(process.execPath, [cli, 'run', ...files, '-t', topology, '--json', '--report-dir', ctx().reportDir, ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  after(() => {
    for (const h of hosts.values()) h.close();
  });

  it('over SSH alone: a charon kill on the master fails over, split brain is detected and healed, a WAN link down fails over and back', () => {
    const r = run(['scenarios/kill-charon.yaml', 'scenarios/split-brain.yaml', 'scenarios/link-down-wan.yaml'], ctx().remoteTopology);
    const out = JSON.parse(r.stdout) as { exitCode: number; dir: string; results: { scenario: string; verdict: string; reason?: string; metrics: { outageMs?: number; vipTakeoverMs?: number } }[] };
    for (const x of out.results) process.stderr.write(`      remote ${x.scenario}: ${x.verdict} outage ${x.metrics.outageMs ?? '-'} ms, takeover ${x.metrics.vipTakeoverMs ?? '-'} ms${x.reason ? ` (${x.reason})` : ''}\n`);
    // a repeat whose lab was starved while it mattered is an error that says so (exit 2), never a
    // failed verdict: that is the contract on a loaded host (CI once saw a 2.6 s split brain on a
    // kill-charon with the agents 98 ms late at p90). One such honest error is allowed; nothing else.
    const starved = (x: (typeof out.results)[number]) => x.verdict === 'error' && /^host starved during the fault/.test(x.reason ?? '');
    expect(out.results.map((x) => [x.scenario, starved(x) ? 'passed' : x.verdict]), JSON.stringify(out.results.map((x) => x.reason))).to.deep.equal([['kill-charon', 'passed'], ['split-brain', 'passed'], ['link-down-wan', 'passed']]);
    expect(out.results.filter(starved).length, 'at most one starved-lab error').to.be.at.most(1);
    expect(out.exitCode, r.stderr.slice(-2000)).to.equal(out.results.some(starved) ? 2 : 0);
    const info = (JSON.parse(readFileSync(join(out.dir, 'run.json'), 'utf8')) as { engine: { name: string }; labs: LabInfo[] });
    expect(info.engine.name).to.equal('remote');
    const remote = info.labs[0]!.remote!;
    expect(Object.keys(remote.hosts).sort()).to.deep.equal(names().sort());
    expect(Object.values(remote.hosts).every((h) => h.layout === 'lab' && /Keepalived v2/.test(h.versions.keepalived ?? ''))).to.equal(true);
    for (const h of names().filter((n) => n !== 'client')) expect(remote.clocks[h]!.uncertaintyMs, h).to.be.within(0, 500);
    expect(readFileSync(join(out.dir, 'summary.md'), 'utf8')).to.match(/real hosts/);
  });

  it('nothing of vipdrill is left on the hosts after a drill: no rule, no lease, no agent', async () => {
    expect(await leftovers()).to.deep.equal([]);
  });

  it('kill -9 of the controller mid-fault: each host reverts by its lease within lease + 5 s, and nothing of vipdrill is left', async () => {
    const ttl = doc().remote.lease!.ttl;
    const child = spawn(process.execPath, [cli, 'run', fixture('scenarios', 'remote-hold.yaml'), '-t', ctx().remoteTopology, '--yes', '--report-dir', ctx().reportDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor('the split brain to be injected and seen', () => Promise.resolve(err), (e) => /wait\.ok\s+split-brain/.test(e), (e) => e.split('\n').slice(-2).join(' | '), { timeoutMs: 180_000, intervalMs: 100 });
    expect((await leftovers()).filter((l) => /table inet vipdrill/.test(l))).to.have.length(2);
    child.kill('SIGKILL');
    const killed = Date.now();
    await new Promise((r) => child.once('exit', r));
    await waitFor('every host to revert its lease', () => leftovers(), (l) => l.filter((x) => !/\/usr\/local\/lib|vipdrill-(agent|fault)$/.test(x)).length === 0, (l) => l.join('; '), { timeoutMs: (ttl + 30) * 1000, intervalMs: 250 });
    process.stderr.write(`      lease revert after kill -9 seen from here (four hosts polled over SSH): ${Date.now() - killed} ms (lease ${ttl} s)\n`);
    // and the watchdog, its controller gone, removes the agent's install as the run's end would have
    await waitFor('the agent install to be removed', () => leftovers(), (l) => l.length === 0, (l) => l.join('; '), { timeoutMs: 20_000, intervalMs: 500 });
    for (const n of Object.keys(doc().nodes as object)) {
      const log = (await on(n, ['cat', '/var/log/vipdrill/lease.log'])).stdout;
      expect(log, n).to.match(/lease vipdrill-step0-\d lapsed \(watchdog, expired [\d.]+\): reverted nft-remove in [\d.]+ s/);
      // on the host's own clock: when its watchdog had reverted, after the kill (this machine's clock: the lab VM's runs beside it)
      const done = Number(log.trim().split('\n').pop()!.split(' ')[0]);
      const ms = (done - killed / 1000) * 1000;
      process.stderr.write(`      ${n}: reverted by its lease ${ms.toFixed(0)} ms after the kill (its log)\n`);
      expect(ms, n).to.be.within(0, (ttl + 5) * 1000);
    }
    // the run's record is the controller's; a dead controller's is reaped (the hosts need nothing)
    expect(readLab(doc().name)?.phase).to.equal('running');
    const reap = spawnSync(process.execPath, [cli, 'reap', '--name', doc().name], { encoding: 'utf8' });
    expect(reap.status, reap.stderr).to.equal(0);
    expect(readLab(doc().name)).to.equal(undefined);
    // the pair settles back to one holder by itself once VRRP flows again
    await waitFor('one VIP holder again', async () => Promise.all(Object.keys(doc().nodes as object).map(async (n) => (await on(n, ['ip', '-4', 'addr'])).stdout.includes((doc().vips as { wan: string }).wan))), (h) => h.filter(Boolean).length === 1, (h) => `holders ${h.join(',')}`, { timeoutMs: 60_000, intervalMs: 500 });
  });

  it('node-crash through the power commands (the lab VM kills and starts the container): the VIP moves, the node comes back over SSH, the drill passes', () => {
    const r = run(['scenarios/node-crash.yaml'], ctx().remoteTopology);
    const out = JSON.parse(r.stdout) as { exitCode: number; results: { scenario: string; verdict: string; reason?: string; metrics: { outageMs?: number; vipTakeoverMs?: number } }[] };
    for (const x of out.results) process.stderr.write(`      remote ${x.scenario}: ${x.verdict} outage ${x.metrics.outageMs ?? '-'} ms, takeover ${x.metrics.vipTakeoverMs ?? '-'} ms${x.reason ? ` (${x.reason})` : ''}\n`);
    expect(out.results.map((x) => x.verdict), r.stderr.slice(-2000)).to.deep.equal(['passed']);
  });

  it('refused before anything changes: a wrong host key, a user who may not sudo, no --yes, a closed window, a crash with no power commands', async () => {
    const other = ed25519KeyPair('other').public.split(' ').slice(0, 2).join(' ');
    const node = Object.keys(doc().nodes as object)[0]!;
    const cases: [string, string, string[], RegExp][] = [
      ['wrong host key', variant((d) => (d.remote.hosts.client!.hostKey = other)), ['--yes'], /client \(10\.213\.1\.50:22\) presented host key SHA256:\S+, which is not the one pinned by hostKey in the topology \(SHA256:\S+\): refused, nothing was sent/],
      ['no sudo', variant((d) => (d.remote.hosts[node]!.ssh = d.remote.hosts[node]!.ssh.replace(/^ops@/, 'drill@'))), ['--yes'], new RegExp(`${node}: drill@\\S+ cannot run sudo without a password \\(sudo -n true: sudo: a password is required\\)`)],
      ['no --yes', ctx().remoteTopology, [], /real hosts need --yes \(or a confirmation typed on a terminal\)\. Nothing was run/],
      ['no power commands', variant((d) => delete (d.remote as { crash?: unknown }).crash), ['--yes'], /node-crash on real hosts needs the commands that power a node off and on/],
      ['closed window', variant((d) => (d.remote.window = `${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][(new Date().getUTCDay() + 3) % 7]} 02:00-03:00 UTC`)), ['--yes'], /outside the maintenance window/],
    ];
    for (const [what, topology, extra, message] of cases) {
      const r = run([what === 'no power commands' ? 'scenarios/node-crash.yaml' : 'scenarios/kill-charon.yaml'], topology, extra);
      expect(r.status, `${what}: ${r.stderr}`).to.equal(2);
      expect((JSON.parse(r.stdout) as { error: { message: string } }).error.message, what).to.match(message);
    }
    expect(await leftovers()).to.deep.equal([]);
  });
}
