
/**
 * The data-plane probe: ping inside the lab at a fixed interval (5 ms by default), timestamped by ping
 * itself on the lab clock (-D), so outages are measured where the client sees them.
 *
 * - forward: the client pings the LAN host through the tunnel (its route to the LAN goes through ppp);
 *   no interface is pinned, so the probe keeps running across a reconnect (a new ppp device, maybe a
 *   new address): a loop restarts ping, and the client's ip-up hook ends the current ping.
 * - reverse: the LAN host pings the client's tunnel address (through whichever node the LAN routes the
 *   pool to), for asymmetric paths.
 *
 * Each reply line carries its receive time and its round trip, so the probe's *send* time is known;
 * outages are measured between send times of successful probes (the round trip does not inflate them).
 */

export const DEFAULT_PROBE_INTERVAL_MS = 5;

export interface Outage {
  /** the last reply's receive time before the gap, the send time of the first probe through after it (lab clock, s) */
  from: number;
  to: number;
  /** to - from: what two successful probes bracket (ms) */
  gapMs: number;
  /**
   * the outage estimate (ms): from the middle of `start` to the middle of `end`. Without send times of
   * the lost probes (a stall, a restart of ping) the edges are one achieved interval wide.
   */
  ms: number;
  /**
   * where the path broke: after the last reply came back, and before the first lost probe was sent
   * (plus its round trip). ping prints no line when it sends, but with -O it prints "no answer yet for
   * icmp_seq=N" as it sends N+1: the send times of all lost probes but the first, which is bounded by
   * the second less the shortest spacing ping kept while a probe was unanswered (lab clock, s)
   */
  start?: [number, number];
  /** where the path worked again: after the last lost probe was sent, at or before the first probe through was sent */
  end?: [number, number];
  /** ± ms: half the widths of the two edges, what the probe can tell at best */
  resolutionMs?: number;
}

export interface ProbeReport {
  direction: 'forward' | 'reverse';
  target: string;
  intervalMs: number;
  /** the interval ping really kept between replies outside outages (median; timers are slower under emulation) */
  achievedIntervalMs?: number;
  sent: number;
  received: number;
  /** probes unanswered outside the outages listed (a calm lab: 0) */
  lostOutsideOutages: number;
  firstReply?: number;
  lastReply?: number;
  /** every gap between successful probes longer than the threshold in which probes were lost */
  outages: Outage[];
  /** gaps in which ping sent nothing (consecutive sequence numbers): the prober stalled, nothing was lost */
  stalls: Outage[];
  /** a gap counts as an outage above this (ms): ten intervals, at least 50 ms (emulated timers jitter) */
  thresholdMs: number;
  /**
   * the shortest spacing ping kept between probes while one was unanswered (ms): iputils waits at least
   * 10 ms (its MIN_INTERVAL_MS) for a reply before the next probe, so inside an outage probes go out
   * every 10-20 ms, not every `intervalMs`; the outage's edges are as wide as this
   */
  lossSpacingMs?: number;
}

