
/**
 * The data-plane probe: ping inside the lab at a fixed interval (20 ms by default), timestamped by ping
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

/**
 * 20 ms, not less: iputils ping spins (sched_yield and a non-blocking recvmsg, its "intervals less than
 * resolution of scheduler" branch) whenever its next send is 1000/CLK_TCK = 10 ms away or nearer and
 * nothing is in flight, so at 5 ms each probe held an emulated CPU at 70-80 % and the two of them starved
 * the TCG lab for the whole run (a node's docker start took 12 s instead of 5 s). At 20 ms a probe costs
 * about 5 %, and a reply up to 10 ms late still does not make it spin.
 */
export const DEFAULT_PROBE_INTERVAL_MS = 20;

export interface Outage {
  /** the last reply's receive time before the gap, the send time of the first probe through after it (lab clock, s) */
  from: number;
  to: number;
  /** to - from: what two successful probes bracket (ms) */
  gapMs: number;
  /** how many probes went unanswered in the gap (an outage: at least one; a stall: none) */
  lost?: number;
  /**
   * the outage estimate (ms): from the middle of `start` to the middle of `end`. Across a restart of
   * ping (no edges) the gap less one achieved interval.
   */
  ms: number;
  /**
   * where the path broke, in send times: after the last probe through was sent, by the time the first
   * lost one was. Each end is a proven bound on a send time (see sendBounds), so the edge holds the
   * truth (lab clock, s)
   */
  start?: [number, number];
  /** where the path worked again: after the last lost probe was sent, by the time the first probe through was */
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
  /**
   * a gap counts as an outage above this (ms): five intervals, at least 50 ms (emulated timers jitter);
   * five, not ten: at the 20 ms probe ten made it 200 ms, and a 200 ms blackout would hide under it
   */
  thresholdMs: number;
  /**
   * the shortest spacing ping kept between probes while one was unanswered (ms): iputils waits at least
   * 10 ms (its MIN_INTERVAL_MS) for a reply before the next probe, so at intervals under 10 ms probes go
   * out every 10-20 ms inside an outage, not every `intervalMs`; the outage's edges are as wide as this
   */
  lossSpacingMs?: number;
}

