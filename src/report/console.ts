import type { Progress } from '../util/progress.js';
import type { Reporter } from './reporter.js';
import { textTable } from './table.js';

/** The console: every runner event as a progress line while the run goes, the verdict table at the end. */
export function consoleReporter(progress: Progress, write: (s: string) => void = (s) => process.stdout.write(s)): Reporter {
  return {
    name: 'console',
    onEvent(e) {
      if (e.source === 'runner') progress.step(`${e.kind.padEnd(12)} ${e.message}`);
    },
    onEnd(d) {
      write(textTable(d.results) + '\n');
      return '(console)';
    },
  };
}
