
/**
 * Routing symmetry from per-node nft counters (table inet vipdrill_fw, chain symmetry, hook prerouting):
 * `client_to_lan` counts packets from the client pool entering a node from ppp towards the LAN,
 * `lan_to_client` packets from the LAN entering a node towards the pool. Snapshots are taken at step
 * boundaries; in each window between two snapshots, the node(s) that carried each direction are compared.
 */

export interface CounterSnapshot {
  t: number;
  label: string;
  /** per node: packets so far, or null when the node could not be read (crashed, frozen) */
  nodes: Record<string, { up: number; down: number } | null>;
}

export interface SymmetryWindow {
  from: number;
  to: number;
  label: string;
  /** packets per node in the window: client -> LAN (up) and LAN -> client (down) */
  up: Record<string, number>;
  down: Record<string, number>;
  upVia: string[];
  downVia: string[];
  symmetric: boolean;
}

export interface Symmetry {
  /** null: no window had traffic both ways on readable nodes */
  symmetric: boolean | null;
  windows: SymmetryWindow[];
  /** the counters as evidence, in words */
  evidence: string;
}

/** `counter client_to_lan { packets 12 bytes 1008 }` blocks of `nft list counters`. */
export function parseCounters(text: string): { up: number; down: number } | null {
  const get = (name: string) => {
    const m = new RegExp(`counter ${name} \\{\\s*packets (\\d+)`).exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const up = get('client_to_lan');
  const down = get('lan_to_client');
  return up === undefined || down === undefined ? null : { up, down };
}

/** A direction is carried by every node with at least this share of its packets in the window. */
const SHARE = 0.1;
/** A window is judged only with this many packets each way (the two 20 ms probes send about 100 a second each way). */
const MIN_PACKETS = 20;

/**
 * The moments a handover is in flight, for `judgeSymmetry`'s `moves`: every VRRP change, and every time
 * the client's tunnel was sampled down after one (a failover's or failback's reconnect runs on after the
 * VRRP change, and one direction changes node before the other). A tunnel down with no VRRP change
 * before it is no handover: it is what a fault such as a misrouted LAN does, and its window is judged.
 */
export function handoverMoments(vrrpChanges: number[], tunnelDown: number[]): number[] {
  const first = vrrpChanges.reduce((m, t) => Math.min(m, t), Infinity);
  return [...vrrpChanges, ...tunnelDown.filter((t) => t >= first)];
}

/**
 * `moves`: lab-clock moments a handover was in flight (`handoverMoments`: VRRP changes, and the tunnel
 * sampled down after one). A window with one is not judged (the VIP and the session move at different
 * moments: one direction changes node before the other); asymmetry is judged on the windows in between.
 */
export function judgeSymmetry(snaps: CounterSnapshot[], moves: number[] = []): Symmetry {
  const windows: SymmetryWindow[] = [];
  for (let i = 1; i < snaps.length; i++) {
    const a = snaps[i - 1]!;
    const b = snaps[i]!;
    if (moves.some((t) => t >= a.t && t <= b.t)) continue;
    const up: Record<string, number> = {};
    const down: Record<string, number> = {};
    let readable = true;
    for (const n of Object.keys(b.nodes)) {
      const x = a.nodes[n];
      const y = b.nodes[n];
      // a node that was down, or restarted (counters reset), makes the window unreadable
      if (!x || !y || y.up < x.up || y.down < x.down) {
        readable = false;
        break;
      }
      up[n] = y.up - x.up;
      down[n] = y.down - x.down;
    }
    if (!readable) continue;
    const sum = (r: Record<string, number>) => Object.values(r).reduce((p, q) => p + q, 0);
    if (sum(up) < MIN_PACKETS || sum(down) < MIN_PACKETS) continue;
    const via = (r: Record<string, number>) => Object.keys(r).filter((n) => r[n]! >= SHARE * sum(r)).sort();
    const upVia = via(up);
    const downVia = via(down);
    windows.push({ from: a.t, to: b.t, label: `${a.label} → ${b.label}`, up, down, upVia, downVia, symmetric: upVia.join() === downVia.join() });
  }
  if (windows.length === 0) return { symmetric: null, windows, evidence: 'no window with probe traffic both ways on readable nodes and no VRRP change' };
  const bad = windows.filter((w) => !w.symmetric);
  const describe = (w: SymmetryWindow) =>
    `${w.label}: client→LAN via ${w.upVia.join('+')} (${Object.entries(w.up).map(([n, p]) => `${n} ${p}`).join(', ')} pkts), LAN→client via ${w.downVia.join('+')} (${Object.entries(w.down).map(([n, p]) => `${n} ${p}`).join(', ')} pkts)`;
  return bad.length > 0
    ? { symmetric: false, windows, evidence: `asymmetric in ${bad.length} of ${windows.length} windows; ${bad.map(describe).join('; ')}` }
    : { symmetric: true, windows, evidence: `symmetric in all ${windows.length} windows; e.g. ${describe(windows.at(-1)!)}` };
}
