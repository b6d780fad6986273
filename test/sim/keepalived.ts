/**
 * keepalived's side of a lab stream with known truth: each node's VRRP states over time, written as the
 * lab's notify fifo writes vrrp.log (`<epoch.us> INSTANCE "VI_1" <STATE> <prio>`), with the fifo's other
 * events (MASTER_RX_LOWER_PRI, …) between them. Times are whole µs, as the log stamps them.
 */

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT' | 'STOP';

export interface NodeTimeline {
  node: string;
  /** state changes, in time order (s, whole µs) */
  changes: { t: number; state: VrrpState }[];
}

const stamp = (t: number) => t.toFixed(6);

/** vrrp.log of one node; `noiseEvery` > 0 puts a non-state event after every n-th change. */
export function vrrpLog(tl: NodeTimeline, noiseEvery = 0): string {
  const lines: string[] = [];
  tl.changes.forEach((c, i) => {
    lines.push(`${stamp(c.t)} INSTANCE "VI_1" ${c.state} ${c.state === 'MASTER' ? 150 : 100}`);
    if (noiseEvery > 0 && i % noiseEvery === 0) lines.push(`${stamp(c.t + 1e-6)} INSTANCE "VI_1" MASTER_RX_LOWER_PRI 100`);
  });
  return lines.join('\n') + '\n';
}

/**
 * The truth the analysis must recover, by a sweep over every change of both nodes (not by intersecting
 * intervals, as the analysis does): each stretch of time in [from, to) in which both were MASTER.
 */
export function bothMaster(a: NodeTimeline, b: NodeTimeline, from: number, to: number): [number, number][] {
  const stateAt = (tl: NodeTimeline, t: number) => tl.changes.filter((c) => c.t <= t).at(-1)?.state;
  const cuts = [...new Set([from, to, ...a.changes.map((c) => c.t), ...b.changes.map((c) => c.t)])].filter((t) => t >= from && t <= to).sort((x, y) => x - y);
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [s, e] = [cuts[i]!, cuts[i + 1]!];
    if (stateAt(a, s) !== 'MASTER' || stateAt(b, s) !== 'MASTER') continue;
    const last = out.at(-1);
    if (last && last[1] === s) last[1] = e;
    else out.push([s, e]);
  }
  return out;
}
