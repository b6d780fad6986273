import type { HostEvent } from '../run/events.js';
import { formatMs } from '../util/time.js';

/**
 * Was the lab host starved while it mattered? From the agents' pushed host.lag events: how late their
 * 100 ms ticks fired, in one-second windows.
 */

export function lagMax(events: HostEvent[], from: number, to: number): { maxMs: number; host?: string } {
  let best: { maxMs: number; host?: string } = { maxMs: 0 };
  for (const e of events) if (e.ev === 'host.lag' && e.t >= from && e.t <= to + 1 && e.maxMs > best.maxMs) best = { maxMs: e.maxMs, host: e.host };
  return best;
}

export interface Starvation {
  /** the hosts' 1 s lag windows from the first fault to the end: their 90th percentile and maximum (ms) */
  lagP90Ms: number;
  lagMaxMs: number;
  /** the host of the worst window */
  host?: string;
  windows: number;
  thresholds: { p90Ms: number; maxMs: number };
  starved: boolean;
  detail: string;
}

const envMs = (name: string, dflt: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};

/**
 * When a repeat counts as starved: the hosts' agents ran late for a sustained stretch (the 90th percentile
 * of their 1 s lag windows at least $VIPDRILL_STARVED_P90_MS, 50 ms by default), or once for long (a
 * window at least $VIPDRILL_STARVED_MAX_MS, 1 s by default). Measured on this project's TCG lab: quiet
 * repeats p90 15-23 ms (n=12), with single spikes to ~300 ms while a node container starts; with one host
 * core hogged p90 65-85 ms (n=7), and there keepalived at 0.3 s adverts flapped to two MASTERs.
 */
export function starvedThresholds(): { p90Ms: number; maxMs: number } {
  return { p90Ms: envMs('VIPDRILL_STARVED_P90_MS', 50), maxMs: envMs('VIPDRILL_STARVED_MAX_MS', 1000) };
}

/**
 * The fewest one-second windows a p90 is taken over: a short fault (a 1 s blackout, 4 hosts × 5 s) has
 * about 20, where two spikes of the lab's own work make the p90 (a quiet TCG calibration read 103 ms).
 * Fewer windows in the fault's span are topped up with the repeat's latest windows before the fault.
 */
export const MIN_LAG_WINDOWS = 40;

export function starvation(events: HostEvent[], from: number, to: number, thresholds = starvedThresholds()): Starvation {
  const all = events.filter((e): e is Extract<HostEvent, { ev: 'host.lag' }> => e.ev === 'host.lag' && e.t <= to + 1);
  let lags = all.filter((e) => e.t >= from);
  if (lags.length < MIN_LAG_WINDOWS) lags = [...all.filter((e) => e.t < from).sort((a, b) => b.t - a.t).slice(0, MIN_LAG_WINDOWS - lags.length), ...lags];
  const sorted = lags.map((e) => e.maxMs).sort((a, b) => a - b);
  const p90 = sorted.length > 0 ? sorted[Math.min(sorted.length - 1, Math.floor(0.9 * sorted.length))]! : 0;
  const worst = lagMax(events, from, to);
  const before = lags.filter((e) => e.t < from).length;
  const starved = p90 >= thresholds.p90Ms || worst.maxMs >= thresholds.maxMs;
  const figures = `agents' lag over ${lags.length} one-second windows${before > 0 ? ` (${before} of them before the fault)` : ''}: p90 ${formatMs(p90)}, max ${formatMs(worst.maxMs)}${worst.host ? ` (${worst.host})` : ''}`;
  return {
    lagP90Ms: p90,
    lagMaxMs: worst.maxMs,
    ...(worst.host ? { host: worst.host } : {}),
    windows: lags.length,
    thresholds,
    starved,
    detail: starved
      ? `host starved during the fault: ${figures} (limits p90 ${formatMs(thresholds.p90Ms)}, max ${formatMs(thresholds.maxMs)}); timings are the starved lab's`
      : `${figures} (limits p90 ${formatMs(thresholds.p90Ms)}, max ${formatMs(thresholds.maxMs)})`,
  };
}
