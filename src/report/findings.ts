import type { Finding } from '../analysis/findings/index.js';
import type { ScenarioResult } from '../run/result.js';
import { formatMs, signedSeconds } from '../util/time.js';

/** A finding in plain text (the console, summary.md, JUnit): mechanism, evidence, remedies. */
export function findingText(f: Finding, r: ScenarioResult, indent = ''): string[] {
  const origin = r.firstFaultAt ?? r.labStart;
  const at = (t: number) => `${signedSeconds(t, origin)} s`;
  return [
    `${indent}${f.id} (${f.confidence} confidence, ${formatMs(f.impactMs)}): ${f.mechanism}`,
    ...f.evidence.map((e) => `${indent}  evidence ${at(e.t)}${e.seq !== undefined ? ` (event ${e.seq})` : ''}: ${e.what}`),
    ...f.remedy.map((x) => `${indent}  remedy: ${x.file}: ${x.line}: ${x.why}${x.profile ? ` [profile ${x.profile}${x.value !== undefined ? `=${x.value}` : ''}]` : ''}`),
  ];
}
