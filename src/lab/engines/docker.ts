import { PassThrough, type Readable } from 'node:stream';
import Docker from 'dockerode';
import tar from 'tar-stream';
import { VipdrillError } from '../../errors.js';
import type { Attached, ContainerSpec, Engine, EngineInfo, ExecResult, LabelledObjects, NetworkSpec, Route } from '../engine.js';
import { LABEL_LAB } from '../engine.js';

function labelFilters(labels: Record<string, string | undefined>): string[] {
  return Object.entries(labels).map(([k, v]) => (v === undefined ? k : `${k}=${v}`));
}

/** Docker's RFC 3339 times with nanoseconds ("2026-12-01T12:25:00.123456789Z") as epoch seconds, to the microsecond; the zero time is undefined. */
export function parseRfc3339(s: string | undefined): number | undefined {
  const m = s ? /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(s) : null;
  if (!m || m[1]!.startsWith('0001-')) return undefined;
  return Date.parse(`${m[1]}Z`) / 1000 + Number(`0.${(m[2] ?? '0').slice(0, 6)}`);
}

function isNotFound(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'statusCode' in e && (e as { statusCode: number }).statusCode === 404;
}

/**
 * The Docker API side shared by the local and VM engines. Subclasses say where the Docker socket is
 * and how to read the kernel's routes.
 */
export abstract class DockerEngine implements Engine {
  abstract readonly info: EngineInfo;
  protected constructor(protected readonly docker: Docker) {}

  abstract routes(): Promise<Route[]>;
  abstract hasDevice(path: string): Promise<boolean>;

  async labBridges(): Promise<string[]> {
    const nets = await this.docker.listNetworks({ filters: { label: [LABEL_LAB] } });
    return nets.map((n) => n.Options?.['com.docker.network.bridge.name'] ?? `br-${n.Id.slice(0, 12)}`);
  }

