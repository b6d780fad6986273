import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labDir } from '../../src/util/paths.js';

const SBIN = join(labDir, 'images', 'lab', 'rootfs', 'usr', 'local', 'sbin');

/**
 * keepalived's notify_fifo reader (lab/images/lab/rootfs/usr/local/sbin/vipdrill-fifo), run on this
 * machine against a scratch root (VIPDRILL_ROOT) with a slow stand-in for vipdrill-notify. Every line
 * goes to the VRRP timeline; states that queued while the hook ran are coalesced to the newest, so a
 * stale BACKUP is never applied to a node keepalived has made MASTER again.
 */
describe('the VRRP notify fifo reader (bash, real process)', function () {
  this.timeout(20_000);
  let root: string;
  let reader: ChildProcess;
  let fd: number;
  const fifo = () => join(root, 'run/vipdrill/vrrp.fifo');
  const applied = () => (existsSync(join(root, 'applied')) ? readFileSync(join(root, 'applied'), 'utf8').split('\n').filter(Boolean) : []);
  const timeline = () => readFileSync(join(root, 'var/log/vipdrill/vrrp.log'), 'utf8').split('\n').filter(Boolean).map((l) => l.slice(l.indexOf(' ') + 1));
  const until = async (what: string, pred: () => boolean, ms = 8000) => {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > ms) throw new Error(`${what} not seen within ${ms} ms; applied: ${applied().join(', ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const send = (line: string) => writeSync(fd, `${line}\n`);

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'vipdrill-fifo-'));
    for (const d of ['run/vipdrill', 'var/log/vipdrill', 'usr/local/sbin']) mkdirSync(join(root, d), { recursive: true });
    // the hook: records the state it was given, then takes 1 s (nft under TCG is that slow)
    const hook = join(root, 'usr/local/sbin/vipdrill-notify');
    writeFileSync(hook, `#!/bin/bash\necho "$1" >> "${join(root, 'applied')}"\nsleep 1\n`);
    chmodSync(hook, 0o755);
    execFileSync('mkfifo', [fifo()]);
    reader = spawn('bash', [join(SBIN, 'vipdrill-fifo'), fifo()], { env: { ...process.env, VIPDRILL_ROOT: root }, stdio: 'ignore' });
    fd = openSync(fifo(), 'w'); // as keepalived does: the writer stays open
  });

  after(() => {
    try { closeSync(fd); } catch { /* closed */ }
    if (reader.exitCode === null) reader.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('logs every line, and applies only the newest of the states that queued behind a running hook', async () => {
    send('INSTANCE "VI_1" MASTER 150');
    await until('the first state applied', () => applied().length === 1);
    // while that hook runs: a blip to BACKUP and back, and a group line
    send('INSTANCE "VI_1" BACKUP 150');
    send('GROUP "G1" BACKUP 0');
    send('INSTANCE "VI_1" MASTER 150');
    await until('the queued states handled', () => applied().length >= 2 && timeline().length === 4);
    await new Promise((r) => setTimeout(r, 1500)); // nothing more is applied after the hook returns
    expect(applied()).to.deep.equal(['MASTER', 'MASTER']);
    expect(timeline()).to.deep.equal(['INSTANCE "VI_1" MASTER 150', 'INSTANCE "VI_1" BACKUP 150', 'GROUP "G1" BACKUP 0', 'INSTANCE "VI_1" MASTER 150']);
  });

  it('applies each state that comes alone, in order', async () => {
    send('INSTANCE "VI_1" FAULT 150');
    await until('FAULT applied', () => applied().at(-1) === 'FAULT');
    await new Promise((r) => setTimeout(r, 1200));
    send('INSTANCE "VI_1" BACKUP 150');
    await until('BACKUP applied', () => applied().at(-1) === 'BACKUP');
    expect(applied().slice(2)).to.deep.equal(['FAULT', 'BACKUP']);
  });
});
