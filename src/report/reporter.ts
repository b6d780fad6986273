import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StreamLine } from '../run/events.js';
import type { ScenarioResult } from '../run/result.js';
import type { RunData } from './load.js';

/**
 * A reporter is a view of a run's event stream and results, in the manner of Playwright's reporter API:
 * `onBegin` when a run starts, `onEvent` for every event as it happens (or in order, when a report is
 * rebuilt from files), `onResult` as each repeat's result is complete, `onEnd` with the whole run, when it
 * writes what it writes. Each format is one file: json, junit, markdown, html, pdf, console.
 */
export interface Reporter {
  readonly name: string;
  onBegin?(run: { runId: string; dir: string }): void;
  onEvent?(e: StreamLine, r: { scenario: string; repeat: number }): void;
  onResult?(r: ScenarioResult): void;
  /** write the report; returns the file(s) it wrote */
  onEnd(d: RunData): Promise<string> | string;
}

/** A reporter that writes one file of the run folder, rendered from the whole run at its end. */
export function fileReporter(name: string, file: string, render: (d: RunData) => string): Reporter {
  return {
    name,
    onEnd(d) {
      const out = join(d.dir, file);
      writeFileSync(out, render(d));
      return out;
    },
  };
}