  async hasImage(tag: string): Promise<boolean> {
    try {
      await this.docker.getImage(tag).inspect();
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  async importImage(tag: string, rootfsTar: Readable, changes: string[], labels: Record<string, string>): Promise<void> {
    const [repo, version] = tag.split(':');
    const allChanges = [...changes, ...Object.entries(labels).map(([k, v]) => `LABEL ${k}=${v}`)];
    // dockerode's types say importImage(file: string), but it streams any readable body
    const importImage = this.docker.importImage.bind(this.docker) as unknown as (file: Readable, opts: object) => Promise<Readable>;
    const stream = await importImage(rootfsTar, { repo, tag: version, changes: allChanges });
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => {
        const failed = out?.find((o) => o.error);
        if (err || failed) reject(new VipdrillError('IMAGE_BUILD_FAILED', `docker import of ${tag} failed: ${err?.message ?? failed?.error}`));
        else resolve();
      });
    });
  }

  async createNetwork(spec: NetworkSpec): Promise<string> {
    const net = await this.docker.createNetwork({
      Name: spec.name,
      Driver: 'bridge',
      // Not `Internal`: Docker drops bridged traffic whose source lies outside an internal network's
      // subnet (the client pool behind the nodes). The lab is isolated instead by having no NAT to the
      // outside and no default route in any container (removed at setup).
      Internal: false,
      Options: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
      CheckDuplicate: true,
      IPAM: { Driver: 'default', Config: [{ Subnet: spec.subnet }] },
      Labels: spec.labels,
    });
    return net.id;
  }

  async removeNetwork(idOrName: string): Promise<void> {
    try {
      await this.docker.getNetwork(idOrName).remove();
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const [first, ...rest] = spec.networks;
    const c = await this.docker.createContainer({
      name: spec.name,
      Hostname: spec.hostname,
      Image: spec.image,
      Labels: spec.labels,
      HostConfig: {
        CapAdd: spec.capAdd,
        Devices: spec.devices.map((d) => ({ PathOnHost: d, PathInContainer: d, CgroupPermissions: 'rwm' })),
        Sysctls: spec.sysctls,
        NetworkMode: first?.network ?? 'none',
        Init: false,
        // /run starts empty at every container start: no stale PIDs or state after a restart
        Tmpfs: { '/run': 'rw,mode=755', ...(spec.init === 'systemd' ? { '/run/lock': 'rw,mode=1777', '/tmp': 'rw,mode=1777' } : {}) },
        ...(spec.init === 'systemd' ? { Privileged: true, CgroupnsMode: 'private' } : {}),
      },
      ...(spec.init === 'systemd' ? { Entrypoint: ['/lib/systemd/systemd'], Cmd: [], Env: ['container=docker'], StopSignal: 'SIGRTMIN+3' } : {}),
      NetworkingConfig: first
        ? { EndpointsConfig: { [first.network]: { IPAMConfig: { IPv4Address: first.ipv4 } } } }
        : undefined,
    });
    for (const n of rest) {
      await this.docker.getNetwork(n.network).connect({ Container: c.id, EndpointConfig: { IPAMConfig: { IPv4Address: n.ipv4 } } });
    }
    return c.id;
  }

  async startContainer(idOrName: string): Promise<void> {
    await this.docker.getContainer(idOrName).start();
  }

  async removeContainer(idOrName: string): Promise<void> {
    try {
      await this.docker.getContainer(idOrName).remove({ force: true, v: true });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async killContainer(idOrName: string, signal: string): Promise<void> {
    await this.docker.getContainer(idOrName).kill({ signal });
  }

  async stopContainer(idOrName: string, timeoutSeconds: number): Promise<void> {
    await this.docker.getContainer(idOrName).stop({ t: timeoutSeconds });
  }

  async pauseContainer(idOrName: string): Promise<void> {
    await this.docker.getContainer(idOrName).pause();
  }

  async unpauseContainer(idOrName: string): Promise<void> {
    await this.docker.getContainer(idOrName).unpause();
  }

  async containerState(idOrName: string): Promise<string | undefined> {
    try {
      const i = await this.docker.getContainer(idOrName).inspect();
      return i.State.Paused ? 'paused' : i.State.Status;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async containerFinishedAt(idOrName: string): Promise<number | undefined> {
    const i = await this.docker.getContainer(idOrName).inspect();
    return parseRfc3339(i.State.FinishedAt);
  }

  async exec(idOrName: string, argv: string[], opts: { timeoutMs?: number } = {}): Promise<ExecResult> {
    const container = this.docker.getContainer(idOrName);
    const ex = await container.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
    const stream = await ex.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    const err = new PassThrough();
    const chunks: Buffer[] = [];
    const errChunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    err.on('data', (c: Buffer) => errChunks.push(c));
    this.docker.modem.demuxStream(stream, out, err);
    const timeoutMs = opts.timeoutMs ?? 60_000;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        stream.destroy();
        reject(new VipdrillError('EXEC_FAILED', `exec in ${idOrName} timed out after ${timeoutMs} ms: ${argv.join(' ')}`));
      }, timeoutMs);
      stream.on('end', () => {
        clearTimeout(t);
        resolve();
      });
      stream.on('close', () => {
        clearTimeout(t);
        resolve();
      });
      stream.on('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
    const info = await ex.inspect();
    return { exitCode: info.ExitCode ?? -1, stdout: Buffer.concat(chunks).toString('utf8'), stderr: Buffer.concat(errChunks).toString('utf8') };
  }

  async attach(idOrName: string, argv: string[]): Promise<Attached> {
    const ex = await this.docker.getContainer(idOrName).exec({ Cmd: argv, AttachStdin: true, AttachStdout: true, AttachStderr: true });
    const stream = (await ex.start({ hijack: true, stdin: true }));
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let tail = '';
    stderr.on('data', (c: Buffer) => (tail = (tail + c.toString('utf8')).slice(-4096)));
    this.docker.modem.demuxStream(stream, stdout, stderr);
    const closed = new Promise<void>((resolve) => {
      const done = () => {
        stdout.end();
        resolve();
      };
      stream.once('end', done);
      stream.once('close', done);
      stream.once('error', done);
    });
    return { stdin: stream, stdout, stderrTail: () => tail, closed, close: () => stream.destroy() };
  }

  async putFiles(idOrName: string, files: { path: string; content: string | Buffer; mode: number }[]): Promise<void> {
    const pack = tar.pack();
    const dirs = new Set<string>();
    for (const f of files) {
      const parts = f.path.replace(/^\//, '').split('/');
      for (let i = 1; i < parts.length; i++) {
        const d = parts.slice(0, i).join('/');
        if (!dirs.has(d)) {
          dirs.add(d);
          pack.entry({ name: d, type: 'directory', mode: 0o755 });
        }
      }
      pack.entry({ name: parts.join('/'), mode: f.mode, uid: 0, gid: 0 }, typeof f.content === 'string' ? Buffer.from(f.content) : f.content);
    }
    pack.finalize();
    await this.docker.getContainer(idOrName).putArchive(pack as unknown as NodeJS.ReadableStream, { path: '/' });
  }

  async list(labels: Record<string, string | undefined>): Promise<LabelledObjects> {
    const filters = { label: labelFilters(labels) };
    const [containers, networks] = await Promise.all([
      this.docker.listContainers({ all: true, filters }),
      this.docker.listNetworks({ filters }),
    ]);
    return {
      containers: containers.map((c) => ({ id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, ''), labels: c.Labels, state: c.State })),
      networks: networks.map((n) => ({ id: n.Id, name: n.Name, labels: n.Labels ?? {}, subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? '').filter(Boolean) })),
    };
  }

  async close(): Promise<void> {
    /* dockerode keeps no connection open */
  }

  async destroy(): Promise<void> {
    await this.close();
  }
}
