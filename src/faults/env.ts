import type { Engine } from '../lab/engine.js';
import type { LabHosts } from '../hosts/lab-hosts.js';
import type { FaultEnv } from './types.js';

/** What a fault may do to the lab: container operations through the engine, everything else through each host's agent. */
export function faultEnv(engine: Engine, hosts: LabHosts, f: { master: string; backup: string; id: string }): FaultEnv {
  return {
    engine,
    lab: hosts.lab,
    ...f,
    now: (h) => hosts.host(h).now(),
    ensureRunning: (h) => hosts.ensureRunning(h),
    lastHeard: (h) => hosts.lastHeard.get(h),
    act: async <T>(h: string, name: string, args: Record<string, unknown>, deadlineMs?: number) => {
      const r = await hosts.host(h).act<{ at?: number } & T>(name, args, deadlineMs);
      return { ...r.result, at: r.result.at ?? r.t };
    },
  };
}
