import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VipdrillError } from '../errors.js';
import type { Secrets } from '../stack/types.js';
import { stateDir } from '../util/paths.js';
import type { EngineName } from './engine.js';
import type { Profile } from '../topology/schema.js';

export interface VmRecord {
  pid: number;
  sshPort: number;
  dir: string;
  accel: 'kvm' | 'tcg';
  /** the cached VM image the VM booted from (its keys are needed to reconnect) */
  imageDir: string;
}

/** What the controller remembers about a lab between commands (stateDir()/labs/<name>/lab.json). */
export interface LabRecord {
  name: string;
  runId: string;
  engine: EngineName;
  topologyFile: string;
  profile: string;
  /**
   * The profile the daemons took last: set when `up` started them and when a tune switch finished
   * applying one. Absent while a switch applies its files (an interrupt leaves daemons on either), or in a
   * record of an earlier version: the next switch then restarts the whole stack instead of reloading.
   */
  applied?: Profile;
  image?: string;
  /** the VM imported the lab image at this boot: `down` saves the VM disk as the warm disk */
  imageImported?: boolean;
  createdAt: string;
  /** starting: `up` in progress; ready: up and idle; running: a drill is using it */
  phase: 'starting' | 'ready' | 'running';
  /** the controller process that owns the current phase (none when ready) */
  controllerPid?: number;
  vm?: VmRecord;
  /** logical name (a, b, client, lanhost) -> container name */
  containers: Record<string, string>;
  /** the nodes boot systemd, which runs their stack as Debian's units (`up --systemd`) */
  nodeInit?: 'systemd';
}

export function labsDir(): string {
  return join(stateDir(), 'labs');
}

export function labDirOf(name: string): string {
  return join(labsDir(), name);
}

export function readLab(name: string): LabRecord | undefined {
  const f = join(labDirOf(name), 'lab.json');
  if (!existsSync(f)) return undefined;
  return JSON.parse(readFileSync(f, 'utf8')) as LabRecord;
}

export function requireLab(name: string): LabRecord {
  const r = readLab(name);
  if (!r) throw new VipdrillError('LAB_NOT_FOUND', `no lab named "${name}" is up (no ${join(labDirOf(name), 'lab.json')}); 'vipdrill up --name ${name}' starts one`);
  return r;
}

export function writeLab(record: LabRecord): void {
  const dir = labDirOf(record.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'lab.json'), JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
}

export function removeLabState(name: string): void {
  rmSync(labDirOf(name), { recursive: true, force: true });
}

export function listLabs(): LabRecord[] {
  if (!existsSync(labsDir())) return [];
  return readdirSync(labsDir())
    .map((n) => {
      try {
        return readLab(n);
      } catch {
        return undefined;
      }
    })
    .filter((r): r is LabRecord => r !== undefined);
}

export function newRunId(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}-${randomBytes(3).toString('hex')}`;
}

/** Per-lab secrets: generated once per lab, mode 600, never printed. */
export function labSecrets(name: string): Secrets {
  const dir = labDirOf(name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = join(dir, 'secrets.json');
  if (existsSync(f)) return JSON.parse(readFileSync(f, 'utf8')) as Secrets;
  const gen = () => randomBytes(18).toString('base64url');
  const s: Secrets = { psk: gen(), chap: gen() };
  writeFileSync(f, JSON.stringify(s) + '\n', { mode: 0o600 });
  chmodSync(f, 0o600);
  return s;
}

/** Replace every secret value in text (for logs, errors and snapshots). */
export function maskSecrets(text: string, secrets: Secrets | undefined): string {
  if (!secrets) return text;
  let out = text;
  for (const v of [secrets.psk, secrets.chap]) if (v) out = out.split(v).join('********');
  return out;
}

export function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // a killed process whose parent has not reaped it yet still answers signal 0: it is dead all the same
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