const median = (xs: number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** `[1795688145.123456] 64 bytes from 10.213.2.50: icmp_seq=12 ttl=63 time=2.10 ms` and friends. */
export function parseProbe(text: string, intervalMs: number, direction: 'forward' | 'reverse' = 'forward', target = ''): ProbeReport {
  const ok: { t: number; recv: number; run: number; seq: number }[] = [];
  // send times by run and sequence number: a reply's receive time less its round trip, and "no answer
  // yet for icmp_seq=N", which ping prints (-O) as it sends N+1
  const sentAt = new Map<string, number>();
  const unanswered: { run: number; seq: number }[] = [];
  // ping restarts (new address after a reconnect) begin again at icmp_seq=1: count per run of ping. A
  // run starts at ping's "PING <target> ..." header; not at a falling sequence number, which a late reply
  // (answered after the next probe went out) also shows
  let sent = 0;
  let runMax = 0;
  let run = 0;
  let seenAny = false;
  const runMaxes: number[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('PING ')) {
      if (seenAny) {
        sent += runMax;
        runMaxes.push(runMax);
        runMax = 0;
        run++;
      }
      continue;
    }
    const seq = /icmp_seq=(\d+)/.exec(line);
    if (!seq) continue;
    seenAny = true;
    const n = Number(seq[1]);
    runMax = Math.max(runMax, n);
    const m = /^\[(\d+\.\d+)\] \d+ bytes from [^:]+: icmp_seq=\d+ .*time=([\d.]+) ms/.exec(line);
    if (m) {
      ok.push({ t: Number(m[1]) - Number(m[2]) / 1000, recv: Number(m[1]), run, seq: n });
      sentAt.set(`${run}:${n}`, ok.at(-1)!.t);
      continue;
    }
    const na = /^\[(\d+\.\d+)\] no answer yet for icmp_seq=\d+/.exec(line);
    if (na) {
      runMax = Math.max(runMax, n + 1);
      sentAt.set(`${run}:${n + 1}`, Number(na[1]));
      unanswered.push({ run, seq: n });
    }
  }
  // how long ping waited before the next probe while one was unanswered: the shortest such spacing
  const lossSpacings = unanswered.flatMap(({ run: r, seq }) => {
    const a = sentAt.get(`${r}:${seq}`);
    const b = sentAt.get(`${r}:${seq + 1}`);
    return a !== undefined && b !== undefined && b > a ? [(b - a) * 1000] : [];
  });
  const lossSpacingMs = lossSpacings.length > 0 ? Math.min(...lossSpacings) : undefined;
  const maxSeq = sent + runMax;
  ok.sort((a, b) => a.t - b.t);
  const thresholdMs = Math.max(10 * intervalMs, 50);
  const gaps = ok.slice(1).map((x, i) => (x.t - ok[i]!.t) * 1000);
  const achieved = median(gaps.filter((g) => g <= thresholdMs)) ?? intervalMs;
  const outages: Outage[] = [];
  const stalls: Outage[] = [];
  let lostInOutages = 0;
  for (let i = 1; i < ok.length; i++) {
    const a = ok[i - 1]!;
    const b = ok[i]!;
    if ((b.t - a.t) * 1000 <= thresholdMs) continue;
    // the path was last seen working when the last reply came back (its receive time), and seen working
    // again when the first probe after got through (its send time): replies in flight when the path
    // broke are lost too, so send-to-send would overstate the outage by a round trip
    const gapMs = Math.max(0, (b.t - a.recv) * 1000);
    const g: Outage = { from: a.recv, to: b.t, gapMs, ms: Math.max(0, gapMs - achieved) };
    // consecutive sequence numbers: ping sent nothing in the gap (the emulated lab stalled the prober),
    // no probe was lost: a stall, not an outage
    if (a.run === b.run && b.seq === a.seq + 1) stalls.push(g);
    else {
      if (a.run === b.run) Object.assign(g, edges(a, b, (r, q) => sentAt.get(`${r}:${q}`), achieved, lossSpacingMs));
      outages.push(g);
      // across a restart of ping: the old run's unanswered tail and the new run's unanswered head
      lostInOutages += a.run === b.run ? b.seq - a.seq - 1 : (runMaxes[a.run] ?? runMax) - a.seq + b.seq - 1;
    }
  }
  return {
    direction,
    target,
    intervalMs,
    ...(gaps.length > 0 ? { achievedIntervalMs: achieved } : {}),
    sent: maxSeq,
    received: ok.length,
    lostOutsideOutages: Math.max(0, maxSeq - ok.length - lostInOutages),
    ...(ok.length > 0 ? { firstReply: ok[0]!.t, lastReply: ok.at(-1)!.t } : {}),
    outages,
    stalls,
    thresholdMs,
    ...(lossSpacingMs !== undefined ? { lossSpacingMs } : {}),
  };
}

/**
 * The edges of an outage between successful probes `a` and `b` (same run of ping). The path broke after
 * a's reply came back and before the first lost probe (a.seq + 1) was sent, plus a round trip; it worked
 * again after the last lost probe (b.seq - 1) was sent and by the time b was. The first lost probe's send
 * time is not printed: it is at most the second's less the shortest spacing ping keeps while a probe is
 * unanswered. The estimate runs from the middle of one edge to the middle of the other.
 */
function edges(
  a: { t: number; recv: number; run: number; seq: number },
  b: { t: number; run: number; seq: number },
  sent: (run: number, seq: number) => number | undefined,
  achievedMs: number,
  lossSpacingMs: number | undefined,
): Pick<Outage, 'ms' | 'start' | 'end' | 'resolutionMs'> {
  const rtt = a.recv - a.t;
  const second = sent(a.run, a.seq + 2);
  const startHi = second !== undefined && lossSpacingMs !== undefined ? second - lossSpacingMs / 1000 + rtt : a.recv + achievedMs / 1000;
  const start: [number, number] = [a.recv, Math.min(b.t, Math.max(a.recv, startHi))];
  const lastLost = sent(b.run, b.seq - 1);
  const end: [number, number] = [Math.max(start[1], lastLost ?? b.t - achievedMs / 1000), b.t];
  const mid = (e: [number, number]) => (e[0] + e[1]) / 2;
  return {
    ms: Math.max(0, (mid(end) - mid(start)) * 1000),
    start,
    end,
    resolutionMs: ((start[1] - start[0]) + (end[1] - end[0])) * 500,
  };
}
