import { readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { VipdrillError } from '../errors.js';
import type { Attached, Engine } from '../lab/engine.js';
import type { ClientStatus, NodeStatus } from '../lab/probes.js';
import { AgentLink, type AgentEvent } from './agent-link.js';
import type { CaptureFilter, Host, LeaseRevert, Leftovers } from './host.js';
import { AGENT_SOURCE, AGENT_SYSTEMD_SOURCE, FAULT_SOURCE, HOST_PATHS, type HostLog } from './paths.js';

interface AgentStatus {
  daemons: Record<string, { running: boolean; pid: number | null }>;
  processes: { pppd: number[] };
  vrrpState: string | null;
  addresses: { dev: string; cidr: string; mac?: string }[];
  ready: boolean;
  booted: boolean;
}

interface AgentClient {
  ppp: boolean;
  pppDev: string | null;
  tunnelIp: string | null;
  lan: boolean;
  ike?: boolean;
  child?: boolean;
  l2tp?: boolean;
  neigh?: { ip: string; dev: string | null; mac: string | null; state: string[] }[];
}

/** Deadlines of the host's requests (ms): generous, since a starved emulated lab is slow, but finite. */
export const DEADLINES = { status: 5_000, client: 8_000, clientFull: 15_000, read: 10_000, act: 30_000 };
/** how long a status waits for the agent before it asks the engine too (a frozen node never answers) */
const STATUS_ANSWER_MS = 1_000;
/** how long a status waits on the engine for a host whose agent is gone before it says `unknown` */
const GONE_ENGINE_MS = 1_500;
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * One lab host (a lab container) as the controller sees it: typed requests to its resident agent over
 * one attached stream, and the events the agent pushes. The agent is copied in and started on first use,
 * and again after the container restarted (a crashed node coming back). Faults, watchers and checks ask
 * the Host; they never build shell strings.
 */
export class LabHost extends EventEmitter<{ event: [AgentEvent] }> implements Host {
  private link: AgentLink | undefined;
  private attached: Attached | undefined;
  private connecting: Promise<AgentLink> | undefined;
  private disposed = false;
  /** the agent and the fault shell were copied into this container */
  private installed = false;
  /** requests of links that were closed, for the round-trip count */
  private pastRequests = 0;

  constructor(
    readonly name: string,
    readonly container: string,
    private readonly engine: Engine,
  ) {
    super();
  }

  /** Agent requests plus container-state look-ups so far: the lab round trips. */
  get roundTrips(): number {
    return this.pastRequests + (this.link?.requests ?? 0) + this.stateLookups;
  }
  private stateLookups = 0;

  async containerState(): Promise<string> {
    this.stateLookups++;
    return (await this.engine.containerState(this.container)) ?? 'missing';
  }

  async connect(): Promise<void> {
    await this.agent();
  }

  /** The live link, started if there is none (the container must be running). */
  async agent(): Promise<AgentLink> {
    if (this.disposed) throw new VipdrillError('EXEC_FAILED', `${this.name}: the host was released`);
    if (this.link?.isOpen) return this.link;
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<AgentLink> {
    const since = this.link?.lastT;
    if (this.link) this.pastRequests += this.link.requests;
    // on real hosts the last agent to exit removes its install (a controller killed with SIGKILL cannot)
    const remote = this.engine.info.name === 'remote' ? ['--remove-at-exit'] : [];
    // a lab container keeps its files over a restart (a crashed node coming back): the copy is made once,
    // and again only when an agent started from it does not answer (under TCG a copy took seconds of the
    // node's return)
    const argv = ['python3', '-u', HOST_PATHS.agent, ...remote, ...(since ? ['--since', since.toFixed(6)] : [])];
    if (this.installed && remote.length === 0) {
      // a container that is not running refuses the attach: that error is the answer
      const a = await this.engine.attach(this.container, argv);
      try {
        return await this.hello(a);
      } catch {
        a.close();
        this.installed = false;
      }
    }
    await this.engine.putFiles(this.container, [
      { path: HOST_PATHS.agent, content: readFileSync(AGENT_SOURCE), mode: 0o755 },
      { path: HOST_PATHS.agentSystemd, content: readFileSync(AGENT_SYSTEMD_SOURCE), mode: 0o644 },
      { path: HOST_PATHS.fault, content: readFileSync(FAULT_SOURCE), mode: 0o755 },
    ]);
    const link = await this.hello(await this.engine.attach(this.container, argv));
    this.installed = true;
    return link;
  }

  /** the agent on an attached stream, once it answered its hello */
  private async hello(a: Attached): Promise<AgentLink> {
    const link = new AgentLink(`agent on ${this.name}`, a.stdin, a.stdout);
    link.on('event', (e) => this.emit('event', e));
    link.once('closed', (why) => this.emit('event', { ev: 'agent.closed', t: link.lastT, why }));
    void a.closed.then(() => link.end(`the agent stream ended${a.stderrTail() ? `: ${a.stderrTail().trim().split('\n').slice(-2).join(' | ')}` : ''}`));
    this.attached = a;
    this.link = link;
    await link.request('hello', {}, DEADLINES.status, 25_000);
    return link;
  }

  private async ask<T>(op: string, args: Record<string, unknown>, deadlineMs: number): Promise<{ t: number; result: T }> {
    return (await this.agent()).request<T>(op, args, deadlineMs);
  }

  /**
   * A node's VRRP state, VIPs, daemons; a host that is not running says only that. An agent that answers
   * runs in a running container, so the engine is not asked (one docker round trip less per node and
   * sample). The engine is asked only when the agent does not answer at once (a frozen node), fails, or
   * is gone; a gone agent whose engine is still busy (under TCG a killed node's docker kill returned 4.3 s
   * after its agent's stream closed) is reported `unknown`, holding nothing, rather than stalling the sample.
   */
  async status(vips: { wan: string; lan: string }): Promise<NodeStatus> {
    const running = (a: { t: number; result: AgentStatus }): NodeStatus => ({ ...nodeStatusOf(this.name, this.container, 'running', a.result, vips), clock: a.t });
    const stopped = (st: string) => nodeStatusOf(this.name, this.container, st, undefined, vips);
    if (this.link?.isOpen) {
      const answer = this.ask<AgentStatus>('status', {}, DEADLINES.status);
      const settled = answer.then((a) => ({ a }), (e: unknown) => ({ e }));
      const first = await Promise.race([settled, delay(STATUS_ANSWER_MS).then(() => undefined)]);
      if (first && 'a' in first) return running(first.a);
      // slow or failed: what is the container doing?
      const st = await this.containerState();
      if (st !== 'running') return stopped(st);
      const r = await settled;
      if ('a' in r) return running(r.a);
      // a container that stopped or froze while we asked: say what it is
      const now = await this.containerState();
      if (now !== 'running') return stopped(now);
      throw r.e;
    }
    // no live link: never opened yet, or gone with its container
    const gone = this.link !== undefined;
    const st = gone ? await Promise.race([this.containerState(), delay(GONE_ENGINE_MS).then(() => 'unknown')]) : await this.containerState();
    if (st !== 'running') return stopped(st);
    return running(await this.ask<AgentStatus>('status', {}, DEADLINES.status));
  }

  /**
   * Wait until the supervisor ran the container's boot setup (after a start), through the agent: it is
   * started again in the new container as soon as that answers. A failed boot setup is an error with its output.
   */
  async waitBooted(timeoutMs = 60_000): Promise<void> {
    const t0 = performance.now();
    let last = 'no answer yet';
    while (performance.now() - t0 < timeoutMs) {
      try {
        const a = (await this.ask<AgentStatus & { bootFailed: string | null }>('status', {}, DEADLINES.status)).result;
        if (a.bootFailed) throw new VipdrillError('ENGINE_FAILED', `boot setup in ${this.container} failed: ${a.bootFailed}`);
        if (a.booted) return;
        last = 'boot setup not done yet';
      } catch (e) {
        if (e instanceof VipdrillError && e.code === 'ENGINE_FAILED') throw e;
        last = e instanceof Error ? e.message : String(e);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new VipdrillError('TIMEOUT', `${this.name}: the boot setup did not finish within ${timeoutMs} ms (last: ${last})`);
  }

  /** The client's tunnel: PPP and a ping through it to `lan`; `full` adds the IKE/CHILD SAs and L2TP (slow). */
  async client(lan: string, full: boolean, vip?: string): Promise<ClientStatus> {
    const a = await this.ask<AgentClient>('client', { lan, full, ...(vip ? { vip } : {}) }, full ? DEADLINES.clientFull : DEADLINES.client);
    const r = a.result;
    const n = r.neigh?.[0];
    return { ikeSa: r.ike ?? false, childSa: r.child ?? false, l2tpTunnel: r.l2tp ?? false, pppUp: r.ppp, tunnelIp: r.tunnelIp, lanReachable: r.lan, clock: a.t, ...(full ? {} : { lanCheckOnly: true }), ...(vip && r.neigh ? { neigh: n ? { mac: n.mac, state: n.state } : null } : {}) };
  }

  /** `nft list counters table inet vipdrill_fw`, or null when it could not be read. */
  async counters(): Promise<{ t: number; text: string } | null> {
    const a = await this.ask<{ exitCode: number; text: string }>('counters', {}, DEADLINES.read);
    return a.result.exitCode === 0 ? { t: a.t, text: a.result.text } : null;
  }

  /** pppd sessions running here. */
  async sessions(): Promise<number> {
    return (await this.ask<{ pppd: number }>('sessions', {}, DEADLINES.read)).result.pppd;
  }

  /** Lines of a stamped log whose stamp lies in [from, to] (host clock). */
  async logWindow(file: HostLog, from: number, to: number): Promise<string> {
    // JSON has no infinity: an open end is a far-off time
    const bound = (x: number, far: number) => (Number.isFinite(x) ? x : far);
    return (await this.ask<{ text: string }>('log', { file, from: bound(from, 0), to: bound(to, 1e12) }, DEADLINES.read)).result.text;
  }

  /** Start a ping loop here; returns the host clock when it started. */
  async startProbe(tag: string, target: string, intervalMs: number): Promise<number> {
    return (await this.ask('probe.start', { tag, target, intervalMs }, DEADLINES.read)).t;
  }

  /** Start a capture (tcpdump -e -tt) of ARP or of VRRP adverts on `dev`; returns the host clock when it started. */
  async startCapture(tag: string, dev: string, filter: CaptureFilter = 'arp'): Promise<number> {
    return (await this.ask('capture.start', { tag, dev, filter }, DEADLINES.read)).t;
  }

  /** Stop a probe or a capture and return its raw output. */
  async stopRecorder(tag: string): Promise<string> {
    return (await this.ask<{ text: string }>('record.stop', { tag }, DEADLINES.read)).result.text;
  }

  /** Lines of the given stamped logs containing any of the fixed strings. */
  async countLines(files: HostLog[], patterns: string[]): Promise<number> {
    return (await this.ask<{ count: number }>('grep.count', { files, patterns }, DEADLINES.read)).result.count;
  }

  /** vipdrill's fault tables, netem qdiscs and fault or probe processes still here. */
  async leftovers(): Promise<Leftovers> {
    return (await this.ask<Leftovers>('leftovers', {}, DEADLINES.read)).result;
  }

  lease(op: 'arm', args: { id: string; revert: LeaseRevert; ttlMs: number }): Promise<{ expires: number; watchdog: number; systemd: string | null }>;
  lease(op: 'renew', args: { ids: string[] }): Promise<{ missing: string[] }>;
  lease(op: 'drop', args: { id: string }): Promise<{ dropped: boolean }>;
  async lease(op: 'arm' | 'renew' | 'drop', args: Record<string, unknown>): Promise<unknown> {
    return (await this.ask(`lease.${op}`, args, DEADLINES.read)).result;
  }

  /** The host's clock now. */
  async now(): Promise<number> {
    return (await this.ask('now', {}, DEADLINES.status)).t;
  }

  /** A named action with a deadline (kill-daemon, start-daemon, restart-daemon); the host clock when done. */
  async act<T = Record<string, unknown>>(name: string, args: Record<string, unknown> = {}, deadlineMs = DEADLINES.act): Promise<{ t: number; result: T }> {
    return this.ask<T>('act', { name, args }, deadlineMs);
  }

  /** Close the stream: the agent sees EOF, ends its probes and exits. */
  release(): void {
    this.disposed = true;
    this.link?.end('released');
    this.attached?.close();
  }
}

export function nodeStatusOf(name: string, container: string, containerState: string, a: AgentStatus | undefined, vips: { wan: string; lan: string }): NodeStatus {
  const addrs = a?.addresses ?? [];
  const has = (ip: string) => addrs.some((x) => x.cidr.split('/')[0] === ip);
  const daemons: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(a?.daemons ?? {})) daemons[k] = v.running;
  if (a && a.processes.pppd.length > 0) daemons.pppd = true;
  const keepalivedUp = daemons.keepalived ?? false;
  return {
    name,
    container,
    containerState,
    vrrpState: containerState !== 'running' ? containerState.toUpperCase() : keepalivedUp ? (a?.vrrpState ?? 'INIT') : 'STOPPED',
    holdsVip: has(vips.wan),
    holdsLanVip: has(vips.lan),
    daemons,
    addresses: addrs,
  };
}
