import { createHash, timingSafeEqual } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import ssh2 from 'ssh2';
import { VipdrillError } from '../../errors.js';

export interface SshTarget {
  port: number;
  privateKey: string;
  /** OpenSSH public key line of the VM's host key: the only one accepted */
  hostKey: string;
}

function hostKeyBlob(line: string): Buffer {
  return Buffer.from(line.trim().split(/\s+/)[1] ?? '', 'base64');
}

export function connectSsh(t: SshTarget, timeoutMs: number): Promise<ssh2.Client> {
  const pinned = hostKeyBlob(t.hostKey);
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    let settled = false;
    c.once('ready', () => {
      settled = true;
      resolve(c);
    });
    // ssh2 may emit several errors for one failed attempt; only the first one counts
    c.on('error', (e) => {
      if (settled) return;
      settled = true;
      c.end();
      reject(e);
    });
    c.connect({
      host: '127.0.0.1',
      port: t.port,
      username: 'root',
      privateKey: t.privateKey,
      readyTimeout: timeoutMs,
      keepaliveInterval: 5000,
      keepaliveCountMax: 6,
      hostVerifier: (key: Buffer) => key.length === pinned.length && timingSafeEqual(key, pinned),
    });
  });
}

export function sshExec(c: ssh2.Client, command: string, timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    c.exec(command, (err, stream) => {
      if (err) return reject(err);
      let stdout = '';
      let stderr = '';
      const t = setTimeout(() => {
        stream.close();
        reject(new VipdrillError('EXEC_FAILED', `ssh exec timed out after ${timeoutMs} ms: ${command}`));
      }, timeoutMs);
      stream.on('data', (d: Buffer) => (stdout += d.toString()));
      stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      stream.on('close', (code: number | null) => {
        clearTimeout(t);
        resolve({ code: code ?? -1, stdout, stderr });
      });
    });
  });
}

/**
 * The controller's one SSH connection to a lab VM, brought back when it drops. A connection that closes
 * by itself (the VM missed 6 keepalives 5 s apart, or sshd went away) is redialled at once, within
 * `redialMs`; if that fails, calls fail with what was lost and `why()` (the VM's console), and the link
 * is dialled again by the first call made `retryMs` or more after the last failed dial. So a VM that
 * stalled for a while (a starved host: CI once lost a test process's link, and every later call of that
 * process failed, though the VM came back) is reached again, and a VM that hung costs a call one dial
 * of `redialMs` at most every `retryMs`, never a wait on every call.
 */
export class SshLink {
  private current: Promise<ssh2.Client>;
  private closing = false;
  /** when the last dial failed (performance.now()), and what was lost before it */
  private failed: { at: number; lost: string } | undefined;

  constructor(
    first: ssh2.Client,
    private readonly target: SshTarget,
    private readonly redialMs: number,
    private readonly why: () => string,
    private readonly retryMs = 10_000,
  ) {
    this.current = Promise.resolve(this.watch(first));
  }

  private watch(c: ssh2.Client): ssh2.Client {
    let lost = '';
    c.on('error', (e: Error) => (lost = e.message));
    c.once('close', () => {
      if (this.closing) return;
      this.dial(lost || 'the connection closed');
    });
    return c;
  }

  /** a new connection in place of a lost one; its failure is every call's error until the next dial */
  private dial(lost: string): void {
    const redial = connectSsh(this.target, this.redialMs).then(
      (n) => {
        this.failed = undefined;
        return this.watch(n);
      },
      (e: Error) => {
        this.failed = { at: performance.now(), lost };
        throw new VipdrillError('VM_FAILED', `the SSH connection to the lab VM was lost (${lost}) and could not be made again within ${this.redialMs / 1000} s (${e.message}); the VM may have hung.\n--- VM console (last lines) ---\n${this.why()}`);
      },
    );
    redial.catch(() => {});
    this.current = redial;
  }

  client(): Promise<ssh2.Client> {
    if (this.failed && !this.closing && performance.now() - this.failed.at >= this.retryMs) {
      const { lost } = this.failed;
      this.failed = undefined;
      this.dial(lost);
    }
    return this.current;
  }

  exec(command: string, timeoutMs?: number) {
    return this.client().then((c) => sshExec(c, command, timeoutMs));
  }

  end(): void {
    this.closing = true;
    void this.current.then((c) => c.end(), () => {});
  }
}

/**
 * A local unix socket whose connections are carried over the SSH link to the VM's
 * /var/run/docker.sock (OpenSSH stream-local forwarding). dockerode talks to it like a local engine.
 * A connection made while the link is down waits for it to come back, or fails with the link's error.
 */
export function forwardDockerSocket(link: SshLink, localPath: string): Promise<Server> {
  rmSync(localPath, { force: true });
  // allowHalfOpen: the docker CLI half-closes hijacked exec streams and still reads the output
  const srv = createServer({ allowHalfOpen: true }, (sock) => {
    const forward = (c: ssh2.Client) =>
      c.openssh_forwardOutStreamLocal('/var/run/docker.sock', (err, ch) => {
        if (err) {
          sock.destroy(err);
          return;
        }
        sock.pipe(ch).pipe(sock);
        sock.on('error', () => ch.close());
        ch.on('error', () => sock.destroy());
      });
    sock.on('error', () => {});
    // ssh2 throws (not calls back) "Not connected" on a connection that has just closed
    link.client().then(forward).catch((e: Error) => sock.destroy(e));
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(localPath, () => resolve(srv));
  });
}

export function fingerprint(hostKeyLine: string): string {
  return 'SHA256:' + createHash('sha256').update(hostKeyBlob(hostKeyLine)).digest('base64').replace(/=+$/, '');
}
