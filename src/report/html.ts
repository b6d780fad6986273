import type { ScenarioResult } from '../run/result.js';
import { fileReporter } from './reporter.js';
import { stats } from '../util/stats.js';
import { formatMs, signedSeconds } from '../util/time.js';
import type { RunData } from './load.js';
import { label, TABLE_HEAD, tableRow, verdictWord, engineLine, remoteLines, warned, probeEvery } from './table.js';
import { LEGEND, stripSvg, timelineSvg } from './timeline.js';
import { html, joinHtml, toHtmlString, trusted, type Html } from './html-template.js';

/**
 * index.html: one self-contained file (inline CSS and SVG, no script, no network), readable from
 * file:// on a laptop and printable (report.pdf is this page printed by Chromium). Every piece is built
 * with the `html` template (html-template.ts), which escapes whatever it interpolates: a string from a
 * run's files is text wherever it lands; the Content-Security-Policy is the second wall.
 */

export const CSS = `
:root { --fg: #263238; --muted: #607d8b; --line: #cfd8dc; --ok: #2e7d32; --bad: #c62828; --err: #ef6c00; --warn: #9a6700; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg); margin: 0 auto; max-width: 1180px; padding: 20px 28px 60px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 30px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.sub { color: var(--muted); margin: 0 0 14px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceff1; vertical-align: top; }
th { background: #f5f7f8; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.verdict { font-weight: 700; } .passed { color: var(--ok); } .failed { color: var(--bad); } .error { color: var(--err); } .verdict.warn { color: var(--warn); }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0 12px; }
.kv dt { color: var(--muted); } .kv dd { margin: 0; }
.caveat { background: #fff8e1; border-left: 4px solid #ffb300; padding: 6px 10px; margin: 8px 0; }
.scenario { border: 1px solid var(--line); border-radius: 6px; padding: 8px 16px 12px; margin: 18px 0; break-inside: avoid-page; }
.scenario > header { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; }
.scenario > header h2 { border: 0; margin: 8px 0 2px; }
.banner { font-size: 16px; padding: 10px 14px; border-radius: 6px; margin: 10px 0 4px; color: #fff; } .banner.passed { background: var(--ok); } .banner.failed { background: var(--bad); } .banner.error { background: var(--err); } .banner.warn { background: var(--warn); }
.explain { background: #e3f2fd; border-left: 4px solid #1565c0; padding: 6px 10px; margin: 8px 0; }
.reason { background: #ffebee; border-left: 4px solid var(--bad); padding: 6px 10px; margin: 8px 0; }
.findings { background: #e3f2fd; border-left: 4px solid #1565c0; padding: 6px 10px; margin: 8px 0; } .finding p { margin: 6px 0 2px; } .remedy { margin: 4px 0 8px; }
.warnings { background: #fff8e1; border-left: 4px solid var(--warn); padding: 6px 10px; margin: 8px 0; } .warnings ul { margin: 4px 0 0 18px; padding: 0; }
.legend span { display: inline-block; margin-right: 12px; font-size: 12px; color: var(--muted); }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; vertical-align: -1px; }
svg.timeline { display: block; margin: 6px 0; border: 1px solid #eceff1; }
details { margin: 8px 0; } summary { cursor: pointer; color: #1565c0; }
details table td { font: 12px/1.35 ui-monospace, "DejaVu Sans Mono", monospace; }
.small { font-size: 12px; color: var(--muted); }
@page { size: A4; margin: 12mm; }
@media print { body { max-width: none; padding: 0; font-size: 11px; } .scenario { break-inside: auto; } details:not([open]) { display: none; } a { color: inherit; text-decoration: none; } }
`;

export const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** A verdict as a CSS class: only the three known words (a verdict read from a file is not trusted). */
const verdictClass = (v: unknown) => (v === 'passed' || v === 'failed' ? v : 'error');
/** The verdict's class, with `warn` for a pass that carries warnings. */
const resultClass = (r: ScenarioResult) => (warned(r) ? 'passed warn' : verdictClass(r.verdict));

