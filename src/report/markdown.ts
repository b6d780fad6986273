import type { RunData } from './load.js';
import { fileReporter } from './reporter.js';
import { findingText } from './findings.js';
import { countsLine, label, markdownTable, engineLine, remoteLines, warned, probeEvery } from './table.js';
import { formatMs } from '../util/time.js';

/** summary.md: fit for $GITHUB_STEP_SUMMARY — counts, the verdict table, and why each failure failed. */
export function renderMarkdown(d: RunData): string {
  const { run, results } = d;
  const lab = run.labs[0];
  const out = [
    `## vipdrill run ${run.runId}`,
    '',
    `${countsLine(results, run.labErrors.length)} in ${formatMs(run.durationMs)}.` +
      (lab ? ` Engine: ${engineLine(lab.engine)}; profile ${lab.profile}.` : ''),
    '',
    ...(lab && remoteLines(lab) ? remoteMarkdown(remoteLines(lab)!) : []),
    markdownTable(results),
  ];
  const bad = results.filter((r) => r.verdict !== 'passed');
  if (bad.length > 0) {
    out.push('', '### What broke', '');
    for (const r of bad) {
      out.push(`- **${label(r)}** (${r.verdict}): ${r.reason ?? ''}`);
      if (r.metrics.reconnect?.explanation) out.push(`  - ${r.metrics.reconnect.explanation}`);
    }
  }
  const found = results.filter((r) => (r.findings?.length ?? 0) > 0);
  if (found.length > 0) {
    out.push('', '### Findings: why, and what to change', '');
    for (const r of found) {
      out.push(`- **${label(r)}**`);
      for (const f of r.findings!) out.push(...findingText(f, r).map((l, i) => (i === 0 ? `  - ${l}` : `    - ${l.trim()}`)));
    }
  }
  const warn = results.filter(warned);
  if (warn.length > 0) {
    out.push('', '### Passed with warnings', '');
    for (const r of warn) out.push(`- **${label(r)}**: ${r.warnings!.join('; ')}`);
  }
  for (const e of run.labErrors) out.push('', `- lab error${e.scenarios.length ? ` (${e.scenarios.join(', ')})` : ''}: ${e.error}`);
  out.push('', `Times are taken inside the lab (its own clock); outage = the loss window of the data-plane probe (${probeEvery(results)}), edge to edge (± half the edges' widths). Details: index.html in the run directory.`, '');
  return out.join('\n');
}

function remoteMarkdown(r: NonNullable<ReturnType<typeof remoteLines>>): string[] {
  return [`**Real hosts** over SSH: ${r.hosts}.`, '', `Clock offsets to the client (added to every figure's resolution across hosts): ${r.clocks}. ${r.leases}.`, ...(r.differences.length ? ['', `Differences between the nodes: ${r.differences.join('; ')}.`] : []), ''];
}

export const markdownReporter = fileReporter('md', 'summary.md', renderMarkdown);
