import { expect } from 'chai';
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentLink } from '../../src/hosts/agent-link.js';
import { AGENT_SOURCE } from '../../src/hosts/paths.js';
import type { HostEvent } from '../../src/run/events.js';

/**
 * The agent on a host whose stack systemd runs (a scratch root with /run/systemd/system and no supervisor
 * descriptions), with stand-ins for systemctl and journalctl on PATH that answer from files and record
 * their calls. The real tools are exercised end to end on an `up --systemd` lab (test/e2e).
 */
describe('the agent on a systemd host (python3, real processes, stand-in systemctl and journalctl)', function () {
  this.timeout(20_000);
  let root: string;
  let fake: string;
  let agent: ChildProcessWithoutNullStreams;
  let link: AgentLink;
  const events: HostEvent[] = [];
  const daemons: ChildProcess[] = [];
  const T = 1_765_000_000;

  const entry = (o: Record<string, string | number>) => JSON.stringify(Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)])));
  const journal = [
    entry({ __REALTIME_TIMESTAMP: (T + 1) * 1e6, _PID: 1, UNIT: 'keepalived.service', MESSAGE_ID: '39f53479d3a045ac8e11786248231fbf', MESSAGE: 'Started keepalived.service - Keepalive Daemon (LVS and VRRP).' }),
    entry({ __REALTIME_TIMESTAMP: (T + 2.5) * 1e6, _SOURCE_REALTIME_TIMESTAMP: (T + 2.25) * 1e6, _PID: 77, _SYSTEMD_UNIT: 'keepalived.service', MESSAGE: '(VI_1) Entering MASTER STATE' }),
    entry({ __REALTIME_TIMESTAMP: (T + 3) * 1e6, _PID: 78, _SYSTEMD_UNIT: 'xl2tpd.service', SYSLOG_IDENTIFIER: 'xl2tpd', MESSAGE: 'Connection established to 10.0.0.9, 1701.' }),
    entry({ __REALTIME_TIMESTAMP: (T + 4) * 1e6, _PID: 79, _SYSTEMD_UNIT: 'xl2tpd.service', SYSLOG_IDENTIFIER: 'pppd', MESSAGE: 'LCP: timeout sending Config-Requests' }),
    entry({ __REALTIME_TIMESTAMP: (T + 5) * 1e6, _PID: 1, UNIT: 'strongswan.service', MESSAGE_ID: '98e322203f7a4ed290d09fe03c09fe15', MESSAGE: 'strongswan.service: Main process exited, code=killed, status=9/KILL' }),
  ];

  function stubs(): void {
    writeFileSync(
      join(fake, 'bin/systemctl'),
      `#!/bin/bash
echo "systemctl $*" >> ${fake}/calls
case "$1" in
  show)
    prop=$3; shift 3; first=1
    for u in "$@"; do
      [ "$u" = --value ] && continue
      [ $first = 1 ] || echo; first=0
      if [ "$prop" = LoadState ]; then
        case "$u" in strongswan.service|keepalived.service|xl2tpd.service) echo LoadState=loaded ;; *) echo LoadState=not-found ;; esac
      elif [ "$prop" = InvocationID ]; then echo inv-$u
      else echo "MainPID=$(cat ${fake}/$u.pid 2>/dev/null || echo 0)"; fi
    done ;;
esac
exit 0
`,
    );
    writeFileSync(
      join(fake, 'bin/journalctl'),
      `#!/bin/bash
echo "journalctl $*" >> ${fake}/calls
case " $* " in
  *" _SYSTEMD_INVOCATION_ID=inv-keepalived.service -g "*) grep -o '(VI_1) Entering [A-Z]* STATE' ${fake}/journal; exit ;;
  *" _SYSTEMD_INVOCATION_ID="*) exit 1 ;;
esac
case " $* " in *" -n 0 "*) ;; *) cat ${fake}/journal ;; esac
case " $* " in *" -f "*) exec sleep 600 ;; esac
`,
    );
    for (const f of ['systemctl', 'journalctl']) chmodSync(join(fake, 'bin', f), 0o755);
    writeFileSync(join(fake, 'journal'), journal.join('\n') + '\n');
  }

  function unitProcess(unit: string): ChildProcess {
    const p = spawn('sleep', ['600'], { stdio: 'ignore' });
    daemons.push(p);
    writeFileSync(join(fake, `${unit}.pid`), `${p.pid}\n`);
    return p;
  }

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'vipdrill-agent-systemd-'));
    fake = join(root, 'fake');
    for (const d of ['run/systemd/system', 'run/vipdrill', 'var/log/vipdrill', 'fake/bin']) mkdirSync(join(root, d), { recursive: true });
    stubs();
    unitProcess('keepalived.service');
    unitProcess('strongswan.service');
    agent = spawn('python3', ['-u', AGENT_SOURCE, '--since', String(T)], { env: { ...process.env, VIPDRILL_AGENT_ROOT: root, PATH: `${join(fake, 'bin')}:${process.env.PATH}` } });
    link = new AgentLink('agent under test', agent.stdin, agent.stdout);
    link.on('event', (e) => events.push(e as HostEvent));
    const t0 = Date.now();
    while (events.filter((e) => e.ev !== 'host.lag' && e.ev !== 'agent.ready').length < 3 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
  });

  after(() => {
    link.end();
    agent.kill();
    for (const d of daemons) d.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it("status: the units' main PIDs, and the VRRP state from keepalived's own journal lines", async () => {
    const r = await link.request<{ daemons: Record<string, { running: boolean; unit: string }>; vrrpState: string | null; booted: boolean }>('status', {});
    expect(r.result.daemons.keepalived).to.include({ running: true, unit: 'keepalived.service' });
    expect(r.result.daemons.charon).to.include({ running: true, unit: 'strongswan.service' });
    expect(r.result.daemons.xl2tpd).to.include({ running: false, unit: 'xl2tpd.service' });
    expect(r.result.vrrpState).to.equal('MASTER');
    // a real host has no boot script of vipdrill's: it is up when its agent answers
    expect(r.result.booted).to.equal(true);
  });

  it("pushes the journal's events, each at its sender's time", () => {
    const ev = events.filter((e) => e.ev === 'vrrp.state' || e.ev === 'daemon.start' || e.ev === 'daemon.exit');
    expect(ev.map((e) => [e.ev, e.t])).to.deep.equal([
      ['daemon.start', T + 1],
      ['vrrp.state', T + 2.25],
      ['daemon.exit', T + 5],
    ]);
    expect(ev[0]).to.include({ daemon: 'keepalived' });
    expect(ev[1]).to.include({ state: 'MASTER' });
    expect(ev[2]).to.include({ daemon: 'charon' });
    const follow = readFileSync(join(fake, 'calls'), 'utf8').split('\n').find((l) => l.startsWith('journalctl') && l.includes(' -f '));
    expect(follow).to.include(`--since @${T}`).and.include('_SYSTEMD_UNIT=keepalived.service + UNIT=keepalived.service');
  });

  it("an agent started later finds keepalived's state in its current run's journal, not in the follow", async () => {
    const later = spawn('python3', ['-u', AGENT_SOURCE], { env: { ...process.env, VIPDRILL_AGENT_ROOT: root, PATH: `${join(fake, 'bin')}:${process.env.PATH}` } });
    const l2 = new AgentLink('a later agent', later.stdin, later.stdout);
    try {
      let state: string | null = null;
      for (let i = 0; i < 40 && state !== 'MASTER'; i++) {
        state = (await l2.request<{ vrrpState: string | null }>('status', {})).result.vrrpState;
        if (state !== 'MASTER') await new Promise((r) => setTimeout(r, 50));
      }
      expect(state).to.equal('MASTER');
      expect(readFileSync(join(fake, 'calls'), 'utf8')).to.include('_SYSTEMD_INVOCATION_ID=inv-keepalived.service -g');
    } finally {
      l2.end();
      later.kill();
    }
  });

  it('log windows: the journal stamped as the lab logs are, pppd apart from xl2tpd, within the window', async () => {
    const log = async (file: string, from: number, to: number) => (await link.request<{ text: string }>('log', { file, from, to })).result.text;
    expect(await log('keepalived.log', T, T + 10)).to.equal(`${(T + 2.25).toFixed(6)} (VI_1) Entering MASTER STATE\n`);
    expect(await log('keepalived.log', T + 2.3, T + 10)).to.equal('');
    expect(await log('pppd.log', T, T + 10)).to.equal(`${(T + 4).toFixed(6)} LCP: timeout sending Config-Requests\n`);
    expect(await log('xl2tpd.log', T, T + 10)).to.equal(`${(T + 3).toFixed(6)} Connection established to 10.0.0.9, 1701.\n`);
    expect(await log('supervisor.log', T + 4.5, T + 10)).to.match(/ systemd: strongswan\.service: Main process exited/);
  });

  it('kill-daemon signals the main PID and marks the daemon for its revert; start-daemon starts the unit', async () => {
    const p = unitProcess('strongswan.service');
    const gone = new Promise((r) => p.once('exit', (_c, sig) => r(sig)));
    const r = await link.request<{ at: number; unit: string }>('act', { name: 'kill-daemon', args: { daemon: 'charon', signal: 'KILL' } });
    expect(await gone).to.equal('SIGKILL');
    expect(r.result.unit).to.equal('strongswan.service');
    expect(readFileSync(join(root, 'run/vipdrill/daemons/charon.want'), 'utf8').trim()).to.equal('down');
    expect(readFileSync(join(root, 'run/vipdrill/daemons/charon.unit'), 'utf8').trim()).to.equal('strongswan.service');
    await link.request('act', { name: 'start-daemon', args: { daemon: 'charon' } });
    expect(readFileSync(join(fake, 'calls'), 'utf8')).to.include('systemctl start strongswan.service');
    expect(readFileSync(join(root, 'run/vipdrill/daemons/charon.want'), 'utf8').trim()).to.equal('up');
    await link.request('act', { name: 'restart-daemon', args: { daemon: 'keepalived' } });
    expect(readFileSync(join(fake, 'calls'), 'utf8')).to.include('systemctl restart keepalived.service');
  });

  it('the journal follower ends with its agent', async () => {
    link.end();
    await new Promise((r) => (agent.exitCode !== null ? r(null) : agent.once('exit', r)));
    await new Promise((r) => setTimeout(r, 300));
    const followers = await pgrep('sleep 600');
    // only the two unit stand-ins still sleep (the follower's sleep was killed with its agent)
    expect(followers.length).to.equal(daemons.filter((d) => d.exitCode === null && d.signalCode === null).length);
  });
});

async function pgrep(pattern: string): Promise<number[]> {
  return new Promise((resolve) => {
    const p = spawn('pgrep', ['-f', `^${pattern}$`]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', () => resolve(out.split('\n').filter(Boolean).map(Number)));
  });
}
