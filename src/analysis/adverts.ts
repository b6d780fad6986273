import { formatMs } from '../util/time.js';

/**
 * VRRP adverts as captured on a node's wan (tcpdump through its agent), and what they tell of a takeover:
 * a backup restarts its master-down timer at every advert it receives, so its "Entering MASTER STATE"
 * line should come down_timer_adverts × A + skew after the master's last advert, whatever the fault
 * command cost (a loaded engine's kill, a slow docker). The fault-based takeover mixes the two.
 */

export interface Advert {
  t: number;
  src: string;
  version: number;
  prio: number;
  /** the interval the packet advertises (ms) */
  intervalMs: number;
}

/** tcpdump -e -tt -v lines of VRRP: a stamped header line, then `src > dst: VRRPv3, Advertisement, …, intvl 30cs`. */
export function parseAdverts(text: string): Advert[] {
  const out: Advert[] = [];
  let t: number | undefined;
  for (const line of text.split('\n')) {
    const stamp = /^(\d+\.\d+) /.exec(line);
    if (stamp) t = Number(stamp[1]);
    const m = /(\d+\.\d+\.\d+\.\d+) > \S+: VRRPv(\d), Advertisement, vrid \d+, prio (\d+),.*?intvl (\d+)(cs|s)/.exec(line);
    if (m && t !== undefined) out.push({ t, src: m[1]!, version: Number(m[2]), prio: Number(m[3]), intervalMs: Number(m[4]) * (m[5] === 'cs' ? 10 : 1000) });
  }
  return out;
}

/** The takeover measured from the master's last advert on the wire, against VRRP's master-down interval. */
export interface AdvertTakeover {
  /** the old master's last advert the new holder received before its MASTER line, ms after the fault was asked */
  lastAdvertMs: number;
  /** the new holder's MASTER line less that advert (ms) */
  fromLastAdvertMs: number;
  /** what VRRP predicts from that advert: the master-down interval, or only the skew after a priority-0 advert (ms) */
  expectedMs: number;
  /** one advert plus the hosts' measured lag (ms): how far the line may lie from the prediction */
  toleranceMs: number;
  /** the last advert had priority 0: the master said it was leaving */
  resigned: boolean;
  /** adverts received from the other node in the window */
  n: number;
  ok: boolean;
  detail: string;
}

/**
 * `incoming`: the adverts a node received from its peer (not its own), host clock. `masterAt`: its
 * keepalived's MASTER line; `faultAt`: when the fault was asked. `downMs`/`skewMs`: the RFC 5798 master-down
 * interval and skew of that node; `advertMs` the profile's interval; `lagMs` the hosts' worst scheduling
 * lag in the window. Undefined when no advert came in the last ten adverts before the fault or after it.
 */
export function advertTakeover(incoming: Advert[], o: { masterAt: number; faultAt: number; downMs: number; skewMs: number; advertMs: number; lagMs: number }): AdvertTakeover | undefined {
  const window = incoming.filter((a) => a.t < o.masterAt && a.t >= o.faultAt - (10 * o.advertMs) / 1000);
  const last = window.at(-1);
  if (!last) return undefined;
  const resigned = last.prio === 0;
  const expectedMs = resigned ? o.skewMs : o.downMs;
  const fromLastAdvertMs = (o.masterAt - last.t) * 1000;
  const toleranceMs = o.advertMs + o.lagMs;
  const ok = Math.abs(fromLastAdvertMs - expectedMs) <= toleranceMs;
  const lastAdvertMs = (last.t - o.faultAt) * 1000;
  const detail = `the master's last advert${resigned ? ' (priority 0: it resigned)' : ''} reached the new holder ${relative(lastAdvertMs)} the fault was asked; its MASTER line came ${formatMs(fromLastAdvertMs)} after that advert, against VRRP's ${resigned ? 'skew' : 'master-down interval'} ${formatMs(expectedMs)} (allowed ±${formatMs(toleranceMs)}: one advert plus ${formatMs(o.lagMs)} of host lag)${ok ? '' : ': outside'}`;
  return { lastAdvertMs, fromLastAdvertMs, expectedMs, toleranceMs, resigned, n: window.length, ok, detail };
}

const relative = (ms: number) => (ms < 0 ? `${formatMs(-ms)} before` : `${formatMs(ms)} after`);
