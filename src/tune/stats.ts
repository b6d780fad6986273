import { interquartileRange, median, quantile, quantileSorted, sampleWithReplacement } from 'simple-statistics';

/**
 * The statistics `vipdrill tune` reports per point and metric (issue 12), seeded so that a run's figures
 * are reproduced exactly from its seed: bootstrap confidence intervals for the median and the p95,
 * Tukey's fences for outliers (flagged, never dropped), and the Wilson interval for a rate (false
 * failovers). Quantiles, the IQR and resampling come from simple-statistics; the seeded source and the
 * Wilson interval are the few lines it does not have.
 */

/** A seeded uniform source on [0, 1) (mulberry32): the same seed gives the same resamples. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

/** The percentile bootstrap interval of `stat` over `values` (at least 2), `resamples` times, seeded. */
export function bootstrapCi(values: number[], stat: (xs: number[]) => number, o: { seed: number; resamples?: number; level?: number }): Interval {
  if (values.length < 2) throw new RangeError('a bootstrap interval needs at least 2 values');
  const rnd = seededRandom(o.seed);
  const b = o.resamples ?? 2000;
  const level = o.level ?? 0.95;
  const stats: number[] = [];
  for (let k = 0; k < b; k++) stats.push(stat(sampleWithReplacement(values, values.length, rnd)));
  stats.sort((x, y) => x - y);
  return { estimate: stat(values), low: quantileSorted(stats, (1 - level) / 2), high: quantileSorted(stats, 1 - (1 - level) / 2) };
}

/** stat(b) − stat(a) with a percentile bootstrap interval: each group is resampled with its own size, seeded. */
export function bootstrapDiffCi(a: number[], b: number[], stat: (xs: number[]) => number, o: { seed: number; resamples?: number; level?: number }): Interval {
  if (a.length < 2 || b.length < 2) throw new RangeError('a bootstrap difference needs at least 2 values in each group');
  const rnd = seededRandom(o.seed);
  const level = o.level ?? 0.95;
  const diffs: number[] = [];
  for (let k = 0; k < (o.resamples ?? 2000); k++) diffs.push(stat(sampleWithReplacement(b, b.length, rnd)) - stat(sampleWithReplacement(a, a.length, rnd)));
  diffs.sort((x, y) => x - y);
  return { estimate: stat(b) - stat(a), low: quantileSorted(diffs, (1 - level) / 2), high: quantileSorted(diffs, 1 - (1 - level) / 2) };
}

export interface Fences {
  q1: number;
  q3: number;
  low: number;
  high: number;
  /** the values outside the fences (kept in every figure; only flagged) */
  outliers: number[];
}

/** Tukey's fences: below Q1 − 1.5 IQR or above Q3 + 1.5 IQR is an outlier. */
export function tukeyFences(values: number[]): Fences {
  const q1 = quantile(values, 0.25);
  const q3 = quantile(values, 0.75);
  const iqr = interquartileRange(values);
  const low = q1 - 1.5 * iqr;
  const high = q3 + 1.5 * iqr;
  return { q1, q3, low, high, outliers: values.filter((v) => v < low || v > high) };
}

/** The Wilson score interval of k successes in n trials (z = 1.96 for 95 %): a rate that is 0 of n still has an upper bound. */
export function wilson(k: number, n: number, z = 1.959964): Interval {
  if (n <= 0 || k < 0 || k > n) throw new RangeError(`wilson: expected 0 <= k <= n and n > 0, got k=${k}, n=${n}`);
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { estimate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export interface MetricSummary {
  n: number;
  median: number;
  p95: number;
  max: number;
  /** null below 2 values: no interval can be claimed */
  medianCi: Interval | null;
  p95Ci: Interval | null;
  fences: Fences;
  seed: number;
}

/** n, median, p95, max, their bootstrap intervals and the outliers of one metric at one point. */
export function summarize(values: number[], seed: number): MetricSummary {
  if (values.length === 0) throw new RangeError('summarize: no values');
  const p95 = (xs: number[]) => quantile(xs, 0.95);
  return {
    n: values.length,
    median: median(values),
    p95: p95(values),
    max: Math.max(...values),
    medianCi: values.length >= 2 ? bootstrapCi(values, (xs) => median(xs), { seed }) : null,
    p95Ci: values.length >= 2 ? bootstrapCi(values, p95, { seed: seed + 1 }) : null,
    fences: tukeyFences(values),
    seed,
  };
}
