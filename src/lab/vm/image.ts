import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ed25519KeyPair, keysReadable } from '../ssh-keys.js';
import { VipdrillError } from '../../errors.js';
import { runHost, which } from '../../util/host.js';
import { cacheDir, labDir } from '../../util/paths.js';
import type { Progress } from '../../util/progress.js';
import { applyOverlay, ensureRootfs, hashInputs, readPackageList, rootfsKey, walk } from '../images.js';

const VM_BUILDER_VERSION = '1';
const DISK_SIZE = '4G';

export interface VmImage {
  dir: string;
  disk: string;
  kernel: string;
  initrd: string;
  /** the controller's private key for root@vm (mode 600) */
  clientKey: string;
  /** the VM's pinned SSH host key (OpenSSH public key line) */
  hostKey: string;
}

const recipe = {
  packagesFile: join(labDir, 'vm', 'packages.txt'),
  overlayDir: join(labDir, 'vm', 'rootfs'),
};

export function vmImageKey(): string {
  const packages = readPackageList(recipe.packagesFile);
  return hashInputs([VM_BUILDER_VERSION, rootfsKey(packages), DISK_SIZE, ...walk(recipe.overlayDir).flatMap((f) => [f.slice(recipe.overlayDir.length), readFileSync(f)])]);
}

export function vmImageDir(): string {
  return join(cacheDir(), 'vm', vmImageKey());
}

export function vmImageCached(): boolean {
  return usable(vmImageDir());
}

/** A finished image whose SSH keys ssh2 can read (an image built before ed25519KeyPair may hold one it cannot). */
function usable(dir: string): boolean {
  const key = join(dir, 'id_ed25519');
  const host = join(dir, 'host_ed25519.pub');
  return existsSync(join(dir, 'complete')) && existsSync(key) && existsSync(host) && keysReadable(readFileSync(key, 'utf8'), readFileSync(host, 'utf8'));
}

export function readImage(dir: string): VmImage {
  return {
    dir,
    disk: join(dir, 'disk.img'),
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    clientKey: readFileSync(join(dir, 'id_ed25519'), 'utf8'),
    hostKey: readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').trim(),
  };
}

/** Newest file in rootfs/boot starting with `prefix` (vmlinuz-6.1.0-xx-amd64). */
function bootFile(rootfs: string, prefix: string): string {
  const hits = readdirSync(join(rootfs, 'boot')).filter((f) => f.startsWith(prefix)).sort();
  const f = hits[hits.length - 1];
  if (!f) throw new VipdrillError('IMAGE_BUILD_FAILED', `the VM root filesystem has no /boot/${prefix}* (linux-image-amd64 not installed?)`);
  return join(rootfs, 'boot', f);
}

function enableUnit(rootfs: string, unit: string, target = 'multi-user.target'): void {
  const wants = join(rootfs, 'etc/systemd/system', `${target}.wants`);
  mkdirSync(wants, { recursive: true });
  const link = join(wants, unit);
  rmSync(link, { force: true });
  symlinkSync(`/lib/systemd/system/${unit}`, link);
}

function maskUnit(rootfs: string, unit: string): void {
  const link = join(rootfs, 'etc/systemd/system', unit);
  rmSync(link, { force: true });
  symlinkSync('/dev/null', link);
}

/**
 * The lab VM's disk: Debian bookworm with the stock kernel, Docker, SSH and the PPP/L2TP/ESP modules
 * loaded at boot. Written as an ext4 image with `mke2fs -d` (no loop mount), cached by input hash.
 */
export async function ensureVmImage(progress: Progress): Promise<VmImage> {
  const dir = vmImageDir();
  if (usable(dir)) return readImage(dir);
  if (existsSync(join(dir, 'complete'))) {
    progress.step(`the cached VM image ${dir} lacks an SSH key ssh2 can read (mscdex/ssh2#1390): building it again`);
    rmSync(dir, { recursive: true, force: true });
  }
  if (!(await which('mke2fs'))) throw new VipdrillError('IMAGE_BUILD_FAILED', 'mke2fs is needed to write the VM disk. Fix: apt-get install -y e2fsprogs');
  const t0 = performance.now();
  const rootfs = await ensureRootfs(readPackageList(recipe.packagesFile), progress, 'vm');
  progress.step('writing the VM disk image');
  applyOverlay(rootfs, recipe.overlayDir);
  enableUnit(rootfs, 'systemd-networkd.service');
  for (const u of ['apt-daily.timer', 'apt-daily-upgrade.timer', 'e2scrub_all.timer', 'e2scrub_reap.service', 'fstrim.timer', 'getty@tty1.service', 'systemd-networkd-wait-online.service']) maskUnit(rootfs, u);

  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  // keys: the controller's client key and the VM's host key, both generated here and pinned
  const client = ed25519KeyPair('vipdrill-controller');
  const host = ed25519KeyPair('vipdrill-vm');
  writeFileSync(join(tmp, 'id_ed25519'), client.private, { mode: 0o600 });
  writeFileSync(join(tmp, 'host_ed25519.pub'), host.public + '\n', { mode: 0o644 });
  mkdirSync(join(rootfs, 'root/.ssh'), { recursive: true, mode: 0o700 });
  writeFileSync(join(rootfs, 'root/.ssh/authorized_keys'), client.public + '\n', { mode: 0o600 });
  for (const f of readdirSync(join(rootfs, 'etc/ssh')).filter((f) => f.startsWith('ssh_host_'))) rmSync(join(rootfs, 'etc/ssh', f));
  writeFileSync(join(rootfs, 'etc/ssh/ssh_host_ed25519_key'), host.private, { mode: 0o600 });
  writeFileSync(join(rootfs, 'etc/ssh/ssh_host_ed25519_key.pub'), host.public + '\n', { mode: 0o644 });
  chmodSync(join(rootfs, 'etc/ssh/ssh_host_ed25519_key'), 0o600);

  copyFileSync(bootFile(rootfs, 'vmlinuz-'), join(tmp, 'vmlinuz'));
  copyFileSync(bootFile(rootfs, 'initrd.img-'), join(tmp, 'initrd.img'));
  const mk = await runHost('mke2fs', ['-q', '-F', '-t', 'ext4', '-L', 'vipdrill', '-d', rootfs, join(tmp, 'disk.img'), DISK_SIZE]);
  if (mk.code !== 0) throw new VipdrillError('IMAGE_BUILD_FAILED', `mke2fs failed: ${mk.stderr.trim()}`);
  writeFileSync(join(tmp, 'complete'), new Date().toISOString() + '\n');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, '..'), { recursive: true });
  renameSync(tmp, dir);
  progress.step(`VM image ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (${dir})`);
  return readImage(dir);
}
