import { VipdrillError } from '../errors.js';
import type { LabHosts } from '../hosts/lab-hosts.js';
import { lagMax } from '../analysis/starvation.js';
import { isVrrpTransition, type HostEvent } from './events.js';
import type { LabContext } from '../lab/lab.js';
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

/**
 * The node VRRP settles on when nothing is failed, where vipdrill knows it: the lab renders keepalived
 * from a profile that preempts, so the highest priority takes the VIP back (a restarted master preempts
 * an advert or two after its keepalived starts, after the client's tunnel may already answer through the
 * other node). Unknown (undefined) for a user's own keepalived.conf, real hosts, nopreempt, a tie.
 */
export function preferredHolder(lab: Pick<LabContext, 'record' | 'topology' | 'profile' | 'loaded'>): string | undefined {
  if (lab.record.engine === 'remote' || 'keepalived' in lab.loaded.configFiles || !lab.profile.vrrp.preempt) return undefined;
  const [first, second] = Object.entries(lab.topology.nodes).sort(([, x], [, y]) => y.priority - x.priority);
  return first && second && first[1].priority > second[1].priority ? first[0] : undefined;
}

export function calmWindowMs(t: Topology, p: Profile): number {
  return Math.max(2000, 3 * masterDownMs(t, p));
}

const isVrrp = isVrrpTransition;

function describeMoves(moves: HostEvent[], origin: number): string {
  const shown = moves.slice(-6).map((e) => `${e.host} ${'state' in e ? e.state : ''} at ${formatMs((e.t - origin) * 1000)}`);
  return `${moves.length} VRRP transition(s)${moves.length > 6 ? ' (last 6)' : ''}: ${shown.join(', ')}`;
}

/**
 * Wait until the lab has been calm for `requiredMs` (host clock), at most `maxWaitMs`. `tunnelOk` is the
 * last check: the client's tunnel answering at the end of the window.
 */
export async function awaitCalm(
  hosts: LabHosts,
  o: {
    requiredMs: number;
    /** default: 10 × the window, at least 30 s */ maxWaitMs?: number;
    /** VRRP moves counted in the message from here */ since: number;
    /** host clock: the window starts here at the earliest (a change just made may move the VIP only after a while) */ calmFrom?: number;
    tunnelOk: () => Promise<boolean>;
    clock?: Clock;
    signal?: AbortSignal;
    onWait?: (why: string) => void;
  },
): Promise<CalmWindow> {
  const clk = o.clock ?? systemClock;
  const maxWaitMs = o.maxWaitMs ?? Math.max(30_000, 10 * o.requiredMs);
  const clock = hosts.nodes[0]!;
  const t0 = await hosts.host(clock).now();
  const started = clk.now();
  let why = '';
  for (;;) {
    const now = await hosts.host(clock).now();
    const ev = hosts.events(o.since, now + 1);
    const moves = ev.filter(isVrrp);
    // calm since the last transition any agent pushed, or since they all watch (a transition before that is unknown)
    const lastMove = Math.max(hosts.events().filter(isVrrp).at(-1)?.t ?? 0, hosts.watchingSince(), o.calmFrom ?? 0);
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
    if (waited >= maxWaitMs) {
      const lag = lagMax(ev, t0, now);
      throw new UnstableLabError(
        `no calm window of ${formatMs(o.requiredMs)} within ${formatMs(maxWaitMs)} before the first fault (${why}); ${moves.filter((e) => e.t >= t0).length > 0 ? describeMoves(moves.filter((e) => e.t >= t0), t0) : 'no VRRP transition'} while waiting; the hosts' agents ran up to ${formatMs(lag.maxMs)} late${lag.host ? ` (${lag.host})` : ''}: the lab host is ${lag.maxMs >= 100 ? 'starved' : 'not visibly starved'}. No fault was injected.`,
      );
    }
    o.onWait?.(why);
    await clk.sleep(Math.min(500, Math.max(100, o.requiredMs - calmFor)), o.signal);
  }
}

/**
 * master/backup at the moment of injection, from the states the agents pushed last. With `baselineHolder`
 * (the first fault) the holder must still be the baseline's; otherwise the lab moved and gets no fault.
 */
export function rolesNow(hosts: LabHosts, baselineHolder?: string): { master: string; backup: string } {
  const pushed = hosts.pushedHolder();
  const states = Object.entries(pushed.states).map(([n, x]) => `${n}=${x}`).join(' ');
  if (!pushed.holder) throw new UnstableLabError(`cannot resolve master/backup for the fault: pushed VRRP states ${states}. No fault was injected.`);
  if (baselineHolder !== undefined && pushed.holder !== baselineHolder) throw new UnstableLabError(`the VIP holder changed since the baseline (${baselineHolder} then, ${pushed.holder} now: ${states}). No fault was injected.`);
  const master = pushed.holder;
  return { master, backup: hosts.nodes.find((n) => n !== master)! };
}
