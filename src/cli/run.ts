import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { findingText } from '../report/findings.js';
import { countsLine, engineLine, label, textTable, warned } from '../report/table.js';
import type { SuiteResult } from '../run/suite.js';
import type { Validation } from '../scenario/load.js';
import { formatMs } from '../util/time.js';
import type { TuneResult } from '../tune/run.js';
import { pointsTable } from '../tune/report.js';
import { loadSweep } from '../tune/sweep.js';
import { armsTable } from '../tune/remedies.js';
import type { TryRemediesResult } from '../tune/try-remedies.js';

const w = (s = '') => process.stdout.write(s + '\n');

export function printValidation(vs: Validation[]): void {
  for (const v of vs) {
    if (v.ok) w(`ok    ${v.file}  (${v.summary ?? v.kind})`);
    else {
      w(`FAIL  ${v.file}`);
      for (const i of v.issues) w(`        ${i.path ? `${i.path}: ` : ''}${i.message}`);
    }
  }
  const bad = vs.filter((v) => !v.ok).length;
  w(`${vs.length - bad} valid, ${bad} invalid`);
}

export function printSuite(s: SuiteResult): void {
  w('');
  if (s.engine) w(`engine: ${engineLine(s.engine)}`);
  // the same table as summary.md
  w(textTable(s.results));
  for (const r of s.results.filter((x) => x.verdict !== 'passed')) w(`\n${label(r)}: ${r.verdict}: ${r.reason ?? ''}${r.metrics.reconnect?.explanation ? `\n  ${r.metrics.reconnect.explanation}` : ''}`);
  for (const e of s.labErrors) w(`\nlab error${e.scenarios.length ? ` (${e.scenarios.join(', ')})` : ''}: ${e.error}`);
  for (const r of s.results.filter(warned)) w(`\n${label(r)}: passed with warnings: ${r.warnings!.join('; ')}`);
  for (const r of s.results.filter((x) => x.verdict !== 'passed' || warned(x))) for (const f of r.findings ?? []) w(findingText(f, r, `  ${label(r)}: `).join('\n'));
  w(`\n${countsLine(s.results, s.labErrors.length)} in ${formatMs(s.durationMs)}`);
  const rel = relative(process.cwd(), s.dir) || s.dir;
  w(`results: ${rel}/`);
  if (existsSync(join(s.dir, 'index.html'))) w(`report:  ${join(rel, 'index.html')}`);
}

export function printTune(r: TuneResult): void {
  const { sweep } = loadSweep(r.run.sweepFile);
  const a = r.analysis;
  w('');
  for (const l of pointsTable(sweep, a)) w(l);
  w('');
  const rec = a.points.find((p) => p.id === a.recommendation.point);
  w(rec ? `recommended: ${rec.id} (${rec.label}): ${a.recommendation.reason}` : `nothing recommended: ${a.recommendation.reason}`);
  w(`${r.complete ? 'complete' : `incomplete (${r.stopped ?? 'stopped'})`}; seed ${a.seed}; ${formatMs(r.run.spentMs)} spent`);
  const rel = relative(process.cwd(), r.dir) || r.dir;
  w(`results: ${rel}/  (tune.json, summary.md, index.html${rec ? ', recommended.yaml, snippets/' : ''})`);
  if (!r.complete) w(`resume:  vipdrill tune --resume ${rel}`);
}

export function printRemedies(r: TryRemediesResult): void {
  const j = r.json;
  w('');
  w(`${j.scenario} on profile ${j.profile}: ${j.repeats} repeat(s) per arm; seed ${j.seed}${j.complete ? '' : `; incomplete (${j.stopped ?? 'not every repeat ran'})`}`);
  for (const l of armsTable(j.arms)) w(l);
  const rel = relative(process.cwd(), r.dir) || r.dir;
  w(`results: ${rel}/  (remedies.json, summary.md, one folder per arm)`);
}
