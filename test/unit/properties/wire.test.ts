import { expect } from 'chai';
import fc from 'fast-check';
import { parseArp } from '../../../src/analysis/arp.js';
import { judgeSymmetry } from '../../../src/analysis/symmetry.js';
import { arpText, snapshots, VIP, type Claim, type CounterWindow } from '../../sim/wire.js';
import { RUNS, scale } from './arbitraries.js';

/**
 * Routing symmetry (the nodes' counters, window by window) and the VIP's ARP claims on generated
 * streams with known truth (test/sim/wire.ts).
 */

const NODES = ['a', 'b'];
const MACS = { a: '02:42:0a:d5:01:0a', b: '02:42:0a:d5:01:0b' };

/** Packets one way in a window: carried by `via` (each a fair share), a trickle (< 10 %) elsewhere. */
const direction = fc.record({
  via: fc.constantFrom(['a'], ['b'], ['a', 'b']),
  total: fc.oneof({ arbitrary: fc.integer({ min: 20, max: 900 }), weight: 5 }, { arbitrary: fc.integer({ min: 0, max: 19 }), weight: 1 }),
  split: fc.double({ min: 0.2, max: 0.8, noNaN: true }),
  trickle: fc.double({ min: 0, max: 0.09, noNaN: true }),
}).map(({ via, total, split, trickle }) => {
  const out: Record<string, number> = {};
  if (via.length === 2) {
    out.a = Math.round(total * split);
    out.b = total - out.a;
  } else {
    const other = NODES.find((n) => n !== via[0])!;
    out[via[0]] = total;
    out[other] = Math.floor(total * trickle);
  }
  return { via: [...via].sort(), counts: out };
});

const counterWindow = fc.record({
  durationS: fc.integer({ min: 1, max: 30 }),
  up: direction,
  down: direction,
  move: fc.boolean(),
  unreadable: fc.option(fc.constantFrom('a', 'b'), { nil: undefined, freq: 6 }),
  reset: fc.option(fc.constantFrom('a', 'b'), { nil: undefined, freq: 6 }),
});

describe('property: routing symmetry on generated counters', function () {
  this.timeout(60000 * scale);

  it(`judges exactly the windows it can read, each as the truth's paths say (${RUNS.symmetry} generated runs)`, () => {
    // a reset is seen where a counter falls: a node restarted twice in one run could climb back past its
    // last reading within a window, which no counter can show. The generator restarts each node once.
    const runs = fc.array(counterWindow, { maxLength: 8 }).map((ws) => ws.map((w, i) => (w.reset && ws.slice(0, i).some((p) => p.reset === w.reset) ? { ...w, reset: undefined } : w)));
    fc.assert(
      fc.property(runs, (ws) => {
        const windows: CounterWindow[] = ws.map((w) => ({ durationS: w.durationS, up: w.up.counts, down: w.down.counts, move: w.move, ...(w.unreadable ? { unreadable: w.unreadable } : {}), ...(w.reset ? { reset: w.reset } : {}) }));
        const { snaps, moves } = snapshots(NODES, windows, 5000);
        const s = judgeSymmetry(snaps, moves);
        const sum = (r: Record<string, number>) => Object.values(r).reduce((x, y) => x + y, 0);
        // readable: no move in it, both ends readable, no counter reset in it, 20 packets each way
        const judged = ws.flatMap((w, i) => {
          const ok = !w.move && !w.unreadable && !ws[i - 1]?.unreadable && !w.reset && sum(w.up.counts) >= 20 && sum(w.down.counts) >= 20;
          return ok ? [{ label: `${i === 0 ? 'start' : `step ${i}`} → step ${i + 1}`, symmetric: w.up.via.join() === w.down.via.join(), upVia: w.up.via, downVia: w.down.via }] : [];
        });
        expect(s.windows.map((w) => ({ label: w.label, symmetric: w.symmetric, upVia: w.upVia, downVia: w.downVia }))).to.deep.equal(judged);
        expect(s.symmetric).to.equal(judged.length === 0 ? null : judged.every((w) => w.symmetric));
      }),
      { numRuns: RUNS.symmetry },
    );
  });
});

/** Claims of a handover (one owner, then the other; maybe back), of a conflict, or of two answers at once. */
const claimsCase = fc.oneof(
  fc.record({ kind: fc.constant('handover' as const), owners: fc.constantFrom(['a', 'b'], ['a', 'b', 'a'], ['b']), per: fc.integer({ min: 1, max: 5 }), gapMs: fc.integer({ min: 1000, max: 10000 }) }),
  fc.record({ kind: fc.constant('conflict' as const), owners: fc.constantFrom(['a', 'b', 'a', 'b'], ['b', 'a', 'b', 'a', 'b']), per: fc.integer({ min: 1, max: 2 }), gapMs: fc.integer({ min: 100, max: 4000 }) }),
  fc.record({ kind: fc.constant('two-answers' as const), owners: fc.constant(['a', 'b']), per: fc.constant(1), gapMs: fc.integer({ min: 0, max: 40 }) }),
);

describe('property: ARP claims for the VIP on generated captures', function () {
  this.timeout(60000 * scale);

  it(`finds every claim, its owner, the switches, and a conflict exactly when there was one (${RUNS.arp} generated captures)`, () => {
    fc.assert(
      fc.property(claimsCase, fc.constantFrom(0, 1, 3), ({ kind, owners, per, gapMs }, noise) => {
        const claims: Claim[] = [];
        let t = 7000;
        for (const o of owners as readonly string[]) {
          for (let k = 0; k < per; k++) {
            claims.push({ t: Number(t.toFixed(6)), mac: MACS[o as 'a' | 'b'], kind: kind === 'two-answers' ? 'reply' : 'garp' });
            t += gapMs / 1000;
          }
          // a handover's owners change minutes apart (a failover, then a failback)
          if (kind === 'handover') t += 40;
        }
        const r = parseArp(arpText(claims, noise), VIP, MACS);
        expect(r.claims.map((c) => [c.t, c.node, c.kind])).to.deep.equal(claims.map((c) => [c.t, c.mac === MACS.a ? 'a' : 'b', c.kind]));
        expect(r.duplicate).to.equal(kind !== 'handover');
      }),
      { numRuns: RUNS.arp },
    );
  });
});
