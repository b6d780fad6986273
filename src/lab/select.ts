import { PreflightError, VipdrillError } from '../errors.js';
import type { Progress } from '../util/progress.js';
import type { Engine, EngineName } from './engine.js';
import { LocalEngine } from './engines/local.js';
import { assessLocal, assessVm, choose, gatherHostFacts, type PreflightReport } from './preflight.js';
import type { LabRecord } from './state.js';
import { VmEngine, vmImageCached } from './vm/engine.js';
import Docker from 'dockerode';
import { DOCKER_SOCKET } from './engines/local.js';

export async function preflight(requested: 'auto' | EngineName = 'auto'): Promise<PreflightReport> {
  const docker = new Docker({ socketPath: DOCKER_SOCKET });
  const facts = await gatherHostFacts(async () => {
    await docker.ping();
  }, vmImageCached());
  const engines = [assessLocal(facts), assessVm(facts)];
  const { chosen, reason } = choose(engines, requested);
  return { engines, chosen, reason };
}

/** Pick and start the engine a new lab runs on. */
export async function openEngineForNewLab(requested: 'auto' | EngineName, labName: string, progress: Progress): Promise<{ engine: Engine; report: PreflightReport }> {
  const report = await preflight(requested);
  if (!report.chosen) {
    const missing = report.engines.filter((e) => requested === 'auto' || e.name === requested).flatMap((e) => e.missing.map((m) => ({ ...m, name: `${e.name}: ${m.name}` })));
    throw new PreflightError(`no engine can run the lab: ${report.reason}`, missing);
  }
  progress.step(`engine ${report.chosen}: ${report.reason}`);
  if (report.chosen === 'local') return { engine: await LocalEngine.connect(), report };
  return { engine: await VmEngine.boot(labName, progress), report };
}

/** Reconnect to the engine an existing lab runs on. */
export async function openEngineForLab(record: LabRecord): Promise<Engine> {
  if (record.engine === 'local') return LocalEngine.connect();
  if (record.engine === 'remote') throw new VipdrillError('REMOTE_REFUSED', `${record.name} is a set of remote hosts drilled by a run (pid ${record.controllerPid ?? 'gone'}), not a lab: drill them with vipdrill run <scenario> -t ${record.topologyFile}`);
  if (!record.vm) throw new VipdrillError('ENGINE_FAILED', `lab ${record.name} runs on engine vm but records no VM`);
  return VmEngine.attach(record.name, record.vm);
}
