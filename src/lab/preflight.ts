import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { MissingCapability } from '../errors.js';
import { runHost, which } from '../util/host.js';
import type { EngineName } from './engine.js';

export interface EngineReport {
  name: EngineName;
  available: boolean;
  fullStack: boolean;
  missing: MissingCapability[];
  /** how loss/delay faults are applied on this engine: netem when the kernel has it, nft drops otherwise */
  degradation: 'netem' | 'nft';
  notes: string[];
}

export interface PreflightReport {
  engines: EngineReport[];
  chosen: EngineName | null;
  reason: string;
}

/** What the host looks like; injected in unit tests. */
export interface HostFacts {
  kernelRelease: string;
  /** kernel config text (/proc/config.gz or /boot/config-*), undefined when unreadable */
  kernelConfig?: string;
  /** module names modprobe could load (from modules.dep), or [] when the kernel has no modules dir */
  loadableModules: string[];
  loadedModules: string[];
  devPpp: boolean;
  dockerReachable: boolean;
  dockerError?: string;
  tools: Record<string, boolean>;
  vmImageCached: boolean;
}

interface KernelFeature {
  option: string;
  module: string;
  name: string;
  why: string;
  required: boolean;
}

export const KERNEL_FEATURES: KernelFeature[] = [
  { option: 'CONFIG_PPP', module: 'ppp_generic', name: 'ppp_generic (PPP)', why: 'pppd needs the PPP driver (/dev/ppp)', required: true },
  { option: 'CONFIG_PPPOL2TP', module: 'l2tp_ppp', name: 'l2tp_ppp (L2TP)', why: 'xl2tpd hands sessions to the kernel L2TP driver', required: true },
  { option: 'CONFIG_INET_ESP', module: 'esp4', name: 'esp4 (XFRM ESP)', why: 'the kernel must carry ESP for IPsec transport mode', required: true },
  { option: 'CONFIG_XFRM_USER', module: 'xfrm_user', name: 'xfrm_user (XFRM netlink)', why: 'charon installs SAs through XFRM netlink', required: true },
  { option: 'CONFIG_NET_SCH_NETEM', module: 'sch_netem', name: 'netem', why: 'delay/duplication faults need netem (loss falls back to nft drops)', required: false },
];

export function kernelOption(config: string | undefined, option: string): 'y' | 'm' | 'n' | 'unknown' {
  if (config === undefined) return 'unknown';
  const m = new RegExp(`^${option}=(y|m)$`, 'm').exec(config);
  return m ? (m[1] as 'y' | 'm') : 'n';
}

export function assessLocal(f: HostFacts): EngineReport {
  const missing: MissingCapability[] = [];
  const notes: string[] = [];
  let netem = false;
  if (!f.dockerReachable) {
    missing.push({
      name: 'docker',
      why: `no Docker engine answers${f.dockerError ? ` (${f.dockerError})` : ''}`,
      fix: 'apt-get install -y docker.io && (dockerd > /var/log/dockerd.log 2>&1 &)',
    });
  }
  for (const k of KERNEL_FEATURES) {
    const state = kernelOption(f.kernelConfig, k.option);
    const loaded = f.loadedModules.includes(k.module);
    let ok = state === 'y' || loaded;
    if (!ok && (state === 'm' || state === 'unknown') && f.loadableModules.includes(k.module)) {
      ok = true;
      notes.push(`${k.module} is a module; vipdrill up loads it (modprobe ${k.module})`);
    }
    if (k.module === 'sch_netem') {
      netem = ok;
      if (!ok) notes.push('no netem: loss faults use nft drops, delay/duplication faults are unavailable');
      continue;
    }
    if (!ok) {
      missing.push({
        name: k.name,
        why: `${k.why}; kernel ${f.kernelRelease} has ${state === 'unknown' ? 'no readable config and no such module' : `${k.option}=${state === 'n' ? 'unset' : state} and no loadable ${k.module} module`}`,
        fix: `boot a kernel with ${k.option}=y or =m (any stock Debian/Ubuntu kernel), or use --engine vm`,
      });
    }
  }
  const pppOk = !missing.some((m) => m.name.startsWith('ppp_generic'));
  if (pppOk && !f.devPpp) {
    missing.push({ name: '/dev/ppp', why: 'pppd opens /dev/ppp, which does not exist', fix: 'modprobe ppp_generic || mknod /dev/ppp c 108 0' });
  } else if (!pppOk && !f.devPpp) {
    missing.push({ name: '/dev/ppp', why: 'pppd opens /dev/ppp, which does not exist (no PPP driver)', fix: 'see ppp_generic above, or use --engine vm' });
  }
  const dockerOk = f.dockerReachable;
  return { name: 'local', available: dockerOk, fullStack: dockerOk && missing.length === 0, missing, degradation: netem ? 'netem' : 'nft', notes };
}

