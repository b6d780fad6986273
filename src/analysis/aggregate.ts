import type { ScenarioResult, Verdict } from '../run/result.js';
import { stats, type Stats } from '../util/stats.js';
import { PHASES } from './reconnect.js';

/** `<scenario>/result.json`: the representative repeat (median outage) with the worst verdict, and the distribution of every figure. */
export type AggregateResult = ScenarioResult & {
  aggregate: { repeats: number; representative: number; verdicts: Verdict[]; stats: Record<string, Stats | undefined>; results: string[] };
};

export function aggregate(all: ScenarioResult[]): AggregateResult {
  const byOutage = [...all].sort((a, b) => (a.metrics.outageMs ?? Infinity) - (b.metrics.outageMs ?? Infinity));
  const rep = byOutage[Math.floor((byOutage.length - 1) / 2)]!;
  const worst = all.find((x) => x.verdict === 'error') ?? all.find((x) => x.verdict === 'failed') ?? rep;
  const m = (f: (r: ScenarioResult) => number | null | undefined) => stats(all.map(f));
  return {
    ...rep,
    verdict: worst.verdict,
    ...(worst.reason ? { reason: worst.reason } : {}),
    aggregate: {
      repeats: all.length,
      representative: rep.repeat,
      verdicts: all.map((x) => x.verdict),
      stats: {
        outageMs: m((r) => r.metrics.outageMs),
        vipTakeoverMs: m((r) => r.metrics.vipTakeoverMs),
        reconnectMs: m((r) => r.metrics.reconnectMs),
        splitBrainMs: m((r) => r.metrics.splitBrainMs),
        reverseOutageMs: m((r) => r.metrics.reverseOutageMs),
        ...Object.fromEntries(PHASES.map((p) => [`phasesMs.${p}`, m((r) => r.metrics.phasesMs?.[p])])),
      },
      results: all.map((x) => `repeat-${x.repeat}/result.json`),
    },
  };
}

