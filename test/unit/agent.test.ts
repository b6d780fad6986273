import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentLink, type AgentEvent } from '../../src/hosts/agent-link.js';
import { AGENT_SOURCE } from '../../src/hosts/paths.js';

/**
 * The resident agent itself (lab/agent/vipdrill-agent), run on this machine against a scratch root
 * (VIPDRILL_AGENT_ROOT) and spoken to over its stdin/stdout through the controller's AgentLink: the same
 * code that runs in every lab container. The e2e tests run it in the lab.
 */
describe('the resident agent (python3, real process)', function () {
  this.timeout(15_000);
  let root: string;
  let child: ChildProcessWithoutNullStreams;
  let link: AgentLink;
  const events: AgentEvent[] = [];
  const waitEvent = async (pred: (e: AgentEvent) => boolean, ms = 5000): Promise<AgentEvent> => {
    const t0 = Date.now();
    for (;;) {
      const e = events.find(pred);
      if (e) return e;
      if (Date.now() - t0 > ms) throw new Error(`no such event within ${ms} ms; saw ${events.map((x) => x.ev).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  let sleeper: ReturnType<typeof spawn>;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'vipdrill-agent-'));
    for (const d of ['run/vipdrill/daemons', 'var/log/vipdrill', 'etc/vipdrill/daemons']) mkdirSync(join(root, d), { recursive: true });
    sleeper = spawn('sleep', ['60']);
    writeFileSync(join(root, 'etc/vipdrill/daemons/keepalived.conf'), 'CMD=keepalived\n');
    writeFileSync(join(root, 'etc/vipdrill/daemons/charon.conf'), 'CMD=charon\n');
    writeFileSync(join(root, 'run/vipdrill/daemons/keepalived.pid'), `${sleeper.pid}\n`);
    writeFileSync(join(root, 'run/vipdrill/daemons/charon.pid'), '999999\n');
    writeFileSync(join(root, 'run/vipdrill/vrrp.state'), 'BACKUP\n');
    writeFileSync(join(root, 'var/log/vipdrill/charon.log'), ['100.5 old line', '200.25 in the window', '300.0 after it', 'no stamp at all', ''].join('\n'));
    child = spawn('python3', ['-u', AGENT_SOURCE], { env: { ...process.env, VIPDRILL_AGENT_ROOT: root } });
    link = new AgentLink('agent under test', child.stdin, child.stdout);
    link.on('event', (e) => events.push(e));
  });

  after(() => {
    link.end();
    child.kill();
    sleeper.kill();
    rmSync(root, { recursive: true, force: true });
  });

  it('announces itself and answers with the host clock', async () => {
    await waitEvent((e) => e.ev === 'agent.ready');
    const a = await link.request<{ version: number; pid: number }>('hello');
    expect(a.result.version).to.equal(1);
    expect(a.result.pid).to.equal(child.pid);
    expect(Math.abs(a.t - Date.now() / 1000)).to.be.below(1);
  });

  it('status: supervised daemons by their pid files, the VRRP state, addresses from rtnetlink', async () => {
    const a = await link.request<{ daemons: Record<string, { running: boolean; pid: number | null }>; vrrpState: string; addresses: { dev: string; cidr: string }[]; ready: boolean }>('status');
    expect(a.result.daemons).to.deep.equal({ charon: { running: false, pid: null }, keepalived: { running: true, pid: sleeper.pid } });
    expect(a.result.vrrpState).to.equal('BACKUP');
    expect(a.result.addresses).to.deep.include({ dev: 'lo', cidr: '127.0.0.1/8', mac: '00:00:00:00:00:00' });
    expect(a.result.ready).to.equal(false);
  });

  it('a log window holds the stamped lines in [from, to] only, and only of the daemons\' logs', async () => {
    const a = await link.request<{ text: string }>('log', { file: 'charon.log', from: 200, to: 250 });
    expect(a.result.text).to.equal('200.25 in the window\n');
    for (const file of ['../../etc/passwd', '/etc/passwd', 'probe.log']) {
      const err = await link.request('log', { file, from: 0, to: 1e12 }).then(() => 'answered', (e: Error) => e.message);
      expect(err).to.match(/log failed: ValueError: log file must be one of/);
    }
  });

  it('pushes keepalived\'s notify lines and the supervisor\'s starts and exits, stamped with their own times', async () => {
    appendFileSync(join(root, 'var/log/vipdrill/vrrp.log'), '1796000000.123456 INSTANCE "VI_1" MASTER 150\n');
    appendFileSync(join(root, 'var/log/vipdrill/supervisor.log'), '1796000001.5 supervisor: started xl2tpd pid 321\n1796000002.5 supervisor: xl2tpd (pid 321) exited\n');
    expect(await waitEvent((e) => e.ev === 'vrrp.notify')).to.deep.equal({ ev: 'vrrp.notify', t: 1796000000.123456, instance: 'VI_1', state: 'MASTER', priority: 150 });
    expect(await waitEvent((e) => e.ev === 'daemon.start')).to.deep.equal({ ev: 'daemon.start', t: 1796000001.5, daemon: 'xl2tpd', pid: 321 });
    expect(await waitEvent((e) => e.ev === 'daemon.exit')).to.deep.equal({ ev: 'daemon.exit', t: 1796000002.5, daemon: 'xl2tpd', pid: 321 });
  });

  it('pushes its scheduling lag once a second', async () => {
    const e = (await waitEvent((x) => x.ev === 'host.lag', 3000)) as Extract<AgentEvent, { ev: 'host.lag' }>;
    expect(e.ticks).to.be.within(5, 11);
    expect(e.maxMs).to.be.at.least(0);
  });

  it('a bad request is answered with its error and the agent lives on', async () => {
    const err = await link.request('no-such-op').then(() => 'answered', (e: Error) => e.message);
    expect(err).to.equal("agent under test: no-such-op failed: ValueError: unknown op 'no-such-op'");
    const act = await link.request('act', { name: 'rm -rf' }).then(() => 'answered', (e: Error) => e.message);
    expect(act).to.match(/unknown action 'rm -rf'/);
    // nft transactions are vipdrill's own tables' `add` lines only (checked before nft runs)
    for (const script of ['flush ruleset', 'add rule inet filter input drop', 'add table inet vipdrill\ndelete table inet nat']) {
      const nft = await link.request('act', { name: 'nft-apply', args: { script } }).then(() => 'answered', (e: Error) => e.message);
      expect(nft, script).to.match(/nft-apply takes `add table\|chain\|rule` lines for vipdrill's tables only; refused/);
    }
    child.stdin.write('this is not json\n');
    expect((await link.request('now')).t).to.be.above(0);
  });

  it('fault: runs a vipdrill-fault subcommand with argv, refusing unknown subcommands and anything but plain words', async () => {
    // boot-state reads only; on this machine there is no lab boot, so it waits (or names a failed one)
    const r = await link.request<{ at: number; out: string }>('act', { name: 'fault', args: { argv: ['boot-state'] } });
    expect(r.result.out.trim()).to.match(/^(ok|waiting|failed .*)$/);
    expect(r.result.at).to.be.closeTo(r.t, 5);
    for (const argv of [['rm', '-rf', '/'], ['route', '10.0.0.0/24;reboot', 'x'], ['link', '$(id)', 'up'], [], 'link']) {
      const e = await link.request('act', { name: 'fault', args: { argv } }).then(() => 'answered', (x: Error) => x.message);
      expect(e, JSON.stringify(argv)).to.match(/fault needs args.argv/);
    }
    // the script's own usage errors come back with its message
    const u = await link.request('act', { name: 'fault', args: { argv: ['link', '10.0.0.1'] } }).then(() => 'answered', (x: Error) => x.message);
    expect(u).to.match(/link failed \(exit 3\): vipdrill-fault: usage: link <address> up\|down/);
  });

  it('a request not answered by its deadline fails with what was asked and how long it waited', async () => {
    // the agent answers at once, so give it no time at all for the trip
    const slow = new AgentLink('mute agent', child.stdin, new (await import('node:stream')).PassThrough());
    const err = await slow.request('status', {}, 50, 0).then(() => 'answered', (e: Error) => e.message);
    expect(err).to.equal('mute agent: status not answered within 50 ms (deadline 50 ms + 0 ms for the trip)');
  });

  it('exits when its stdin closes (the controller went away)', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.stdin.end();
    expect(await exited).to.equal(0);
  });
});