const ms = (x: number | undefined | null) => (x === undefined || x === null ? '–' : formatMs(x));
const id = (r: ScenarioResult) => `${r.scenario}-r${r.repeat}`;
const lines = (xs: Html[]) => joinHtml(xs, '\n');

function header(d: RunData): Html {
  const { run } = d;
  const labs = run.labs.length > 0 ? run.labs : [];
  const engine = labs[0]?.engine ?? run.engine;
  const tcg = engine?.accel === 'tcg';
  const calm = calmLine(d.results);
  const host = run.host;
  const parts: Html[] = [
    html`<h1>vipdrill drill report</h1>`,
    html`<p class="sub">run ${run.runId} · started ${new Date(run.startedAt).toUTCString()} · ${formatMs(run.durationMs)} · ${d.results.length} scenario run(s)</p>`,
    html`<dl class="kv">`,
    html`<dt>host</dt><dd>${host ? `${host.hostname} (${host.os}, ${host.cpus} CPU, ${host.memoryGiB} GiB, Node ${host.node})` : 'unknown'}</dd>`,
    html`${host?.loadAvg ? html`<dt>host load</dt><dd data-testid="host-load">load average ${host.loadAvg.join(' / ')} (1/5/15 min) at the start${host.loadAvgAtEnd ? `, ${host.loadAvgAtEnd.join(' / ')} at the end` : ''} on ${host.cpus} CPU</dd>` : ''}`,
    html`${calm ? html`<dt>stability</dt><dd data-testid="calm">${calm}</dd>` : ''}`,
    html`<dt>engine</dt><dd>${engine ? engineLine(engine) : 'unknown'}</dd>`,
  ];
  for (const l of labs) {
    parts.push(html`<dt>lab</dt><dd>${l.name} · topology ${l.topology} · profile <b>${l.profile}</b>${l.profileDescription ? ` — ${l.profileDescription}` : ''}</dd>`);
    parts.push(html`<dt>tunables</dt><dd>${Object.entries(l.tunables).map(([k, v]) => `${k}: ${v}`).join(' · ')}</dd>`);
    parts.push(html`<dt>versions</dt><dd>${Object.entries(l.versions).map(([k, v]) => `${k} ${v}`).join(' · ') || 'unknown'}</dd>`);
    const remote = remoteLines(l);
    if (remote) {
      parts.push(html`<dt>real hosts</dt><dd data-testid="real-hosts">${remote.hosts}</dd>`);
      parts.push(html`<dt>clock offsets</dt><dd data-testid="clock-offsets">to the client's clock: ${remote.clocks} (added to the resolution of figures across hosts)</dd>`);
      parts.push(html`<dt>leases</dt><dd>${remote.leases}</dd>`);
      if (remote.differences.length) parts.push(html`<dt>node differences</dt><dd>${remote.differences.join(' · ')}</dd>`);
    }
  }
  parts.push(html`</dl>`);
  if (tcg) parts.push(html`<p class="caveat"><b>TCG caveat:</b> this lab ran in a qemu VM under software emulation (no KVM). Timers and CPU-bound work (IKE Diffie-Hellman, key derivation) are slower than on hardware; compare these numbers with runs on the same engine, not with production.</p>`);
  parts.push(html`<p class="small">Every time is taken inside the lab on its own clock: keepalived's state lines, the daemons' logs (stamped as written), and ping's own timestamps (${probeEvery(d.results)} each way, at least 10 ms apart while one is unanswered; outage = from the middle of its start edge, between the last reply and the first lost probe, to the middle of its end edge, between the last lost probe and the first through, ± half their widths).</p>`);
  return lines(parts);
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

/** The overall verdict, first thing on the page: what a change board reads. */
function banner(d: RunData): Html {
  const rs = d.results;
  const n = (v: string) => rs.filter((r) => r.verdict === v).length;
  const starved = rs.filter((r) => r.starvation?.starved).length;
  const w = rs.filter(warned).length;
  const worst = d.run.labErrors.length > 0 || n('error') > 0 ? (n('failed') > 0 ? 'failed' : 'error') : n('failed') > 0 ? 'failed' : w > 0 ? 'warn' : 'passed';
  const word = { passed: 'PASSED', warn: 'PASSED WITH WARNINGS', failed: 'FAILED', error: 'COULD NOT DECIDE' }[worst];
  return html`<div class="banner ${worst}" data-testid="banner"><b>${word}</b> · ${n('passed')} passed${w ? ` (${w} with warnings)` : ''}, ${n('failed')} failed, ${n('error') + d.run.labErrors.length} error(s) of ${rs.length} repeat(s)${starved ? ` · ${starved} on a starved host` : ''}</div>`;
}

/** A repeat's PPP sessions per node, before and after, and who carried the client afterwards. */
function sessionsTable(s: NonNullable<ScenarioResult['metrics']['sessions']>): Html {
  const nodes = [...new Set([...Object.keys(s.before), ...Object.keys(s.after)])].sort();
  const rows = nodes.map((n) => html`<tr><td>${n}</td><td class="num">${s.before[n] ?? 0}</td><td class="num">${s.after[n] ?? 0}</td><td>${s.reauthOn === n ? `re-authenticated the client${s.clientAddress ? ` (${s.clientAddress})` : ''}` : ''}</td></tr>`);
  const acct = s.accounting.length ? html`<tr><td colspan="4" class="small">pppd accounting: ${s.accounting.map((a) => `${a.node}: ${a.line}`).join(' · ')}</td></tr>` : '';
  return html`<table class="sessions" data-testid="sessions"><thead><tr><th>node</th><th class="num">before</th><th class="num">after</th><th></th></tr></thead><tbody>${rows}${acct}</tbody></table>`;
}

function verdictTable(rs: ScenarioResult[]): Html {
  const rows = rs.map((r) => {
    const cells = tableRow(r);
    return html`<tr data-testid="verdict-row" data-scenario="${r.scenario}"><td><a href="#${id(r)}">${cells[0]}</a></td><td class="verdict ${resultClass(r)}" data-starved="${r.starvation?.starved ? 'true' : 'false'}">${cells[1]}</td>${cells.slice(2, 6).map((c) => html`<td class="num">${c}</td>`)}<td>${cells[6]}</td></tr>`;
  });
  return html`<table class="verdicts" data-testid="verdict-table"><thead><tr>${TABLE_HEAD.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${lines(rows)}</tbody></table>`;
}

function distribution(all: ScenarioResult[]): Html {
  if (all.length < 2) return html``;
  const rows = [
    ['outage', all.map((r) => r.metrics.outageMs)],
    ['failback outage', all.map((r) => r.metrics.failbackOutageMs)],
    ['VIP takeover', all.map((r) => r.metrics.vipTakeoverMs)],
    ['reconnect', all.map((r) => r.metrics.reconnectMs)],
  ] as const;
  const body = rows.map(([what, vs]) => {
    const s = stats([...vs]);
    if (!s) return html``;
    return html`<tr><td>${what}</td><td class="num">${s.n}</td><td class="num">${ms(s.min)}</td><td class="num">${ms(s.median)}</td><td class="num">${ms(s.p95)}</td><td class="num">${ms(s.max)}</td><td>${stripSvg(vs.filter((v): v is number => v !== undefined), what)}</td></tr>`;
  });
  const few = all.length < 5 ? html`<p class="caveat" data-testid="few-repeats">n = ${all.length}: with fewer than 5 repeats the median and p95 are indicative only (p95 is the largest value here).</p>` : '';
  return html`<h3>Over ${all.length} repeats</h3>${few}<table class="dist" data-testid="distribution"><thead><tr><th>figure</th><th>n</th><th>min</th><th>median</th><th>p95</th><th>max</th><th>runs (median in red)</th></tr></thead><tbody>${body}</tbody></table>${phaseBars(all)}`;
}

const PHASE_COLOURS: Record<string, string> = { detect: '#8d6e63', ike: '#1565c0', l2tp: '#00897b', ppp: '#7cb342', firstPacket: '#f9a825' };

/** The reconnect's phases per repeat, as stacked bars on one scale. */
function phaseBars(all: ScenarioResult[]): Html {
  const rs = all.filter((r) => r.metrics.phasesMs);
  if (rs.length === 0) return html``;
  const total = (r: ScenarioResult) => Object.values(r.metrics.phasesMs!).reduce<number>((a, v) => a + (v ?? 0), 0);
  const max = Math.max(...rs.map(total), 1);
  const w = 720;
  const left = 60;
  const rowH = 18;
  const names = Object.keys(PHASE_COLOURS);
  const bars = rs.map((r, k) => {
    let at = left;
    const segs = names.map((p) => {
      const v = r.metrics.phasesMs![p as keyof NonNullable<typeof r.metrics.phasesMs>] ?? 0;
      const sw = (v / max) * (w - left - 80);
      const seg = html`<rect x="${(at).toFixed(1)}" y="${k * rowH + 4}" width="${Math.max(0, sw).toFixed(1)}" height="${rowH - 6}" fill="${PHASE_COLOURS[p]}"><title>repeat ${r.repeat}: ${p} ${formatMs(v)}</title></rect>`;
      at += sw;
      return seg;
    });
    return html`<text x="${left - 6}" y="${k * rowH + 16}" font-size="10" text-anchor="end" fill="#607d8b">#${r.repeat}</text>${segs}<text x="${(at + 4).toFixed(1)}" y="${k * rowH + 16}" font-size="10" fill="#263238">${formatMs(total(r))}</text>`;
  });
  const legend = names.map((p) => html`<span><i style="background:${PHASE_COLOURS[p]}"></i>${p}</span>`);
  return html`<h3>Reconnect phases per repeat</h3><svg class="phases" data-testid="phase-bars" viewBox="0 0 ${w} ${rs.length * rowH + 8}" width="${w}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="reconnect phases per repeat">${bars}</svg><div class="legend">${legend}</div>`;
}

function scenarioSection(r: ScenarioResult, all: ScenarioResult[]): Html {
  const m = r.metrics;
  const t0 = r.labStart;
  const kv = (k: string, v: Html | string) => html`<dt>${k}</dt><dd>${v}</dd>`;
  const phases = m.phasesMs ? Object.entries(m.phasesMs).map(([k, v]) => `${k} ${ms(v)}`).join(' → ') : '–';
  const tk = m.takeoverCheck;
  const s = m.sessions;
  const figures = [
    kv('outage', html`${ms(m.outageMs)}${m.reverseOutageMs !== undefined ? ` (LAN → client ${ms(m.reverseOutageMs)})` : ''}${m.outages && m.outages.length > 1 ? ` · ${m.outages.length} gaps in all` : ''}`),
    kv('failback', m.failbackOutageMs !== undefined || m.failbackTakeoverMs !== undefined ? html`outage ${ms(m.failbackOutageMs)}${m.failbackReverseOutageMs !== undefined ? ` (LAN → client ${ms(m.failbackReverseOutageMs)})` : ''}${m.failbackTakeoverMs !== undefined ? ` · VIP back on ${m.failback?.node ?? '?'} ${formatMs(m.failbackTakeoverMs)} after the revert` : ''}` : 'none'),
    kv('VIP takeover', m.unprovokedTakeover ? html`none provoked: ${m.unprovokedTakeover.node} took the VIP ${formatMs(m.unprovokedTakeover.sinceConditionMs)} into the ${m.unprovokedTakeover.during}, a condition (a false failover; no takeover time)` : html`${ms(m.vipTakeoverMs)}${m.newHolder ? ` to ${m.newHolder}` : ''}${tk ? ` · notify line +${formatMs(tk.notifyMs - (tk.keepalivedLogMs ?? tk.notifyMs))}, VRRP predicts ${formatMs(tk.expectedMs)}` : ''}${tk?.advert ? ` · from the master's last advert (${formatMs(tk.advert.lastAdvertMs)} after the fault) ${formatMs(tk.advert.fromLastAdvertMs)}, VRRP ${formatMs(tk.advert.expectedMs)} ±${formatMs(tk.advert.toleranceMs)}${tk.advert.ok ? '' : ': outside the band'}` : ''}`),
    kv('reconnect', html`${ms(m.reconnectMs)}${m.reconnect?.detectedBy ? ` · detected by ${m.reconnect.detectedBy}` : ''}`),
    kv('phases', phases),
    kv('split brain', m.splitBrainMs > 0 || m.splitBrainSampled ? html`<b class="failed">${formatMs(m.splitBrainMs)} with both MASTER${m.splitBrainSampled ? ', two VIP holders sampled' : ''}</b>` : `none (handover overlap ${formatMs(m.handoverOverlapMs)})`),
    kv('ARP', m.arp?.detail ?? '–'),
    kv('routing', m.routingSymmetric === undefined ? '–' : html`${m.routingSymmetric === null ? 'undecided' : m.routingSymmetric ? 'symmetric' : html`<b class="failed">asymmetric</b>`} <span class="small">${m.symmetry?.evidence ?? ''}</span>`),
    kv('sessions', s ? sessionsTable(s) : '–'),
    ...(m.calibration ? [kv('calibration', html`<span class="${m.calibration.ok ? 'passed' : 'failed'}">${m.calibration.detail}</span>`)] : []),
    kv('probe', m.resolution.probe ?? '–'),
  ];
  const margin = (x: { marginMs?: number }) => (x.marginMs === undefined ? '–' : `${x.marginMs >= 0 ? '' : '−'}${formatMs(Math.abs(x.marginMs))}${x.marginMs < 0 ? ' over' : ''}`);
  const expectations = r.expectations.length
    ? html`<table class="expect" data-testid="expectations"><thead><tr><th>expectation</th><th>result</th><th>expected</th><th>measured</th><th class="num">limit</th><th class="num">margin</th></tr></thead><tbody>${r.expectations.map((x) => html`<tr><td>${x.name}</td><td class="verdict ${x.ok ? 'passed' : x.undecided ? 'error' : 'failed'}">${x.ok ? 'ok' : x.undecided ? 'UNDECIDED' : 'FAILED'}</td><td>${x.expected}</td><td>${x.actual}</td><td class="num">${x.limitMs !== undefined ? formatMs(x.limitMs) : '–'}</td><td class="num ${x.marginMs !== undefined && x.marginMs < 0 ? 'failed' : ''}">${margin(x)}</td></tr>`)}${(r.invariants ?? []).map((x) => html`<tr><td>invariant: ${x.name}</td><td class="verdict ${x.ok ? 'passed' : 'failed'}">${x.ok ? 'ok' : 'FAILED'}</td><td colspan="4">${x.detail}</td></tr>`)}</tbody></table>`
    : html``;
  const origin = r.firstFaultAt ?? t0;
  const rel = (t: number) => signedSeconds(t, origin);
  const events = html`<details class="events" data-testid="events"><summary>Event log (${r.events.length} events, lab clock)</summary><table><thead><tr><th>s from the fault</th><th>event</th><th>what</th></tr></thead><tbody>${r.events.map((e) => html`<tr id="${id(r)}-ev-${e.seq}"><td class="num">${rel(e.t)}</td><td>${e.kind}</td><td>${e.message}</td></tr>`)}</tbody></table></details>`;
  // each piece of evidence links to its event in the log (the event itself, or the first at or after it)
  const evRef = (e: { t: number; seq?: number }) => e.seq ?? r.events.find((x) => x.t >= e.t - 1e-6)?.seq;
  const findings = r.findings?.length
    ? html`<div class="findings" data-testid="findings"><b>Findings: why, and what to change</b>${r.findings.map((f) => html`<div class="finding" data-finding="${f.id}"><p><b>${f.id}</b> <span class="small">(${f.confidence} confidence, ${formatMs(f.impactMs)})</span>: ${f.mechanism}</p><ul class="evidence">${f.evidence.map((e) => {
        const seq = evRef(e);
        return html`<li>${seq !== undefined ? html`<a href="#${id(r)}-ev-${seq}">${rel(e.t)} s</a>` : `${rel(e.t)} s`}: ${e.what}</li>`;
      })}</ul><table class="remedy"><thead><tr><th>file</th><th>change</th><th>why</th></tr></thead><tbody>${f.remedy.map((x) => html`<tr><td><code>${x.file}</code></td><td><code>${x.line}</code>${x.profile ? html` <span class="small">(profile ${x.profile}${x.value !== undefined ? `=${x.value}` : ''})</span>` : ''}</td><td>${x.why}</td></tr>`)}</tbody></table></div>`)}</div>`
    : html``;
  const stability = r.calm || r.starvation ? html`<p class="small" data-testid="stability">${r.calm ? `calm window before the fault: ${formatMs(r.calm.requiredMs)} with no VRRP transition (waited ${formatMs(r.calm.waitedMs)}; agents at most ${formatMs(r.calm.lagMaxMs)} late). ` : ''}${r.starvation?.detail ?? ''}</p>` : '';
  return lines([
    html`<section class="scenario" id="${id(r)}" data-testid="scenario" data-scenario="${r.scenario}">`,
    html`<header><h2>${label(r)}</h2><span class="verdict ${resultClass(r)}">${verdictWord(r)}</span><span class="small">${r.file} · profile ${r.profile} · ${formatMs(r.durationMs)} · <a href="${r.scenario}/repeat-${r.repeat}/result.json">result.json</a> · <a href="${r.scenario}/repeat-${r.repeat}/events.jsonl">events.jsonl</a></span></header>`,
    html`<p>${r.description}</p>`,
    html`${r.reason && r.verdict !== 'passed' ? html`<p class="reason">${r.reason}</p>` : ''}`,
    html`${warned(r) ? html`<div class="warnings" data-testid="warnings"><b>Passed with warnings</b><ul>${r.warnings!.map((x) => html`<li>${x}</li>`)}</ul></div>` : ''}`,
    html`${stability}`,
    html`${m.reconnect?.explanation ? html`<p class="explain">${m.reconnect.explanation}</p>` : ''}`,
    findings,
    timelineSvg(r, id(r)),
    html`<div class="legend" data-testid="legend">${LEGEND.map((l) => html`<span><i style="background:${l.colour}${l.opacity !== undefined ? `;opacity:${l.opacity}` : ''}"></i>${l.label}</span>`)}<span>time: seconds from the first fault</span></div>`,
    html`<dl class="kv">${figures}</dl>`,
    r.repeat === r.repeats ? distribution(all) : html``,
    expectations,
    events,
    html`</section>`,
  ]);
}

export function renderHtml(d: RunData): string {
  const byScenario = new Map<string, ScenarioResult[]>();
  for (const r of d.results) byScenario.set(r.scenario, [...(byScenario.get(r.scenario) ?? []), r]);
  const labErrors = d.run.labErrors.map((e) => html`<p class="reason">lab error${e.scenarios.length ? ` (${e.scenarios.join(', ')})` : ''}: ${e.error}</p>`);
  return (
    toHtmlString(
      lines([
        html`<!doctype html>`,
        html`<html lang="en"><head><meta charset="utf-8">`,
        html`<meta name="viewport" content="width=device-width, initial-scale=1">`,
        // no script, no fetch, no frame, whatever a string in the run holds: a missed escape cannot run anything
        html`<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
        html`<title>vipdrill ${d.run.runId}</title>`,
        html`<style>${trusted(CSS)}</style>`,
        html`</head><body>`,
        header(d),
        banner(d),
        html`<h2>Verdicts</h2>`,
        verdictTable(d.results),
        html`${labErrors}`,
        ...d.results.map((r) => scenarioSection(r, byScenario.get(r.scenario)!)),
        html`</body></html>`,
      ]),
    ) + '\n'
  );
}

export const htmlReporter = fileReporter('html', 'index.html', renderHtml);
