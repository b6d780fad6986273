import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { join } from 'node:path';
import Docker from 'dockerode';
import { VipdrillError } from '../../errors.js';
import { parseIpRoutes, runHost } from '../../util/host.js';
import type { Progress } from '../../util/progress.js';
import { waitFor } from '../../util/time.js';
import type { EngineInfo, Route } from '../engine.js';
import { DockerEngine } from '../engines/docker.js';
import { labDirOf, newRunId, type VmRecord } from '../state.js';
import { ensureVmImage, vmImageCached, type VmImage } from './image.js';
import { readImageForAttach } from './attach.js';
import { consoleTail, kernelStall, kvmUsable, rememberAccel, rememberedAccel, startQemu, stopQemu, warmDiskPath, type Accel } from './qemu.js';
import { connectSsh, forwardDockerSocket, SshLink } from './ssh.js';

export { vmImageCached };

const TCG_CAVEAT = 'the lab runs in a qemu VM under TCG emulation: CPU-bound phases (IKE Diffie-Hellman, key derivation) take longer than on hardware';

/**
 * A Debian VM with the stock kernel and Docker inside, for hosts whose kernel lacks PPP, L2TP or ESP.
 * dockerode talks to the VM's Docker through an SSH-forwarded unix socket, so everything above the
 * engine interface is unchanged.
 */
export class VmEngine extends DockerEngine {
  readonly info: EngineInfo;

  private constructor(
    docker: Docker,
    private readonly ssh: SshLink,
    private readonly server: Server,
    readonly vm: VmRecord,
    kernel: string,
  ) {
    super(docker);
    this.info = { name: 'vm', accel: vm.accel, kernel, ...(vm.accel === 'tcg' ? { caveat: TCG_CAVEAT } : {}) };
  }

  static vmDir(lab: string): string {
    return join(labDirOf(lab), 'vm');
  }

  /** Build (if needed) and boot the lab VM, then connect to its Docker. */
  static async boot(lab: string, progress: Progress, runId = newRunId()): Promise<VmEngine> {
    const image = await ensureVmImage(progress);
    const dir = VmEngine.vmDir(lab);
    let accel: Accel = rememberedAccel() ?? (kvmUsable() ? 'kvm' : 'tcg');
    let stalledBoots = 0;
    for (;;) {
      progress.step(`booting the lab VM (${accel.toUpperCase()})`);
      const t0 = performance.now();
      const run = await startQemu({ lab, runId, image, dir, accel }).catch((e: Error) => {
        if (accel === 'kvm') return e;
        throw e;
      });
      if (run instanceof Error) {
        progress.step(`KVM did not start (${run.message.split('\n')[0]}); falling back to TCG`);
        rememberAccel('tcg', run.message);
        accel = 'tcg';
        continue;
      }
      const record: VmRecord = { pid: run.pid, sshPort: run.sshPort, dir, accel, imageDir: image.dir };
      writeFileSync(join(dir, 'vm.json'), JSON.stringify(record) + '\n', { mode: 0o600 });
      try {
        const engine = await VmEngine.connect(lab, image, record, accel === 'kvm' ? 45_000 : Number(process.env.VIPDRILL_VM_BOOT_TIMEOUT_MS ?? 180_000), () => {
          const s = kernelStall(dir);
          return s?.hung ? s.line : undefined;
        });
        progress.step(`VM up: SSH and Docker answered after ${((performance.now() - t0) / 1000).toFixed(1)} s (pid ${run.pid}, ${accel})`);
        if (rememberedAccel() === undefined) rememberAccel(accel, 'booted');
        return engine;
      } catch (e) {
        const tail = consoleTail(dir);
        const stall = kernelStall(dir);
        await stopQemu(run.pid, lab);
        // a TCG boot whose kernel hung (a vCPU's lost timer wakeup, seen here on a first boot on
        // 2026-12-02) does not recover by waiting: one fresh boot, then the error with the console
        if (accel === 'tcg' && stall?.hung && stalledBoots++ === 0) {
          progress.step(`the VM's kernel hung while booting (${stall.line}); booting it again`);
          continue;
        }
        if (accel === 'kvm' && !process.env.VIPDRILL_ACCEL) {
          progress.step('the VM did not come up under KVM; falling back to TCG');
          rememberAccel('tcg', `KVM boot failed: ${(e as Error).message}`);
          accel = 'tcg';
          continue;
        }
        throw new VipdrillError('VM_FAILED', `the lab VM did not answer: ${(e as Error).message}\n--- console (last lines) ---\n${tail}`);
      }
    }
  }

  /** Reconnect to a running lab VM. */
  static async attach(lab: string, vm: VmRecord): Promise<VmEngine> {
    return VmEngine.connect(lab, readImageForAttach(vm.imageDir), vm, 20_000);
  }

