import type { ScenarioResult } from '../run/result.js';
import type { Finding } from './findings/index.js';
import type { Scenario } from '../scenario/schema.js';
import { formatMs } from '../util/time.js';

/**
 * What makes a passed repeat "passed with warnings": it met every expectation its scenario states, but
 * a user of a VPN would not call it a healthy failover. A scenario that sets no bound on an outage still
 * gets this one: a three-minute hole that passes is a defect of the drill, not a pass. So does a finding
 * (src/analysis/findings) whose mechanism cost more than the bound.
 */

/** The outage bound a scenario gets when it sets none (ms), the fault's and the revert's alike. */
export const DEFAULT_OUTAGE_BOUND_MS = 30_000;

/** The warnings of a repeat, each in words with its figure; an empty list for a healthy one. */
export function warningsOf(sc: Scenario, r: ScenarioResult, findings: Finding[] = []): string[] {
  const m = r.metrics;
  const out: string[] = [];
  const bound = formatMs(DEFAULT_OUTAGE_BOUND_MS);
  if (!sc.expect.outage && m.outageMs !== undefined && m.outageMs > DEFAULT_OUTAGE_BOUND_MS) {
    out.push(`the fault's outage lasted ${formatMs(m.outageMs)}, beyond the default bound of ${bound} (the scenario sets no outage bound; expect.outage sets one)`);
  }
  if (!sc.expect.failbackOutage && m.failbackOutageMs !== undefined && m.failbackOutageMs > DEFAULT_OUTAGE_BOUND_MS) {
    out.push(`the outage after the revert (the heal, the failback) lasted ${formatMs(m.failbackOutageMs)}, beyond the default bound of ${bound} (the scenario sets no bound on it; expect.failbackOutage sets one)`);
  }
  // a mechanism that cost more than the bound, whatever the scenario expects
  for (const f of findings.filter((x) => x.impactMs > DEFAULT_OUTAGE_BOUND_MS)) out.push(`finding ${f.id} accounts for ${formatMs(f.impactMs)}: ${f.mechanism}`);
  return out;
}
