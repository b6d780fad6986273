import { VipdrillError } from '../errors.js';
import type { HostEvent, LabHosts } from '../hosts/lab-hosts.js';
import type { Profile, Topology } from '../topology/schema.js';
import { formatMs, systemClock, type Clock } from '../util/time.js';

/**
 * The stability gate: no fault on an unstable lab. Before the first fault the lab must have been calm
 * for a window (3 × the master-down interval, at least 2 s): no VRRP transition pushed by any node, one
 * MASTER and the others BACKUP, and the client's tunnel answering. A lab that does not get there, or whose
 * holder moved since the baseline, gets no fault: the repeat is an error naming what moved and how late
 * the hosts' agents ran (their scheduling lag), never a failed verdict.
 */

export interface CalmWindow {
  /** host clock (s): the window that was calm */
  from: number;
  to: number;
  requiredMs: number;
  /** how long the gate waited for it (ms) */
  waitedMs: number;
  /** VRRP transitions pushed while it waited */
  transitions: number;
  /** the worst scheduling lag of any host's agent in the window (ms) */
  lagMaxMs: number;
}

export class UnstableLabError extends VipdrillError {
  override name = 'UnstableLabError';
  constructor(message: string) {
    super('TIMEOUT', `unstable lab: ${message}`);
  }
}

/** RFC 3768/5798 master-down interval of the lowest-priority node (the slowest to take over), in ms. */
export function masterDownMs(t: Topology, p: Profile): number {
  const adv = p.vrrp.advertInt;
  const prio = Math.min(...Object.values(t.nodes).map((n) => n.priority));
  const skew = p.vrrp.version === 3 ? ((256 - prio) * adv) / 256 : (256 - prio) / 256;
  return (3 * adv + skew) * 1000;
}

export function calmWindowMs(t: Topology, p: Profile): number {
  return Math.max(2000, 3 * masterDownMs(t, p));
}

const isVrrp = (e: HostEvent) => e.ev === 'vrrp.notify' || e.ev === 'vrrp.state';

function describeMoves(moves: HostEvent[], origin: number): string {
  const shown = moves.slice(-6).map((e) => `${e.host} ${'state' in e ? e.state : ''} at ${formatMs((e.t - origin) * 1000)}`);
  return `${moves.length} VRRP transition(s)${moves.length > 6 ? ' (last 6)' : ''}: ${shown.join(', ')}`;
}

export function lagMax(events: HostEvent[], from: number, to: number): { maxMs: number; host?: string } {
  let best: { maxMs: number; host?: string } = { maxMs: 0 };
  for (const e of events) if (e.ev === 'host.lag' && e.t >= from && e.t <= to + 1 && e.maxMs > best.maxMs) best = { maxMs: e.maxMs, host: e.host };
  return best;
}

/**
 * Wait until the lab has been calm for `requiredMs` (host clock), at most `maxWaitMs`. `tunnelOk` is the
 * last check: the client's tunnel answering at the end of the window.
 */