export function assessVm(f: HostFacts): EngineReport {
  const missing: MissingCapability[] = [];
  const notes: string[] = [];
  if (!f.tools['qemu-system-x86_64']) missing.push({ name: 'qemu-system-x86_64', why: 'boots the lab VM', fix: 'apt-get install -y qemu-system-x86' });
  if (!f.tools['qemu-img']) missing.push({ name: 'qemu-img', why: 'creates the VM overlay disk', fix: 'apt-get install -y qemu-utils' });
  if (!f.vmImageCached) {
    if (!f.tools.debootstrap) missing.push({ name: 'debootstrap', why: 'builds the VM and lab root filesystems (not cached yet)', fix: 'apt-get install -y debootstrap' });
    if (!f.tools['mke2fs']) missing.push({ name: 'mke2fs', why: 'writes the VM disk image without a loop mount', fix: 'apt-get install -y e2fsprogs' });
    notes.push('the VM image is not cached yet: the first `up` builds it (about 2 minutes)');
  }
  if (!f.tools.tar) missing.push({ name: 'tar', why: 'streams root filesystems into images', fix: 'apt-get install -y tar' });
  notes.push("the VM runs Debian's stock kernel (PPP, L2TP, ESP and netem as modules); under TCG emulation CPU-bound phases such as IKE's Diffie-Hellman run slower than on hardware");
  return { name: 'vm', available: missing.length === 0, fullStack: missing.length === 0, missing, degradation: 'netem', notes };
}

export function choose(reports: EngineReport[], requested: 'auto' | EngineName): { chosen: EngineName | null; reason: string } {
  const local = reports.find((r) => r.name === 'local')!;
  const vm = reports.find((r) => r.name === 'vm')!;
  if (requested !== 'auto') {
    const r = requested === 'local' ? local : vm;
    return r.available ? { chosen: requested, reason: `--engine ${requested} requested` } : { chosen: null, reason: `--engine ${requested} requested but it is not available` };
  }
  if (local.fullStack) return { chosen: 'local', reason: "the local kernel and Docker run the full stack" };
  if (vm.available) {
    const why = local.missing.map((m) => m.name).join(', ');
    return { chosen: 'vm', reason: `the local engine cannot run the full stack (missing: ${why}); the VM engine can` };
  }
  return { chosen: null, reason: 'neither the local engine nor the VM engine can run the full stack here' };
}

function readKernelConfig(release: string): string | undefined {
  try {
    if (existsSync('/proc/config.gz')) return gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
    const boot = `/boot/config-${release}`;
    if (existsSync(boot)) return readFileSync(boot, 'utf8');
  } catch {
    /* unreadable */
  }
  return undefined;
}

function modulesFrom(release: string): string[] {
  const dep = `/lib/modules/${release}/modules.dep`;
  if (!existsSync(dep)) return [];
  return readFileSync(dep, 'utf8')
    .split('\n')
    .map((l) => /([^/]+)\.ko(?:\.[a-z]+)?:/.exec(l)?.[1]?.replace(/-/g, '_'))
    .filter((x): x is string => !!x);
}

export async function gatherHostFacts(dockerPing: () => Promise<void>, vmImageCached: boolean): Promise<HostFacts> {
  const release = (await runHost('uname', ['-r'])).stdout.trim();
  let dockerReachable = true;
  let dockerError: string | undefined;
  try {
    await dockerPing();
  } catch (e) {
    dockerReachable = false;
    dockerError = (e as Error).message;
  }
  const loaded = existsSync('/proc/modules')
    ? readFileSync('/proc/modules', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[0]!)
        .filter(Boolean)
    : [];
  const tools: Record<string, boolean> = {};
  for (const t of ['qemu-system-x86_64', 'qemu-img', 'debootstrap', 'mke2fs', 'tar']) tools[t] = (await which(t)) !== undefined;
  return {
    kernelRelease: release,
    kernelConfig: readKernelConfig(release),
    loadableModules: modulesFrom(release),
    loadedModules: loaded,
    devPpp: existsSync('/dev/ppp'),
    dockerReachable,
    dockerError,
    tools,
    vmImageCached,
  };
}
