import { expect } from 'chai';
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentLink } from '../../src/hosts/agent-link.js';
import { AGENT_SOURCE } from '../../src/hosts/paths.js';
import { repoRoot } from '../helpers.js';

/**
 * The agent's restart-daemon on a scratch root, with the lab's own vipdrill-ctl: SIGTERM, a grace, then
 * SIGKILL for a daemon that does not end (charon once spun in its shutdown for 25 minutes under TCG),
 * then the start the supervisor acts on (want=up and a kick).
 */
describe('the agent restarts a daemon (python3 and vipdrill-ctl, real processes)', function () {
  this.timeout(15_000);
  let root: string;
  let agent: ChildProcessWithoutNullStreams;
  let link: AgentLink;
  const daemons: ChildProcess[] = [];

  /** A supervised daemon in the scratch root: `stubborn` ignores SIGTERM, as the hung charon did. */
  function daemon(name: string, stubborn: boolean): ChildProcess {
    const p = spawn('bash', ['-c', `${stubborn ? "trap '' TERM; " : ''}while :; do sleep 0.05; done`], { stdio: 'ignore' });
    daemons.push(p);
    writeFileSync(join(root, `etc/vipdrill/daemons/${name}.conf`), `CMD=${name}\n`);
    writeFileSync(join(root, `run/vipdrill/daemons/${name}.pid`), `${p.pid}\n`);
    return p;
  }
  const ended = (p: ChildProcess) => (p.exitCode !== null || p.signalCode !== null ? Promise.resolve(p.signalCode) : new Promise((r) => p.once('exit', (_c, sig) => r(sig))));

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'vipdrill-agent-restart-'));
    for (const d of ['run/vipdrill/daemons', 'var/log/vipdrill', 'etc/vipdrill/daemons', 'usr/local/sbin']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync(join(repoRoot, 'lab/images/lab/rootfs/usr/local/sbin/vipdrill-ctl'), join(root, 'usr/local/sbin/vipdrill-ctl'));
    agent = spawn('python3', ['-u', AGENT_SOURCE], { env: { ...process.env, VIPDRILL_AGENT_ROOT: root, VIPDRILL_ROOT: root, VIPDRILL_RESTART_GRACE_S: '1' } });
    link = new AgentLink('agent under test', agent.stdin, agent.stdout);
  });

  after(() => {
    link.end();
    agent.kill();
    for (const d of daemons) d.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('a daemon that ends on SIGTERM is only asked, then started again', async () => {
    const p = daemon('polite', false);
    const r = await link.request<{ killed: boolean }>('act', { name: 'restart-daemon', args: { daemon: 'polite' } });
    expect(r.result.killed).to.equal(false);
    expect(await ended(p)).to.equal('SIGTERM');
    expect(readFileSync(join(root, 'run/vipdrill/daemons/polite.want'), 'utf8').trim()).to.equal('up');
    expect(existsSync(join(root, 'run/vipdrill/daemons/polite.kick'))).to.equal(true);
  });

  it('a daemon still running after the grace gets SIGKILL, and is started again', async () => {
    const p = daemon('stubborn', true);
    const t0 = Date.now();
    const r = await link.request<{ killed: boolean; graceS: number }>('act', { name: 'restart-daemon', args: { daemon: 'stubborn' } });
    expect(r.result).to.deep.equal({ killed: true, graceS: 1 });
    expect(Date.now() - t0).to.be.at.least(1000);
    expect(await ended(p)).to.equal('SIGKILL');
    expect(existsSync(join(root, 'run/vipdrill/daemons/stubborn.kick'))).to.equal(true);
  });

  it('refuses a daemon name that is not a plain word', async () => {
    const e = await link.request('act', { name: 'restart-daemon', args: { daemon: '../x' } }).then(() => 'answered', (x: Error) => x.message);
    expect(e).to.match(/restart-daemon needs args.daemon/);
  });
});
