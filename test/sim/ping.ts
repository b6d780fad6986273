/**
 * A simulator of the lab's data-plane probe with known truth: the output of iputils `ping -D -O -i`
 * as the agent records it, for a path whose outages, and a prober whose stalls, are given.
 *
 * The model, which is what the analysis may rely on (src/analysis/dataplane.ts):
 * - a probe sent inside an outage window [down, up) is lost; the windows are in send times;
 * - ping sends no two probes closer than the interval (its token bucket, preload 1); a send may be late
 *   (a slow timer), and while a probe is unanswered ping waits at least `lossSpacingMs`;
 * - "no answer yet for icmp_seq=N" is printed, stamped, just as N+1 is sent;
 * - a reply's round trip is the kernel's (arrival less the send stamp), printed as iputils truncates it;
 *   the reply is printed when ping reads it, which is later when ping was descheduled (a stall);
 * - ping starts calm: no stall begins in the first 50 ms of a run (its first reply is printed on time);
 * - when ping wakes from a stall with a probe due and a reply waiting, it sends first, then reads;
 * - the return leg jitters per probe, so replies come late and out of order; a reply may come twice;
 * - ping is restarted (a new PING header, icmp_seq from 1) when the ip-up hook ends it, at an outage's end;
 * - sequence numbers are 16 bits and wrap.
 * Adversities beyond the model (a stepped clock, lost or cut lines) are applied to the text afterwards
 * by `damage`; on them only the analysis' invariants are asserted, not the truth.
 */

export interface PingTruth {
  /** lab clock of the first send (s) and how long ping runs (s) */
  start: number;
  durationS: number;
  intervalMs: number;
  /** windows [down, up) of send times in which probes are lost, sorted, disjoint */
  outages: { down: number; up: number }[];
  /** windows [from, to) in which ping is descheduled */
  stalls: { from: number; to: number }[];
  /** the round trip when nothing delays it (ms) */
  rttMs: number;
  /** extra return-leg delay per probe (ms), taken in turn */
  extraMs: number[];
  /** how late the send timer fires per probe (ms), taken in turn */
  lateMs: number[];
  lossSpacingMs: number;
  /** restart ping at the end of the outages with these indexes, after this delay (ms) */
  restartAfter: number[];
  restartDelayMs: number;
  /** the first sequence number (65530: a wrap soon) */
  firstSeq: number;
  /** every n-th reply comes twice (0: none) */
  dupEvery: number;
  /** wait for every outstanding reply at the end (as a calm run's ping does) */
  drain: boolean;
}

/** What was sent, and its fate: the truth the analysis must recover. */
export interface SentProbe {
  run: number;
  /** unwrapped, per run from firstSeq */
  seq: number;
  t: number;
  lost: boolean;
  /** the reply was printed (not lost, and read before the run ended) */
  answered: boolean;
  /**
   * a line shows it was sent: its reply, or the "no answer yet" printed as the next was sent. A probe
   * sent just before ping was ended (or the run's end) leaves no line: no analysis can know of it
   */
  visible: boolean;
  /** its round trip, when answered (ms) */
  rttMs?: number;
}

export interface PingSim {
  text: string;
  sent: SentProbe[];
}

const US = 1e-6;

/** ping's print of a round trip: iputils truncates to 3 significant figures. */
function formatRtt(ms: number): string {
  const us = Math.max(0, Math.floor(ms * 1000));
  if (us >= 100000) return `${Math.floor(us / 1000)}`;
  if (us >= 10000) return `${Math.floor(us / 1000)}.${Math.floor((us % 1000) / 100)}`;
  if (us >= 1000) return `${Math.floor(us / 1000)}.${String(Math.floor((us % 1000) / 10)).padStart(2, '0')}`;
  return `0.${String(us).padStart(3, '0')}`;
}

const stamp = (t: number) => `[${t.toFixed(6)}]`;

