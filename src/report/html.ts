import type { ScenarioResult } from '../run/result.js';
import { fileReporter } from './reporter.js';
import { stats } from '../util/stats.js';
import { formatMs } from '../util/time.js';
import type { RunData } from './load.js';
import { label, TABLE_HEAD, tableRow, verdictWord, engineLine } from './table.js';
import { esc, stripSvg, timelineSvg } from './timeline.js';

/**
 * index.html: one self-contained file (inline CSS and SVG, no script, no network), readable from
 * file:// on a laptop and printable (report.pdf is this page printed by Chromium).
 */

const CSS = `
:root { --fg: #263238; --muted: #607d8b; --line: #cfd8dc; --ok: #2e7d32; --bad: #c62828; --err: #ef6c00; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg); margin: 0 auto; max-width: 1180px; padding: 20px 28px 60px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 30px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.sub { color: var(--muted); margin: 0 0 14px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceff1; vertical-align: top; }
th { background: #f5f7f8; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.verdict { font-weight: 700; } .passed { color: var(--ok); } .failed { color: var(--bad); } .error { color: var(--err); }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0 12px; }
.kv dt { color: var(--muted); } .kv dd { margin: 0; }
.caveat { background: #fff8e1; border-left: 4px solid #ffb300; padding: 6px 10px; margin: 8px 0; }
.scenario { border: 1px solid var(--line); border-radius: 6px; padding: 8px 16px 12px; margin: 18px 0; break-inside: avoid-page; }
.scenario > header { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; }
.scenario > header h2 { border: 0; margin: 8px 0 2px; }
.explain { background: #e3f2fd; border-left: 4px solid #1565c0; padding: 6px 10px; margin: 8px 0; }
.reason { background: #ffebee; border-left: 4px solid var(--bad); padding: 6px 10px; margin: 8px 0; }
.legend span { display: inline-block; margin-right: 12px; font-size: 12px; color: var(--muted); }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; vertical-align: -1px; }
svg.timeline { display: block; margin: 6px 0; border: 1px solid #eceff1; }
details { margin: 8px 0; } summary { cursor: pointer; color: #1565c0; }
details table td { font: 12px/1.35 ui-monospace, "DejaVu Sans Mono", monospace; }
.small { font-size: 12px; color: var(--muted); }
@page { size: A4; margin: 12mm; }
@media print { body { max-width: none; padding: 0; font-size: 11px; } .scenario { break-inside: auto; } details:not([open]) { display: none; } a { color: inherit; text-decoration: none; } }
`;

const ms = (x: number | undefined | null) => (x === undefined || x === null ? '–' : formatMs(x));
const id = (r: ScenarioResult) => `${r.scenario}-r${r.repeat}`;

