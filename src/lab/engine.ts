import type { Readable, Writable } from 'node:stream';

/**
 * The one interface scenarios, faults, probes and the lab lifecycle use to reach a container
 * engine. dockerode (and, for the VM engine, ssh2 and qemu) live only behind it.
 */
export type EngineName = 'local' | 'vm' | 'remote';

export const LABEL_LAB = 'vipdrill.lab';
export const LABEL_RUN = 'vipdrill.run';
export const LABEL_ROLE = 'vipdrill.role';

export type Role = 'node' | 'client' | 'lanhost' | 'router';

export interface EngineInfo {
  name: EngineName;
  /** how the lab kernel runs: natively, or in a VM under KVM or TCG emulation */
  accel: 'native' | 'kvm' | 'tcg';
  kernel: string;
  /** a sentence for reports when timings are distorted (CPU-bound phases under emulation) */
  caveat?: string;
}

export interface NetworkSpec {
  name: string;
  subnet: string;
  labels: Record<string, string>;
}

export interface ContainerSpec {
  name: string;
  hostname: string;
  image: string;
  labels: Record<string, string>;
  /** the first network is attached at create time, the rest before start */
  networks: { network: string; ipv4: string }[];
  capAdd: string[];
  devices: string[];
  sysctls: Record<string, string>;
  /**
   * 'systemd': the container boots systemd as PID 1 (`up --systemd` nodes). It runs privileged, which
   * systemd needs for its cgroups; every other container runs the image's tini and vipdrill's supervisor.
   */
  init?: 'systemd';
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A long-lived process in a container whose stdin and stdout stay open: the agent's one stream. */
export interface Attached {
  stdin: Writable;
  stdout: Readable;
  /** what the process wrote to stderr so far (the last 4 KiB) */
  stderrTail(): string;
  /** settles when the stream ends (the process exited, the container stopped, the connection broke) */
  closed: Promise<void>;
  /** end the stream now (the process sees EOF on stdin, or is cut off) */
  close(): void;
}

export interface Route {
  dst: string;
  dev?: string;
  protocol?: string;
}

export interface LabelledObjects {
  containers: { id: string; name: string; labels: Record<string, string>; state: string }[];
  networks: { id: string; name: string; labels: Record<string, string>; subnets: string[] }[];
}

export interface Engine {
  readonly info: EngineInfo;
  /** routes of the kernel the lab networks will live in (host or VM) */
  routes(): Promise<Route[]>;
  /** bridge device names of networks carrying LABEL_LAB, so the guard skips the lab's own routes */
  labBridges(): Promise<string[]>;
  hasDevice(path: string): Promise<boolean>;

  hasImage(tag: string): Promise<boolean>;
  /** import a root filesystem tar as an image, with Dockerfile-style changes (ENTRYPOINT ...) */
  importImage(tag: string, rootfsTar: Readable, changes: string[], labels: Record<string, string>): Promise<void>;

  createNetwork(spec: NetworkSpec): Promise<string>;
  removeNetwork(idOrName: string): Promise<void>;
  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(idOrName: string): Promise<void>;
  removeContainer(idOrName: string): Promise<void>;
  /** send a signal to PID 1 of the container (docker kill) */
  killContainer(idOrName: string, signal: string): Promise<void>;
  stopContainer(idOrName: string, timeoutSeconds: number): Promise<void>;
  pauseContainer(idOrName: string): Promise<void>;
  unpauseContainer(idOrName: string): Promise<void>;
  containerState(idOrName: string): Promise<string | undefined>;
  /**
   * When the container's PID 1 last exited, per the engine (seconds since the epoch). The engine runs
   * on the lab's kernel (the host's, or the lab VM's), so this is the lab clock.
   */
  containerFinishedAt(idOrName: string): Promise<number | undefined>;

  exec(idOrName: string, argv: string[], opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** start `argv` in the container with stdin and stdout attached, for as long as the caller keeps it */
  attach(idOrName: string, argv: string[]): Promise<Attached>;
  putFiles(idOrName: string, files: { path: string; content: string | Buffer; mode: number }[]): Promise<void>;

  list(labels: Record<string, string | undefined>): Promise<LabelledObjects>;
  /** release connections (the lab keeps running) */
  close(): Promise<void>;
  /** stop what the engine itself runs for the lab (the VM); a no-op for the local engine */
  destroy(): Promise<void>;
  /** the VM behind the engine, if any */
  readonly vm?: { pid: number; sshPort: number; dir: string; accel: 'kvm' | 'tcg'; imageDir: string };
}
