import type { Engine } from '../lab/engine.js';

/**
 * The data-plane probe: ping inside the lab at a fixed interval (10 ms by default), timestamped by ping
 * itself on the lab clock (-D), so outages are measured where the client sees them. The client pings
 * the LAN host through the tunnel (its route to the LAN goes through ppp); no interface is pinned, so
 * the probe keeps running across a reconnect (a new ppp device, maybe a new address).
 */

export interface ProbeHandle {
  container: string;
  pid: number;
  file: string;
  intervalMs: number;
}

export interface Outage {
  /** last reply before the gap, first reply after it (lab clock, seconds) */
  from: number;
  to: number;
  ms: number;
}

export interface ProbeReport {
  intervalMs: number;
  /** the interval ping really kept between replies outside outages (timers are slower under emulation) */
  achievedIntervalMs?: number;
  sent: number;
  received: number;
  firstReply?: number;
  lastReply?: number;
  /** every gap between replies longer than the threshold */
  outages: Outage[];
  /** a gap counts as an outage above this (ms): three intervals plus a margin for emulated timers */
  thresholdMs: number;
}

export async function startProbe(engine: Engine, container: string, target: string, runTag: string, intervalMs = 10): Promise<ProbeHandle> {
  const file = `/var/log/vipdrill/probe-${runTag}.log`;
  const secs = (intervalMs / 1000).toFixed(3);
  // ping pins its source address when it starts (and exits at once without a route): a loop restarts
  // it, and the client's ip-up hook ends the current ping (probe.pid) so it restarts from the new address
  const loop = `echo $$ > /run/vipdrill/probe-loop.pid; while :; do ping -D -n -O -i ${secs} -W 1 ${target} & echo $! > /run/vipdrill/probe.pid; wait $!; sleep 0.05; done`;
  const r = await engine.exec(container, ['bash', '-c', `rm -f /run/vipdrill/probe-loop.pid; setsid bash -c '${loop}' > ${file} 2>&1 < /dev/null & for _ in $(seq 50); do [ -s /run/vipdrill/probe-loop.pid ] && break; sleep 0.05; done; cat /run/vipdrill/probe-loop.pid`]);
  const pid = Number(r.stdout.trim());
  if (r.exitCode !== 0 || !Number.isInteger(pid) || pid <= 0) throw new Error(`could not start the probe in ${container}: ${r.stderr.trim() || r.stdout.trim()}`);
  return { container, pid, file, intervalMs };
}

/** Stop the probe (by its PID, only if it is still our ping) and read its log. */
export async function stopProbe(engine: Engine, h: ProbeHandle): Promise<string> {
  // the loop first (by its PID, if it is still ours), then its current ping
  await engine.exec(h.container, ['bash', '-c', `grep -q 'probe.pid' /proc/${h.pid}/cmdline 2>/dev/null && kill ${h.pid}; [ -r /run/vipdrill/probe.pid ] && kill "$(cat /run/vipdrill/probe.pid)" 2>/dev/null; rm -f /run/vipdrill/probe.pid /run/vipdrill/probe-loop.pid; sleep 0.2; true`]);
  const r = await engine.exec(h.container, ['bash', '-c', `cat ${h.file}; rm -f ${h.file}`]);
  return r.stdout;
}

/** `[1795688145.123456] 64 bytes from 10.213.2.50: icmp_seq=12 ttl=63 time=2.10 ms` and friends. */
export function parseProbe(text: string, intervalMs: number): ProbeReport {
  const replies: number[] = [];
  // ping restarts (new address after a reconnect) begin again at icmp_seq=1: count per run of ping
  let sent = 0;
  let runMax = 0;
  for (const line of text.split('\n')) {
    const seq = /icmp_seq=(\d+)/.exec(line);
    if (!seq) continue;
    const n = Number(seq[1]);
    if (n < runMax) {
      sent += runMax;
      runMax = 0;
    }
    runMax = Math.max(runMax, n);
    const m = /^\[(\d+\.\d+)\] \d+ bytes from [^:]+: icmp_seq=/.exec(line);
    if (m) replies.push(Number(m[1]));
  }
  const maxSeq = sent + runMax;
  replies.sort((a, b) => a - b);
  const thresholdMs = Math.max(3 * intervalMs, intervalMs + 50);
  const outages: Outage[] = [];
  for (let i = 1; i < replies.length; i++) {
    const ms = (replies[i]! - replies[i - 1]!) * 1000;
    if (ms > thresholdMs) outages.push({ from: replies[i - 1]!, to: replies[i]!, ms });
  }
  const outageTime = outages.reduce((x, o) => x + o.ms, 0);
  const span = replies.length > 1 ? (replies.at(-1)! - replies[0]!) * 1000 - outageTime : 0;
  const steady = replies.length - 1 - outages.length;
  return { intervalMs, ...(steady > 0 ? { achievedIntervalMs: span / steady } : {}), sent: maxSeq, received: replies.length, ...(replies.length > 0 ? { firstReply: replies[0]!, lastReply: replies.at(-1)! } : {}), outages, thresholdMs };
}

/** The outage a fault caused: the gap that contains the fault time, or the first one starting after it. */
export function outageAfter(p: ProbeReport, faultAt: number): Outage | undefined {
  return p.outages.find((o) => o.to > faultAt && o.from <= faultAt + 0.001) ?? p.outages.find((o) => o.from >= faultAt);
}
