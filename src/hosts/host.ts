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
  /** `vip`: also read the client's neighbour (ARP) entry for it */
  client(lan: string, full: boolean, vip?: string): Promise<ClientStatus>;
  counters(): Promise<{ t: number; text: string } | null>;
  sessions(): Promise<number>;
  logWindow(file: HostLog, from: number, to: number): Promise<string>;
  countLines(files: HostLog[], patterns: string[]): Promise<number>;
  leftovers(): Promise<Leftovers>;
  /** arm, renew or drop a fault's lease: the host reverts it by itself when it is not renewed in time */
  lease(op: 'arm', args: { id: string; revert: LeaseRevert; ttlMs: number }): Promise<{ expires: number; watchdog: number; systemd: string | null }>;
  lease(op: 'renew', args: { ids: string[] }): Promise<{ missing: string[] }>;
  lease(op: 'drop', args: { id: string }): Promise<{ dropped: boolean }>;
  startProbe(tag: string, target: string, intervalMs: number): Promise<number>;
  startCapture(tag: string, dev: string, filter?: CaptureFilter): Promise<number>;
  stopRecorder(tag: string): Promise<string>;
  act<T = Record<string, unknown>>(name: string, args?: Record<string, unknown>, deadlineMs?: number): Promise<{ t: number; result: T }>;
  now(): Promise<number>;
  /** after a container start: until its boot setup ran (an error if it failed) */
  waitBooted(timeoutMs?: number): Promise<void>;
  release(): void;
}

/** What vipdrill may have left on a host: its nft tables, netem qdiscs, fault or probe processes, armed leases. */
export interface Leftovers {
  tables: string[];
  netem: string[];
  processes: string[];
  leases?: string[];
}

/** The host-side revert a lease runs: one of the agent's named actions, with its args. */
export interface LeaseRevert {
  name: 'nft-remove' | 'fault' | 'start-daemon';
  args: Record<string, unknown>;
}

/** What a capture records: ARP (the VIP's claims) or VRRP adverts (the advert interval in force). */
export type CaptureFilter = 'arp' | 'vrrp';
