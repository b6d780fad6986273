import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CSP, CSS } from '../report/html.js';
import { html, toHtmlString, trusted, type Html } from '../report/html-template.js';
import type { HostInfo } from '../run/result.js';
import { formatMs } from '../util/time.js';
import type { PointStats, TuneAnalysis } from './analysis.js';
import type { TuneRun } from './run.js';
import { snippets } from './snippets.js';
import type { Interval } from './stats.js';
import type { Sweep } from './sweep.js';
import { writeProfile } from './switch.js';
import { PHASES } from '../analysis/reconnect.js';

/**
 * A sweep's reports in its run folder: tune.json (schema vipdrill.tune/1), summary.md, a self-contained
 * index.html with its plots (inline SVG, no script, the report's CSP), and with a recommendation
 * recommended.yaml (a profile `vipdrill up --profile` accepts) and snippets/ for production files.
 */

export interface TuneStatus {
  complete: boolean;
  stopped?: string;
}

export interface TuneJson {
  schema: 'vipdrill.tune/1';
  sweep: { name: string; description?: string; base: string; scenarios: string[]; parameters: Sweep['parameters']; repeats: number; falseFailover: Sweep['falseFailover']; budgetMs?: number };
  runId: string;
  seed: number;
  complete: boolean;
  stopped?: string;
  spentMs: number;
  host: HostInfo;
  points: PointStats[];
  effects: TuneAnalysis['effects'];
  pareto: string[];
  recommendation: TuneAnalysis['recommendation'] & { profile?: string; snippets?: string[] };
}

const ms = (x: number | undefined | null) => (x === undefined || x === null ? '–' : formatMs(x));
const ci = (i: Interval | null | undefined) => (i ? `${ms(i.low)}–${ms(i.high)}` : '–');
/** A difference with its sign: +1.2 s, −6.5 s. */
const signed = (x: number) => `${x < 0 ? '−' : '+'}${formatMs(Math.abs(x))}`;
/** The false-failover count in a table cell: k/n and the upper bound; the whole sentence is the cell's title. */
const ffCell = (p: PointStats) => (p.falseFailover.rate ? `${p.falseFailover.count}/${p.falseFailover.trials} (≤ ${pct(p.falseFailover.rate.high)})${p.falseFailover.ok ? '' : ' ✗'}` : p.falseFailover.detail);
/** the effects section when no parameter takes two values (a one-point sweep): nothing to compare, said rather than an empty table */
const NO_EFFECTS = 'No parameter takes two values in this sweep: there is no effect to measure.';
const pct = (x: number | undefined) => (x === undefined ? '–' : `${(x * 100).toFixed(2)} %`);
/** an axis tick: at most one decimal and no trailing zero ("27.50 %" ran into the axis title) */
const pctTick = (x: number) => `${Number((x * 100).toFixed(1))} %`;

export function tuneJson(sweep: Sweep, run: TuneRun, a: TuneAnalysis, status: TuneStatus, host: HostInfo, extra: { profile?: string; snippets?: string[] } = {}): TuneJson {
  return {
    schema: 'vipdrill.tune/1',
    sweep: { name: sweep.name, ...(sweep.description ? { description: sweep.description } : {}), base: sweep.base, scenarios: sweep.scenarios, parameters: sweep.parameters, repeats: run.repeats, falseFailover: sweep.falseFailover, ...(sweep.budget ? { budgetMs: sweep.budget } : {}) },
    runId: run.runId,
    seed: a.seed,
    complete: status.complete,
    ...(status.stopped ? { stopped: status.stopped } : {}),
    spentMs: run.spentMs,
    host,
    points: a.points,
    effects: a.effects,
    pareto: a.pareto,
    recommendation: { ...a.recommendation, ...extra },
  };
}

