import { median } from 'simple-statistics';
import { PHASES } from '../analysis/reconnect.js';
import type { ScenarioResult } from '../run/result.js';
import type { Profile } from '../topology/schema.js';
import { bootstrapDiffCi, summarize, wilson, type Interval, type MetricSummary } from './stats.js';
import type { Point, Sweep } from './sweep.js';

/**
 * What a sweep's stored repeats say, point by point: the statistics of every metric with seeded bootstrap
 * intervals, the false-failover rate with its Wilson interval, each parameter's effect on the median
 * outage, the Pareto front and the recommendation. A pure function of the results and the seed: `vipdrill
 * tune --resume` and the unit tests compute exactly the same from the same files.
 */

/** The metrics a point reports per scenario (ms): the client's outage, the failback's, the VIP takeover, each reconnect phase. */
export const METRICS = ['outage', 'failbackOutage', 'vipTakeover', ...PHASES.map((p) => `phase.${p}`)] as const;
export type MetricName = (typeof METRICS)[number];

export function metricOf(r: ScenarioResult, m: MetricName): number | undefined {
  const x = r.metrics;
  const v = m === 'outage' ? x.outageMs : m === 'failbackOutage' ? x.failbackOutageMs : m === 'vipTakeover' ? x.vipTakeoverMs : x.phasesMs?.[m.slice(6) as (typeof PHASES)[number]];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** A client outage at least this long while nothing failed counts as a false failover. */
export const FALSE_OUTAGE_MS = 1000;

/** One false-failover window as stored: what moved while only load and impairment were applied. */
export interface FalseFailoverWindow {
  /** error: the window could not be judged (the lab never got calm, a host did not answer) */
  verdict: ScenarioResult['verdict'];
  reason?: string;
  calmMs: number;
  /** adverts the master should have sent in the window (for the record) */
  adverts: number;
  /** VRRP transitions into MASTER by a node that did not hold the VIP */
  transitions: { t: number; node: string; state: string }[];
  /** client outages of FALSE_OUTAGE_MS or more */
  outages: { from: number; ms: number }[];
}

/** The false failovers of a window: every takeover, and every outage that no takeover explains (within 5 s before it). */
export function falseFailovers(w: FalseFailoverWindow): number {
  const unexplained = w.outages.filter((o) => !w.transitions.some((t) => t.t <= o.from + 0.5 && o.from - t.t <= 5));
  return w.transitions.length + unexplained.length;
}

/** The window a false-failover run measured, from its result. */
export function windowOf(r: ScenarioResult, calmMs: number, advertInt: number): FalseFailoverWindow {
  const holder = r.holderAtStart;
  const transitions = r.vrrp.filter((v) => v.state === 'MASTER' && v.node !== holder && v.t >= r.labStart).map((v) => ({ t: v.t, node: v.node, state: v.state }));
  const outages = (r.metrics.outages ?? []).filter((o) => o.ms >= FALSE_OUTAGE_MS).map((o) => ({ from: o.from, ms: o.ms }));
  return { verdict: r.verdict, ...(r.reason ? { reason: r.reason } : {}), calmMs, adverts: Math.floor(calmMs / (advertInt * 1000)), transitions, outages };
}

export interface PointData {
  point: Point;
  /** scenario -> its repeats (every verdict; `error` repeats are counted, not measured) */
  repeats: Record<string, ScenarioResult[]>;
  falseFailover?: FalseFailoverWindow;
  /** the timers read back when the lab switched to this point */
  switchMs?: number;
}

export interface ScenarioStats {
  n: number;
  errors: number;
  failed: number;
  metrics: Partial<Record<MetricName, MetricSummary>>;
}

export interface FalseFailoverStats {
  windows: number;
  judged: number;
  count: number;
  trials: number;
  /** null when no window could be judged */
  rate: Interval | null;
  maxRate: number;
  /** the upper bound is at most maxRate */
  ok: boolean;
  /** what the check says in words, e.g. why it could not pass */
  detail: string;
}

export interface PointStats {
  id: string;
  label: string;
  parameters: Record<string, number | boolean>;
  profile: Profile;
  scenarios: Record<string, ScenarioStats>;
  falseFailover: FalseFailoverStats;
  /** VRRP adverts per second the master sends (the tie-break: less is cheaper) */
  advertPps: number;
  /** the outage p95 the recommendation ranks by: the worst over the sweep's scenarios (ms) */
  rankP95Ms: number | null;
  switchMs?: number;
}

export interface Effect {
  parameter: string;
  from: number | boolean;
  to: number | boolean;
  /** median outage at `to` minus at `from`, the repeats of every point with that value pooled (ms) */
  diffMs: Interval | null;
  n: { from: number; to: number };
}

export interface Recommendation {
  point: string | null;
  reason: string;
}

export interface TuneAnalysis {
  seed: number;
  points: PointStats[];
  effects: Effect[];
  pareto: string[];
  recommendation: Recommendation;
}

/** A seed per (point, scenario, metric): every interval is reproduced from the run's one seed. */
function subSeed(seed: number, ...parts: (string | number)[]): number {
  let h = seed >>> 0;
  for (const ch of parts.join('/')) h = (Math.imul(h ^ ch.charCodeAt(0), 0x01000193) + 0x9e3779b9) >>> 0;
  return h;
}

function falseFailoverStats(w: FalseFailoverWindow | undefined, maxRate: number): FalseFailoverStats {
  const none = { windows: w ? 1 : 0, judged: 0, count: 0, trials: 0, rate: null, maxRate, ok: false };
  if (!w) return { ...none, detail: 'not measured yet' };
  if (w.verdict === 'error') return { ...none, detail: `the window could not be judged: ${w.reason ?? 'error'}` };
  const count = falseFailovers(w);
  // the trials are the seconds of calm, whatever the advert interval: a unit per advert would give a
  // point with faster adverts more trials, and so a lower bound, for the same false failovers per hour
  const seconds = Math.max(1, Math.floor(w.calmMs / 1000));
  const rate = wilson(count, seconds);
  const perHour = (count * 3600) / seconds;
  const ok = rate.high <= maxRate;
  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  const detail =
    count > 0
      ? `${count} false failover(s) in ${seconds} s of calm (${perHour.toFixed(0)} an hour): rate ${pct(rate.estimate)} a second (95 % CI ${pct(rate.low)}–${pct(rate.high)})`
      : ok
        ? `none in ${seconds} s of calm: rate at most ${pct(rate.high)} a second (95 %)`
        : `none in ${seconds} s of calm, but that bounds the rate only below ${pct(rate.high)} a second, above the ${pct(maxRate)} allowed: a calm window of about ${Math.ceil(3.84 / maxRate - 3.84)} s would show it`;
  return { windows: 1, judged: 1, count, trials: seconds, rate, maxRate, ok, detail };
}

/** Points that no other point beats on outage p95, false-failover upper bound and advert traffic at once. */
export function paretoFront(ps: PointStats[]): string[] {
  const cost = (p: PointStats) => [p.rankP95Ms ?? Infinity, p.falseFailover.rate?.high ?? 1, p.advertPps];
  const dominates = (a: number[], b: number[]) => a.every((x, i) => x <= b[i]!) && a.some((x, i) => x < b[i]!);
  const measured = ps.filter((p) => p.rankP95Ms !== null);
  return measured.filter((p) => !measured.some((q) => q !== p && dominates(cost(q), cost(p)))).map((p) => p.id);
}

/** The whole analysis of a sweep's stored repeats. */
export function analyseTune(sweep: Sweep, data: PointData[], seed: number): TuneAnalysis {
  const points: PointStats[] = data.map((d, pi) => {
    const scenarios: Record<string, ScenarioStats> = {};
    for (const sc of sweep.scenarios) {
      const rs = d.repeats[sc] ?? [];
      const measured = rs.filter((r) => r.verdict !== 'error');
      const metrics: ScenarioStats['metrics'] = {};
      for (const [mi, m] of METRICS.entries()) {
        const vs = measured.map((r) => metricOf(r, m)).filter((v): v is number => v !== undefined);
        if (vs.length > 0) metrics[m] = summarize(vs, subSeed(seed, pi, sc, mi));
      }
      scenarios[sc] = { n: measured.length, errors: rs.length - measured.length, failed: rs.filter((r) => r.verdict === 'failed').length, metrics };
    }
    const p95s = Object.values(scenarios).map((s) => s.metrics.outage?.p95);
    const rankP95Ms = p95s.every((x) => x !== undefined) && p95s.length > 0 ? Math.max(...(p95s)) : null;
    return {
      id: d.point.id,
      label: labelOf(d.point),
      parameters: d.point.parameters,
      profile: d.point.profile,
      scenarios,
      falseFailover: falseFailoverStats(d.falseFailover, sweep.falseFailover.maxRate),
      advertPps: 1 / d.point.profile.vrrp.advertInt,
      rankP95Ms,
      ...(d.switchMs !== undefined ? { switchMs: d.switchMs } : {}),
    };
  });
  return { seed, points, effects: effects(sweep, data, seed), pareto: paretoFront(points), recommendation: recommend(points) };
}

/** A point in words: its parameters, or "base". */
export function labelOf(p: Point): string {
  const e = Object.entries(p.parameters);
  return e.length === 0 ? 'base' : e.map(([k, v]) => `${k}=${v}`).join(', ');
}

/** Lowest outage p95 among the points that pass the false-failover check; ties (within 1 ms) go to fewer adverts. */
export function recommend(ps: PointStats[]): Recommendation {
  const measured = ps.filter((p) => p.rankP95Ms !== null);
  if (measured.length === 0) return { point: null, reason: 'no point has outage measurements yet' };
  const safe = measured.filter((p) => p.falseFailover.ok);
  if (safe.length === 0) return { point: null, reason: `no point passed the false-failover check (upper bound at most ${(ps[0]!.falseFailover.maxRate * 100).toFixed(2)} %): ${measured.map((p) => `${p.id}: ${p.falseFailover.detail}`).join('; ')}. Nothing is recommended.` };
  const best = [...safe].sort((a, b) => (Math.abs(a.rankP95Ms! - b.rankP95Ms!) <= 1 ? a.advertPps - b.advertPps : a.rankP95Ms! - b.rankP95Ms!))[0]!;
  const tied = safe.filter((p) => p !== best && Math.abs(p.rankP95Ms! - best.rankP95Ms!) <= 1);
  return {
    point: best.id,
    reason: `lowest outage p95 (${(best.rankP95Ms! / 1000).toFixed(2)} s) of the ${safe.length} point(s) of ${measured.length} that passed the false-failover check${tied.length ? `; tied with ${tied.map((p) => p.id).join(', ')}, chosen for fewer adverts (${best.advertPps.toFixed(2)}/s)` : ''}`,
  };
}

/** Each parameter's effect: for every value after its first, the difference in median outage (pooled over the other parameters) with a bootstrap CI. */
export function effects(sweep: Sweep, data: PointData[], seed: number): Effect[] {
  const out: Effect[] = [];
  const primary = sweep.scenarios[0]!;
  const outagesWhere = (k: string, v: number | boolean) =>
    data
      .filter((d) => (d.point.parameters[k] ?? (d.point.profile[k.split('.')[0] as keyof Profile] as Record<string, unknown>)[k.split('.')[1]!]) === v)
      .flatMap((d) => (d.repeats[primary] ?? []).filter((r) => r.verdict !== 'error').map((r) => metricOf(r, 'outage')))
      .filter((x): x is number => x !== undefined);
  for (const [k, vs] of Object.entries(sweep.parameters)) {
    if (vs.length < 2) continue;
    const a = outagesWhere(k, vs[0]!);
    for (const v of vs.slice(1)) {
      const b = outagesWhere(k, v);
      out.push({ parameter: k, from: vs[0]!, to: v, n: { from: a.length, to: b.length }, diffMs: a.length >= 2 && b.length >= 2 ? diffOfMedians(a, b, subSeed(seed, 'effect', k, String(v))) : null });
    }
  }
  return out;
}

/** median(b) − median(a) with a percentile bootstrap interval, each group resampled on its own. */
export function diffOfMedians(a: number[], b: number[], seed: number): Interval {
  return bootstrapDiffCi(a, b, (xs) => median(xs), { seed });
}
