import { VipdrillError } from '../errors.js';
import { container } from './targets.js';
import type { FaultEnv, Host } from './types.js';
import type { LeaseRevert } from '../hosts/host.js';

/**
 * What the planners ask of a host: its agent's actions with their errors worded, roles resolved, and
 * the leases a host can run by itself. Shared by every planner in catalog.ts.
 */

/** A lease's revert: a vipdrill-fault subcommand, or the removal of the fault's nft rules. */
export const faultLease = (host: Host, ...argv: (string | number)[]): { host: Host; revert: LeaseRevert } => ({ host, revert: { name: 'fault', args: { argv: argv.map(String) } } });
export const nftLease = (env: FaultEnv, host: Host): { host: Host; revert: LeaseRevert } => ({ host, revert: { name: 'nft-remove', args: { id: env.id } } });

export function resolve(env: FaultEnv, target: string): Host {
  if (target === 'master') return env.master;
  if (target === 'backup') return env.backup;
  return target;
}

/** What a host's action said went wrong, without the transport's wording ("agent on b: act failed: RuntimeError: "). */
export function reason(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/^agent on \S+: act failed: (RuntimeError: )?/, '');
}

/**
 * One subcommand of the host's vipdrill-fault (lab/agent/vipdrill-fault), run by its agent with argv;
 * the lab-clock time it took effect, and its output. A failure is a FAULT_FAILED naming `what`.
 */
export async function sh(env: FaultEnv, h: Host, what: string, argv: (string | number)[], deadlineMs?: number): Promise<{ at: number; out: string }> {
  try {
    return await env.act<{ out: string }>(h, 'fault', { argv: argv.map(String) }, deadlineMs);
  } catch (e) {
    throw new VipdrillError('FAULT_FAILED', `${what} on ${h} failed: ${reason(e)}`);
  }
}
export const at = (r: Promise<{ at: number }>) => r.then((x) => x.at);

/** Run `fn` only while host `h` runs (a stopped container took its state with it); else the lab clock. */
export async function ifRunning(env: FaultEnv, h: Host, fn: () => Promise<number>): Promise<number> {
  return (await env.engine.containerState(container(env.lab, h))) === 'running' ? fn() : env.now('client');
}

/** The lab clock from a host that the fault does not freeze or kill (the client, else the other node). */
export async function clockBeside(env: FaultEnv, victim: Host): Promise<number> {
  const other: Host = victim === 'client' ? env.master : 'client';
  return env.now(other);
}

