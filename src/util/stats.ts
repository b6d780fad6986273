/** Distribution of repeated measurements: what reports quote (medians and spreads, never one run). */
export interface Stats {
  n: number;
  min: number;
  median: number;
  p95: number;
  max: number;
}

/** Nearest-rank quantile of sorted values (q in [0, 1]). */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export function stats(values: (number | null | undefined)[]): Stats | undefined {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = xs.length % 2 === 1 ? xs[(xs.length - 1) / 2]! : (xs[xs.length / 2 - 1]! + xs[xs.length / 2]!) / 2;
  return { n: xs.length, min: xs[0]!, median: mid, p95: quantile(xs, 0.95), max: xs.at(-1)! };
}