export async function awaitCalm(
  hosts: LabHosts,
  o: { requiredMs: number; maxWaitMs: number; /** VRRP moves counted in the message from here */ since: number; tunnelOk: () => Promise<boolean>; clock?: Clock; signal?: AbortSignal; onWait?: (why: string) => void },
): Promise<CalmWindow> {
  const clk = o.clock ?? systemClock;
  const clock = hosts.nodes[0]!;
  const t0 = await hosts.host(clock).now();
  const started = clk.now();
  let why = '';
  for (;;) {
    const now = await hosts.host(clock).now();
    const ev = hosts.events(o.since, now + 1);
    const moves = ev.filter(isVrrp);
    // calm since the last transition any agent pushed, or since they all watch (a transition before that is unknown)
    const lastMove = Math.max(hosts.events().filter(isVrrp).at(-1)?.t ?? 0, hosts.watchingSince());
    const { states } = hosts.pushedHolder();
    const masters = hosts.nodes.filter((n) => states[n] === 'MASTER');
    const others = hosts.nodes.filter((n) => states[n] !== 'MASTER' && states[n] !== 'BACKUP');
    const calmFor = (now - lastMove) * 1000;
    if (masters.length === 1 && others.length === 0 && calmFor >= o.requiredMs) {
      if (await o.tunnelOk()) {
        const from = now - o.requiredMs / 1000;
        return { from, to: now, requiredMs: o.requiredMs, waitedMs: clk.now() - started, transitions: moves.filter((e) => e.t >= t0).length, lagMaxMs: lagMax(ev, from, now).maxMs };
      }
      why = 'the client tunnel did not answer';
    } else {
      why = masters.length !== 1 || others.length > 0 ? `states ${hosts.nodes.map((n) => `${n}=${states[n]}`).join(' ')}` : `calm for ${formatMs(calmFor)} of ${formatMs(o.requiredMs)}`;
    }
    const waited = clk.now() - started;
    if (waited >= o.maxWaitMs) {
      const lag = lagMax(ev, t0, now);
      throw new UnstableLabError(
        `no calm window of ${formatMs(o.requiredMs)} within ${formatMs(o.maxWaitMs)} before the first fault (${why}); ${moves.filter((e) => e.t >= t0).length > 0 ? describeMoves(moves.filter((e) => e.t >= t0), t0) : 'no VRRP transition'} while waiting; the hosts' agents ran up to ${formatMs(lag.maxMs)} late${lag.host ? ` (${lag.host})` : ''}: the lab host is ${lag.maxMs >= 100 ? 'starved' : 'not visibly starved'}. No fault was injected.`,
      );
    }
    o.onWait?.(why);
    await clk.sleep(Math.min(500, Math.max(100, o.requiredMs - calmFor)), o.signal);
  }
}

export interface Starvation {
  /** the hosts' 1 s lag windows from the first fault to the end: their 90th percentile and maximum (ms) */
  lagP90Ms: number;
  lagMaxMs: number;
  /** the host of the worst window */
  host?: string;
  windows: number;
  thresholds: { p90Ms: number; maxMs: number };
  starved: boolean;
  detail: string;
}

const envMs = (name: string, dflt: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};

/**
 * When a repeat counts as starved: the hosts' agents ran late for a sustained stretch (the 90th percentile
 * of their 1 s lag windows at least $VIPDRILL_STARVED_P90_MS, 100 ms by default), or once for long (a
 * window at least $VIPDRILL_STARVED_MAX_MS, 1 s by default). A quiet TCG lab: p90 8-50 ms, single spikes
 * to ~300 ms while a node container starts.
 */
export function starvedThresholds(): { p90Ms: number; maxMs: number } {
  return { p90Ms: envMs('VIPDRILL_STARVED_P90_MS', 100), maxMs: envMs('VIPDRILL_STARVED_MAX_MS', 1000) };
}

export function starvation(events: HostEvent[], from: number, to: number, thresholds = starvedThresholds()): Starvation {
  const lags = events.filter((e): e is Extract<HostEvent, { ev: 'host.lag' }> => e.ev === 'host.lag' && e.t >= from && e.t <= to + 1);
  const sorted = lags.map((e) => e.maxMs).sort((a, b) => a - b);
  const p90 = sorted.length > 0 ? sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))]! : 0;
  const worst = lagMax(events, from, to);
  const starved = p90 >= thresholds.p90Ms || worst.maxMs >= thresholds.maxMs;
  const figures = `agents' lag over ${lags.length} one-second windows: p90 ${formatMs(p90)}, max ${formatMs(worst.maxMs)}${worst.host ? ` (${worst.host})` : ''}`;
  return {
    lagP90Ms: p90,
    lagMaxMs: worst.maxMs,
    ...(worst.host ? { host: worst.host } : {}),
    windows: lags.length,
    thresholds,
    starved,
    detail: starved
      ? `host starved during the fault: ${figures} (limits p90 ${formatMs(thresholds.p90Ms)}, max ${formatMs(thresholds.maxMs)}); timings are the starved lab's`
      : `${figures} (limits p90 ${formatMs(thresholds.p90Ms)}, max ${formatMs(thresholds.maxMs)})`,
  };
}
