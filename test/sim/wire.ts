import type { CounterSnapshot } from '../../src/analysis/symmetry.js';

/**
 * The wire's side of a lab stream with known truth: ARP claims for the VIP as tcpdump prints them on the
 * client's segment, and the nodes' nft counters of routing symmetry as snapshots between steps.
 */

export const VIP = '10.213.1.100';

export interface Claim {
  t: number;
  mac: string;
  kind: 'garp' | 'reply';
}

/** `tcpdump -l -n -e -tt` lines of the claims, with ARP for other addresses between them. */
export function arpText(claims: Claim[], noise: number): string {
  const lines: string[] = [];
  const other = '10.213.1.7';
  claims.forEach((c, i) => {
    const t = c.t.toFixed(6);
    lines.push(
      c.kind === 'garp'
        ? `${t} ${c.mac} > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has ${VIP} tell ${VIP}, length 28`
        : `${t} ${c.mac} > 02:42:0a:d5:01:32, ethertype ARP (0x0806), length 42: Reply ${VIP} is-at ${c.mac}, length 28`,
    );
    if (noise > 0 && i % noise === 0) {
      lines.push(`${t} 02:42:0a:d5:01:32 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has ${VIP} tell 10.213.1.50, length 28`);
      lines.push(`${t} ${c.mac} > 02:42:0a:d5:01:32, ethertype ARP (0x0806), length 42: Reply ${other} is-at ${c.mac}, length 28`);
    }
  });
  return lines.join('\n') + '\n';
}

/** One window between two snapshots: the packets each node carried each way, and what happened in it. */
export interface CounterWindow {
  durationS: number;
  up: Record<string, number>;
  down: Record<string, number>;
  /** a VRRP change inside it (a handover in flight: not judged) */
  move: boolean;
  /** a node not readable at the window's end (crashed, frozen), or its counters reset (restarted) */
  unreadable?: string;
  reset?: string;
}

/** Cumulative snapshots for the windows, from `t0`. */
export function snapshots(nodes: string[], windows: CounterWindow[], t0: number): { snaps: CounterSnapshot[]; moves: number[] } {
  const total: Record<string, { up: number; down: number }> = Object.fromEntries(nodes.map((n) => [n, { up: 1000, down: 1000 }]));
  const snaps: CounterSnapshot[] = [{ t: t0, label: 'start', nodes: structuredClone(total) }];
  const moves: number[] = [];
  let t = t0;
  windows.forEach((w, i) => {
    if (w.move) moves.push(t + w.durationS / 2);
    t += w.durationS;
    for (const n of nodes) {
      if (w.reset === n) total[n] = { up: 0, down: 0 };
      total[n]!.up += w.up[n] ?? 0;
      total[n]!.down += w.down[n] ?? 0;
    }
    const view: CounterSnapshot['nodes'] = structuredClone(total);
    if (w.unreadable) view[w.unreadable] = null;
    snaps.push({ t, label: `step ${i + 1}`, nodes: view });
  });
  return { snaps, moves };
}
