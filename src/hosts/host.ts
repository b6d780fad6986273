import type { EventEmitter } from 'node:events';
import type { ClientStatus, NodeStatus } from '../lab/probes.js';
import type { AgentEvent } from './agent-link.js';
import type { HostLog } from './paths.js';

/**
 * The contract between the run and one lab host: typed requests answered with the host's own clock, and
 * the events the host pushes. LabHost implements it over a resident agent; unit tests fake it.
 */
export interface Host extends Pick<EventEmitter<{ event: [AgentEvent] }>, 'on' | 'off'> {
  readonly name: string;
  /** lab round trips so far (agent requests and container look-ups) */
  readonly roundTrips: number;
  containerState(): Promise<string>;
  /** start the host's agent if it does not run */
  connect(): Promise<void>;
  status(vips: { wan: string; lan: string }): Promise<NodeStatus>;
  client(lan: string, full: boolean): Promise<ClientStatus>;
  counters(): Promise<{ t: number; text: string } | null>;
  sessions(): Promise<number>;
  logWindow(file: HostLog, from: number, to: number): Promise<string>;
  countLines(files: HostLog[], patterns: string[]): Promise<number>;
  leftovers(): Promise<{ tables: string[]; netem: string[]; processes: string[] }>;
  startProbe(tag: string, target: string, intervalMs: number): Promise<number>;
  startCapture(tag: string, dev: string, filter?: CaptureFilter): Promise<number>;
  stopRecorder(tag: string): Promise<string>;
  act<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>, deadlineMs?: number): Promise<{ t: number; result: T }>;
  now(): Promise<number>;
  /** after a container start: until its boot setup ran (an error if it failed) */
  waitBooted(timeoutMs?: number): Promise<void>;
  release(): void;
}

/** What a capture records: ARP (the VIP's claims) or VRRP adverts (the advert interval in force). */
export type CaptureFilter = 'arp' | 'vrrp';
