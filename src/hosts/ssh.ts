import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { PassThrough } from 'node:stream';
import ssh2 from 'ssh2';
import { VipdrillError } from '../errors.js';
import { parseSshTarget, type SshAddress } from '../topology/remote.js';
import type { Attached, ExecResult } from '../lab/engine.js';

/** One host's SSH access as the topology gives it, with paths resolved against the topology file. */
export interface SshAccess {
  ssh: string;
  identity?: string;
  hostKey?: string;
  knownHosts?: string;
  become?: 'sudo';
}

/** An argv as one POSIX shell word list (what an SSH exec runs is a command line). */
export function shellQuote(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}

const keyBlob = (line: string) => Buffer.from(line.trim().split(/\s+/)[1] ?? '', 'base64');
export const fingerprintOf = (blob: Buffer) => 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');

/** The host keys pinned for an address: the topology's hostKey, else the known_hosts lines naming it (hashed names too). */
export function pinnedKeys(a: SshAddress, access: SshAccess): { keys: Buffer[]; source: string } {
  if (access.hostKey) return { keys: [keyBlob(access.hostKey)], source: 'hostKey in the topology' };
  const file = access.knownHosts ?? join(homedir(), '.ssh', 'known_hosts');
  if (!existsSync(file)) return { keys: [], source: file };
  const name = a.port === 22 ? a.host : `[${a.host}]:${a.port}`;
  const keys: Buffer[] = [];
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('@revoked')) continue;
    const [hosts, type, key] = line.replace(/^@cert-authority\s+/, '').split(/\s+/);
    if (!hosts || !type || !key) continue;
    const match = hosts.split(',').some((h) => {
      if (h.startsWith('|1|')) {
        const [, , salt, hash] = h.split('|');
        // hashed names: |1|<salt>|<HMAC-SHA1 of the name keyed with the salt>
        return createHmac('sha1', Buffer.from(salt ?? '', 'base64')).update(name).digest('base64') === hash;
      }
      return h === name;
    });
    if (match) keys.push(Buffer.from(key, 'base64'));
  }
  return { keys, source: file };
}

/**
 * One SSH connection to a host (through a jump host if given), with its host key pinned: a key that
 * is not the pinned one is refused before anything is sent. Commands run with `sudo -n` when the access
 * says `become: sudo`.
 */
export class SshHost {
  private closedWhy: string | undefined;
  private constructor(
    readonly label: string,
    readonly address: SshAddress,
    private readonly client: ssh2.Client,
    private readonly jump: ssh2.Client | undefined,
    readonly become: boolean,
  ) {
    client.on('close', () => (this.closedWhy ??= 'the SSH connection closed'));
    client.on('error', (e: Error) => (this.closedWhy ??= `the SSH connection broke: ${e.message}`));
  }

  get isOpen(): boolean {
    return this.closedWhy === undefined;
  }

  static async connect(label: string, access: SshAccess, jump?: { label: string; access: SshAccess }, timeoutMs = 20_000): Promise<SshHost> {
    let via: ssh2.Client | undefined;
    if (jump) via = await open(jump.label, parseSshTarget(jump.access.ssh), jump.access, undefined, timeoutMs);
    try {
      const a = parseSshTarget(access.ssh);
      const c = await open(label, a, access, via, timeoutMs);
      return new SshHost(label, a, c, via, access.become === 'sudo');
    } catch (e) {
      via?.end();
      throw e;
    }
  }

  /** The command line for argv, through `sudo -n` when this host needs it. */
  commandLine(argv: string[]): string {
    return shellQuote(this.become ? ['sudo', '-n', '--', ...argv] : argv);
  }

  exec(argv: string[], opts: { timeoutMs?: number; stdin?: string; plain?: boolean } = {}): Promise<ExecResult> {
    const cmd = opts.plain ? shellQuote(argv) : this.commandLine(argv);
    const timeoutMs = opts.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      if (!this.isOpen) return reject(new VipdrillError('EXEC_FAILED', `${this.label}: ${this.closedWhy}`));
      this.guard(reject, () => this.client.exec(cmd, (err, stream) => {
        if (err) return reject(new VipdrillError('EXEC_FAILED', `${this.label}: ${err.message}`));
        let stdout = '';
        let stderr = '';
        const t = setTimeout(() => {
          stream.close();
          reject(new VipdrillError('TIMEOUT', `${this.label}: ${argv.join(' ')} did not finish within ${timeoutMs} ms`));
        }, timeoutMs);
        stream.on('data', (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        stream.on('close', (code: number | null) => {
          clearTimeout(t);
          resolve({ exitCode: code ?? -1, stdout, stderr });
        });
        stream.end(opts.stdin ?? '');
      }));
    });
  }

  /**
   * Run an ssh2 call that throws at once on a connection that died without a close event yet (a host
   * powered off under a forwarded channel): the connection counts as closed from then on.
   */
  private guard(reject: (e: Error) => void, call: () => void): void {
    try {
      call();
    } catch (e) {
      this.closedWhy ??= `the SSH connection is gone: ${(e as Error).message}`;
      reject(new VipdrillError('EXEC_FAILED', `${this.label}: ${this.closedWhy}`));
    }
  }

