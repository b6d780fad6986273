/**
 * The run's event stream, defined in one place. A repeat is an ordered list of two kinds of event, both
 * stamped with the lab's clock (seconds since the epoch), written to events.jsonl in time order:
 *
 * - RunEvent: what the runner did and saw (run.start, baseline.ok, calm, probe, fault.inject,
 *   fault.revert, wait.*, check.*, sleep, heal, heal.final, phase, error, run.end);
 * - HostEvent: what a host's agent pushed as it happened (vrrp.notify, vrrp.state, daemon.start,
 *   daemon.exit, host.lag, agent.ready, agent.closed), with the host's name.
 *
 * Figures are pure functions of these and of the evidence read after the run (src/analysis).
 */
import type { EvidenceLine } from '../analysis/analyse.js';

export type EventKind = 'run.start' | 'baseline.ok' | 'calm' | 'probe' | 'fault.inject' | 'fault.revert' | 'wait.ok' | 'wait.timeout' | 'check.pass' | 'check.fail' | 'sleep' | 'heal' | 'heal.final' | 'phase' | 'error' | 'run.end';

/** One entry of the run's ordered event stream; `t` is the lab clock (seconds since the epoch). */
export interface RunEvent {
  seq: number;
  t: number;
  kind: EventKind;
  message: string;
  step?: number;
  data?: Record<string, unknown>;
}


/** What the agent pushes on its own, stamped with the host's clock (seconds since the epoch). */
export type AgentEvent =
  | { ev: 'agent.ready'; t: number; version: number; pid: number }
  | { ev: 'vrrp.notify'; t: number; instance: string; state: string; priority: number }
  | { ev: 'vrrp.state'; t: number; state: 'MASTER' | 'BACKUP' | 'FAULT'; line: string }
  | { ev: 'daemon.start'; t: number; daemon: string; pid: number }
  | { ev: 'daemon.exit'; t: number; daemon: string; pid: number }
  | { ev: 'host.lag'; t: number; maxMs: number; meanMs: number; ticks: number }
  /** the controller's note that the stream ended; t is the last host time seen on it */
  | { ev: 'agent.closed'; t: number; why: string };

/** A pushed event with the host it came from. */
export type HostEvent = AgentEvent & { host: string };

/** VRRP's states: keepalived's notify fifo also reports events (MASTER_RX_LOWER_PRI, …) that are not one. */
export const VRRP_STATES: ReadonlySet<string> = new Set(['INIT', 'BACKUP', 'MASTER', 'FAULT', 'STOP', 'DELETED']);

/** A pushed event that is a VRRP state change: keepalived's own state line, or a notify line of a state. */
export const isVrrpTransition = (e: HostEvent): boolean => e.ev === 'vrrp.state' || (e.ev === 'vrrp.notify' && VRRP_STATES.has(e.state));

/**
 * One line of events.jsonl. The last line of a repeat that reached its analysis is its EvidenceLine
 * (src/analysis/analyse.ts): the result as the timeline left it and what the run read from the lab, from
 * which `vipdrill report` computes every figure and the verdict again.
 */
export type StreamLine = ({ source: 'runner' } & RunEvent) | ({ source: 'host' } & HostEvent) | EvidenceLine;