/** The table of points: n, median and p95 of the outage with their CIs, the failback, the false-failover bound. */
export function pointsTable(sweep: Sweep, a: TuneAnalysis): string[] {
  const sc = sweep.scenarios[0]!;
  const out = [
    `| point | parameters | n | outage median [95 % CI] | outage p95 [95 % CI] | max | outliers | failback median | takeover median | false failovers (≤ 95 %) | |`,
    '|---|---|---:|---|---|---:|---:|---:|---:|---|---|',
  ];
  for (const p of a.points) {
    const st = p.scenarios[sc];
    const o = st?.metrics.outage;
    const mark = [a.recommendation.point === p.id ? '**recommended**' : '', a.pareto.includes(p.id) ? 'Pareto' : ''].filter(Boolean).join(', ');
    const ff = ffCell(p);
    out.push(
      `| ${p.id} | ${p.label} | ${st?.n ?? 0}${st?.errors ? ` (+${st.errors} error)` : ''} | ${ms(o?.median)} [${ci(o?.medianCi)}] | ${ms(o?.p95)} [${ci(o?.p95Ci)}] | ${ms(o?.max)} | ${o?.fences.outliers.length ?? 0} | ${ms(st?.metrics.failbackOutage?.median)} | ${ms(st?.metrics.vipTakeover?.median)} | ${ff} | ${mark} |`,
    );
  }
  return out;
}

/**
 * The repeats each point holds, as stored: a sweep resumed with another --repeats keeps what its
 * earlier sessions measured, so the points may differ (p01 20, p02 5) and the header says so.
 */
export function repeatsStored(run: TuneRun, a: TuneAnalysis): string {
  const held = a.points.map((p) => ({ id: p.id, n: Math.max(0, ...Object.values(p.scenarios).map((s) => s.n + s.errors)) }));
  if (held.every((h) => h.n === run.repeats)) return `${run.repeats} repeat(s) per point`;
  return `repeats per point as stored: ${held.map((h) => `${h.id} ${h.n}`).join(', ')} (asked for ${run.repeats})`;
}

export function summaryMd(sweep: Sweep, run: TuneRun, a: TuneAnalysis, status: TuneStatus): string {
  const rec = a.points.find((p) => p.id === a.recommendation.point);
  return [
    `# vipdrill tune ${sweep.name}`,
    '',
    sweep.description ?? '',
    '',
    `Run ${run.runId}, seed ${a.seed}, ${status.complete ? 'complete' : `**incomplete** (${status.stopped ?? 'stopped'}): \`vipdrill tune --resume <this folder>\` continues it`}; ${formatMs(run.spentMs)} spent. Scenarios: ${sweep.scenarios.join(', ')}; ${repeatsStored(run, a)}; false-failover window ${formatMs(sweep.falseFailover.calm)} per point, allowed rate ≤ ${pct(sweep.falseFailover.maxRate)} (Wilson 95 % upper bound, per second of calm).`,
    '',
    '## Recommendation',
    '',
    rec ? `**${rec.id}** (${rec.label}): ${a.recommendation.reason}. Profile: \`recommended.yaml\` (\`vipdrill up --profile recommended.yaml\`); lines for production files: \`snippets/\`.` : `**Nothing is recommended.** ${a.recommendation.reason}`,
    '',
    `## Points (${sweep.scenarios[0]})`,
    '',
    ...pointsTable(sweep, a),
    '',
    'CIs are seeded percentile bootstrap intervals (2000 resamples); outliers are outside Tukey\'s fences and are kept in every figure.',
    '',
    '## Effects on the median outage',
    '',
    ...(a.effects.length === 0 ? [NO_EFFECTS] : ['| parameter | from → to | difference [95 % CI] | n |', '|---|---|---|---|']),
    ...a.effects.map((e) => `| ${e.parameter} | ${e.from} → ${e.to} | ${e.diffMs ? `${signed(e.diffMs.estimate)} [${signed(e.diffMs.low)} … ${signed(e.diffMs.high)}]` : 'too few repeats'} | ${e.n.from} / ${e.n.to} |`),
    '',
    `Pareto front (outage p95, false-failover bound, advert traffic): ${a.pareto.join(', ') || 'none'}.`,
    '',
  ].join('\n');
}

// --- plots: inline SVG, every label through the html template ---------------------------------------