  /** A long-lived command with stdin and stdout kept open (the agent's stream). */
  attach(argv: string[]): Promise<Attached> {
    return new Promise((resolve, reject) => {
      this.guard(reject, () => this.client.exec(this.commandLine(argv), (err, stream) => {
        if (err) return reject(new VipdrillError('EXEC_FAILED', `${this.label}: ${err.message}`));
        let tail = '';
        stream.stderr.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-4096)));
        const stdout = new PassThrough();
        stream.pipe(stdout);
        const closed = new Promise<void>((r) => stream.once('close', () => r()));
        resolve({ stdin: stream, stdout, stderrTail: () => tail, closed, close: () => stream.close() });
      }));
    });
  }

  /** Write files (SFTP to a private temporary folder, then installed in place with their mode, through sudo if needed). */
  async put(files: { path: string; content: string | Buffer; mode: number }[]): Promise<void> {
    const tmp = (await this.exec(['mktemp', '-d', '/tmp/vipdrill.XXXXXXXX'], { plain: true })).stdout.trim();
    if (!tmp.startsWith('/tmp/vipdrill.')) throw new VipdrillError('EXEC_FAILED', `${this.label}: mktemp -d failed`);
    try {
      const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) => this.client.sftp((e, s) => (e ? reject(e) : resolve(s))));
      for (const [i, f] of files.entries()) {
        await new Promise<void>((resolve, reject) => sftp.writeFile(`${tmp}/${i}`, f.content, { mode: 0o600 }, (e) => (e ? reject(e) : resolve())));
      }
      sftp.end();
      for (const [i, f] of files.entries()) {
        const r = await this.exec(['install', '-D', '-m', (f.mode & 0o777).toString(8), `${tmp}/${i}`, f.path]);
        if (r.exitCode !== 0) throw new VipdrillError('EXEC_FAILED', `${this.label}: installing ${f.path} failed: ${r.stderr.trim()}`);
      }
    } finally {
      await this.exec(['rm', '-rf', tmp], { plain: true }).catch(() => {});
    }
  }

  close(): void {
    this.closedWhy ??= 'closed by the controller';
    this.client.end();
    this.jump?.end();
  }
}

function open(label: string, a: SshAddress, access: SshAccess, via: ssh2.Client | undefined, timeoutMs: number): Promise<ssh2.Client> {
  const pinned = pinnedKeys(a, access);
  if (pinned.keys.length === 0) {
    return Promise.reject(
      new VipdrillError(
        'SSH_HOST_KEY',
        `${label} (${a.host}:${a.port}): no host key is pinned (none in ${pinned.source}). Fix: add hostKey: "<type> <base64>" to the topology (ssh-keyscan -p ${a.port} ${a.host} prints it; compare its fingerprint with the host's own, out of band), or an entry in known_hosts`,
      ),
    );
  }
  let privateKey: Buffer | undefined;
  if (access.identity) {
    const mode = statSync(access.identity).mode & 0o077;
    if (mode !== 0) return Promise.reject(new VipdrillError('CONFIG_INVALID', `${label}: the identity file ${access.identity} is readable by others (mode ${(statSync(access.identity).mode & 0o777).toString(8)}). Fix: chmod 600 ${access.identity}`));
    privateKey = readFileSync(access.identity);
  } else if (!process.env.SSH_AUTH_SOCK) {
    return Promise.reject(new VipdrillError('CONFIG_INVALID', `${label}: no identity: file is given and no SSH agent runs ($SSH_AUTH_SOCK is unset). Fix: give identity: <key file>, or start ssh-agent and ssh-add the key`));
  }
  return new Promise((resolve, reject) => {
    const c = new ssh2.Client();
    let presented: string | undefined;
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      c.end();
      reject(e);
    };
    c.once('ready', () => {
      settled = true;
      resolve(c);
    });
    c.on('error', (e: Error) => {
      if (presented) fail(new VipdrillError('SSH_HOST_KEY', `${label} (${a.host}:${a.port}) presented host key ${presented}, which is not the one pinned by ${pinned.source} (${pinned.keys.map(fingerprintOf).join(', ')}): refused, nothing was sent. If the host was rebuilt, check the new key out of band and pin it`));
      else fail(new VipdrillError('SSH_FAILED', `${label}: cannot connect to ${a.user}@${a.host}:${a.port}: ${e.message}`));
    });
    const connect = (sock?: NodeJS.ReadableStream) =>
      c.connect({
        ...(sock ? { sock: sock as never } : { host: a.host, port: a.port }),
        username: a.user,
        ...(privateKey ? { privateKey } : { agent: process.env.SSH_AUTH_SOCK }),
        readyTimeout: timeoutMs,
        keepaliveInterval: 5000,
        keepaliveCountMax: 6,
        hostVerifier: (key: Buffer) => {
          const ok = pinned.keys.some((k) => k.length === key.length && timingSafeEqual(k, key));
          if (!ok) presented = fingerprintOf(key);
          return ok;
        },
      });
    if (!via) return connect();
    via.forwardOut('127.0.0.1', 0, a.host, a.port, (err, stream) => (err ? fail(new VipdrillError('SSH_FAILED', `${label}: the jump host could not reach ${a.host}:${a.port}: ${err.message}`)) : connect(stream)));
  });
}

/** Resolve an access's file paths against the topology file's folder. */
export function resolveAccess<T extends SshAccess>(access: T, topologyFile: string): T {
  const abs = (p: string | undefined) => (p === undefined ? undefined : isAbsolute(p) ? p : join(dirname(topologyFile), p));
  return { ...access, ...(access.identity ? { identity: abs(access.identity) } : {}), ...(access.knownHosts ? { knownHosts: abs(access.knownHosts) } : {}) };
}
