import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aggregate } from '../analysis/aggregate.js';
import type { ScenarioResult } from '../run/result.js';
import { insideDir } from '../util/paths.js';
import type { Reporter } from './reporter.js';

/**
 * `<scenario>/result.json`: each scenario's aggregate over its repeats; and, when asked (`vipdrill report
 * --rewrite-results`), each repeat's own result.json as computed again from its events.jsonl.
 */
export const jsonReporter: Reporter = {
  name: 'json',
  onEnd(d) {
    for (const [k, r] of d.results.entries()) {
      if (!d.rewriteResults || d.sources?.[k]?.from !== 'events.jsonl') continue;
      const { evidence: _, ...json } = r;
      writeFileSync(insideDir(d.dir, r.scenario, `repeat-${r.repeat}`, 'result.json'), JSON.stringify(json, null, 2) + '\n');
    }
    const by = new Map<string, ScenarioResult[]>();
    for (const r of d.results) by.set(r.scenario, [...(by.get(r.scenario) ?? []), r]);
    for (const [s, rs] of by) writeFileSync(insideDir(d.dir, s, 'result.json'), JSON.stringify(aggregate(rs), null, 2) + '\n');
    return join(d.dir, '<scenario>/result.json');
  },
};
