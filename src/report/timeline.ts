import type { ScenarioResult } from '../run/result.js';
import type { Outage } from '../analysis/dataplane.js';
import { formatMs, signedSeconds } from '../util/time.js';
import { html, type Html } from './html-template.js';

/**
 * One scenario run as an inline SVG (no script, no external resource): VRRP state lanes per node, fault
 * bands across every lane, the probes' successes and gaps both ways, markers for the reconnect phases,
 * and the main outage labelled. Times are the lab's clock, shown relative to the run's start.
 */


const STATE_COLOURS: Record<string, string> = {
  MASTER: '#2e7d32',
  BACKUP: '#90a4ae',
  // amber: a VRRP FAULT state is not a lost probe (red) nor an injected fault (orange band)
  FAULT: '#fbc02d',
  STOP: '#212121',
  STOPPED: '#212121',
  DOWN: '#212121',
  EXITED: '#212121',
  FROZEN: '#00838f',
  INIT: '#e0e0e0',
  DELETED: '#212121',
};
/** state text that stays readable on its colour */
const STATE_TEXT: Record<string, string> = { FAULT: '#263238', INIT: '#263238', BACKUP: '#263238' };

const W = 1000;
const LEFT = 110;
const RIGHT = 16;
const LANE = 22;

/** A readable tick step for a span of `s` seconds. */
function tickStep(s: number): number {
  const target = s / 10;
  for (const x of [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600]) if (x >= target) return x;
  return 1200;
}

export interface FaultBand {
  id: string;
  kind: string;
  from: number;
  to: number;
}

/** Fault bands from the event stream: each inject to its revert (or the end of the run). */
export function faultBands(r: ScenarioResult): FaultBand[] {
  const out: FaultBand[] = [];
  const open = new Map<string, FaultBand>();
  for (const e of r.events) {
    const id = (e.data?.id as string | undefined) ?? '';
    if (e.kind === 'fault.inject') {
      const b = { id, kind: typeof e.data?.kind === 'string' ? e.data.kind : 'fault', from: e.t, to: r.labEnd };
      open.set(id, b);
      out.push(b);
    } else if (e.kind === 'fault.revert' && open.has(id)) {
      open.get(id)!.to = e.t;
      open.delete(id);
    }
  }
  return out;
}

/** The main outage: the one the metrics name (its probe outage), else none. */
export function mainOutage(r: ScenarioResult): Outage | undefined {
  const m = r.metrics;
  if (m.outageMs === undefined) return undefined;
  return m.outages?.find((o) => Math.abs(o.ms - m.outageMs!) < 1e-6);
}

/** A label placed in the label lane: rows assigned left to right so that no two overlap. */
interface Label {
  x: number;
  text: string;
  colour: string;
  cls: string;
  bold?: boolean;
}

/** Rows for labels of ~6 px a character: each goes in the first row where it clears the last one by 6 px. */
export function layoutLabels(labels: Label[], rows: number): (Label & { row: number; x0: number; x1: number })[] {
  const ends: number[] = new Array<number>(rows).fill(-Infinity);
  return [...labels]
    .sort((a, b) => a.x - b.x)
    .map((l) => {
      const w = l.text.length * 6.2 + 4;
      const x0 = Math.min(Math.max(l.x - w / 2, LEFT), W - RIGHT - w);
      let row = ends.findIndex((e) => e + 6 <= x0);
      if (row < 0) row = ends.indexOf(Math.min(...ends));
      ends[row] = x0 + w;
      return { ...l, row, x0, x1: x0 + w };
    });
}

/** Seconds from the origin as an axis label: "fault", "+10 s", "−5 s", "+2 min". */
function tickLabel(s: number, step: number): string {
  if (Math.abs(s) < 1e-9) return 'fault';
  const sign = s > 0 ? '+' : '−';
  const a = Math.abs(s);
  return a >= 60 && step >= 30 ? `${sign}${(a / 60).toFixed(a % 60 ? 1 : 0)} min` : `${sign}${Number(a.toFixed(1))} s`;
}

export const LABEL_ROWS = 3;

