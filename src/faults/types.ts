import type { Engine } from '../lab/engine.js';
import type { BlackoutWindow } from '../run/result.js';
import type { LabContext } from '../lab/lab.js';
import type { FaultStep } from '../scenario/schema.js';
import type { LeaseRevert } from '../hosts/host.js';

/** A lab host after role resolution (master/backup resolved when the fault is injected): a node's name, client or lanhost. */
export type Host = string;

export interface FaultEnv {
  engine: Engine;
  lab: LabContext;
  /** the VIP holder and the other node when this fault is planned */
  master: Host;
  backup: Host;
  /** a unique id for this fault (nft rule comments, state files) */
  id: string;
  /** the lab clock read on a running host (through its agent) */
  now(h: Host): Promise<number>;
  /** the host time of the last event host `h` pushed (its agent's lag ticks come once a second) */
  lastHeard?(h: Host): number | undefined;
  /** wait on the run's clock (a plan does not wait) */
  sleep?(ms: number): Promise<void>;
  /** start a stopped or crashed host again (unfreeze a frozen one) and wait for its boot setup */
  ensureRunning(h: Host): Promise<void>;
  /**
   * a named action of the host's agent (one request on its live stream, never an exec): nft-apply,
   * nft-remove, kill-daemon, or `fault` (a vipdrill-fault subcommand, as argv); `at` is the lab-clock
   * time it took effect
   */
  act<T = Record<string, unknown>>(h: Host, name: 'nft-apply' | 'nft-remove' | 'kill-daemon' | 'fault', args: Record<string, unknown>, deadlineMs?: number): Promise<{ at: number } & T>;
}

/**
 * One fault: `inject` and `revert`, both returning the lab-clock time (seconds) at which they acted.
 * The runner registers `revert` before it calls `inject`, so revert must be safe to run whether or
 * not inject ran, ran half-way, or ran twice (every revert here is idempotent).
 */
export interface PlannedFault {
  id: string;
  kind: FaultStep['fault'];
  /** the resolved hosts it touches */
  targets: Host[];
  /** a sentence for the event stream: what exactly is done */
  describe: string;
  inject(): Promise<number>;
  revert(): Promise<number>;
  /**
   * the revert as the hosts can run it without the controller (their agents' named actions), armed as
   * leases before the inject on hosts that need them (real hosts): empty when nothing outlives the fault,
   * absent when the fault has no host-side revert (a container crash: only the engine can undo it)
   */
  leases?: { host: Host; revert: LeaseRevert }[];
  /**
   * a fault timed inside the lab (blackout): set by inject, which returns only after the lab removed it.
   * `on`/`off` are the midpoints of the lab-clock brackets around the two nft commits.
   */
  window?: BlackoutWindow;
  /**
   * a fault that happens some time after it is asked (a node crash carried out by a loaded engine): it
   * took effect between `asked` (what inject returns) and `seen` (the engine's record of it), lab clock
   */
  bracket?: { asked: number; seen: number };
}

export type Planner<K extends FaultStep['fault']> = (env: FaultEnv, step: Extract<FaultStep, { fault: K }>) => PlannedFault;
