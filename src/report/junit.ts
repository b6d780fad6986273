import { findingText } from './findings.js';
import type { ScenarioResult } from '../run/result.js';
import { fileReporter } from './reporter.js';
import { formatMs } from '../util/time.js';
import type { RunData } from './load.js';
import { label } from './table.js';

const xml = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // characters XML 1.0 cannot carry
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

function metricsText(r: ScenarioResult): string {
  const m = r.metrics;
  const f = (x: number | undefined | null) => (x === undefined || x === null ? '-' : formatMs(x));
  const lines = [
    `outage ${f(m.outageMs)} (probe every ${m.probeIntervalMs?.toFixed(2) ?? '-'} ms), failback outage ${m.failbackOutageMs !== undefined ? f(m.failbackOutageMs) : 'none'}${m.failbackTakeoverMs !== undefined ? ` (VIP back ${f(m.failbackTakeoverMs)} after the revert)` : ''}, VIP takeover ${f(m.vipTakeoverMs)}, reconnect ${f(m.reconnectMs)}, split brain ${f(m.splitBrainMs)}, routing ${m.routingSymmetric === true ? 'symmetric' : m.routingSymmetric === false ? 'asymmetric' : 'undecided'}`,
  ];
  if (m.phasesMs) lines.push(`phases: ${Object.entries(m.phasesMs).map(([k, v]) => `${k} ${f(v)}`).join(', ')}`);
  if (m.reconnect?.explanation) lines.push(m.reconnect.explanation);
  if (r.calm) lines.push(`calm window before the fault: ${formatMs(r.calm.requiredMs)} with no VRRP transition (waited ${formatMs(r.calm.waitedMs)}; agents at most ${formatMs(r.calm.lagMaxMs)} late)`);
  if (r.starvation) lines.push(r.starvation.detail);
  if (r.verdict === 'passed') for (const x of r.warnings ?? []) lines.push(`WARN passed with warnings: ${x}`);
  for (const f of r.findings ?? []) lines.push(...findingText(f, r, 'finding '));
  for (const x of r.expectations) lines.push(`${x.ok ? 'ok  ' : x.undecided ? '??  ' : 'FAIL'} ${x.name}: ${x.detail}`);
  for (const x of r.invariants ?? []) lines.push(`${x.ok ? 'ok  ' : 'FAIL'} invariant ${x.name}: ${x.detail}`);
  return lines.join('\n');
}

/** junit.xml: one testcase per scenario × repeat; failures carry the failed expectation and the phase explanation. */
export function renderJunit(d: RunData): string {
  const rs = d.results;
  const failures = rs.filter((r) => r.verdict === 'failed').length;
  const errors = rs.filter((r) => r.verdict === 'error').length + d.run.labErrors.length;
  const secs = (ms: number) => (ms / 1000).toFixed(3);
  const lab = d.run.labs[0];
  const cases = rs.map((r) => {
    const failed = r.expectations.filter((x) => !x.ok);
    const body = metricsText(r);
    const why = r.verdict === 'failed'
      ? `      <failure message="${xml(failed.length > 0 ? failed.map((x) => `${x.name}: ${x.detail}`).join('; ') : r.reason ?? 'failed')}" type="expectation">${xml(`${r.reason ?? ''}\n${r.metrics.reconnect?.explanation ?? ''}\n${(r.findings ?? []).map((f) => `\nWhy: ${f.mechanism}\nFix: ${f.remedy.map((x) => `${x.file}: ${x.line}`).join('; ')}`).join('')}\n\n${body}`)}</failure>\n`
      : r.verdict === 'error'
        ? `      <error message="${xml(r.reason ?? 'error')}" type="could-not-run">${xml(`${r.reason ?? ''}\n\n${body}`)}</error>\n`
        : '';
    const m = r.metrics;
    const figures: [string, number | boolean | undefined][] = [
      ['outageMs', m.outageMs],
      ['failbackOutageMs', m.failbackOutageMs],
      ['failbackTakeoverMs', m.failbackTakeoverMs],
      ['vipTakeoverMs', m.vipTakeoverMs],
      ['reconnectMs', m.reconnectMs],
      ...(r.starvation ? ([['host.starved', r.starvation.starved], ['host.lagP90Ms', r.starvation.lagP90Ms], ['host.lagMaxMs', r.starvation.lagMaxMs]] as [string, number | boolean][]) : []),
    ];
    const set = figures.filter(([, v]) => v !== undefined);
    // a pass with warnings: JUnit has no such status, so each warning is a property (and in system-out)
    const warns = [
      ...(r.verdict === 'passed' ? (r.warnings ?? []).map((x) => `        <property name="warning" value="${xml(x)}"/>\n`) : []),
      ...(r.findings ?? []).map((f) => `        <property name="finding.${xml(f.id)}" value="${Math.round(f.impactMs * 10) / 10}"/>\n`),
    ];
    const props = set.length + warns.length > 0 ? `      <properties>\n${set.map(([k, v]) => `        <property name="${k}" value="${typeof v === 'number' ? Math.round(v * 10) / 10 : String(v)}"/>\n`).join('')}${warns.join('')}      </properties>\n` : '';
    return `    <testcase classname="vipdrill.${xml(r.profile)}" name="${xml(label(r))}" file="${xml(r.file)}" time="${secs(r.durationMs)}">\n${props}${why}      <system-out>${xml(body)}</system-out>\n    </testcase>`;
  });
  const labErrs = d.run.labErrors.map((e, i) => `    <testcase classname="vipdrill.lab" name="lab ${i + 1}${e.scenarios.length ? ` (${xml(e.scenarios.join(', '))})` : ''}" time="0">\n      <error message="${xml(e.error)}" type="lab"/>\n    </testcase>`);
  const total = rs.length + d.run.labErrors.length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="vipdrill" tests="${total}" failures="${failures}" errors="${errors}" time="${secs(d.run.durationMs)}">`,
    `  <testsuite name="vipdrill ${xml(d.run.runId)}${lab ? ` (${xml(lab.engine.name)}, ${xml(lab.profile)})` : ''}" tests="${total}" failures="${failures}" errors="${errors}" skipped="0" time="${secs(d.run.durationMs)}" timestamp="${xml(d.run.startedAt)}">`,
    ...cases,
    ...labErrs,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

export const junitReporter = fileReporter('junit', 'junit.xml', renderJunit);
