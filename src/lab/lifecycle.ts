import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, VipdrillError } from '../errors.js';
import type { Progress } from '../util/progress.js';
import type { Engine, EngineName } from './engine.js';
import { LocalEngine } from './engines/local.js';
import { removeLabObjects, up, type UpOptions, type UpResult } from './lab.js';
import { openEngineForLab, openEngineForNewLab } from './select.js';
import { labsDir, listLabs, pidAlive, readLab, removeLabState, type LabRecord } from './state.js';
import { findVipdrillQemus, isVipdrillQemu, stopQemu } from './vm/qemu.js';
import { VmEngine } from './vm/engine.js';
import { labImageTag, labRecipe } from './images.js';
import { DOCKER_SOCKET } from './engines/local.js';

export interface UpCommandOptions extends Omit<UpOptions, 'onRecord'> {
  engine: 'auto' | EngineName;
  name: string;
  /** leave what was created when `up` fails (for debugging) */
  keepOnFailure?: boolean;
}

/**
 * `vipdrill up`: choose and start the engine, bring the lab up, and on any failure remove everything
 * it created (registered before it was created) unless keepOnFailure.
 */
export async function upCommand(o: UpCommandOptions): Promise<{ result: UpResult; engine: Engine }> {
  const prior = readLab(o.name);
  if (prior && (prior.phase !== 'starting' || pidAlive(prior.controllerPid))) {
    throw new VipdrillError('LAB_EXISTS', `lab "${o.name}" is already up (engine ${prior.engine}, run ${prior.runId}); 'vipdrill down --name ${o.name}' removes it`);
  }
  if (prior) await reapLab(prior, o.progress);
  const { engine } = await openEngineForNewLab(o.engine, o.name, o.progress);
  try {
    const result = await up(engine, { ...o });
    return { result, engine };
  } catch (e) {
    if (!o.keepOnFailure && !(e instanceof VipdrillError && e.code === 'LAB_EXISTS')) {
      o.progress.step('up failed: removing what it created');
      await removeLabObjects(engine, o.name).catch(() => {});
      await engine.destroy().catch(() => {});
      removeLabState(o.name);
    } else {
      await engine.close().catch(() => {});
    }
    throw e;
  }
}

export async function downCommand(name: string, progress: Progress): Promise<{ containers: number; networks: number; vm: boolean }> {
  const record = readLab(name);
  if (!record) {
    // nothing recorded: still remove labelled leftovers on the local engine
    const leftovers = await localLeftovers(name);
    if (leftovers.containers + leftovers.networks === 0) throw new VipdrillError('LAB_NOT_FOUND', `no lab named "${name}" is up`);
    return { ...leftovers, vm: false };
  }
  if (record.engine === 'vm' && record.imageImported && record.image === labImageTag(labRecipe) && record.vm && isVipdrillQemu(record.vm.pid, record.name)) {
    // this VM paid for the import of the current lab image: keep its disk so the next `up` does not
    try {
      const engine = await VmEngine.attach(record.name, record.vm);
      await engine.saveWarmDisk(record.image, progress);
    } catch (e) {
      progress.step(`warning: could not save the warm VM disk (the next up imports the image again): ${errorMessage(e)}`);
    }
  }
  return reapLab(record, progress);
}

async function localLeftovers(name: string | undefined): Promise<{ containers: number; networks: number }> {
  if (!existsSync(DOCKER_SOCKET)) return { containers: 0, networks: 0 };
  try {
    const local = await LocalEngine.connect();
    return await removeLabObjects(local, name);
  } catch (e) {
    if (e instanceof VipdrillError && e.code === 'ENGINE_FAILED' && /cannot reach Docker/.test(e.message)) return { containers: 0, networks: 0 };
    throw e;
  }
}