function header(d: RunData): string {
  const { run } = d;
  const labs = run.labs.length > 0 ? run.labs : [];
  const engine = labs[0]?.engine ?? run.engine;
  const tcg = engine?.accel === 'tcg';
  const parts = [
    `<h1>vipdrill drill report</h1>`,
    `<p class="sub">run ${esc(run.runId)} · started ${esc(new Date(run.startedAt).toUTCString())} · ${esc(formatMs(run.durationMs))} · ${d.results.length} scenario run(s)</p>`,
    `<dl class="kv">`,
    `<dt>host</dt><dd>${esc(run.host ? `${run.host.hostname} (${run.host.os}, ${run.host.cpus} CPU, ${run.host.memoryGiB} GiB, Node ${run.host.node})` : 'unknown')}</dd>`,
    run.host?.loadAvg ? `<dt>host load</dt><dd data-testid="host-load">${esc(`load average ${run.host.loadAvg.join(' / ')} (1/5/15 min) at the start${run.host.loadAvgAtEnd ? `, ${run.host.loadAvgAtEnd.join(' / ')} at the end` : ''} on ${run.host.cpus} CPU`)}</dd>` : '',
    calmLine(d.results) ? `<dt>stability</dt><dd data-testid="calm">${esc(calmLine(d.results)!)}</dd>` : '',
    `<dt>engine</dt><dd>${engine ? esc(engineLine(engine)) : 'unknown'}</dd>`,
  ];
  for (const l of labs) {
    parts.push(`<dt>lab</dt><dd>${esc(l.name)} · topology ${esc(l.topology)} · profile <b>${esc(l.profile)}</b>${l.profileDescription ? ` — ${esc(l.profileDescription)}` : ''}</dd>`);
    parts.push(`<dt>tunables</dt><dd>${Object.entries(l.tunables).map(([k, v]) => `${esc(k)}: ${esc(v)}`).join(' · ')}</dd>`);
    parts.push(`<dt>versions</dt><dd>${Object.entries(l.versions).map(([k, v]) => `${esc(k)} ${esc(v)}`).join(' · ') || 'unknown'}</dd>`);
  }
  parts.push('</dl>');
  if (tcg) parts.push(`<p class="caveat"><b>TCG caveat:</b> this lab ran in a qemu VM under software emulation (no KVM). Timers and CPU-bound work (IKE Diffie-Hellman, key derivation) are slower than on hardware; compare these numbers with runs on the same engine, not with production.</p>`);
  parts.push(`<p class="small">Every time is taken inside the lab on its own clock: keepalived's state lines, the daemons' logs (stamped as written), and ping's own timestamps (a probe every 5 ms each way, every 10–20 ms while one is unanswered; outage = from the middle of its start edge, between the last reply and the first lost probe, to the middle of its end edge, between the last lost probe and the first through, ± half their widths).</p>`);
  return parts.join('\n');
}

/** The stability gate's figures over the run: calm windows waited for, the agents' worst lag, starved repeats. */
function calmLine(rs: ScenarioResult[]): string | undefined {
  const calm = rs.flatMap((r) => (r.calm ? [r.calm] : []));
  const lag = rs.flatMap((r) => (r.starvation ? [r.starvation] : []));
  if (calm.length === 0 && lag.length === 0) return undefined;
  const starved = lag.filter((x) => x.starved).length;
  const waited = calm.map((c) => c.waitedMs);
  return [
    calm.length > 0 ? `${calm.length} calm window(s) of ${formatMs(calm[0]!.requiredMs)} before the first fault (waited ${formatMs(Math.min(...waited))} to ${formatMs(Math.max(...waited))})` : '',
    lag.length > 0 ? `agents' lag during faults: p90 up to ${formatMs(Math.max(...lag.map((x) => x.lagP90Ms)))}, max ${formatMs(Math.max(...lag.map((x) => x.lagMaxMs)))}; ${starved} of ${lag.length} repeat(s) host starved` : '',
  ].filter(Boolean).join('; ');
}

