import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { VipdrillError } from '../../errors.js';
import { runHost } from '../../util/host.js';
import { cacheDir } from '../../util/paths.js';
import { pidAlive } from '../state.js';
import type { VmImage } from './image.js';

/** Every VM carries this marker in its command line, so `reap` finds it with no state file. */
export const VM_MARKER = 'vipdrill.lab=';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export type Accel = 'kvm' | 'tcg';

const ACCEL_CACHE = () => join(cacheDir(), 'vm', 'accel.json');

/** The accelerator that worked before on this host (KVM is detected by booting, not by /dev/kvm existing). */
export function rememberedAccel(): Accel | undefined {
  if (process.env.VIPDRILL_ACCEL === 'kvm' || process.env.VIPDRILL_ACCEL === 'tcg') return process.env.VIPDRILL_ACCEL;
  try {
    const r = JSON.parse(readFileSync(ACCEL_CACHE(), 'utf8')) as { accel: Accel };
    return r.accel;
  } catch {
    return undefined;
  }
}

export function rememberAccel(accel: Accel, why: string): void {
  mkdirSync(join(cacheDir(), 'vm'), { recursive: true });
  writeFileSync(ACCEL_CACHE(), JSON.stringify({ accel, why, at: new Date().toISOString() }) + '\n');
}

export function kvmUsable(): boolean {
  try {
    return existsSync('/dev/kvm') && (readFileSync('/proc/cpuinfo', 'utf8').includes('vmx') || readFileSync('/proc/cpuinfo', 'utf8').includes('svm'));
  } catch {
    return false;
  }
}

export interface QemuRun {
  pid: number;
  sshPort: number;
  dir: string;
  accel: Accel;
  console: string;
}

export function qemuArgs(o: { lab: string; runId: string; image: VmImage; overlay: string; sshPort: number; accel: Accel; dir: string; memoryMb: number; cpus: number }): string[] {
  return [
    '-name', `vipdrill-${o.lab},process=vipdrill-vm-${o.lab}`,
    '-machine', 'q35',
    ...(o.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max']),
    '-smp', String(o.cpus),
    '-m', String(o.memoryMb),
    '-kernel', o.image.kernel,
    '-initrd', o.image.initrd,
    '-append', 'root=/dev/vda rw console=ttyS0 apparmor=0 net.ifnames=0 quiet loglevel=4',
    '-drive', `file=${o.overlay},if=virtio,format=qcow2,cache=unsafe`,
    '-netdev', `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${o.sshPort}-:22`,
    '-device', 'virtio-net-pci,netdev=n0',
    '-display', 'none',
    '-monitor', 'none',
    '-serial', `file:${join(o.dir, 'console.log')}`,
    '-pidfile', join(o.dir, 'qemu.pid'),
    // labels, visible in the command line for `vipdrill reap`
    '-fw_cfg', `name=opt/vipdrill/labels,string=${VM_MARKER}${o.lab};vipdrill.run=${o.runId}`,
    '-daemonize',
  ];
}

/** The VM disk plus Docker with the lab image, saved after a VM imported it (see VmEngine.saveWarmDisk). */
export function warmDiskPath(imageDir: string): string {
  return join(imageDir, 'warm.qcow2');
}

/** Start qemu in the background (it outlives the controller: `down` or `reap` stops it). */
export async function startQemu(o: { lab: string; runId: string; image: VmImage; dir: string; accel: Accel }): Promise<QemuRun> {
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const overlay = join(o.dir, 'overlay.qcow2');
  rmSync(overlay, { force: true });
  // the warm disk (the VM disk with Docker holding the lab image, saved by `down`) when there is one
  const warm = warmDiskPath(o.image.dir);
  const backing = existsSync(warm) ? ['-F', 'qcow2', '-b', warm] : ['-F', 'raw', '-b', o.image.disk];
  const img = await runHost('qemu-img', ['create', '-q', '-f', 'qcow2', ...backing, overlay]);
  if (img.code !== 0) throw new VipdrillError('VM_FAILED', `qemu-img create failed: ${img.stderr.trim()}`);
  const sshPort = await freePort();
  rmSync(join(o.dir, 'console.log'), { force: true });
  const args = qemuArgs({ ...o, overlay, sshPort, memoryMb: Number(process.env.VIPDRILL_VM_MEMORY_MB ?? 3072), cpus: Number(process.env.VIPDRILL_VM_CPUS ?? 2) });
  const r = await new Promise<{ code: number; stderr: string }>((resolve, reject) => {
    const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (e) => reject(new VipdrillError('VM_FAILED', `could not start qemu-system-x86_64: ${e.message}. Fix: apt-get install -y qemu-system-x86`)));
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
  if (r.code !== 0) throw new VipdrillError('VM_FAILED', `qemu (${o.accel}) failed to start: ${r.stderr.trim()}`);
  const pid = Number(readFileSync(join(o.dir, 'qemu.pid'), 'utf8').trim());
  return { pid, sshPort, dir: o.dir, accel: o.accel, console: join(o.dir, 'console.log') };
}

export function consoleTail(dir: string, lines = 25): string {
  try {
    return readFileSync(join(dir, 'console.log'), 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no console output)';
  }
}

/**
 * What the VM's console shows of a kernel that stopped making progress: its first line (an RCU stall, a
 * soft lockup, a panic), and whether it cannot recover by waiting (`hung`): a panic, or RCU's "timer
 * wakeup didn't happen" (seen here under TCG: a vCPU whose timer never fires again, so the boot or the
 * lab hangs; a stall from a starved host, by contrast, clears when the host does). undefined: none.
 */
export function kernelStall(dir: string): { line: string; hung: boolean } | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, 'console.log'), 'utf8');
  } catch {
    return undefined;
  }
  const line = /^.*(rcu: INFO: rcu_\w+ (self-)?detected stall|watchdog: BUG: soft lockup|Kernel panic).*$/m.exec(text)?.[0];
  return line === undefined ? undefined : { line: line.replace(/^\[[^\]]*\]\s*/, '').trim(), hung: /timer wakeup didn't happen|Kernel panic/.test(text) };
}

/** Is `pid` a vipdrill VM (its command line carries the marker)? Guards against a recycled PID. */
export function isVipdrillQemu(pid: number, lab?: string): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes(`${VM_MARKER}${lab ?? ''}`) && cmd.includes('qemu');
  } catch {
    return false;
  }
}

/** All running vipdrill VMs: pid and lab, found by the marker in /proc/<pid>/cmdline. */
export async function findVipdrillQemus(): Promise<{ pid: number; lab: string }[]> {
  const { readdirSync } = await import('node:fs');
  const out: { pid: number; lab: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (!cmd.includes('qemu')) continue;
      const m = new RegExp(`${VM_MARKER.replace('.', '\\.')}([a-z0-9-]+)`).exec(cmd);
      if (m?.[1]) out.push({ pid: Number(d), lab: m[1] });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Stop a VM we started: SIGTERM, then SIGKILL after a grace period; only if the PID is still ours. */
export async function stopQemu(pid: number, lab?: string): Promise<void> {
  if (!isVipdrillQemu(pid, lab)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (pidAlive(pid) && isVipdrillQemu(pid, lab)) process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 50 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}