  /** `stalled`: what the VM's console shows of a kernel that stopped, which ends the wait at once */
  private static async connect(_lab: string, image: VmImage, vm: VmRecord, timeoutMs: number, stalled?: () => string | undefined): Promise<VmEngine> {
    const target = { port: vm.sshPort, privateKey: image.clientKey, hostKey: image.hostKey };
    const ac = new AbortController();
    const watch = stalled
      ? setInterval(() => {
          const s = stalled();
          if (s) ac.abort(new VipdrillError('VM_FAILED', `the VM's kernel stalled: ${s}`));
        }, 2000)
      : undefined;
    const ssh = await waitFor(
      `SSH on 127.0.0.1:${vm.sshPort} (lab VM pid ${vm.pid})`,
      () => connectSsh(target, 10_000),
      () => true,
      () => 'no answer',
      { timeoutMs, intervalMs: 500, maxIntervalMs: 2000, signal: ac.signal },
    ).finally(() => clearInterval(watch));
    const link = new SshLink(ssh, target, 20_000, () => consoleTail(vm.dir));
    mkdirSync(vm.dir, { recursive: true, mode: 0o700 });
    chmodSync(vm.dir, 0o700);
    // one socket per controller process: `status` may run while `up` or a drill holds its own
    const sock = join(vm.dir, `docker-${process.pid}.sock`);
    const server = await forwardDockerSocket(link, sock);
    const docker = new Docker({ socketPath: sock });
    await waitFor('Docker in the lab VM', () => docker.ping(), () => true, () => 'no answer', { timeoutMs, intervalMs: 500, maxIntervalMs: 2000 });
    const kernel = (await link.exec('uname -r')).stdout.trim();
    return new VmEngine(docker, link, server, vm, kernel);
  }

  async routes(): Promise<Route[]> {
    const r = await this.ssh.exec('ip -j -4 route show table all');
    if (r.code !== 0) throw new VipdrillError('ENGINE_FAILED', `ip route in the VM failed: ${r.stderr.trim()}`);
    return parseIpRoutes(r.stdout).filter((x) => !['local', 'broadcast', 'multicast', 'anycast'].includes(x.type ?? ''));
  }

  async hasDevice(path: string): Promise<boolean> {
    return (await this.ssh.exec(`test -e '${path.replace(/'/g, '')}'`)).code === 0;
  }

  /** Run a command in the VM itself (not in a container). */
  vmExec(command: string, timeoutMs?: number) {
    return this.ssh.exec(command, timeoutMs);
  }

  override async close(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
    rmSync(join(this.vm.dir, `docker-${process.pid}.sock`), { force: true });
    this.ssh.end();
  }

  /**
   * Save this VM's disk as the warm disk the next VMs boot from (the VM image plus Docker holding the
   * lab image `keepTag`, with no container or network), so their `up` skips the image import. Stops
   * the VM. The warm disk is written beside the VM image (keyed by its hash) and replaced atomically:
   * VMs running on the previous one keep their open copy.
   */
  async saveWarmDisk(keepTag: string, progress: Progress): Promise<void> {
    const t0 = performance.now();
    progress.step('saving the VM disk with the lab image, so the next boot skips the import');
    const clean = [
      'set -e',
      'docker ps -aq | xargs -r docker rm -f >/dev/null',
      'docker network prune -f >/dev/null',
      `for i in $(docker images --format '{{.Repository}}:{{.Tag}}' | grep '^vipdrill/' | grep -vxF '${keepTag.replace(/'/g, '')}'); do docker rmi -f "$i" >/dev/null; done`,
      'systemctl stop docker.socket docker.service',
      'sync',
    ].join('\n');
    const r = await this.vmExec(clean, 120_000);
    if (r.code !== 0) throw new VipdrillError('VM_FAILED', `could not prepare the VM disk for saving: ${r.stderr.trim()}`);
    await this.close();
    await stopQemu(this.vm.pid);
    const warm = warmDiskPath(this.vm.imageDir);
    const tmp = `${warm}.${process.pid}.tmp`;
    const c = await runHost('qemu-img', ['convert', '-O', 'qcow2', join(this.vm.dir, 'overlay.qcow2'), tmp], { timeoutMs: 600_000 });
    if (c.code !== 0) {
      rmSync(tmp, { force: true });
      throw new VipdrillError('VM_FAILED', `qemu-img convert failed: ${c.stderr.trim()}`);
    }
    renameSync(tmp, warm);
    progress.step(`warm VM disk saved in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${warm}`);
  }

  /** Stop the VM (the lab inside goes with it). */
  override async destroy(): Promise<void> {
    await this.close().catch(() => {});
    await stopQemu(this.vm.pid);
  }
}