const W = 520;
const H = 260;
const M = { l: 56, r: 12, t: 14, b: 40 };

function scale(lo: number, hi: number, a: number, b: number): (x: number) => number {
  const span = hi - lo || 1;
  return (x) => a + ((x - lo) / span) * (b - a);
}

function axes(yMax: number, yLabel: string, xLabel: string, yFmt: (v: number) => string): Html {
  const y = scale(0, yMax, H - M.b, M.t);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  return html`<line x1="${M.l}" y1="${H - M.b}" x2="${W - M.r}" y2="${H - M.b}" stroke="#90a4ae"/><line x1="${M.l}" y1="${M.t}" x2="${M.l}" y2="${H - M.b}" stroke="#90a4ae"/>${ticks.map((v) => html`<text x="${M.l - 4}" y="${y(v) + 4}" font-size="10" text-anchor="end">${yFmt(v)}</text><line x1="${M.l}" y1="${y(v)}" x2="${W - M.r}" y2="${y(v)}" stroke="#eceff1"/>`)}<text x="${(W + M.l) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">${xLabel}</text><text x="12" y="${(H - M.b + M.t) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${(H - M.b + M.t) / 2})">${yLabel}</text>`;
}

const svg = (title: string, body: Html) => html`<figure><svg class="plot" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${title}">${body}</svg><figcaption>${title}</figcaption></figure>`;
const secs = (v: number) => `${(v / 1000).toFixed(1)} s`;

/** Outage against one parameter: each point's median with its CI as an error bar, at the parameter's value. */
function effectPlot(sweep: Sweep, a: TuneAnalysis, param: string): Html {
  const sc = sweep.scenarios[0]!;
  const values = sweep.parameters[param]!;
  const pts = a.points.filter((p) => p.scenarios[sc]?.metrics.outage);
  const yMax = Math.max(1000, ...pts.map((p) => p.scenarios[sc]!.metrics.outage!.medianCi?.high ?? p.scenarios[sc]!.metrics.outage!.max)) * 1.1;
  const y = scale(0, yMax, H - M.b, M.t);
  const xi = (v: number | boolean) => M.l + 30 + (values.indexOf(v) / Math.max(1, values.length - 1)) * (W - M.l - M.r - 60);
  const others = pts.map((p) => p.label);
  const jitter = (p: PointStats) => (others.indexOf(p.label) - (others.length - 1) / 2) * 6;
  return svg(
    `client outage (median, 95 % CI) against ${param} — ${sc}`,
    html`${axes(yMax, 'outage', param, secs)}${values.map((v) => html`<text x="${xi(v)}" y="${H - M.b + 14}" font-size="10" text-anchor="middle">${String(v)}</text>`)}${pts.map((p) => {
      const o = p.scenarios[sc]!.metrics.outage!;
      const x = xi(p.parameters[param] ?? values[0]!) + jitter(p);
      return html`<g><title>${p.id} ${p.label}: median ${ms(o.median)} [${ci(o.medianCi)}], n=${o.n}</title>${o.medianCi ? html`<line x1="${x}" x2="${x}" y1="${y(o.medianCi.low)}" y2="${y(o.medianCi.high)}" stroke="#1565c0"/><line x1="${x - 4}" x2="${x + 4}" y1="${y(o.medianCi.low)}" y2="${y(o.medianCi.low)}" stroke="#1565c0"/><line x1="${x - 4}" x2="${x + 4}" y1="${y(o.medianCi.high)}" y2="${y(o.medianCi.high)}" stroke="#1565c0"/>` : ''}<circle cx="${x}" cy="${y(o.median)}" r="4" fill="#1565c0"/><text x="${x + 6}" y="${y(o.median) - 4}" font-size="9">${p.id}</text></g>`;
    })}`,
  );
}

const PHASE_COLOURS: Record<string, string> = { detect: '#ef5350', ike: '#ffa726', l2tp: '#66bb6a', ppp: '#42a5f5', firstPacket: '#ab47bc' };

