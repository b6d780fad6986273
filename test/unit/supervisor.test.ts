import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labDir } from '../../src/util/paths.js';

const SBIN = join(labDir, 'images', 'lab', 'rootfs', 'usr', 'local', 'sbin');

/**
 * The lab containers' supervisor (lab/images/lab/rootfs/usr/local/sbin/vipdrill-supervisor) and its
 * handle vipdrill-ctl, run on this machine against a scratch root (VIPDRILL_ROOT): the same scripts every
 * lab container runs. The supervisor sleeps between events instead of polling; these tests hold it to
 * waking for each of them: a daemon's exit, and vipdrill-ctl's start (which its 30 s fallback would not
 * cover in time).
 */
describe('the lab supervisor (bash, real process)', function () {
  this.timeout(20_000);
  let root: string;
  let sup: ChildProcess;
  const env = () => ({ ...process.env, VIPDRILL_ROOT: root });
  const log = () => (existsSync(join(root, 'var/log/vipdrill/supervisor.log')) ? readFileSync(join(root, 'var/log/vipdrill/supervisor.log'), 'utf8') : '');
  /** supervisor.log lines as [lab time, text] */
  const lines = () => log().split('\n').filter(Boolean).map((l) => { const i = l.indexOf(' '); return [Number(l.slice(0, i)), l.slice(i + 1)] as const; });
  const until = async (what: string, pred: () => boolean, ms = 5000) => {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > ms) throw new Error(`${what} not seen within ${ms} ms; supervisor.log:\n${log()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const pidOf = (n: string) => Number(readFileSync(join(root, `run/vipdrill/daemons/${n}.pid`), 'utf8'));
  const ctl = (...args: string[]) => execFileSync('bash', [join(SBIN, 'vipdrill-ctl'), ...args], { env: env(), encoding: 'utf8' });
  const starts = (n: string) => lines().filter(([, l]) => l.startsWith(`supervisor: started ${n} `));
  const exits = (n: string) => lines().filter(([, l]) => l.startsWith(`supervisor: ${n} (pid`));

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'vipdrill-supervisor-'));
    const conf = join(root, 'etc/vipdrill/daemons');
    mkdirSync(conf, { recursive: true });
    writeFileSync(join(conf, 'short.conf'), "CMD='sleep 1'\nDELAY=2\n");
    writeFileSync(join(conf, 'long.conf'), "CMD='sleep 600'\n");
    writeFileSync(join(conf, 'never.conf'), "CMD='sleep 600'\nRESTART=never\n");
    writeFileSync(join(conf, 'order'), 'long\nnever\nshort\n');
    sup = spawn('bash', [join(SBIN, 'vipdrill-supervisor')], { env: env(), stdio: 'ignore' });
    await until('waiting for ready', () => log().includes('waiting for'));
    writeFileSync(join(root, 'etc/vipdrill/ready'), '');
    await until('every daemon started', () => ['long', 'never', 'short'].every((n) => starts(n).length > 0));
  });

  after(() => {
    if (sup.exitCode === null) sup.kill('SIGKILL');
    for (const n of ['long', 'never', 'short']) try { process.kill(pidOf(n), 'SIGKILL'); } catch { /* gone */ }
    rmSync(root, { recursive: true, force: true });
  });

  it('sees a daemon exit at once and restarts it after its DELAY, on the lab clock', async () => {
    await until('short restarted twice', () => starts('short').length >= 3, 10_000);
    const s = starts('short');
    const e = exits('short');
    for (let k = 0; k < 2; k++) {
      const ran = e[k]![0] - s[k]![0];
      const waited = s[k + 1]![0] - e[k]![0];
      expect(ran, `run ${k + 1} of a 1 s daemon, as the supervisor saw it`).to.be.within(0.95, 1.6);
      expect(waited, `restart ${k + 1} after DELAY=2`).to.be.within(1.99, 2.6);
    }
    // then quiet: no exit wakes the supervisor in the tests below but theirs
    writeFileSync(join(root, 'run/vipdrill/daemons/short.want'), 'down\n');
    const n = starts('short').length;
    await until('short gone for good', () => exits('short').length === n, 4000);
  });

  it('starts a daemon that is not restarted by itself when vipdrill-ctl asks, woken by its signal', async () => {
    process.kill(pidOf('never'), 'SIGTERM');
    await until('never seen dead', () => exits('never').length === 1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(starts('never'), 'RESTART=never stays dead').to.have.length(1);
    const asked = Date.now() / 1000;
    ctl('start', 'never');
    await until('never started again', () => starts('never').length === 2, 5000);
    // the wake-up came from vipdrill-ctl's signal, not the 30 s fallback
    expect(starts('never')[1]![0] - asked).to.be.below(3);
  });

  it('leaves a daemon killed with --leave-dead down, and restarts one killed without it', async () => {
    const pid = pidOf('long');
    expect(ctl('kill', 'long', 'TERM', '--leave-dead').trim()).to.match(/^\d+\.\d+$/);
    await until('long seen dead', () => exits('long').length === 1);
    await new Promise((r) => setTimeout(r, 2500));
    expect(starts('long'), 'left dead').to.have.length(1);
    expect(readFileSync(join(root, 'run/vipdrill/daemons/long.want'), 'utf8').trim()).to.equal('down');
    ctl('start', 'long');
    await until('long started again', () => starts('long').length === 2);
    expect(pidOf('long')).to.not.equal(pid);
  });

  it('stops every daemon and exits 0 on SIGTERM', async () => {
    const pids = ['long', 'never', 'short'].map(pidOf);
    const code = new Promise<number | null>((r) => sup.on('exit', (c) => r(c)));
    sup.kill('SIGTERM');
    expect(await code).to.equal(0);
    await new Promise((r) => setTimeout(r, 200));
    for (const p of pids.slice(0, 2)) expect(() => process.kill(p, 0), `daemon pid ${p} ended`).to.throw();
  });
});
