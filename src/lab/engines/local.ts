import { existsSync } from 'node:fs';
import Docker from 'dockerode';
import { VipdrillError } from '../../errors.js';
import { parseIpRoutes, runHost } from '../../util/host.js';
import type { EngineInfo, Route } from '../engine.js';
import { DockerEngine } from './docker.js';

export const DOCKER_SOCKET = process.env.VIPDRILL_DOCKER_SOCKET ?? '/var/run/docker.sock';

/** The host's own Docker engine: the lab shares the host kernel. */
export class LocalEngine extends DockerEngine {
  readonly info: EngineInfo;

  constructor(kernel: string) {
    super(new Docker({ socketPath: DOCKER_SOCKET }));
    this.info = { name: 'local', accel: 'native', kernel };
  }

  static async connect(): Promise<LocalEngine> {
    const uname = await runHost('uname', ['-r']);
    const engine = new LocalEngine(uname.stdout.trim());
    try {
      await engine.docker.ping();
    } catch (e) {
      throw new VipdrillError('ENGINE_FAILED', `cannot reach Docker at ${DOCKER_SOCKET}: ${(e as Error).message}. Start it (dockerd &) or run 'vipdrill preflight'.`);
    }
    return engine;
  }

  async routes(): Promise<Route[]> {
    const r = await runHost('ip', ['-j', '-4', 'route', 'show', 'table', 'all']);
    if (r.code !== 0) throw new VipdrillError('ENGINE_FAILED', `ip route failed: ${r.stderr.trim()}`);
    return parseIpRoutes(r.stdout).filter((x) => !['local', 'broadcast', 'multicast', 'anycast'].includes(x.type ?? ''));
  }

  hasDevice(path: string): Promise<boolean> {
    return Promise.resolve(existsSync(path));
  }
}
