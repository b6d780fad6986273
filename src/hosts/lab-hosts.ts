import type { Engine } from '../lab/engine.js';
import type { LabContext } from '../lab/lab.js';
import { isVrrpTransition, type AgentEvent, type HostEvent } from '../run/events.js';
import type { Host } from './host.js';
import { LabHost } from './lab-host.js';

export type { HostEvent };

/** A node's VRRP state as its agent last pushed it (keepalived's notify fifo, in order), host clock. */
export interface PushedVrrp {
  state: string;
  t: number;
  /** where it came from: a notify-fifo line, the status read when the agent connected, or the link ending */
  source: 'notify' | 'status' | 'down';
}

/**
 * Every host of one lab with its live agent, the events they push (kept in arrival order), the VRRP
 * state each node last pushed, and the agents' scheduling lag. One per lab for a whole suite: each host
 * keeps one stream open across repeats. Released with `await using` or `release()`.
 */
export type HostFactory = (name: string, container: string) => Host;

export class LabHosts implements AsyncDisposable {
  readonly hosts = new Map<string, Host>();
  readonly nodes: string[];
  readonly vrrp = new Map<string, PushedVrrp>();
  private readonly log: HostEvent[] = [];
  private readonly listeners = new Set<(e: HostEvent) => void>();

  constructor(
    private readonly engine: Engine,
    readonly lab: LabContext,
    factory: HostFactory = (name, c) => new LabHost(name, c, engine),
  ) {
    this.nodes = Object.keys(lab.topology.nodes);
    for (const [name, c] of Object.entries(lab.record.containers)) {
      const h = factory(name, c);
      h.on('event', (e: AgentEvent) => this.onEvent({ ...e, host: name }));
      this.hosts.set(name, h);
    }
  }

  /** Start every running host's agent at once (the first request to a host would otherwise pay for it). */
  async connect(): Promise<void> {
    await Promise.all([...this.hosts.values()].map(async (h) => ((await h.containerState()) === 'running' ? h.connect() : undefined)));
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`lab ${this.lab.record.name} has no host "${name}" (hosts: ${[...this.hosts.keys()].join(', ')})`);
    return h;
  }

  /** The host time of the last event each host pushed: a dead host's last sign of life. */
  readonly lastHeard = new Map<string, number>();

  private onEvent(e: HostEvent): void {
    if (e.ev !== 'agent.closed') this.lastHeard.set(e.host, Math.max(this.lastHeard.get(e.host) ?? 0, e.t));
    // a notify event that is no state (a master hearing a lower priority after a split heals) leaves the state as it is
    if (e.ev === 'vrrp.notify' && isVrrpTransition(e)) this.vrrp.set(e.host, { state: e.state, t: e.t, source: 'notify' });
    if (e.ev === 'agent.closed' && this.nodes.includes(e.host)) this.vrrp.set(e.host, { state: 'DOWN', t: e.t, source: 'down' });
    this.log.push(e);
    if (this.log.length > 100_000) this.log.splice(0, 50_000);
    for (const l of this.listeners) l(e);
  }

  /** Call `fn` for every pushed event until the returned function is called. */
  subscribe(fn: (e: HostEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Events pushed with host time in [from, to]. */
  events(from = -Infinity, to = Infinity): HostEvent[] {
    return this.log.filter((e) => e.t >= from && e.t <= to);
  }

  /**
   * Note a node's state read by a status sample: it is the file the same notify hook writes, so a reading
   * well after the last pushed line (or with none yet: the agent just connected) is the state.
   */
  noteStatus(node: string, state: string, t: number): void {
    const cur = this.vrrp.get(node);
    if (!cur || t > cur.t + 0.5) this.vrrp.set(node, { state, t, source: 'status' });
  }

  /** The VIP holder by the latest pushed states: the one node in MASTER, else undefined. */
  pushedHolder(): { holder?: string; states: Record<string, string> } {
    const states: Record<string, string> = {};
    for (const n of this.nodes) states[n] = this.vrrp.get(n)?.state ?? 'UNKNOWN';
    const masters = this.nodes.filter((n) => states[n] === 'MASTER');
    return { ...(masters.length === 1 ? { holder: masters[0]! } : {}), states };
  }

  /** The host time from which VRRP transitions are known: when the last node's agent started watching. */
  watchingSince(): number {
    let t = 0;
    for (const n of this.nodes) {
      const first = this.log.find((e) => e.host === n && e.ev === 'agent.ready');
      t = Math.max(t, first?.t ?? Infinity);
    }
    return t;
  }

  /** Start a stopped or crashed host again (unpause a frozen one); its boot setup is awaited through its agent. */
  async ensureRunning(h: string): Promise<void> {
    const host = this.host(h);
    const c = this.lab.record.containers[h]!;
    const st = await host.containerState();
    if (st === 'paused') await this.engine.unpauseContainer(c);
    else if (st !== 'running') {
      await this.engine.startContainer(c);
      await host.waitBooted();
    }
  }

  /** Lab round trips so far: agent requests and container-state look-ups, over all hosts. */
  get roundTrips(): number {
    let n = 0;
    for (const h of this.hosts.values()) n += h.roundTrips;
    return n;
  }

  release(): void {
    for (const h of this.hosts.values()) h.release();
    this.listeners.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}