export function simulatePing(truth: PingTruth, target = '10.213.2.50'): PingSim {
  const iv = truth.intervalMs / 1000;
  const end = truth.start + truth.durationS;
  const lines: string[] = [`PING ${target} (${target}) 56(84) bytes of data.`];
  const sent: SentProbe[] = [];
  // ping's own time: it never goes back, and a stall holds it until the stall's end
  let now = truth.start;
  let runStart = truth.start;
  // a stall holds ping till its end; ping starts calm: no stall begins in a run's first 50 ms
  const awake = (t: number) => {
    let x = Math.max(t, now);
    for (const s of truth.stalls) if (x >= s.from && x < s.to && s.from >= runStart + 0.05) x = s.to;
    return x;
  };
  const restarts = truth.restartAfter
    .map((i) => truth.outages[i])
    .filter((o): o is { down: number; up: number } => o !== undefined)
    .map((o) => o.up)
    .sort((a, b) => a - b);
  let run = 0;
  let seq = truth.firstSeq - 1;
  let lastSend = -Infinity;
  let nextSend = truth.start;
  let pending: { seq: number; sentAt: number; arrive: number; dup: boolean }[] = [];
  const read = new Set<number>();
  const noAnswer = new Map<number, number[]>();
  const byRunSeq = new Map<string, SentProbe>();
  let k = 0;
  const inOutage = (t: number) => truth.outages.some((o) => t >= o.down && t < o.up);
  for (;;) {
    const restartAt = restarts[0];
    const due = awake(nextSend);
    const rep = pending.reduce<(typeof pending)[number] | undefined>((a, b) => (!a || b.arrive < a.arrive ? b : a), undefined);
    const tr = rep ? awake(rep.arrive) : Infinity;
    if (restartAt !== undefined && restartAt <= Math.min(due, tr)) {
      // the ip-up hook ends ping; the agent starts it again: what was in flight is never read
      restarts.shift();
      now = Math.max(now, restartAt + truth.restartDelayMs / 1000);
      runStart = now;
      pending = [];
      read.clear();
      run++;
      seq = 0;
      lastSend = -Infinity;
      nextSend = now;
      lines.push(`PING ${target} (${target}) 56(84) bytes of data.`);
      continue;
    }
    const sending = due < end;
    if (!sending && (!truth.drain || !rep)) break;
    if (sending && due <= tr) {
      now = due;
      if (seq >= (run === 0 ? truth.firstSeq : 1) && !read.has(seq)) {
        lines.push(`${stamp(now)} no answer yet for icmp_seq=${seq % 65536}`);
        noAnswer.set(run, [...(noAnswer.get(run) ?? []), seq]);
      }
      seq++;
      const lost = inOutage(now);
      sent.push({ run, seq, t: now, lost, answered: false, visible: false });
      byRunSeq.set(`${run}:${seq}`, sent.at(-1)!);
      const back = truth.rttMs + (truth.extraMs.length > 0 ? truth.extraMs[k % truth.extraMs.length]! : 0);
      const dup = truth.dupEvery > 0 && k % truth.dupEvery === truth.dupEvery - 1;
      if (!lost) pending.push({ seq, sentAt: now, arrive: now + back / 1000, dup });
      const late = truth.lateMs.length > 0 ? truth.lateMs[k % truth.lateMs.length]! / 1000 : 0;
      k++;
      lastSend = now;
      // the next send: one interval on (late if the timer is), longer while this one is unanswered
      nextSend = lastSend + iv + late;
      if (lost) nextSend = Math.max(nextSend, lastSend + truth.lossSpacingMs / 1000);
      now += US;
      continue;
    }
    if (!rep) break;
    now = tr;
    pending = pending.filter((p) => p !== rep);
    const line = `${stamp(now)} 64 bytes from ${target}: icmp_seq=${rep.seq % 65536} ttl=63 time=${formatRtt((rep.arrive - rep.sentAt) * 1000)} ms`;
    lines.push(read.has(rep.seq) ? `${line} (DUP!)` : line);
    if (!read.has(rep.seq)) {
      read.add(rep.seq);
      const s = byRunSeq.get(`${run}:${rep.seq}`);
      if (s) Object.assign(s, { answered: true, rttMs: (rep.arrive - rep.sentAt) * 1000 });
    }
    if (rep.dup) pending.push({ ...rep, dup: false, arrive: rep.arrive + 0.0002 });
    now += US;
  }
  // what the lines show was sent: up to the highest sequence number printed in each run
  const shown = new Map<number, number>();
  for (const s of sent) if (s.answered) shown.set(s.run, Math.max(shown.get(s.run) ?? 0, s.seq));
  for (const [r, seqs] of noAnswer) shown.set(r, Math.max(shown.get(r) ?? 0, ...seqs.map((q) => q + 1)));
  for (const s of sent) s.visible = s.seq <= (shown.get(s.run) ?? 0);
  return { text: lines.join('\n') + '\n', sent };
}

export interface Damage {
  /** the realtime clock steps by `byS` at `at`: every stamp after it is off by that */
  clockStep?: { at: number; byS: number };
  /** drop every n-th line (0: none) */
  dropEvery: number;
  /** cut this many characters off the end, and this many lines off the head */
  cutTail: number;
  cutHead: number;
}

/** Adversities beyond the model, applied to a simulated log. */
export function damage(text: string, d: Damage): string {
  let lines = text.split('\n');
  if (d.clockStep) {
    const { at, byS } = d.clockStep;
    lines = lines.map((l) => l.replace(/^\[(\d+\.\d+)\]/, (m, t: string) => (Number(t) >= at ? stamp(Number(t) + byS) : m)));
  }
  if (d.dropEvery > 0) lines = lines.filter((_, i) => i % d.dropEvery !== d.dropEvery - 1);
  lines = lines.slice(Math.min(d.cutHead, lines.length));
  const out = lines.join('\n');
  return out.slice(0, Math.max(0, out.length - d.cutTail));
}
