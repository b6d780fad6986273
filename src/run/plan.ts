import { planFault } from '../faults/catalog.js';
import type { FaultEnv, PlannedFault } from '../faults/types.js';
import { HOST_PATHS } from '../hosts/paths.js';
import type { Engine } from '../lab/engine.js';
import type { LabContext } from '../lab/lab.js';
import type { LeaseOptions } from '../faults/leases.js';
import type { Scenario } from '../scenario/schema.js';
import { formatMs } from '../util/time.js';

/** One thing a host (or the engine) would be asked to do. */
export interface PlannedCall {
  host: string;
  what: string;
}

export interface PlannedStep {
  step: number;
  describe: string;
  leases: PlannedCall[];
  inject: PlannedCall[];
  revert: PlannedCall[];
  /** why the fault could not be planned (it would fail the same way in a run) */
  error?: string;
}

/** What an agent action runs on its host, in words a reviewer reads. */
export function describeAction(name: string, args: Record<string, unknown>): string {
  if (name === 'fault') return `${HOST_PATHS.fault} ${(args.argv as string[]).join(' ')}`;
  if (name === 'nft-apply') return `nft -f - (vipdrill's own tables only): ${String(args.script).split('\n').filter((l) => l.startsWith('add rule')).map((l) => l.replace(/^add rule /, '')).join('; ')}`;
  if (name === 'nft-remove') return `nft: delete the rules tagged ${String(args.id)} from vipdrill's tables (the tables once empty)`;
  if (name === 'kill-daemon') return `SIG${String(args.signal)} to ${String(args.daemon)}: ${HOST_PATHS.ctl} kill ${String(args.daemon)} ${String(args.signal)}${args.leaveDead ? ' --leave-dead' : ''} under vipdrill's supervisor; where systemd runs the stack, to its unit's main PID (the unit's Restart= decides what follows)`;
  return `${name} ${JSON.stringify(args)}`;
}

/** An engine that records what would be done to whole hosts, and does nothing. */
function recordingEngine(calls: PlannedCall[], lab: LabContext): Engine {
  const host = (c: string) => Object.entries(lab.record.containers).find(([, v]) => v === c)?.[0] ?? c;
  const rec = (what: string) => (c: string) => {
    calls.push({ host: host(c), what });
    return Promise.resolve();
  };
  return {
    containerState: () => Promise.resolve('running'),
    containerFinishedAt: () => Promise.resolve(undefined),
    killContainer: rec(lab.record.engine === 'remote' ? 'power off (remote.crash.<node>.off, run on this machine)' : 'docker kill -s KILL'),
    stopContainer: rec('docker stop'),
    pauseContainer: rec('docker pause'),
    unpauseContainer: rec('docker unpause'),
    startContainer: rec('docker start'),
  } as unknown as Engine;
}

/**
 * The plan of a scenario: per fault step, every lease armed, every action its inject and its revert
 * ask of each host, in order, from the same planners a run uses (with a recording environment, so
 * nothing is reached). `master` is the higher-priority node here; a run resolves it at the injection.
 */
