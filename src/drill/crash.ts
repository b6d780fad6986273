import { VipdrillError } from '../errors.js';
import type { Engine } from '../lab/engine.js';
import { describeClient, describeNodes, nodesStatus, type LabContext } from '../lab/lab.js';
import { clientStatus } from '../lab/probes.js';
import type { Progress } from '../util/progress.js';
import { waitFor } from '../util/time.js';

export interface CrashResult {
  killed: string;
  newHolder: string;
  /** lab clock (s) of the surviving node just before the kill */
  faultAt: number;
  /** fault -> the new holder's keepalived notify MASTER line (lab clock) */
  vipTakeoverMs: number;
  /** fault -> first client sample with the LAN reachable through ppp0 (lab clock) */
  tunnelRestoredMs: number;
  /** sampling resolution of tunnelRestoredMs */
  resolutionMs: number;
}

async function labClock(engine: Engine, container: string): Promise<number> {
  const r = await engine.exec(container, ['bash', '-c', 'echo $EPOCHREALTIME']);
  return Number(r.stdout.trim());
}

/**
 * Crash the VIP holder (SIGKILL of the container, like pulling the power), then wait until the other
 * node holds the VIP and the client's tunnel reaches the LAN again. Times come from the lab's clock.
 */
export async function crashVipHolder(engine: Engine, ctx: LabContext, progress: Progress, timeoutMs = 300_000): Promise<CrashResult> {
  const t = ctx.topology;
  const before = await nodesStatus(engine, ctx);
  const holder = before.find((n) => n.holdsVip);
  if (!holder) throw new VipdrillError('ENGINE_FAILED', `no VIP holder before the crash: ${describeNodes(before)}`);
  const survivor = before.find((n) => n !== holder)!;
  const survivorContainer = ctx.record.containers[survivor.name]!;
  const faultAt = await labClock(engine, survivorContainer);
  progress.step(`crashing VIP holder ${holder.name} (docker kill)`);
  await engine.killContainer(ctx.record.containers[holder.name]!, 'SIGKILL');

  await waitFor('the VIP to move to ' + survivor.name, () => nodesStatus(engine, ctx), (ns) => ns.find((n) => n.name === survivor.name)?.holdsVip === true, describeNodes, { timeoutMs, intervalMs: 100, maxIntervalMs: 500 });
  const notify = await engine.exec(survivorContainer, ['sh', '-c', 'grep " MASTER$" /var/log/vipdrill/notify.log | tail -n 1']);
  const masterAt = Number(notify.stdout.trim().split(' ')[0]);
  progress.step(`VIP moved to ${survivor.name}`);

  const intervalMs = 250;
  const restored = await waitFor(
    'the client tunnel to reach the LAN again',
    () => clientStatus(engine, ctx.record.containers.client!, t.lanhost.lan),
    (s) => s.lanReachable,
    describeClient,
    { timeoutMs, intervalMs, maxIntervalMs: intervalMs },
  );
  progress.step('client tunnel restored');
  return {
    killed: holder.name,
    newHolder: survivor.name,
    faultAt,
    vipTakeoverMs: Math.max(0, (masterAt - faultAt) * 1000),
    tunnelRestoredMs: ((restored.clock ?? faultAt) - faultAt) * 1000,
    resolutionMs: intervalMs,
  };
}
