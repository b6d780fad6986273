/** Progress lines for long steps, on stderr so --json output on stdout stays clean. */
export interface Progress {
  step(message: string): void;
  detail(message: string): void;
}

export function consoleProgress(quiet = false): Progress {
  const t0 = performance.now();
  const stamp = () => `[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s]`;
  let lastDetail = 0;
  return {
    step: (m) => {
      if (!quiet) process.stderr.write(`${stamp()} ${m}\n`);
    },
    detail: (m) => {
      // throttle chatty tools (debootstrap, docker import) to one line a second
      const now = performance.now();
      if (quiet || now - lastDetail < 1000) return;
      lastDetail = now;
      process.stderr.write(`${stamp()}   ${m}\n`);
    },
  };
}

export const silentProgress: Progress = { step: () => {}, detail: () => {} };
