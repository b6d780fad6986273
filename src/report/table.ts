import type { ScenarioResult } from '../run/result.js';
import type { EngineInfo } from '../lab/engine.js';
import type { LabInfo } from '../run/result.js';
import { formatMs } from '../util/time.js';

/** The verdict table every report shares (summary.md, the console after `run`, index.html). */
export const TABLE_HEAD = ['scenario', 'verdict', 'outage', 'failback outage', 'VIP takeover', 'reconnect', 'longest phase'];

const ms = (x: number | undefined | null) => (x === undefined || x === null ? '–' : formatMs(x));

export function label(r: ScenarioResult): string {
  return `${r.scenario}${r.repeats > 1 ? ` #${r.repeat}` : ''}`;
}

export function tableRow(r: ScenarioResult): string[] {
  const m = r.metrics;
  const outage = m.outageMs !== undefined ? ms(m.outageMs) : m.probe?.error ? 'no probe' : 'none';
  const longest = m.reconnect?.longest ? `${m.reconnect.longest.phase} ${formatMs(m.reconnect.longest.ms)}` : '–';
  return [label(r), verdictWord(r), outage, m.failbackOutageMs !== undefined ? ms(m.failbackOutageMs) : 'none', ms(m.vipTakeoverMs), ms(m.reconnectMs), longest];
}

/** PASSED (WITH WARNINGS), FAILED or ERROR, and "(host starved)" when the hosts' agents ran late during the fault. */
export function verdictWord(r: ScenarioResult): string {
  return `${r.verdict.toUpperCase()}${warned(r) ? ' WITH WARNINGS' : ''}${r.starvation?.starved ? ' (host starved)' : ''}`;
}

/** A repeat that passed but carries warnings. */
export const warned = (r: ScenarioResult): boolean => r.verdict === 'passed' && (r.warnings?.length ?? 0) > 0;

/** "3 passed (1 with warnings), 0 failed, …": the counts every report opens with. */
export function countsLine(rs: ScenarioResult[], labErrors: number): string {
  const n = (v: ScenarioResult['verdict']) => rs.filter((r) => r.verdict === v).length;
  const w = rs.filter(warned).length;
  return `${n('passed')} passed${w ? ` (${w} with warnings)` : ''}, ${n('failed')} failed, ${n('error')} could not run or decide${labErrors ? `, ${labErrors} lab error(s)` : ''}`;
}

/** Aligned plain text (the console). */
export function textTable(rs: ScenarioResult[]): string {
  const rows = [TABLE_HEAD, ...rs.map(tableRow)];
  const width = TABLE_HEAD.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r, k) => r.map((c, i) => c.padEnd(width[i]!)).join('  ').trimEnd() + (k === 0 ? '\n' + width.map((n) => '-'.repeat(n)).join('  ') : '')).join('\n');
}

/** A GitHub-flavoured Markdown table (a CI job summary). */
export function markdownTable(rs: ScenarioResult[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const icon = (v: string) => `${v.startsWith('PASSED') ? '✅ passed' : v.startsWith('FAILED') ? '❌ failed' : '⚠️ error'}${v.includes('starved') ? ' (host starved)' : ''}`;
  const rows = rs.map(tableRow).map((r) => `| ${esc(r[0]!)} | ${icon(r[1]!)} | ${r.slice(2).map(esc).join(' | ')} |`);
  return [`| ${TABLE_HEAD.join(' | ')} |`, `|${TABLE_HEAD.map((_, i) => (i >= 2 && i <= 5 ? '---:' : '---')).join('|')}|`, ...rows].join('\n');
}

/** A drill on real hosts, in words: the hosts reached and what they run, their clocks against the client's, the leases. */
export function remoteLines(l: LabInfo): { hosts: string; clocks: string; leases: string; differences: string[] } | undefined {
  const r = l.remote;
  if (!r) return undefined;
  const v = (x: Record<string, string>) => Object.entries(x).map(([k, s]) => `${k} ${s.replace(/^.*?(\d+\.\d+(\.\d+)?).*$/, '$1')}`).join(', ');
  return {
    hosts: Object.entries(r.hosts).map(([n, h]) => `${n} = ${h.ssh} (${h.hostname}${Object.keys(h.versions).length ? `; ${v(h.versions)}` : ''})`).join(' · '),
    clocks: Object.entries(r.clocks).filter(([n]) => n !== 'client').map(([n, c]) => `${n} ${c.offsetMs >= 0 ? '+' : ''}${c.offsetMs.toFixed(1)} ms ±${c.uncertaintyMs.toFixed(1)} ms`).join(' · '),
    leases: `every fault leased for ${r.leaseTtlS} s: a host reverts it by itself if the controller stops renewing`,
    differences: r.comparison,
  };
}

/** The engine a run used, in words (reports and the console). */
export function engineLine(info: EngineInfo): string {
  return `engine ${info.name} (${info.accel}, kernel ${info.kernel})${info.caveat ? `\n  note: ${info.caveat}` : ''}`;
}

/** How often the runs' probes went out (the median achieved interval), for the reports' method lines. */
export function probeEvery(rs: ScenarioResult[]): string {
  const xs = rs.map((r) => r.metrics.probeIntervalMs).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  return xs.length ? `a probe every ${xs[Math.floor(xs.length / 2)]!.toFixed(0)} ms` : 'no probe';
}