const median = (xs: number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** One run of ping (from its PING header): what its lines say of each sequence number. */
interface Run {
  /** the first reply per sequence number (a DUP! is ignored): its print time and round trip */
  replies: Map<number, { printed: number; rttMs: number }>;
  /** send times printed by -O: "no answer yet for icmp_seq=N" is printed as N+1 is sent */
  sentAt: Map<number, number>;
  /** the lowest and highest sequence numbers the run shows sent (a log cut at its head starts late) */
  min: number;
  max: number;
  /** sequence numbers are 16 bits and wrap (every 22 min at 20 ms, 5.5 min at 5 ms): what was added to unwrap them */
  wraps: number;
}

/** A sequence number on the run's unwrapped scale: one far below the highest seen began a new lap. */
function unwrap(run: Run, raw: number): number {
  let n = raw + run.wraps;
  if (run.max > 0 && n < run.max - 32768) {
    run.wraps += 65536;
    n += 65536;
  } else if (n > run.max + 32768 && run.wraps > 0) n -= 65536; // a late reply from the lap before
  return n;
}

/** A probe's send time, known between `lo` and `hi` (lab clock, s). */
interface Bounds {
  lo: number;
  hi: number;
}

/** `[1795688145.123456] 64 bytes from 10.213.2.50: icmp_seq=12 ttl=63 time=2.10 ms` and friends. */
function readRuns(text: string): Run[] {
  const runs: Run[] = [];
  let cur: Run | undefined;
  const fresh = (): Run => ({ replies: new Map(), sentAt: new Map(), min: Infinity, max: 0, wraps: 0 });
  for (const line of text.split('\n')) {
    // ping restarts (a new address after a reconnect) begin again at icmp_seq=1: a run starts at ping's
    // "PING <target> ..." header; not at a falling sequence number, which a late reply also shows
    if (line.startsWith('PING ')) {
      if (!cur || cur.max > 0) runs.push((cur = fresh()));
      continue;
    }
    const seq = /icmp_seq=(\d+)/.exec(line);
    if (!seq) continue;
    if (!cur) runs.push((cur = fresh()));
    const n = unwrap(cur, Number(seq[1]));
    cur.min = Math.min(cur.min, n);
    cur.max = Math.max(cur.max, n);
    const m = /^\[(\d+\.\d+)\] \d+ bytes from [^:]+: icmp_seq=\d+ .*time=([\d.]+) ms/.exec(line);
    if (m) {
      if (!cur.replies.has(n)) cur.replies.set(n, { printed: Number(m[1]), rttMs: Number(m[2]) });
      continue;
    }
    const na = /^\[(\d+\.\d+)\] no answer yet for icmp_seq=\d+/.exec(line);
    if (na) {
      cur.max = Math.max(cur.max, n + 1);
      if (!cur.sentAt.has(n + 1)) cur.sentAt.set(n + 1, Number(na[1]));
    }
  }
  // a header with no probe after it (ping ended at once): no run
  return runs.filter((r) => r.max > 0);
}

/**
 * Every probe's send time, as an interval that provably holds it, from four facts about iputils ping:
 * - "no answer yet for N" is printed as N+1 is sent: its stamp is N+1's send time;
 * - with -O that line is printed whenever the probe before is unanswered as the next goes out, so
 *   without it, N's reply was read (and printed) before N+1 was sent: N+1 left after that print;
 * - a reply's print time less its round trip (the kernel's receive stamp less the send stamp) is at or
 *   after its send: later when ping printed it late (descheduled, as a loaded lab makes it);
 * - with preload 1 its token bucket never sends two probes closer than the interval.
 * Backwards, a send is at the latest one interval before the next one's latest; forwards, at the
 * earliest one interval after the previous one's earliest, or after the previous reply's print.
 */
function sendBounds(run: Run, ivS: number): (seq: number) => Bounds {
  const n = run.max - run.min + 1;
  const hi: number[] = new Array<number>(n + 1).fill(Infinity);
  for (let i = n - 1; i >= 0; i--) {
    const r = run.replies.get(run.min + i);
    const own = run.sentAt.get(run.min + i) ?? (r ? r.printed - r.rttMs / 1000 : Infinity);
    hi[i] = Math.min(own, hi[i + 1]! - ivS);
  }
  const out: Bounds[] = [];
  for (let i = 0; i < n; i++) {
    const k = run.min + i;
    const prev = out[i - 1];
    const printedBefore = run.replies.get(k - 1)?.printed;
    // the first probe of a run has no predecessor: its own figure is taken as it is (ping starts calm)
    const lo = !prev ? hi[i]! : run.sentAt.get(k) ?? Math.max(prev.lo + ivS, printedBefore ?? -Infinity);
    // never before the previous probe's earliest (a clock stepped back breaks the facts, not the order)
    out.push({ lo: Math.min(Math.max(lo, prev?.lo ?? -Infinity), hi[i]!), hi: hi[i]! });
  }
  return (seq) => out[seq - run.min]!;
}

interface Answered {
  run: number;
  seq: number;
  /** send time: its latest bound (the figure itself unless printed late) */
  t: number;
  lo: number;
  /** the reply's arrival: send time plus round trip */
  recv: number;
}

/** Parse ping -D -O output into the probe's report: outages, stalls and what was lost. */
export function parseProbe(text: string, intervalMs: number, direction: 'forward' | 'reverse' = 'forward', target = ''): ProbeReport {
  const ivS = intervalMs / 1000;
  const runs = readRuns(text);
  const bounds = runs.map((r) => sendBounds(r, ivS));
  const ok: Answered[] = runs.flatMap((r, i) =>
    [...r.replies.keys()].sort((a, b) => a - b).map((seq) => {
      const b = bounds[i]!(seq);
      return { run: i, seq, t: b.hi, lo: b.lo, recv: b.hi + r.replies.get(seq)!.rttMs / 1000 };
    }),
  );
  // how long ping waited before the next probe while one was unanswered: the shortest such spacing
  const lossSpacings = runs.flatMap((r) =>
    [...r.sentAt].flatMap(([k, t]) => {
      const next = r.sentAt.get(k + 1);
      return next !== undefined && next > t ? [(next - t) * 1000] : [];
    }),
  );
  const lossSpacingMs = lossSpacings.length > 0 ? lossSpacings.reduce((m, x) => Math.min(m, x)) : undefined;
  const sent = runs.reduce((n, r) => n + r.max - r.min + 1, 0);
  const thresholdMs = Math.max(5 * intervalMs, 50);
  const gaps = ok.slice(1).map((x, i) => (x.t - ok[i]!.t) * 1000);
  const achieved = median(gaps.filter((g) => g >= 0 && g <= thresholdMs)) ?? intervalMs;
  const outages: Outage[] = [];
  const stalls: Outage[] = [];
  let lostInOutages = 0;
  for (let i = 1; i < ok.length; i++) {
    const a = ok[i - 1]!;
    const b = ok[i]!;
    // the path was last seen working when the last reply came back, and seen working again when the
    // first probe after got through (its send time): replies in flight when the path broke are lost
    // too, so send-to-send would overstate the gap by a round trip
    const gapMs = Math.max(0, (b.t - a.recv) * 1000);
    // the probes between: across a restart of ping, the old run's unanswered tail and the new run's head
    const lost = a.run === b.run ? b.seq - a.seq - 1 : runs[a.run]!.max - a.seq + b.seq - runs[b.run]!.min;
    if (gapMs <= thresholdMs) continue;
    const g: Outage = { from: a.recv, to: Math.max(a.recv, b.t), gapMs, ms: Math.max(0, gapMs - achieved), lost };
    // nothing lost: ping sent nothing in the gap (the emulated lab stalled the prober): a stall
    if (lost === 0) stalls.push(g);
    else {
      if (a.run === b.run) Object.assign(g, edges(a, b, bounds[a.run]!));
      outages.push(g);
      lostInOutages += lost;
    }
  }
  return {
    direction,
    target,
    intervalMs,
    ...(gaps.length > 0 ? { achievedIntervalMs: achieved } : {}),
    sent,
    received: ok.length,
    lostOutsideOutages: sent - ok.length - lostInOutages,
    // the span of the probes through: the earliest send and the latest (runs are in order unless the clock stepped)
    // (a reduce: a 10-minute probe has 120,000 replies, too many to spread into Math.min's arguments)
    ...(ok.length > 0 ? { firstReply: ok.reduce((m, x) => Math.min(m, x.lo), Infinity), lastReply: ok.reduce((m, x) => Math.max(m, x.t), -Infinity) } : {}),
    outages,
    stalls,
    thresholdMs,
    ...(lossSpacingMs !== undefined ? { lossSpacingMs } : {}),
  };
}

/**
 * The edges of an outage between successful probes `a` and `b` (same run of ping), in send times: the
 * path broke after a was sent and by the time the first lost probe (a.seq + 1) was; it worked again
 * after the last lost probe (b.seq - 1) was sent and by the time b was. Each edge runs from the earliest
 * its first probe can have been sent to the latest its second can, so it holds the truth; the estimate
 * runs from the middle of one edge to the middle of the other, ± half the two widths.
 */
function edges(a: Answered, b: Answered, bounds: (seq: number) => Bounds): Pick<Outage, 'ms' | 'start' | 'end' | 'resolutionMs'> {
  const start: [number, number] = [bounds(a.seq).lo, bounds(a.seq + 1).hi];
  const end: [number, number] = [bounds(b.seq - 1).lo, bounds(b.seq).hi];
  const mid = (e: [number, number]) => (e[0] + e[1]) / 2;
  return {
    ms: Math.max(0, (mid(end) - mid(start)) * 1000),
    start,
    end,
    resolutionMs: ((start[1] - start[0]) + (end[1] - end[0])) * 500,
  };
}