function verdictTable(rs: ScenarioResult[]): string {
  const rows = rs.map((r) => {
    const cells = tableRow(r);
    return `<tr data-testid="verdict-row" data-scenario="${esc(r.scenario)}"><td><a href="#${esc(id(r))}">${esc(cells[0]!)}</a></td><td class="verdict ${r.verdict}"${r.starvation?.starved ? ' data-starved="true"' : ''}>${esc(cells[1]!)}</td>${cells.slice(2, 5).map((c) => `<td class="num">${esc(c)}</td>`).join('')}<td>${esc(cells[5]!)}</td></tr>`;
  });
  return `<table class="verdicts" data-testid="verdict-table"><thead><tr>${TABLE_HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function distribution(all: ScenarioResult[]): string {
  if (all.length < 2) return '';
  const rows = [
    ['outage', all.map((r) => r.metrics.outageMs)],
    ['VIP takeover', all.map((r) => r.metrics.vipTakeoverMs)],
    ['reconnect', all.map((r) => r.metrics.reconnectMs)],
  ] as const;
  const body = rows
    .map(([what, vs]) => {
      const s = stats([...vs]);
      if (!s) return '';
      return `<tr><td>${what}</td><td class="num">${s.n}</td><td class="num">${ms(s.min)}</td><td class="num">${ms(s.median)}</td><td class="num">${ms(s.p95)}</td><td class="num">${ms(s.max)}</td><td>${stripSvg(vs.filter((v): v is number => v !== undefined), what)}</td></tr>`;
    })
    .join('');
  return `<h3>Over ${all.length} repeats</h3><table class="dist" data-testid="distribution"><thead><tr><th>figure</th><th>n</th><th>min</th><th>median</th><th>p95</th><th>max</th><th>runs (median in red)</th></tr></thead><tbody>${body}</tbody></table>`;
}

function scenarioSection(r: ScenarioResult, all: ScenarioResult[]): string {
  const m = r.metrics;
  const t0 = r.labStart;
  const kv = (k: string, v: string) => `<dt>${esc(k)}</dt><dd>${v}</dd>`;
  const phases = m.phasesMs ? Object.entries(m.phasesMs).map(([k, v]) => `${esc(k)} ${esc(ms(v))}`).join(' → ') : '–';
  const figures = [
    kv('outage', `${esc(ms(m.outageMs))}${m.reverseOutageMs !== undefined ? ` (LAN → client ${esc(ms(m.reverseOutageMs))})` : ''}${m.outages && m.outages.length > 1 ? ` · ${m.outages.length} gaps in all` : ''}`),
    kv('VIP takeover', `${esc(ms(m.vipTakeoverMs))}${m.newHolder ? ` to ${esc(m.newHolder)}` : ''}${m.takeoverCheck ? ` · notify line +${esc(formatMs(m.takeoverCheck.notifyMs - (m.takeoverCheck.keepalivedLogMs ?? m.takeoverCheck.notifyMs)))}, VRRP predicts ${esc(formatMs(m.takeoverCheck.expectedMs))}` : ''}`),
    kv('reconnect', `${esc(ms(m.reconnectMs))}${m.reconnect?.detectedBy ? ` · detected by ${esc(m.reconnect.detectedBy)}` : ''}`),
    kv('phases', phases),
    kv('split brain', m.splitBrainMs > 0 || m.splitBrainSampled ? `<b class="failed">${esc(formatMs(m.splitBrainMs))} with both MASTER${m.splitBrainSampled ? ', two VIP holders sampled' : ''}</b>` : `none (handover overlap ${esc(formatMs(m.handoverOverlapMs))})`),
    kv('ARP', esc(m.arp?.detail ?? '–')),
    kv('routing', m.routingSymmetric === undefined ? '–' : `${m.routingSymmetric === null ? 'undecided' : m.routingSymmetric ? 'symmetric' : '<b class="failed">asymmetric</b>'} <span class="small">${esc(m.symmetry?.evidence ?? '')}</span>`),
    kv('sessions', m.sessions ? esc(`before ${JSON.stringify(m.sessions.before)}, after ${JSON.stringify(m.sessions.after)}${m.sessions.reauthOn ? `; re-authenticated on ${m.sessions.reauthOn}` : ''}${m.sessions.clientAddress ? `, client address ${m.sessions.clientAddress}` : ''}${m.sessions.accounting.length ? `; pppd accounting: ${m.sessions.accounting.map((a) => `${a.node}: ${a.line}`).join(' ')}` : ''}`) : '–'),
    ...(m.calibration ? [kv('calibration', `<span class="${m.calibration.ok ? 'passed' : 'failed'}">${esc(m.calibration.detail)}</span>`)] : []),
    kv('probe', esc(m.resolution.probe ?? '–')),
  ];
  const expectations = r.expectations.length
    ? `<table class="expect"><thead><tr><th>expectation</th><th>result</th><th>detail</th></tr></thead><tbody>${r.expectations.map((x) => `<tr><td>${esc(x.name)}</td><td class="verdict ${x.ok ? 'passed' : x.undecided ? 'error' : 'failed'}">${x.ok ? 'ok' : x.undecided ? 'UNDECIDED' : 'FAILED'}</td><td>${esc(x.detail)}</td></tr>`).join('')}${(r.invariants ?? []).map((x) => `<tr><td>invariant: ${esc(x.name)}</td><td class="verdict ${x.ok ? 'passed' : 'failed'}">${x.ok ? 'ok' : 'FAILED'}</td><td>${esc(x.detail)}</td></tr>`).join('')}</tbody></table>`
    : '';
  const events = `<details class="events" data-testid="events"><summary>Event log (${r.events.length} events, lab clock)</summary><table><thead><tr><th>+s</th><th>event</th><th>what</th></tr></thead><tbody>${r.events.map((e) => `<tr><td class="num">${((e.t - t0) >= 0 ? '+' : '') + (e.t - t0).toFixed(3)}</td><td>${esc(e.kind)}</td><td>${esc(e.message)}</td></tr>`).join('')}</tbody></table></details>`;
  return [
    `<section class="scenario" id="${esc(id(r))}" data-testid="scenario" data-scenario="${esc(r.scenario)}">`,
    `<header><h2>${esc(label(r))}</h2><span class="verdict ${r.verdict}">${esc(verdictWord(r))}</span><span class="small">${esc(r.file)} · profile ${esc(r.profile)} · ${esc(formatMs(r.durationMs))}</span></header>`,
    `<p>${esc(r.description)}</p>`,
    r.reason && r.verdict !== 'passed' ? `<p class="reason">${esc(r.reason)}</p>` : '',
    r.calm || r.starvation ? `<p class="small" data-testid="stability">${r.calm ? esc(`calm window before the fault: ${formatMs(r.calm.requiredMs)} with no VRRP transition (waited ${formatMs(r.calm.waitedMs)}; agents at most ${formatMs(r.calm.lagMaxMs)} late). `) : ''}${r.starvation ? esc(r.starvation.detail) : ''}</p>` : '',
    m.reconnect?.explanation ? `<p class="explain">${esc(m.reconnect.explanation)}</p>` : '',
    timelineSvg(r, id(r)),
    `<div class="legend"><span><i style="background:#2e7d32"></i>MASTER</span><span><i style="background:#90a4ae"></i>BACKUP</span><span><i style="background:#c62828"></i>FAULT</span><span><i style="background:#212121"></i>down</span><span><i style="background:#6a1b9a"></i>frozen</span><span><i style="background:#43a047"></i>probe replies</span><span><i style="background:#e53935"></i>no reply</span><span><i style="background:#ff7043;opacity:.4"></i>fault active</span><span><i style="background:#1565c0"></i>reconnect milestones</span></div>`,
    `<dl class="kv">${figures.join('')}</dl>`,
    r.repeat === r.repeats ? distribution(all) : '',
    expectations,
    events,
    '</section>',
  ].join('\n');
}

export function renderHtml(d: RunData): string {
  const byScenario = new Map<string, ScenarioResult[]>();
  for (const r of d.results) byScenario.set(r.scenario, [...(byScenario.get(r.scenario) ?? []), r]);
  const labErrors = d.run.labErrors.map((e) => `<p class="reason">lab error${e.scenarios.length ? ` (${esc(e.scenarios.join(', '))})` : ''}: ${esc(e.error)}</p>`).join('');
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>vipdrill ${esc(d.run.runId)}</title>`,
    `<style>${CSS}</style>`,
    '</head><body>',
    header(d),
    '<h2>Verdicts</h2>',
    verdictTable(d.results),
    labErrors,
    ...d.results.map((r) => scenarioSection(r, byScenario.get(r.scenario)!)),
    '</body></html>',
    '',
  ].join('\n');
}

export const htmlReporter = fileReporter('html', 'index.html', renderHtml);
