import { expect } from 'chai';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labDir } from '../../src/util/paths.js';

const SBIN = join(labDir, 'images', 'lab', 'rootfs', 'usr', 'local', 'sbin');
const SCRIPT = join(SBIN, 'vipdrill-reconnect');

/**
 * The client's strongSwan updown script with l2tp.clientRestart (lab image's vipdrill-reconnect), run as
 * charon runs it (PLUTO_VERB in the environment) against a scratch root (VIPDRILL_ROOT), with a stand-in
 * for xl2tpd (a sleep the supervisor's pid file names) and the real vipdrill-ctl beside it.
 */
describe('the client restart on a new CHILD_SA (vipdrill-reconnect, bash, real processes)', () => {
  let root: string;
  let xl2tpd: ReturnType<typeof spawn>;
  let xl2tpdGone: Promise<string | null>;
  const run = (verb: string, id: string) => execFileSync('bash', [SCRIPT], { env: { ...process.env, VIPDRILL_ROOT: root, PLUTO_VERB: verb, PLUTO_UNIQUEID: id, PLUTO_PEER: '10.213.1.100' } });
  const file = (p: string) => join(root, p);
  const log = () => (existsSync(file('var/log/vipdrill/redial.log')) ? readFileSync(file('var/log/vipdrill/redial.log'), 'utf8') : '');

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'vipdrill-reconnect-'));
    mkdirSync(file('etc/vipdrill/daemons'), { recursive: true });
    mkdirSync(file('run/vipdrill/daemons'), { recursive: true });
    writeFileSync(file('etc/vipdrill/daemons/xl2tpd.conf'), "CMD='sleep 60'\n");
    xl2tpd = spawn('sleep', ['60'], { stdio: 'ignore' });
    xl2tpdGone = new Promise((r) => xl2tpd.on('exit', (_c, sig) => r(sig)));
    writeFileSync(file('run/vipdrill/daemons/xl2tpd.pid'), `${xl2tpd.pid}\n`);
  });

  afterEach(() => {
    xl2tpd.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it("a charon's first SA restarts nothing; after an SA was lost, the next one restarts xl2tpd at once; the marks follow the SAs", async () => {
    run('up-host', '1');
    // the mark the client's xl2tpd wrapper dials on, and nothing restarted: xl2tpd dials over the first SA anyway
    expect(readFileSync(file('run/vipdrill/child-up'), 'utf8')).to.equal('1\n');
    expect(existsSync(file('run/vipdrill/child-lost')) && readFileSync(file('run/vipdrill/child-lost'), 'utf8')).to.be.oneOf([false, '']);
    await new Promise((r) => setTimeout(r, 300));
    expect(xl2tpd.exitCode === null && xl2tpd.signalCode === null, 'xl2tpd still runs').to.equal(true);
    expect(log()).to.equal('');

    // DPD declared the holder dead: the SA goes
    run('down-host', '1');
    expect(readFileSync(file('run/vipdrill/child-up'), 'utf8'), 'the mark emptied (the wrapper tests -s)').to.equal('');
    expect(readFileSync(file('run/vipdrill/child-lost'), 'utf8')).to.equal('1\n');

    // the new holder's SA: xl2tpd is killed before the script returns to charon, and wanted up again at
    // once (the supervisor starts it on the kick when its child exits)
    run('up-host', '2');
    expect(await xl2tpdGone).to.equal('SIGKILL');
    expect(log()).to.match(/^\d+\.\d+ vipdrill-reconnect: CHILD_SA 2 to 10\.213\.1\.100 installed after an earlier one: restarting xl2tpd/m).and.match(new RegExp(`vipdrill-reconnect: xl2tpd \\(pid ${xl2tpd.pid}\\) killed: the supervisor starts it again at once$`, 'm'));
    expect(readFileSync(file('run/vipdrill/daemons/xl2tpd.want'), 'utf8').trim()).to.equal('up');
    expect(existsSync(file('run/vipdrill/daemons/xl2tpd.kick'))).to.equal(true);
    expect(readFileSync(file('run/vipdrill/child-up'), 'utf8')).to.equal('2\n');
    expect(readFileSync(file('run/vipdrill/child-lost'), 'utf8')).to.equal('');
  });

  it('a second SA with no down-host before it (an SA replaced, not deleted) restarts xl2tpd too', async () => {
    run('up-host', '1');
    run('up-host', '2');
    expect(await xl2tpdGone).to.equal('SIGKILL');
    expect(log()).to.match(/CHILD_SA 2 to 10\.213\.1\.100 installed after an earlier one: restarting xl2tpd/);
  });

  it('xl2tpd not running: the supervisor is woken to start it, and the script still returns at once', () => {
    run('up-host', '1');
    xl2tpd.kill('SIGKILL');
    const sup = spawn('sleep', ['60'], { stdio: 'ignore' });
    const woken = new Promise((r) => sup.on('exit', (_c, sig) => r(sig)));
    writeFileSync(file('run/vipdrill/supervisor.pid'), `${sup.pid}\n`);
    return new Promise((r) => xl2tpd.on('exit', r)).then(async () => {
      run('up-host', '2');
      expect(await woken).to.equal('SIGUSR1');
      expect(log()).to.match(/xl2tpd was not running: the supervisor starts it$/m);
      expect(readFileSync(file('run/vipdrill/daemons/xl2tpd.kick'), 'utf8')).to.equal('');
    });
  });

  it('runs no program on the SA paths charon waits for: bash builtins only (each fork is 100s of ms on a slow TCG day)', () => {
    // PATH emptied: any program the script tried to run (mkdir, rm, setsid...) would fail and leave its trace
    const bare = (verb: string, id: string) => spawnSync('/bin/bash', [SCRIPT], { encoding: 'utf8', env: { PATH: '/nonexistent', VIPDRILL_ROOT: root, PLUTO_VERB: verb, PLUTO_UNIQUEID: id, PLUTO_PEER: '10.213.1.100' } });
    mkdirSync(file('var/log/vipdrill'), { recursive: true });
    for (const [v, id] of [['up-host', '1'], ['down-host', '1'], ['up-host', '2']] as const) {
      const r = bare(v, id);
      expect([r.status, r.stderr], `${v} ${id}`).to.deep.equal([0, '']);
    }
    expect(log()).to.match(/xl2tpd \(pid \d+\) killed/);
  });

  it('other verbs (a route or a prepare) change nothing', () => {
    run('prepare-host', '1');
    run('route-host', '1');
    expect(existsSync(file('run/vipdrill/child-up'))).to.equal(false);
    expect(existsSync(file('run/vipdrill/child-lost'))).to.equal(false);
    expect(log()).to.equal('');
  });
});
