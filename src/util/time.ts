import { TimeoutError, VipdrillError } from '../errors.js';

/** Durations in files are strings like "500ms", "5s", "2m" (or plain numbers of seconds). */
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;

export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value * 1000;
  const m = DURATION.exec(value.trim());
  if (!m) throw new VipdrillError('CONFIG_INVALID', `expected a duration like "5s", got ${JSON.stringify(value)}`);
  const n = Number(m[1]);
  const unit = m[2];
  return unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
}

/** t in seconds from `origin`, signed, to the ms: "+1.234", "−0.050" (labels, event logs, evidence). */
export function signedSeconds(t: number, origin: number): string {
  return `${t - origin >= 0 ? '+' : '−'}${Math.abs(t - origin).toFixed(3)}`;
}

/** Rounded first, so the unit follows what is printed: 999.9 ms is "1.0 s", 179.6 s is "3 min 0 s". */
export function formatMs(ms: number): string {
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  if (Math.round(ms / 100) < 1200) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** A monotonic clock for the controller's own deadlines (never for lab measurements). */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export interface WaitOptions {
  timeoutMs: number;
  /** first poll interval; grows by 1.5x up to maxIntervalMs */
  intervalMs?: number;
  maxIntervalMs?: number;
  clock?: Clock;
  signal?: AbortSignal;
  /** called about every `everyMs` (default 10 s) while still waiting, with what was last observed */
  onStillWaiting?: (last: string, elapsedMs: number) => void;
  everyMs?: number;
}

/**
 * Poll `probe` until `done(state)` holds or the deadline passes. On timeout the error names what was
 * awaited, the last observed state and the deadline.
 */
export async function waitFor<T>(
  awaited: string,
  probe: () => Promise<T>,
  done: (state: T) => boolean,
  describe: (state: T) => string,
  opts: WaitOptions,
): Promise<T> {
  const clock = opts.clock ?? systemClock;
  const start = clock.now();
  let interval = opts.intervalMs ?? 200;
  const max = opts.maxIntervalMs ?? 2000;
  let last = 'nothing observed yet';
  let told = start;
  for (;;) {
    try {
      const state = await probe();
      if (done(state)) return state;
      last = describe(state);
    } catch (e) {
      last = `probe failed: ${e instanceof Error ? e.message : String(e)}`;
    }
    const elapsed = clock.now() - start;
    if (elapsed >= opts.timeoutMs) throw new TimeoutError(awaited, last, opts.timeoutMs);
    if (opts.onStillWaiting && clock.now() - told >= (opts.everyMs ?? 10_000)) {
      told = clock.now();
      opts.onStillWaiting(last, elapsed);
    }
    await clock.sleep(Math.min(interval, opts.timeoutMs - elapsed), opts.signal);
    interval = Math.min(max, interval * 1.5);
  }
}