/** Where the time goes: each point's median reconnect phases, stacked. */
function phasesPlot(sweep: Sweep, a: TuneAnalysis): Html {
  const sc = sweep.scenarios[0]!;
  const rows = a.points.map((p) => ({ p, v: PHASES.map((ph) => p.scenarios[sc]?.metrics[`phase.${ph}`]?.median ?? 0) }));
  const yMax = Math.max(1000, ...rows.map((r) => r.v.reduce((x, y) => x + y, 0))) * 1.1;
  const y = scale(0, yMax, H - M.b, M.t);
  const bw = Math.min(50, (W - M.l - M.r) / Math.max(1, rows.length) - 10);
  return svg(
    `reconnect phases per point (medians, stacked) — ${sc}`,
    html`${axes(yMax, 'time', 'point', secs)}${rows.map((r, i) => {
      const x = M.l + 10 + i * (bw + 10);
      let acc = 0;
      return html`<g>${r.v.map((v, k) => {
        const y0 = y(acc);
        acc += v;
        return html`<rect x="${x}" y="${y(acc)}" width="${bw}" height="${Math.max(0, y0 - y(acc))}" fill="${PHASE_COLOURS[PHASES[k]!]}"><title>${r.p.id} ${PHASES[k]}: ${ms(v)}</title></rect>`;
      })}<text x="${x + bw / 2}" y="${H - M.b + 14}" font-size="10" text-anchor="middle">${r.p.id}</text></g>`;
    })}${PHASES.map((ph, k) => html`<rect x="${W - M.r - 90}" y="${M.t + k * 13}" width="10" height="9" fill="${PHASE_COLOURS[ph]}"/><text x="${W - M.r - 76}" y="${M.t + 8 + k * 13}" font-size="10">${ph}</text>`)}`,
  );
}

/** Outage p95 against advert traffic, the Pareto front joined. */
function paretoPlot(a: TuneAnalysis): Html {
  const pts = a.points.filter((p) => p.rankP95Ms !== null);
  const yMax = Math.max(1000, ...pts.map((p) => p.rankP95Ms!)) * 1.1;
  const xMax = Math.max(1, ...pts.map((p) => p.advertPps)) * 1.15;
  const y = scale(0, yMax, H - M.b, M.t);
  const x = scale(0, xMax, M.l, W - M.r);
  const front = pts.filter((p) => a.pareto.includes(p.id)).sort((p, q) => p.advertPps - q.advertPps);
  return svg(
    'Pareto front: outage p95 against VRRP adverts per second (filled: passed the false-failover check)',
    html`${axes(yMax, 'outage p95', 'adverts per second', secs)}${[0, 0.5, 1].map((f) => html`<text x="${x(f * xMax)}" y="${H - M.b + 14}" font-size="10" text-anchor="middle">${(f * xMax).toFixed(1)}</text>`)}<polyline fill="none" stroke="#ffb300" stroke-width="2" points="${front.map((p) => `${x(p.advertPps)},${y(p.rankP95Ms!)}`).join(' ')}"/>${pts.map((p) => html`<g><title>${p.id} ${p.label}: p95 ${ms(p.rankP95Ms)}, ${p.advertPps.toFixed(2)} adverts/s, ${p.falseFailover.detail}</title><circle cx="${x(p.advertPps)}" cy="${y(p.rankP95Ms!)}" r="5" fill="${p.falseFailover.ok ? '#2e7d32' : '#fff'}" stroke="${a.recommendation.point === p.id ? '#c62828' : '#2e7d32'}" stroke-width="${a.recommendation.point === p.id ? 3 : 1.5}"/><text x="${x(p.advertPps) + 7}" y="${y(p.rankP95Ms!) - 5}" font-size="9">${p.id}</text></g>`)}`,
  );
}

