import { relative } from 'node:path';
import type { ScenarioResult } from '../runner/runner.js';
import type { SuiteResult } from '../runner/suite.js';
import type { Validation } from '../scenario/load.js';
import { formatMs } from '../util/time.js';
import { engineLine } from './format.js';

const w = (s = '') => process.stdout.write(s + '\n');

export function printValidation(vs: Validation[]): void {
  for (const v of vs) {
    if (v.ok) w(`ok    ${v.file}  (${v.scenario!.name}: ${v.scenario!.steps.length} steps)`);
    else {
      w(`FAIL  ${v.file}`);
      for (const i of v.issues) w(`        ${i.path ? `${i.path}: ` : ''}${i.message}`);
    }
  }
  const bad = vs.filter((v) => !v.ok).length;
  w(`${vs.length - bad} valid, ${bad} invalid`);
}

const ms = (x: number | undefined) => (x === undefined ? '-' : formatMs(x));

/** One row per scenario run: the table `run` ends with (and summary.md will hold). */
export function resultRows(rs: ScenarioResult[]): string[][] {
  return rs.map((r) => [
    `${r.scenario}${r.repeats > 1 ? ` #${r.repeat}` : ''}`,
    r.verdict.toUpperCase(),
    ms(r.metrics.vipTakeoverMs),
    r.metrics.outageMs !== undefined ? `${formatMs(r.metrics.outageMs)}${(r.metrics.outages?.length ?? 0) > 1 ? ` (+${r.metrics.outages!.length - 1} gaps)` : ''}` : r.metrics.probe?.error ? 'no probe' : 'none',
    r.metrics.tunnelSeenDown ? ms(r.metrics.tunnelRestoredMs) : 'no outage seen',
    r.metrics.splitBrainMs > 0 || r.metrics.splitBrainSampled ? `yes (${formatMs(r.metrics.splitBrainMs)})` : 'no',
    r.metrics.finalHolder ?? '-',
  ]);
}

export function printSuite(s: SuiteResult): void {
  const head = ['scenario', 'verdict', 'VIP takeover', 'outage (10 ms probe)', 'tunnel restored (sampled)', 'split brain', 'holder at end'];
  const rows = [head, ...resultRows(s.results)];
  const width = head.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  w('');
  if (s.engine) w(`engine: ${engineLine(s.engine)}`);
  for (const [k, r] of rows.entries()) {
    w(r.map((c, i) => c.padEnd(width[i]!)).join('  '));
    if (k === 0) w(width.map((n) => '-'.repeat(n)).join('  '));
  }
  for (const r of s.results.filter((x) => x.verdict !== 'passed')) w(`\n${r.scenario}${r.repeats > 1 ? ` #${r.repeat}` : ''}: ${r.verdict}: ${r.reason ?? ''}`);
  for (const e of s.labErrors) w(`\nlab error${e.scenarios.length ? ` (${e.scenarios.join(', ')})` : ''}: ${e.error}`);
  w(`\n${s.counts.passed} passed, ${s.counts.failed} failed, ${s.counts.error} could not run or decide${s.labErrors.length ? `, ${s.labErrors.length} lab error(s)` : ''} in ${formatMs(s.durationMs)}`);
  w(`results: ${relative(process.cwd(), s.dir) || s.dir}/`);
}
