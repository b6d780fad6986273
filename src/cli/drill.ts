import { crashVipHolder, type CrashResult } from '../drill/crash.js';
import { VipdrillError } from '../errors.js';
import { downCommand, upCommand } from '../lab/lifecycle.js';
import { loadLabInputs, type StageTiming } from '../lab/lab.js';
import type { EngineInfo } from '../lab/engine.js';
import type { Progress } from '../util/progress.js';
import { formatMs } from '../util/time.js';
import { engineLine } from './format.js';

export interface DrillResult {
  passed: boolean;
  engine: EngineInfo;
  profile: string;
  stages: StageTiming[];
  crash?: CrashResult;
  error?: string;
}

/**
 * The default drill until the scenario runner lands: up, crash the VIP holder, measure, down.
 * The lab is always removed at the end, also when a step fails.
 */
export async function runDrill(o: { topology: string; profile?: string; engine: 'auto' | 'local' | 'vm'; name: string; progress: Progress }): Promise<DrillResult> {
  loadLabInputs(o.topology, o.profile, o.name);
  const { result, engine } = await upCommand({ topologyFile: o.topology, profile: o.profile, name: o.name, engine: o.engine, waitUntil: 'tunnel', progress: o.progress });
  const out: DrillResult = { passed: false, engine: engine.info, profile: result.profile.name, stages: result.stages };
  try {
    out.crash = await crashVipHolder(engine, result, o.progress);
    out.passed = true;
  } catch (e) {
    out.error = e instanceof Error ? e.message : String(e);
  } finally {
    await engine.close().catch(() => {});
    await downCommand(o.name, o.progress).catch((e: Error) => {
      out.error = (out.error ? out.error + '\n' : '') + `down failed: ${e.message}`;
      out.passed = false;
    });
  }
  const w = (s = '') => process.stdout.write(s + '\n');
  w(`drill: node crash on ${engineLine(out.engine)}, profile ${out.profile}`);
  if (out.crash) {
    w(`  crashed ${out.crash.killed}; VIP moved to ${out.crash.newHolder}`);
    w(`  VIP takeover (fault -> keepalived MASTER):        ${formatMs(out.crash.vipTakeoverMs)}`);
    w(`  tunnel restored (fault -> LAN reachable via ppp): ${formatMs(out.crash.tunnelRestoredMs)} (±${out.crash.resolutionMs} ms sampling)`);
  }
  w(out.passed ? 'PASS' : `FAIL: ${out.error}`);
  if (!out.passed && out.error && !out.crash) throw new VipdrillError('VERDICT_FAILED', out.error);
  return out;
}
