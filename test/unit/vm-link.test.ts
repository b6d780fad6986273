import { connect as netConnect } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import ssh2 from 'ssh2';
import { ed25519KeyPair } from '../../src/lab/ssh-keys.js';
import { kernelStall } from '../../src/lab/vm/qemu.js';
import { connectSsh, forwardDockerSocket, SshLink, type SshTarget } from '../../src/lab/vm/ssh.js';

/** An in-process SSH server on 127.0.0.1 that answers every exec with "ran <command>", and can drop its clients. */
async function sshServer(keys?: { host: ReturnType<typeof ed25519KeyPair>; user: ReturnType<typeof ed25519KeyPair>; port: number }) {
  const host = keys?.host ?? ed25519KeyPair('test host');
  const user = keys?.user ?? ed25519KeyPair('test user');
  const clients = new Set<ssh2.Connection>();
  const srv = new ssh2.Server({ hostKeys: [host.private] }, (c) => {
    clients.add(c);
    c.on('close', () => clients.delete(c));
    c.on('error', () => {});
    c.on('authentication', (ctx) => ctx.accept());
    c.on('ready', () =>
      c.on('session', (accept) =>
        accept().once('exec', (ok, _no, info) => {
          const s = ok();
          s.write(`ran ${info.command}\n`);
          s.exit(0);
          s.end();
        }),
      ),
    );
  });
  await new Promise<void>((r) => srv.listen(keys?.port ?? 0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  const target: SshTarget = { port, privateKey: user.private, hostKey: host.public };
  return {
    target,
    keys: { host, user, port },
    dropClients: () => clients.forEach((c) => c.end()),
    stop: () => new Promise<void>((r) => {
      srv.close(() => r());
      clients.forEach((c) => c.end());
    }),
  };
}

describe('the SSH link to a lab VM', function () {
  this.timeout(20_000);
  // every server a test started is stopped after it, whatever failed: a listening server left behind
  // keeps mocha from exiting (a failed connect once held CI until its 90-minute limit)
  const started: { stop: () => Promise<void> }[] = [];
  const server = async (keys?: Parameters<typeof sshServer>[0]) => {
    const s = await sshServer(keys);
    started.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
  });

  it('redials a connection that dropped, and the next command runs', async () => {
    const s = await server();
    const link = new SshLink(await connectSsh(s.target, 5000), s.target, 5000, () => 'console');
    try {
      expect((await link.exec('uname -r')).stdout).to.equal('ran uname -r\n');
      s.dropClients();
      await new Promise((r) => setTimeout(r, 300));
      expect((await link.exec('true')).stdout).to.equal('ran true\n');
    } finally {
      link.end();
      await s.stop();
    }
  });

  it('a VM that answers again after a failed redial is reached by a call made after the retry interval, not before', async () => {
    const s = await server();
    const link = new SshLink(await connectSsh(s.target, 5000), s.target, 1000, () => 'console', 1500);
    try {
      await s.stop();
      await new Promise((r) => setTimeout(r, 300));
      const lost = await link.exec('true').then(() => undefined, (e: Error) => e);
      expect(lost?.message).to.match(/could not be made again within 1 s/);
      // the VM is back (same port, same keys): within the retry interval the link still reports the loss
      await server(s.keys);
      const soon = await link.exec('true').then(() => undefined, (e: Error) => e);
      expect(soon?.message, 'no dial before the retry interval').to.match(/could not be made again/);
      await new Promise((r) => setTimeout(r, 1600));
      expect((await link.exec('uname -r')).stdout).to.equal('ran uname -r\n');
      expect((await link.exec('true')).stdout).to.equal('ran true\n');
    } finally {
      link.end();
    }
  });

  it('a VM that does not answer again: commands and forwarded sockets fail with what was lost and the console, nothing thrown uncaught', async () => {
    const s = await server();
    const dir = mkdtempSync(join(tmpdir(), 'vipdrill-link-'));
    const link = new SshLink(await connectSsh(s.target, 5000), s.target, 1000, () => '[ 106.5] rcu: rcu_preempt kthread timer wakeup didn\'t happen');
    const srv = await forwardDockerSocket(link, join(dir, 'docker.sock'));
    try {
      await s.stop();
      await new Promise((r) => setTimeout(r, 300));
      const err = await link.exec('true').then(() => undefined, (e: Error) => e);
      expect(err?.message).to.match(/SSH connection to the lab VM was lost .* could not be made again within 1 s/s).and.match(/VM console \(last lines\)[\s\S]*timer wakeup didn't happen/);
      // a docker connection made now is closed with that error, not an uncaught "Not connected"
      const closed = await new Promise<boolean>((r) => {
        const c = netConnect(join(dir, 'docker.sock'));
        c.on('error', () => {});
        c.on('close', () => r(true));
      });
      expect(closed).to.equal(true);
    } finally {
      link.end();
      await new Promise((r) => srv.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kernelStall (the VM console)', () => {
  const consoleWith = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'vipdrill-console-'));
    writeFileSync(join(dir, 'console.log'), text);
    return dir;
  };

  it('a lost timer wakeup is a hung kernel, named by its first stall line', () => {
    const dir = consoleWith([
      'vipdrill-vm login: ',
      '[  106.514000] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:',
      '[  106.514404] rcu: rcu_preempt kthread timer wakeup didn\'t happen for 5251 jiffies! g-1155 f0x0 RCU_GP_WAIT_FQS(5) ->state=0x402',
      '[  106.514959] rcu: \tPossible timer handling issue on cpu=1 timer-softirq=6',
    ].join('\n'));
    expect(kernelStall(dir)).to.deep.equal({ line: 'rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:', hung: true });
  });

  it('a stall without the lost timer (a starved host) is reported but not hung; a clean console has none', () => {
    expect(kernelStall(consoleWith('[ 5.0] rcu: INFO: rcu_preempt self-detected stall on CPU\n'))).to.deep.equal({ line: 'rcu: INFO: rcu_preempt self-detected stall on CPU', hung: false });
    expect(kernelStall(consoleWith('Debian GNU/Linux 12 vipdrill-vm ttyS0\n\nvipdrill-vm login: \n'))).to.equal(undefined);
    expect(kernelStall(join(tmpdir(), 'no-such-vipdrill-dir'))).to.equal(undefined);
  });
});