export function timelineSvg(r: ScenarioResult, id: string): Html {
  const m = r.metrics;
  const nodes = [...new Set(r.vrrp.map((v) => v.node))].sort();
  if (nodes.length === 0) nodes.push('a', 'b');
  const t0 = r.labStart || r.events[0]?.t || 0;
  const t1 = Math.max(r.labEnd || 0, ...r.events.map((e) => e.t), t0 + 1);
  // one time origin for the axis, the labels and the event log: the first fault (else the start)
  const origin = r.firstFaultAt ?? t0;
  const span = t1 - t0;
  const x = (t: number) => LEFT + ((Math.min(Math.max(t, t0), t1) - t0) / span) * (W - LEFT - RIGHT);
  const f1 = (n: number) => n.toFixed(1);
  const rel = (t: number) => `${signedSeconds(t, origin)} s`;
  const top = 30;
  const labelH = LABEL_ROWS * 13 + 4;
  const lanes: { key: string; label: string; h: number }[] = [
    ...nodes.map((n) => ({ key: `vrrp-${n}`, label: `node ${n} VRRP`, h: LANE })),
    { key: 'labels', label: '', h: labelH },
    { key: 'fwd', label: 'client → LAN', h: LANE },
    { key: 'rev', label: 'LAN → client', h: LANE },
  ];
  const ys = new Map<string, number>();
  let yy = top;
  for (const l of lanes) {
    ys.set(l.key, yy);
    yy += l.h + 8;
  }
  const laneY = (k: string) => ys.get(k)!;
  const markersY = yy - 4;
  const H = markersY + 92;
  const parts: Html[] = [];
  const labels: Label[] = [];
  parts.push(html`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  // axis: ticks at multiples of the step from the origin
  const step = tickStep(span);
  for (let s = Math.ceil((t0 - origin) / step) * step; s <= t1 - origin + 1e-9; s += step) {
    const xx = f1(x(origin + s));
    parts.push(html`<line x1="${xx}" y1="${top - 6}" x2="${xx}" y2="${markersY}" stroke="${Math.abs(s) < 1e-9 ? '#b0bec5' : '#eceff1'}" stroke-width="1"/>`);
    parts.push(html`<text x="${xx}" y="${top - 10}" font-size="10" text-anchor="middle" fill="#607d8b">${tickLabel(s, step)}</text>`);
  }
  // lanes
  for (const l of lanes) {
    if (l.key === 'labels') continue;
    const y = laneY(l.key);
    parts.push(html`<text x="${LEFT - 8}" y="${y + LANE / 2 + 4}" font-size="11" text-anchor="end" fill="#263238">${l.label}</text>`);
    parts.push(html`<rect x="${LEFT}" y="${y}" width="${W - LEFT - RIGHT}" height="${LANE}" fill="#fafafa" stroke="#eceff1"/>`);
  }
  // VRRP states
  for (const n of nodes) {
    const y = laneY(`vrrp-${n}`);
    const ts = r.vrrp.filter((v) => v.node === n).sort((a, b) => a.t - b.t);
    for (const [i, v] of ts.entries()) {
      const from = Math.max(v.t, t0);
      const to = i + 1 < ts.length ? ts[i + 1]!.t : t1;
      if (to <= t0 || from >= t1) continue;
      const state = v.state === 'RESUMED' ? 'INIT' : v.state;
      const w = Math.max(0.8, x(to) - x(from));
      parts.push(html`<rect class="vrrp vrrp-${state.toLowerCase()}" x="${f1(x(from))}" y="${y + 3}" width="${f1(w)}" height="${LANE - 6}" fill="${STATE_COLOURS[state] ?? '#bdbdbd'}"><title>node ${n}: ${v.state} from ${rel(v.t)} (${v.source})</title></rect>`);
      if (w > 46) parts.push(html`<text x="${f1(x(from) + 4)}" y="${y + LANE / 2 + 4}" font-size="10" fill="${STATE_TEXT[state] ?? '#fff'}">${state}</text>`);
    }
  }
  // probes: a bar from the first to the last reply, gaps cut out in red
  const probeLane = (key: string, first: number | undefined, last: number | undefined, outages: (Outage & { cause?: string })[], what: string) => {
    const y = laneY(key);
    if (first === undefined || last === undefined) {
      parts.push(html`<text x="${LEFT + 6}" y="${y + LANE / 2 + 4}" font-size="10" fill="#9e9e9e">no ${what} probe</text>`);
      return;
    }
    parts.push(html`<rect x="${f1(x(first))}" y="${y + 7}" width="${f1(Math.max(0.8, x(last) - x(first)))}" height="${LANE - 14}" fill="${COLOURS.reply}"><title>${what} probe: replies</title></rect>`);
    for (const o of outages) {
      parts.push(html`<rect class="gap" x="${f1(x(o.from))}" y="${y + 2}" width="${f1(Math.max(1.2, x(o.to) - x(o.from)))}" height="${LANE - 4}" fill="${COLOURS.lost}"><title>${what}: no reply for ${formatMs(o.gapMs)} (outage ${formatMs(o.ms)}${o.resolutionMs !== undefined ? ` ±${o.resolutionMs.toFixed(1)} ms` : ''}) from ${rel(o.from)}${o.cause ? `: caused by ${o.cause === 'revert' ? 'a revert (failback)' : o.cause === 'fault' ? 'the fault' : 'nothing known'}` : ''}</title></rect>`);
    }
  };
  probeLane('fwd', m.probe?.firstReply, m.probe?.lastReply, m.outages ?? [], 'client → LAN');
  probeLane('rev', m.reverseProbe?.firstReply, m.reverseProbe?.lastReply, m.reverseProbe?.outages ?? [], 'LAN → client');
  // fault bands over every lane, named in the label lane
  const bands = faultBands(r);
  for (const b of bands) {
    const bx = x(b.from);
    const bw = Math.max(2, x(b.to) - bx);
    parts.push(html`<rect class="fault-band" data-fault="${b.kind}" x="${f1(bx)}" y="${top - 4}" width="${f1(bw)}" height="${markersY - top + 4}" fill="${COLOURS.band}" fill-opacity="0.14" stroke="${COLOURS.band}" stroke-opacity="0.6"><title>${b.id}: ${b.kind} from ${rel(b.from)} to ${rel(b.to)}</title></rect>`);
    labels.push({ x: bx + Math.min(bw, 80) / 2, text: b.kind, colour: '#d84315', cls: 'fault-label' });
  }
  // the fault's outage and the failback's, bracketed on the forward lane and named in the label lane
  const bracket = (o: Outage, colour: string, text: string, cls: string) => {
    const y = laneY('fwd');
    const x0 = x(o.from);
    const x1 = Math.max(x0 + 2, x(o.to));
    parts.push(html`<path d="M${f1(x0)} ${y - 1} v-4 H${f1(x1)} v4" fill="none" stroke="${colour}" stroke-width="1.4"/>`);
    labels.push({ x: (x0 + x1) / 2, text, colour, cls, bold: true });
  };
  const o = mainOutage(r);
  if (o) bracket(o, COLOURS.outage, `outage ${formatMs(o.ms)}`, 'outage-label');
  const fb = m.failbackOutageMs !== undefined ? (m.outages ?? []).find((g) => g.cause === 'revert' && Math.abs(g.ms - m.failbackOutageMs!) < 1e-6) : undefined;
  if (fb) bracket(fb, COLOURS.failback, `failback ${formatMs(fb.ms)}`, 'failback-label');
  // the VIP takeover: a line across the lanes, named in the label lane
  if (m.vipTakeoverMs !== undefined && m.takeoverFaultAt !== undefined) {
    const xx = x(m.takeoverFaultAt + m.vipTakeoverMs / 1000);
    parts.push(html`<line class="marker" data-phase="vrrp" x1="${f1(xx)}" y1="${top - 4}" x2="${f1(xx)}" y2="${markersY}" stroke="#2e7d32" stroke-width="1.2"/>`);
    labels.push({ x: xx + 40, text: `VIP on ${m.newHolder ?? '?'} +${formatMs(m.vipTakeoverMs)}`, colour: '#2e7d32', cls: 'takeover-label' });
  }
  const ly = laneY('labels');
  for (const l of layoutLabels(labels, LABEL_ROWS)) {
    parts.push(html`<text class="${l.cls}" x="${f1(l.x0 + 2)}" y="${ly + 11 + l.row * 13}" font-size="${l.bold ? 11 : 10}" font-weight="${l.bold ? 'bold' : 'normal'}" fill="${l.colour}">${l.text}</text>`);
  }
  // reconnect milestones, counted from the fault
  const ms = (m.reconnect?.milestones ?? []).filter((k) => k.name !== 'fault');
  const names: Record<string, string> = { detect: `detect${m.reconnect?.detectedBy ? ` (${m.reconnect.detectedBy})` : ''}`, ike: 'IPsec SA', l2tp: 'L2TP call', auth: 'CHAP', ppp: 'PPP up', firstPacket: 'first packet' };
  for (const [i, k] of ms.entries()) {
    const xx = x(k.t);
    parts.push(html`<line class="marker" data-phase="${k.name}" x1="${f1(xx)}" y1="${top - 4}" x2="${f1(xx)}" y2="${markersY + 6 + i * 13}" stroke="${COLOURS.milestone}" stroke-dasharray="3 2" stroke-width="1"/>`);
    parts.push(html`<text x="${f1(xx + 2)}" y="${markersY + 16 + i * 13}" font-size="10" fill="${COLOURS.milestone}" text-anchor="${xx > W - 170 ? 'end' : 'start'}">${names[k.name] ?? k.name} ${rel(k.t)}<title>${k.line ?? ''}</title></text>`);
  }
  return html`<svg class="timeline" data-testid="timeline-${id}" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="timeline of ${r.scenario}" xmlns="http://www.w3.org/2000/svg">
${parts.map((p) => html`${p}
`)}</svg>`;
}

/** Every colour the timeline draws, for its legend (html.ts): no two things share one. */
export const COLOURS = { reply: '#43a047', lost: '#e53935', band: '#ff7043', outage: '#b71c1c', failback: '#6a1b9a', milestone: '#1565c0' };

/** The legend: every VRRP state and mark the timeline can draw. */
export const LEGEND: { label: string; colour: string; opacity?: number }[] = [
  { label: 'MASTER', colour: '#2e7d32' },
  { label: 'BACKUP', colour: '#90a4ae' },
  { label: 'FAULT (VRRP state)', colour: '#fbc02d' },
  { label: 'INIT', colour: '#e0e0e0' },
  { label: 'stopped / down', colour: '#212121' },
  { label: 'frozen', colour: '#00838f' },
  { label: 'probe replies', colour: COLOURS.reply },
  { label: 'no reply (lost probes)', colour: COLOURS.lost },
  { label: 'fault active', colour: COLOURS.band, opacity: 0.4 },
  { label: 'fault outage', colour: COLOURS.outage },
  { label: 'failback outage', colour: COLOURS.failback },
  { label: 'reconnect milestones', colour: COLOURS.milestone },
];

/** A strip plot of repeated measurements with min/median/p95/max. */
export function stripSvg(values: number[], what: string): Html {
  if (values.length === 0) return html``;
  const w = 460;
  const h = 46;
  const lo = 0;
  const hi = Math.max(...values) * 1.1 || 1;
  const x = (v: number) => (10 + ((v - lo) / (hi - lo)) * (w - 20)).toFixed(1);
  const sorted = [...values].sort((a, b) => a - b);
  const med = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  const dots = values.map((v, i) => html`<circle cx="${x(v)}" cy="${18 + ((i * 7) % 11) - 5}" r="3.5" fill="#1565c0" fill-opacity="0.7"><title>${formatMs(v)}</title></circle>`);
  return html`<svg class="strip" viewBox="0 0 ${w} ${h}" width="${w}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${what} over repeats"><line x1="10" y1="30" x2="${w - 10}" y2="30" stroke="#90a4ae"/><line x1="${x(med)}" y1="6" x2="${x(med)}" y2="32" stroke="#d84315" stroke-width="2"/>${dots}<text x="10" y="43" font-size="10" fill="#607d8b">0</text><text x="${w - 10}" y="43" font-size="10" text-anchor="end" fill="#607d8b">${formatMs(hi)}</text></svg>`;
}