/** False-failover rate per point: the estimate and its Wilson interval, against the allowed rate. */
function falseFailoverPlot(a: TuneAnalysis, maxRate: number): Html {
  const yMax = Math.max(maxRate * 2, ...a.points.map((p) => p.falseFailover.rate?.high ?? 0)) * 1.1;
  const y = scale(0, yMax, H - M.b, M.t);
  const step = (W - M.l - M.r) / Math.max(1, a.points.length);
  return svg(
    `false-failover rate per second of calm (Wilson 95 %), allowed ≤ ${pct(maxRate)} (dashed)`,
    html`${axes(yMax, 'rate', 'point', pctTick)}<line x1="${M.l}" x2="${W - M.r}" y1="${y(maxRate)}" y2="${y(maxRate)}" stroke="#c62828" stroke-dasharray="5 4"/>${a.points.map((p, i) => {
      const cx = M.l + step * (i + 0.5);
      const r = p.falseFailover.rate;
      return html`<g><title>${p.id}: ${p.falseFailover.detail}</title>${r ? html`<line x1="${cx}" x2="${cx}" y1="${y(r.low)}" y2="${y(r.high)}" stroke="${p.falseFailover.ok ? '#2e7d32' : '#c62828'}" stroke-width="2"/><line x1="${cx - 5}" x2="${cx + 5}" y1="${y(r.high)}" y2="${y(r.high)}" stroke="${p.falseFailover.ok ? '#2e7d32' : '#c62828'}" stroke-width="2"/><circle cx="${cx}" cy="${y(r.estimate)}" r="4" fill="${p.falseFailover.ok ? '#2e7d32' : '#c62828'}"/>` : html`<text x="${cx}" y="${H - M.b - 6}" font-size="9" text-anchor="middle">n/a</text>`}<text x="${cx}" y="${H - M.b + 14}" font-size="10" text-anchor="middle">${p.id}</text></g>`;
    })}`,
  );
}

const TUNE_CSS = 'figure { display: inline-block; margin: 8px 12px 8px 0; } figcaption { font-size: 12px; color: var(--muted); max-width: 520px; } svg.plot { border: 1px solid #eceff1; background: #fff; } tr.rec td { background: #e8f5e9; }';