export async function planScenario(sc: Scenario, lab: LabContext, leases?: LeaseOptions): Promise<PlannedStep[]> {
  const nodes = Object.entries(lab.topology.nodes).sort((x, y) => y[1].priority - x[1].priority).map(([n]) => n);
  const [master, backup] = nodes as [string, string];
  const out: PlannedStep[] = [];
  for (const [i, st] of sc.steps.entries()) {
    if (!('fault' in st)) continue;
    let calls: PlannedCall[] = [];
    const env: FaultEnv = {
      engine: recordingEngine(calls, lab),
      lab,
      master,
      backup,
      id: `vipdrill-${st.id ?? `step${i}`}`,
      now: () => Promise.resolve(0),
      sleep: (ms) => {
        calls.push({ host: '-', what: `wait ${formatMs(ms)}` });
        return Promise.resolve();
      },
      ensureRunning: (h) => {
        calls.push({ host: h, what: 'start it again if it is down, and wait for its boot' });
        return Promise.resolve();
      },
      act: <T>(h: string, name: string, args: Record<string, unknown>) => {
        calls.push({ host: h, what: describeAction(name, args) });
        return Promise.resolve({ at: 0, out: '' } as unknown as { at: number } & T);
      },
    };
    let f: PlannedFault;
    try {
      f = planFault(env, st);
    } catch (e) {
      out.push({ step: i + 1, describe: st.fault, leases: [], inject: [], revert: [], error: (e as Error).message });
      continue;
    }
    const step: PlannedStep = { step: i + 1, describe: f.describe, leases: [], inject: [], revert: [] };
    if (leases) {
      if (!f.leases && !leases.unleased?.includes(f.kind)) step.error = `${f.kind} has no revert a host can run by itself, so it cannot be leased on real hosts`;
      if (!f.leases && leases.unleased?.includes(f.kind)) step.leases = [{ host: '-', what: `no lease: only this controller can power ${f.targets[0]} on again (remote.crash.${f.targets[0]}.on); if it dies, the node stays off` }];
      if (f.leases) step.leases = f.leases.map((l, k) => ({ host: l.host, what: `lease.arm ${f.id}-${k} (${leases.ttlMs / 1000} s, renewed every ${leases.renewMs / 1000} s); on lapse: ${describeAction(l.revert.name, l.revert.args)}` }));
    }
    await f.inject().catch((e: Error) => calls.push({ host: '-', what: `(inject stops here in a plan: ${e.message})` }));
    step.inject = calls;
    calls = [];
    env.engine = recordingEngine(calls, lab);
    await f.revert().catch((e: Error) => calls.push({ host: '-', what: `(revert stops here in a plan: ${e.message})` }));
    step.revert = [...calls, ...(leases ? (f.leases ?? []).map((l, k) => ({ host: l.host, what: `lease.drop ${f.id}-${k}` })) : [])];
    out.push(step);
  }
  return out;
}

/** The plan as text: per step, per host, what is armed, injected and reverted. */
export function formatPlan(sc: Scenario, lab: LabContext, steps: PlannedStep[], leases?: LeaseOptions): string {
  const lines: string[] = [];
  const remote = lab.topology.remote;
  lines.push(`plan: ${sc.name} (${sc.file}) on ${remote ? `the real hosts of ${lab.topology.name}` : `a lab of ${lab.topology.name}`}, profile ${lab.profile.name}`);
  if (remote) {
    lines.push(`  before anything, on every host (${Object.entries(remote.hosts).map(([n, h]) => `${n} ${h.ssh}${h.become ? ' via sudo -n' : ''}`).join(', ')}):`);
    lines.push('    ssh with the pinned host key; sudo -n true where become: sudo; python3 - < vipdrill-discover (read-only)');
    lines.push(`    then: the agent copied to ${HOST_PATHS.agent} and ${HOST_PATHS.fault} (SFTP), started as python3 -u ${HOST_PATHS.agent}`);
  }
  lines.push(`  watchers: client pings ${lab.topology.lanhost.lan} through the tunnel; lanhost pings the client's tunnel address; client captures ARP`);
  for (const s of steps) {
    lines.push(`  step ${s.step}: ${s.describe}${s.error ? `  REFUSED: ${s.error}` : ''}`);
    const show = (label: string, calls: PlannedCall[]) => {
      if (calls.length === 0) return;
      lines.push(`    ${label}:`);
      for (const c of calls) lines.push(`      ${c.host.padEnd(8)} ${c.what}`);
    };
    show('leases', s.leases);
    show('inject', s.inject);
    show('revert', s.revert);
  }
  if (remote) lines.push(`  at the end, on every host: ${HOST_PATHS.agent.replace(/\/[^/]+$/, '')} removed (kept where a lease is still armed, for its watchdog)`);
  if (leases) lines.push(`  if this controller dies: each host reverts its faults by itself ${leases.ttlMs / 1000} s after the last renewal`);
  return lines.join('\n') + '\n';
}
