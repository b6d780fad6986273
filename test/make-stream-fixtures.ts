/**
 * Writes test/fixtures/streams/: generated ping streams on which the probe analysis once failed (each
 * the minimal stream fast-check shrank a failing case to, with its truth), and the calm case of a
 * loaded host (60 s, no fault, every probe answered, the prober stalled 660 times). What
 * test/unit/streams.test.ts runs on them. Run it again after changing the simulator:
 *   npm run build && node dist/test/make-stream-fixtures.js
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { simulatePing, type PingTruth } from './sim/ping.js';
import { repoRoot } from './helpers.js';

const root = join(repoRoot, 'test', 'fixtures', 'streams');
mkdirSync(root, { recursive: true });

const base = { start: 1796116000, durationS: 1, intervalMs: 2, outages: [], stalls: [], rttMs: 0.2, extraMs: [0], lateMs: [], lossSpacingMs: 2, restartAfter: [], restartDelayMs: 20, firstSeq: 1, dupEvery: 0, drain: false };

/** The minimal streams, each with the defect of the analysis it showed (before this fixture existed). */
const minimal: { name: string; defect: string; truth: PingTruth }[] = [
  {
    name: 'dup-replies',
    defect: 'a reply that came twice (DUP!) was counted twice: 515 received of 499 sent, and the losses did not add up',
    truth: { ...base, dupEvery: 31 },
  },
  {
    name: 'start-edge-frame',
    defect: "the start edge began at the last reply's arrival, not its send: with a 3.1 ms round trip the break (at 50 ms) lay before the edge, and the outage was short by the round trip",
    truth: { ...base, outages: [{ down: 1796116000.05, up: 1796116000.097 }], rttMs: 3.0983686447143555 },
  },
  {
    name: 'stall-late-reply',
    defect: 'a stall of 52 ms with every other reply 5.8 ms late: a reply printed after the stall was given a send time after its successor, the two swapped places, and an outage was reported in which nothing was lost',
    truth: { ...base, stalls: [{ from: 1796116000.05, to: 1796116000.102 }], extraMs: [5.797776985168458, 0] },
  },
];
for (const m of minimal) {
  const sim = simulatePing(m.truth);
  writeFileSync(join(root, `${m.name}.json`), JSON.stringify({ defect: m.defect, truth: m.truth, text: sim.text }) + '\n');
}

/** A seeded generator (an LCG): the calm case is the same stream every time. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// the calm case: ping every 5 ms for 60 s with no fault; 660 stalls of the prober (10 ms to 548 ms),
// a third of the replies 2-10 ms late. The analysis before this fixture reported 16 outages in it, two
// with an end edge that ended before it began.
const r = rng(15);
const START = 1796116060;
const stalls: PingTruth['stalls'] = [];
let t = START + 0.2;
while (stalls.length < 660 && t < START + 59) {
  t += 0.01 + r() * 0.08;
  const len = r() < 0.005 ? 0.3 + r() * 0.248 : r() < 0.15 ? 0.05 + r() * 0.1 : 0.008 + r() * 0.03;
  stalls.push({ from: t, to: t + len });
  t += len;
}
const calm: PingTruth = {
  start: START,
  durationS: 60,
  intervalMs: 5,
  outages: [],
  stalls,
  rttMs: 0.45,
  extraMs: Array.from({ length: 97 }, () => (r() < 0.3 ? 2 + r() * 8 : r() * 0.3)),
  lateMs: Array.from({ length: 53 }, () => r() * 0.8),
  lossSpacingMs: 10,
  restartAfter: [],
  restartDelayMs: 50,
  firstSeq: 1,
  dupEvery: 0,
  drain: true,
};
writeFileSync(join(root, 'calm-loaded.ping.gz'), gzipSync(simulatePing(calm).text));
console.log(`wrote ${minimal.length + 1} streams to ${root}`);