/** Remove one lab completely: its containers and networks, its VM, its state. */
export async function reapLab(record: LabRecord, progress: Progress): Promise<{ containers: number; networks: number; vm: boolean }> {
  const errors: string[] = [];
  let counts = { containers: 0, networks: 0 };
  let vm = false;
  if (record.engine === 'remote') {
    // real hosts: vipdrill created nothing there, and every fault it left reverts by its lease
    progress.step(`remote hosts of ${record.name}: nothing to remove; a fault a killed run left there is reverted by the hosts themselves when its lease lapses`);
  } else if (record.engine === 'local') {
    counts = await localLeftovers(record.name).catch((e: Error) => (errors.push(e.message), counts));
  } else {
    // the lab lives inside the VM: stopping the VM removes it all
    const pid = record.vm?.pid;
    const qemus = (await findVipdrillQemus()).filter((q) => q.lab === record.name || q.pid === pid);
    for (const q of qemus) {
      progress.step(`stopping lab VM pid ${q.pid}`);
      await stopQemu(q.pid, record.name).catch((e: Error) => errors.push(`VM pid ${q.pid}: ${e.message}`));
      vm = true;
    }
  }
  removeLabState(record.name);
  if (errors.length > 0) throw new VipdrillError('ENGINE_FAILED', `cleanup of lab ${record.name} incomplete:\n  ${errors.join('\n  ')}`);
  return { ...counts, vm };
}

export interface ReapReport {
  labs: string[];
  containers: number;
  networks: number;
  vms: number;
  kept: string[];
}

/**
 * `vipdrill reap`: remove what crashed or killed runs left behind, found by label with no topology
 * file. Labs that are up and idle (phase ready, or owned by a live controller) are kept unless --all.
 */
export async function reapCommand(opts: { all: boolean; name?: string }, progress: Progress): Promise<ReapReport> {
  const report: ReapReport = { labs: [], containers: 0, networks: 0, vms: 0, kept: [] };
  const known = new Set<string>();
  // state dirs without lab.json: a VM booted for a lab whose `up` died before recording it
  for (const n of orphanStateDirs()) if (!opts.name || opts.name === n) removeLabStateIfNoVm(n, await findVipdrillQemus());
  for (const r of listLabs()) {
    if (opts.name && r.name !== opts.name) continue;
    known.add(r.name);
    const orphan = r.phase !== 'ready' && !pidAlive(r.controllerPid);
    if (!opts.all && !opts.name && !orphan) {
      report.kept.push(r.name);
      continue;
    }
    const x = await reapLab(r, progress);
    report.labs.push(r.name);
    report.containers += x.containers;
    report.networks += x.networks;
    report.vms += x.vm ? 1 : 0;
  }
  // labelled objects and VMs with no state at all (state dir removed, or another user's run)
  const qemus = await findVipdrillQemus();
  for (const q of qemus) {
    if (opts.name && q.lab !== opts.name) continue;
    if (report.kept.includes(q.lab)) continue;
    if (known.has(q.lab) && !report.labs.includes(q.lab)) continue;
    progress.step(`stopping orphaned lab VM pid ${q.pid} (lab ${q.lab})`);
    await stopQemu(q.pid, q.lab);
    report.vms++;
    if (!known.has(q.lab)) removeLabState(q.lab);
    if (!report.labs.includes(q.lab)) report.labs.push(q.lab);
  }
  if (existsSync(DOCKER_SOCKET)) {
    try {
      const local = await LocalEngine.connect();
      const objs = await local.list({ 'vipdrill.lab': opts.name });
      const labs = new Set([...objs.containers, ...objs.networks].map((o) => o.labels['vipdrill.lab']!).filter((l) => !report.kept.includes(l)));
      for (const l of labs) {
        const x = await removeLabObjects(local, l);
        report.containers += x.containers;
        report.networks += x.networks;
        if (!report.labs.includes(l)) report.labs.push(l);
      }
    } catch (e) {
      if (!(e instanceof VipdrillError && /cannot reach Docker/.test(e.message))) throw e;
    }
  }
  return report;
}

function orphanStateDirs(): string[] {
  if (!existsSync(labsDir())) return [];
  return readdirSync(labsDir()).filter((n) => !existsSync(join(labsDir(), n, 'lab.json')));
}

function removeLabStateIfNoVm(name: string, qemus: { lab: string }[]): void {
  if (!qemus.some((q) => q.lab === name)) removeLabState(name);
}

export { openEngineForLab };
