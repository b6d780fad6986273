import fc from 'fast-check';

/**
 * Shared generators of the property tests. How many cases each property runs: CI and `npm run check`
 * run these; FC_RUNS_SCALE (a factor) runs more when hunting.
 */
export const scale = Number(process.env.FC_RUNS_SCALE ?? 1);
export const RUNS = {
  probe: Math.round(2000 * scale),
  vrrp: Math.round(3000 * scale),
  reconnect: Math.round(3000 * scale),
  symmetry: Math.round(3000 * scale),
  arp: Math.round(3000 * scale),
};

/** Up to `n` sorted, disjoint windows [from, to) in seconds from 0, each minMs to maxMs long. */
export function windows(n: number, minMs: number, maxMs: number): fc.Arbitrary<[number, number][]> {
  return fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 2500 }), lenMs: fc.integer({ min: minMs, max: maxMs }) }), { maxLength: n }).map((ws) => {
    let t = 0.05;
    return ws.map(({ gapMs, lenMs }) => {
      const from = t + gapMs / 1000;
      t = from + lenMs / 1000;
      return [from, t] as [number, number];
    });
  });
}
