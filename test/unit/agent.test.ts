import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  it('neigh: the ARP table from rtnetlink, as `ip neigh` shows it (less the NOARP entries it hides)', async () => {
    type Entry = { ip: string; dev: string | null; mac: string | null; state: string[] };
    const a = await link.request<{ entries: Entry[] }>('neigh');
    const ip = JSON.parse(execFileSync('ip', ['-j', '-4', 'neigh', 'show'], { encoding: 'utf8' }) || '[]') as { dst: string; dev: string; lladdr?: string; state: string[] }[];
    const shown = a.result.entries.filter((e) => !e.state.includes('NOARP'));
    expect(shown).to.deep.equal(ip.map((x) => ({ ip: x.dst, dev: x.dev, mac: x.lladdr ?? null, state: x.state })));
    const one = ip[0];
    if (one) expect((await link.request<{ entries: Entry[] }>('neigh', { ip: one.dst })).result.entries.map((e) => e.ip)).to.deep.equal([one.dst]);
    const bad = await link.request('neigh', { ip: '1.2.3' }).catch((e: unknown) => e);
    expect(String(bad)).to.match(/neigh args\.ip must be an IPv4 address/);
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

describe('an agent whose controller is gone', function () {
  this.timeout(15_000);
  it('stdout broken before stdin said so: it still ends the probes it started, and exits', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vipdrill-agent-gone-'));
    for (const d of ['run/vipdrill/daemons', 'var/log/vipdrill', 'etc/vipdrill/daemons', 'bin']) mkdirSync(join(root, d), { recursive: true });
    // a probe that runs until it is ended (this machine need not have ping)
    writeFileSync(join(root, 'bin/ping'), '#!/bin/sh\nexec sleep 300\n', { mode: 0o755 });
    const child = spawn('python3', ['-u', AGENT_SOURCE], { env: { ...process.env, VIPDRILL_AGENT_ROOT: root, PATH: `${join(root, 'bin')}:${process.env.PATH}` } });
    const link = new AgentLink('agent under test', child.stdin, child.stdout);
    try {
      await link.request('probe.start', { tag: 'gone', target: '127.0.0.1', intervalMs: 200 });
      const pidFile = join(root, 'run/vipdrill/probe.pid');
      for (let i = 0; i < 60 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(() => process.kill(pid, 0)).not.to.throw();
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      // the reading end goes, stdin stays open: the next host.lag line (once a second) breaks
      child.stdout.destroy();
      expect(await exited).to.equal(0);
      expect(() => process.kill(pid, 0), 'the probe outlived its agent').to.throw();
    } finally {
      child.kill('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('leases in the agent (python3, real processes)', function () {
  this.timeout(20_000);
  let root: string;
  let bin: string;
  const start = () => {
    const child = spawn('python3', ['-u', AGENT_SOURCE], { env: { ...process.env, VIPDRILL_AGENT_ROOT: root, PATH: `${bin}:${process.env.PATH}` } });
    return { child, link: new AgentLink('agent under test', child.stdin, child.stdout) };
  };
  const leaseLog = () => (existsSync(join(root, 'var/log/vipdrill/lease.log')) ? readFileSync(join(root, 'var/log/vipdrill/lease.log'), 'utf8') : '');
  const until = async (pred: () => boolean, ms: number, what: string) => {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > ms) throw new Error(`${what} not within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return Date.now() - t0;
  };
  // a revert that works in a scratch root: boot-state only reads
  const revert = { name: 'fault', args: { argv: ['boot-state'] } };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'vipdrill-lease-'));
    bin = join(root, 'bin');
    for (const d of ['run/vipdrill/daemons', 'var/log/vipdrill', 'etc/vipdrill/daemons', 'bin']) mkdirSync(join(root, d), { recursive: true });
  });
  afterEach(() => {
    const pid = Number(existsSync(join(root, 'run/vipdrill/lease-watchdog.pid')) ? readFileSync(join(root, 'run/vipdrill/lease-watchdog.pid'), 'utf8') : 0);
    if (pid > 0) try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    rmSync(root, { recursive: true, force: true });
  });

  it('an agent killed with SIGKILL: its watchdog reverts the lease once it lapses, once, and removes it', async () => {
    const { child, link } = start();
    const armed = await link.request<{ expires: number; watchdog: number; systemd: string | null }>('lease.arm', { id: 'f1-0', revert, ttlMs: 1000 });
    expect(armed.result.systemd).to.equal(null);
    expect(armed.result.expires).to.be.closeTo(armed.t + 1, 0.01);
    child.kill('SIGKILL');
    const ms = await until(() => /lease f1-0 lapsed \(watchdog/.test(leaseLog()), 5000, 'the lease revert');
    expect(ms).to.be.below(3000);
    expect(leaseLog()).to.match(/: reverted fault in /);
    expect(leaseLog().trim().split('\n')).to.have.length(1);
    expect(existsSync(join(root, 'run/vipdrill/leases/f1-0.json'))).to.equal(false);
  });

  it('renewed, a lease does not lapse; dropped, it is gone without a revert; renewing a lapsed one names it', async () => {
    const { child, link } = start();
    await link.request('lease.arm', { id: 'f2-0', revert, ttlMs: 1000 });
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 300));
      expect((await link.request<{ missing: string[] }>('lease.renew', { ids: ['f2-0'] })).result.missing).to.deep.equal([]);
    }
    expect(leaseLog()).to.equal('');
    expect((await link.request<{ leases: string[] }>('leases')).result.leases).to.deep.equal(['f2-0']);
    expect((await link.request<{ dropped: boolean }>('lease.drop', { id: 'f2-0' })).result.dropped).to.equal(true);
    expect((await link.request<{ leases: string[] }>('leases')).result.leases).to.deep.equal([]);
    await link.request('lease.arm', { id: 'f3-0', revert, ttlMs: 1000 });
    await until(() => /lease f3-0 lapsed/.test(leaseLog()), 5000, 'the lapse of f3-0');
    expect((await link.request<{ missing: string[] }>('lease.renew', { ids: ['f3-0'] })).result.missing).to.deep.equal(['f3-0']);
    expect(leaseLog()).not.to.match(/f2-0/);
    // a lease must name an action the agent has, with a sane time to live
    const bad = await link.request('lease.arm', { id: 'x', revert: { name: 'rm' }, ttlMs: 1000 }).then(() => 'armed', (e: Error) => e.message);
    expect(bad).to.match(/lease.arm needs args.revert/);
    const badId = await link.request('lease.arm', { id: '../etc', revert, ttlMs: 1000 }).then(() => 'armed', (e: Error) => e.message);
    expect(badId).to.match(/a lease id is/);
    child.kill();
  });

  it('where systemd runs, a transient timer is the second net; fired early it sets a new one, fired late it reverts', async () => {
    mkdirSync(join(root, 'run/systemd/system'), { recursive: true });
    const calls = join(root, 'systemd-calls');
    for (const tool of ['systemd-run', 'systemctl']) writeFileSync(join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> ${calls}\n`, { mode: 0o755 });
    const { child, link } = start();
    const armed = await link.request<{ systemd: string }>('lease.arm', { id: 'f4-0', revert, ttlMs: 2000 });
    expect(armed.result.systemd).to.match(/^vipdrill-lease-f4-0-\d+$/);
    const first = readFileSync(calls, 'utf8');
    expect(first).to.match(/^systemd-run --unit vipdrill-lease-f4-0-\d+ --on-active=12s --timer-property=AccuracySec=100ms \S*python3\S* \S+vipdrill-agent --fire f4-0\n$/);
    // the agent dies, and the watchdog with it: the timer is what is left
    child.kill('SIGKILL');
    process.kill(Number(readFileSync(join(root, 'run/vipdrill/lease-watchdog.pid'), 'utf8')), 'SIGKILL');
    const fire = () => execFileSync('python3', [AGENT_SOURCE, '--fire', 'f4-0'], { env: { ...process.env, VIPDRILL_AGENT_ROOT: root, PATH: `${bin}:${process.env.PATH}` } });
    fire(); // not lapsed yet: a new timer for when it will
    expect(readFileSync(calls, 'utf8').split('\n').filter(Boolean)).to.have.length(2);
    expect(leaseLog()).to.equal('');
    await new Promise((r) => setTimeout(r, 3200));
    fire();
    expect(leaseLog()).to.match(/lease f4-0 lapsed \(systemd timer, expired [\d.]+\): reverted fault/);
    expect(readFileSync(calls, 'utf8')).to.match(/systemctl stop vipdrill-lease-f4-0-\*\.timer\n$/);
  });
});
