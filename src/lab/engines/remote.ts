import { spawn } from 'node:child_process';
import { VipdrillError } from '../../errors.js';
import { SshHost, type SshAccess } from '../../hosts/ssh.js';
import { HOST_PATHS } from '../../hosts/paths.js';
import type { Attached, Engine, EngineInfo, ExecResult, LabelledObjects, Route } from '../engine.js';

/** A node's power commands (node-crash on real hosts), run on this machine. */
export interface PowerCommands {
  off: string;
  on: string;
}

const refuse = (what: string): never => {
  throw new VipdrillError('REMOTE_REFUSED', `real hosts: vipdrill ${what}`);
};

/**
 * Existing hosts reached over SSH, behind the Engine interface the run uses: a "container" is a host by
 * its logical name. vipdrill creates nothing there: networks, containers and images are refused. The
 * agent is copied over SFTP and started through sudo where needed, and removed at close. A host's
 * state is its SSH connection; a crash and a start are the user's power commands, nothing else.
 */
export class RemoteEngine implements Engine {
  readonly info: EngineInfo;
  private readonly down = new Map<string, number>();
  /** hosts vipdrill copied its agent to (removed at close) */
  private readonly touched = new Set<string>();

  private constructor(
    private readonly hosts: Map<string, SshHost>,
    private readonly access: Map<string, { access: SshAccess; jump?: { label: string; access: SshAccess } }>,
    private readonly power: Record<string, PowerCommands>,
    kernel: string,
  ) {
    this.info = { name: 'remote', accel: 'native', kernel, caveat: 'real hosts over SSH: figures are taken on each host\'s own clock' };
  }

  /** Connect to every host at once; the first failure is thrown with every host's outcome. */
  static async connect(access: Map<string, { access: SshAccess; jump?: { label: string; access: SshAccess } }>, power: Record<string, PowerCommands>): Promise<RemoteEngine> {
    const results = await Promise.allSettled([...access].map(async ([name, a]) => [name, await SshHost.connect(name, a.access, a.jump)] as const));
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    if (failed.length > 0) {
      for (const [, h] of ok) h.close();
      throw failed[0]!;
    }
    const hosts = new Map(ok);
    const first = hosts.values().next().value!;
    const kernel = (await first.exec(['uname', '-r'], { plain: true })).stdout.trim();
    return new RemoteEngine(hosts, access, power, kernel);
  }

  ssh(name: string): SshHost {
    const h = this.hosts.get(name);
    if (!h) throw new VipdrillError('CONFIG_INVALID', `no remote host named "${name}" (hosts: ${[...this.hosts.keys()].join(', ')})`);
    return h;
  }

  get names(): string[] {
    return [...this.hosts.keys()];
  }

  routes(): Promise<Route[]> {
    return Promise.resolve([]);
  }
  labBridges(): Promise<string[]> {
    return Promise.resolve([]);
  }
  hasDevice(): Promise<boolean> {
    return Promise.resolve(false);
  }
  hasImage(): Promise<boolean> {
    return Promise.resolve(false);
  }
  importImage(): Promise<void> {
    return refuse('imports no image onto existing hosts');
  }
  createNetwork(): Promise<string> {
    return refuse('creates no network on existing hosts');
  }
  removeNetwork(): Promise<void> {
    return refuse('removes no network from existing hosts');
  }
  createContainer(): Promise<string> {
    return refuse('creates no container on existing hosts');
  }
  removeContainer(): Promise<void> {
    return refuse('removes nothing it did not create');
  }

  async containerState(name: string): Promise<string | undefined> {
    if (this.down.has(name)) return 'exited';
    const h = this.hosts.get(name);
    if (!h) return undefined;
    if (h.isOpen) return 'running';
    // a dropped connection: one quick try to reconnect before the host counts as unreachable
    try {
      const a = this.access.get(name)!;
      this.hosts.set(name, await SshHost.connect(name, a.access, a.jump, 5_000));
      return 'running';
    } catch {
      return 'unreachable';
    }
  }

  /** Unknown: a power-off's moment is the host's, and it is gone (the controller's clock is not the hosts'). */
  containerFinishedAt(): Promise<number | undefined> {
    return Promise.resolve(undefined);
  }

  /** node-crash: the user's power-off command for the node; without one it is refused. */
  async killContainer(name: string): Promise<void> {
    const p = this.power[name];
    if (!p) refuse(`crashes a real node only through a power command you give (remote.crash.${name}: {off, on}, e.g. an IPMI or hypervisor power-off); none is given for ${name}`);
    await runLocal(`power off ${name}`, p!.off);
    this.hosts.get(name)?.close();
    this.down.set(name, Date.now() / 1000);
  }

  /** The node's power-on command, then until SSH answers again (5 min at most). */
  async startContainer(name: string): Promise<void> {
    const p = this.power[name];
    if (!p) refuse(`starts a real node only through the power-on command you give (remote.crash.${name}.on)`);
    await runLocal(`power on ${name}`, p!.on);
    const a = this.access.get(name)!;
    const t0 = Date.now();
    for (;;) {
      try {
        this.hosts.set(name, await SshHost.connect(name, a.access, a.jump, 10_000));
        this.down.delete(name);
        return;
      } catch (e) {
        if (Date.now() - t0 > 300_000) throw new VipdrillError('TIMEOUT', `${name} did not answer over SSH within 5 min of its power-on: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  }

  stopContainer(name: string): Promise<void> {
    return refuse(`stops no whole host (${name}): stop a service with kill-daemon instead`);
  }
  pauseContainer(name: string): Promise<void> {
    return refuse(`freezes no whole host (${name}): freeze a service with kill-daemon signal STOP instead`);
  }
  unpauseContainer(): Promise<void> {
    return Promise.resolve();
  }

  exec(name: string, argv: string[], opts?: { timeoutMs?: number }): Promise<ExecResult> {
    return this.ssh(name).exec(argv, opts);
  }

  attach(name: string, argv: string[]): Promise<Attached> {
    return this.ssh(name).attach(argv);
  }

  putFiles(name: string, files: { path: string; content: string | Buffer; mode: number }[]): Promise<void> {
    this.touched.add(name);
    return this.ssh(name).put(files);
  }

  list(): Promise<LabelledObjects> {
    return Promise.resolve({ containers: [], networks: [] });
  }

  /**
   * Remove the agent vipdrill copied to each host, then close the connections. A host with a lease still
   * armed (a revert that failed) keeps it: its watchdog runs the revert through it when the lease lapses.
   */
  async close(): Promise<void> {
    await Promise.all(
      [...this.hosts].map(async ([name, h]) => {
        if (h.isOpen && this.touched.has(name)) {
          const leases = await h.exec(['ls', '-A', `${HOST_PATHS.run}/leases`], { timeoutMs: 10_000 }).catch(() => undefined);
          if (!leases?.stdout.trim()) await h.exec(['rm', '-rf', dirOf(HOST_PATHS.agent)], { timeoutMs: 10_000 }).catch(() => {});
        }
        h.close();
      }),
    );
  }

  destroy(): Promise<void> {
    return this.close();
  }
}

const dirOf = (p: string) => p.slice(0, p.lastIndexOf('/'));

function runLocal(what: string, command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new VipdrillError('FAULT_FAILED', `${what}: the command exited ${code}: ${out.trim().slice(-300)}`))));
  });
}