export function tuneHtml(sweep: Sweep, run: TuneRun, a: TuneAnalysis, status: TuneStatus): string {
  const sc = sweep.scenarios[0]!;
  const rec = a.points.find((p) => p.id === a.recommendation.point);
  const rows = a.points.map((p) => {
    const st = p.scenarios[sc];
    const o = st?.metrics.outage;
    return html`<tr class="${rec === p ? 'rec' : ''}"><td>${p.id}</td><td>${p.label}</td><td class="num">${st?.n ?? 0}</td><td class="num">${ms(o?.median)}</td><td class="num">${ci(o?.medianCi)}</td><td class="num">${ms(o?.p95)}</td><td class="num">${ci(o?.p95Ci)}</td><td class="num">${ms(o?.max)}</td><td class="num">${o?.fences.outliers.length ?? 0}</td><td class="num">${ms(st?.metrics.failbackOutage?.median)}</td><td class="num">${ms(st?.metrics.vipTakeover?.median)}</td><td title="${p.falseFailover.detail}">${ffCell(p)}</td><td>${[rec === p ? 'recommended' : '', a.pareto.includes(p.id) ? 'Pareto' : ''].filter(Boolean).join(', ')}</td></tr>`;
  });
  const doc = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<title>vipdrill tune ${sweep.name}</title><style>${trusted(CSS)}${trusted(TUNE_CSS)}</style></head><body>
<h1>vipdrill tune ${sweep.name}</h1>
<p class="sub">${sweep.description ?? ''} Run ${run.runId} · seed ${a.seed} · ${formatMs(run.spentMs)} spent · ${repeatsStored(run, a)} of ${sweep.scenarios.join(', ')} · false-failover window ${formatMs(sweep.falseFailover.calm)} per point (load ${sweep.falseFailover.load.cpu} CPU hog(s), WAN ${sweep.falseFailover.degrade.loss} % loss, ${sweep.falseFailover.degrade.delay} ms delay)</p>
${status.complete ? '' : html`<p class="caveat">Incomplete: ${status.stopped ?? 'stopped'}. <code>vipdrill tune --resume ${run.runId}</code> continues it; the figures below cover what was measured.</p>`}
<div class="banner ${rec ? 'passed' : 'failed'}">${rec ? html`Recommended: ${rec.id} (${rec.label})` : 'Nothing is recommended'}</div>
<p class="explain">${a.recommendation.reason}${rec ? html`. The profile is <code>recommended.yaml</code>; the lines for production files are in <code>snippets/</code>.` : ''}</p>
<h2>Points — ${sc}</h2>
<table><tr><th>point</th><th>parameters</th><th>n</th><th>outage median</th><th>95 % CI</th><th>p95</th><th>95 % CI</th><th>max</th><th>outliers</th><th>failback</th><th>takeover</th><th>false failovers</th><th></th></tr>${rows}</table>
<p class="small">False failovers: count / seconds of the calm window, and the Wilson 95 % upper bound (✗: above the allowed ${pct(sweep.falseFailover.maxRate)}; hover for the sentence). Seeded percentile bootstrap intervals (2000 resamples). Outliers lie outside Tukey's fences and stay in every figure. The false-failover rate counts takeovers and client outages of 1 s or more per second of the calm window.</p>
<h2>Plots</h2>
${Object.keys(sweep.parameters).map((k) => effectPlot(sweep, a, k))}
${phasesPlot(sweep, a)}
${paretoPlot(a)}
${falseFailoverPlot(a, sweep.falseFailover.maxRate)}
<h2>Effects on the median outage</h2>
${a.effects.length === 0 ? html`<p>${NO_EFFECTS}</p>` : html`<table><tr><th>parameter</th><th>from → to</th><th>difference</th><th>95 % CI</th><th>n</th></tr>${a.effects.map((e) => html`<tr><td>${e.parameter}</td><td>${String(e.from)} → ${String(e.to)}</td><td class="num">${e.diffMs ? signed(e.diffMs.estimate) : '–'}</td><td class="num">${e.diffMs ? `${signed(e.diffMs.low)} … ${signed(e.diffMs.high)}` : 'too few repeats'}</td><td class="num">${e.n.from} / ${e.n.to}</td></tr>`)}</table>`}
</body></html>
`;
  return toHtmlString(doc);
}

/** Write every report of a sweep; the recommendation's profile and snippets only when there is one. */
export function writeTuneReports(dir: string, sweep: Sweep, run: TuneRun, a: TuneAnalysis, status: TuneStatus, host: HostInfo): TuneJson {
  const rec = a.points.find((p) => p.id === a.recommendation.point);
  const extra: { profile?: string; snippets?: string[] } = {};
  rmSync(join(dir, 'snippets'), { recursive: true, force: true });
  rmSync(join(dir, 'recommended.yaml'), { force: true });
  if (rec) {
    const profile = { ...rec.profile, name: `${sweep.name}-recommended`, description: `Recommended by vipdrill tune ${sweep.name} (run ${run.runId}, point ${rec.id}: ${rec.label}).` };
    writeProfile(join(dir, 'recommended.yaml'), profile, [`vipdrill tune ${sweep.name}, run ${run.runId}, seed ${a.seed}: ${a.recommendation.reason}`, 'vipdrill up --profile <this file> runs a lab with it']);
    mkdirSync(join(dir, 'snippets'), { recursive: true });
    const sn = snippets(profile, rec, sweep.scenarios[0]!, sweep.name);
    for (const s of sn) writeFileSync(join(dir, 'snippets', s.file), s.text);
    extra.profile = 'recommended.yaml';
    extra.snippets = sn.map((s) => `snippets/${s.file}`);
  }
  const json = tuneJson(sweep, run, a, status, host, extra);
  writeFileSync(join(dir, 'tune.json'), JSON.stringify(json, null, 2) + '\n');
  writeFileSync(join(dir, 'summary.md'), summaryMd(sweep, run, a, status));
  writeFileSync(join(dir, 'index.html'), tuneHtml(sweep, run, a, status));
  return json;
}
