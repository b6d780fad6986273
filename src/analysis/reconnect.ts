import { formatMs } from '../util/time.js';

/**
 * The client's reconnect after a failover, decomposed from the daemons' own logs (every line stamped
 * with the lab clock: charon, xl2tpd and the redial watchdog through the supervisor, pppd through its
 * log fifo), into consecutive phases that add up to the reconnect:
 *
 *   fault ─detect→ the client notices the dead peer (DPD, LCP echo, L2TP retransmit give-up: the first)
 *         ─ike→    a new IPsec SA (the CHILD_SA that carries L2TP)
 *         ─l2tp→   a new L2TP tunnel and call
 *         ─ppp→    PPP up (LCP, CHAP, IPCP: the client has an address)
 *         ─firstPacket→ the first probe through the tunnel
 *
 * The VIP takeover runs beside these (on the nodes) and is reported as `vrrp`.
 */

export interface LogLine {
  t: number;
  source: 'charon' | 'xl2tpd' | 'pppd' | 'redial';
  text: string;
}

export type PhaseName = 'detect' | 'ike' | 'l2tp' | 'ppp' | 'firstPacket';
export const PHASES: PhaseName[] = ['detect', 'ike', 'l2tp', 'ppp', 'firstPacket'];

export interface Milestone {
  name: 'fault' | 'detect' | 'ike' | 'l2tp' | 'auth' | 'ppp' | 'firstPacket';
  t: number;
  /** what the log said, for the event stream */
  source?: LogLine['source'] | 'probe' | 'runner';
  line?: string;
}

export interface Reconnect {
  /** how the client noticed first: dpd, lcp-echo, l2tp-retransmit, pppd-hangup, call-watchdog, ike-retransmit */
  detectedBy?: string;
  milestones: Milestone[];
  /** consecutive phases (ms); null when the phase was not needed (e.g. the IKE SA survived) or not seen */
  phasesMs: Record<PhaseName, number | null>;
  /** fault -> first probe through (ms) */
  reconnectMs?: number;
  longest?: { phase: PhaseName; ms: number };
  /** the longest phase in words, with the log events inside it */
  explanation: string;
  /** what happened inside each phase, in order (lab clock) */
  notable: { t: number; source: string; what: string }[];
}

/** Lines of `<epoch.us> <text>` logs; lines without a stamp are kept with the previous stamp. */
export function parseStampedLog(text: string, source: LogLine['source']): LogLine[] {
  const out: LogLine[] = [];
  for (const raw of text.split('\n')) {
    const m = /^(\d+\.\d+) (.*)$/.exec(raw);
    if (m) out.push({ t: Number(m[1]), source, text: m[2]! });
  }
  return out;
}

interface Pattern {
  re: RegExp;
  source: LogLine['source'];
  what: string;
}

/** The first of these after the fault is how the client noticed the dead peer. */
const DETECTORS: (Pattern & { by: string })[] = [
  { re: /DPD check timed out/, source: 'charon', by: 'dpd', what: 'charon: DPD timed out, restarting the IKE SA' },
  { re: /giving up after \d+ retransmits/, source: 'charon', by: 'ike-retransmit', what: 'charon: gave up retransmitting an IKE request' },
  { re: /No response to \d+ echo-requests/, source: 'pppd', by: 'lcp-echo', what: 'pppd: no answer to LCP echo requests' },
  { re: /Maximum retries exceeded for tunnel/, source: 'xl2tpd', by: 'l2tp-retransmit', what: 'xl2tpd: gave up the tunnel after its control retransmits' },
  { re: /Modem hangup|Connection terminated|LCP terminated by peer/, source: 'pppd', by: 'pppd-hangup', what: 'pppd: the session ended' },
  { re: /tunnel up without a call/, source: 'redial', by: 'call-watchdog', what: 'call watchdog: a tunnel without a call, reconnecting' },
];

/** Events worth naming inside a phase (the explanation lists them). */
const NOTABLE: Pattern[] = [
  ...DETECTORS,
  { re: /sending DPD request/, source: 'charon', what: 'charon: DPD request sent' },
  { re: /retransmit \d+ of request/, source: 'charon', what: 'charon: IKE request retransmitted' },
  { re: /initiating (Main|Aggressive) Mode IKE_SA/, source: 'charon', what: 'charon: new IKE SA initiated' },
  { re: /IKE_SA \S+ established between/, source: 'charon', what: 'charon: IKE SA established' },
  { re: /CHILD_SA \S+ established with SPIs/, source: 'charon', what: 'charon: IPsec SA established' },
  { re: /pppd exited for call/, source: 'xl2tpd', what: 'xl2tpd: the old call\'s pppd exited' },
  { re: /Connecting to host/, source: 'xl2tpd', what: 'xl2tpd: dialling the VIP' },
  { re: /Connection established to/, source: 'xl2tpd', what: 'xl2tpd: L2TP tunnel established' },
  { re: /Call established with/, source: 'xl2tpd', what: 'xl2tpd: L2TP call established' },
  { re: /Session '[^']*' already active|bad control packet|tty is not open yet/, source: 'xl2tpd', what: 'xl2tpd: stale state on the old tunnel' },
  { re: /CHAP authentication succeeded/, source: 'pppd', what: 'pppd: CHAP succeeded' },
  { re: /CHAP authentication failed/, source: 'pppd', what: 'pppd: CHAP failed' },
  { re: /local +IP address/, source: 'pppd', what: 'pppd: IPCP up (address assigned)' },
  { re: /^Connect: ppp\d+/, source: 'pppd', what: 'pppd: a new session began' },
  { re: /LCP: timeout sending Config-Requests/, source: 'pppd', what: 'pppd: its LCP Config-Requests went unanswered' },
  { re: /Terminating on signal/, source: 'pppd', what: 'pppd: ended by xl2tpd' },
];

const first = (lines: LogLine[], p: { re: RegExp; source: string }, from: number, to = Infinity) => lines.find((l) => l.source === p.source && l.t >= from && l.t <= to && p.re.test(l.text));
const last = (lines: LogLine[], p: { re: RegExp; source: string }, from: number, to: number) => [...lines].reverse().find((l) => l.source === p.source && l.t >= from && l.t <= to && p.re.test(l.text));

const IKE_UP = { re: /CHILD_SA \S+ established with SPIs/, source: 'charon' };
const CALL_UP = { re: /Call established with/, source: 'xl2tpd' };
const AUTH_OK = { re: /CHAP authentication succeeded/, source: 'pppd' };
const PPP_UP = { re: /local +IP address/, source: 'pppd' };

const PHASE_WORDS: Record<PhaseName, string> = {
  detect: 'noticing the dead peer',
  ike: 'a new IPsec SA',
  l2tp: 'a new L2TP tunnel and call',
  ppp: 'PPP (LCP, CHAP, IPCP)',
  firstPacket: 'the first probe through after PPP came up',
};

/**
 * Decompose the reconnect that followed the fault at `faultAt` (lab clock). `firstThrough` is the first
 * probe through after the outage (the probe's send time). Milestones are anchored backwards from PPP up:
 * the call is the last one established before it, the IPsec SA the last one before the call.
 */
export function decomposeReconnect(lines: LogLine[], faultAt: number, firstThrough: number | undefined, profileHint = '', vipMoves: { t: number; node: string }[] = []): Reconnect {
  const sorted = [...lines].sort((a, b) => a.t - b.t);
  const phasesMs: Record<PhaseName, number | null> = { detect: null, ike: null, l2tp: null, ppp: null, firstPacket: null };
  const milestones: Milestone[] = [{ name: 'fault', t: faultAt, source: 'runner' }];
  const end = firstThrough ?? Infinity;
  const detections = DETECTORS.map((d) => ({ d, l: first(sorted, d, faultAt, end) })).filter((x) => x.l).sort((a, b) => a.l!.t - b.l!.t);
  const det = detections[0];
  const ppp = first(sorted, PPP_UP, faultAt, end);
  const call = ppp ? last(sorted, CALL_UP, faultAt, ppp.t) : undefined;
  const ike = last(sorted, IKE_UP, faultAt, call?.t ?? ppp?.t ?? end);
  const auth = ppp ? last(sorted, AUTH_OK, call?.t ?? faultAt, ppp.t) : undefined;
  if (det) milestones.push({ name: 'detect', t: det.l!.t, source: det.l!.source, line: det.l!.text });
  if (ike) milestones.push({ name: 'ike', t: ike.t, source: 'charon', line: ike.text });
  if (call) milestones.push({ name: 'l2tp', t: call.t, source: 'xl2tpd', line: call.text });
  if (auth) milestones.push({ name: 'auth', t: auth.t, source: 'pppd', line: auth.text });
  if (ppp) milestones.push({ name: 'ppp', t: ppp.t, source: 'pppd', line: ppp.text });
  if (firstThrough !== undefined) milestones.push({ name: 'firstPacket', t: firstThrough, source: 'probe' });

  // consecutive phases: each from the previous milestone that was seen
  let prev = faultAt;
  const step = (name: PhaseName, t: number | undefined) => {
    if (t === undefined) return;
    phasesMs[name] = Math.max(0, (t - prev) * 1000);
    prev = Math.max(prev, t);
  };
  step('detect', det?.l!.t);
  step('ike', ike?.t);
  step('l2tp', call?.t);
  step('ppp', ppp?.t);
  step('firstPacket', firstThrough);

  const notable = sorted
    .filter((l) => l.t >= faultAt && l.t <= (firstThrough ?? ppp?.t ?? faultAt + 600))
    .flatMap((l): Reconnect['notable'] => {
      const n = NOTABLE.find((p) => p.source === l.source && p.re.test(l.text));
      return n ? [{ t: l.t, source: l.source, what: n.what }] : [];
    })
    // where the VIP went meanwhile (keepalived on the nodes): a second move is a reconnect cut short
    .concat(vipMoves.filter((v) => v.t >= faultAt && v.t <= (firstThrough ?? ppp?.t ?? faultAt + 600)).map((v) => ({ t: v.t, source: 'keepalived', what: `keepalived: the VIP moved to ${v.node}` })))
    .sort((a, b) => a.t - b.t);
  const out: Reconnect = { milestones, phasesMs, explanation: '', notable, ...(det ? { detectedBy: det.d.by } : {}) };
  if (firstThrough !== undefined) out.reconnectMs = (firstThrough - faultAt) * 1000;
  const seen = PHASES.filter((p) => phasesMs[p] !== null).map((p) => ({ phase: p, ms: phasesMs[p]! }));
  if (seen.length === 0) {
    out.explanation = firstThrough === undefined ? 'the tunnel did not come back in the logs seen' : 'no reconnect in the daemons\' logs: the tunnel came back without a new IPsec SA, L2TP call or PPP session';
    return out;
  }
  if (seen.length === 1 && seen[0]!.phase === 'firstPacket') {
    out.explanation = `No reconnect: no daemon of the client noticed anything and its IPsec SA, L2TP call and PPP session stayed up; traffic got through again ${formatMs(seen[0]!.ms)} after the fault.`;
    return out;
  }
  const longest = seen.reduce((a, b) => (b.ms > a.ms ? b : a));
  out.longest = longest;
  out.explanation = explain(longest.phase, longest.ms, out, faultAt, profileHint);
  return out;
}

function explain(phase: PhaseName, ms: number, r: Reconnect, faultAt: number, profileHint: string): string {
  const at = (t: number) => `+${formatMs((t - faultAt) * 1000)}`;
  const ms0 = r.milestones;
  const startT = faultAt + PHASES.slice(0, PHASES.indexOf(phase)).reduce((x, p) => x + (r.phasesMs[p] ?? 0), 0) / 1000;
  const endT = startT + ms / 1000;
  const inside = r.notable.filter((n) => n.t >= startT - 1e-6 && n.t <= endT + 1e-6);
  // repeated chatter (one DPD request a second) is summarised, not listed
  const counted = new Map<string, { n: number; t: number }>();
  for (const n of inside) {
    const c = counted.get(n.what);
    if (c) c.n++;
    else counted.set(n.what, { n: 1, t: n.t });
  }
  const list = [...counted].map(([what, c]) => `${what}${c.n > 1 ? ` (${c.n}×, first ${at(c.t)})` : ` at ${at(c.t)}`}`);
  const head = `The longest phase was ${phase} (${PHASE_WORDS[phase]}): ${formatMs(ms)} of ${r.reconnectMs !== undefined ? formatMs(r.reconnectMs) : 'the reconnect'}.`;
  let why = '';
  if (phase === 'detect') why = ` The client noticed the dead peer by ${r.detectedBy ?? 'an unknown mechanism'}${profileHint ? ` (${profileHint})` : ''}.`;
  else if (phase === 'l2tp' && inside.some((n) => /old call|gave up the tunnel/.test(n.what))) why = ' The old L2TP tunnel and call lingered on the client until they timed out; only then did xl2tpd redial.';
  else if (phase === 'ike' && inside.some((n) => /DPD timed out/.test(n.what))) {
    const redials = inside.filter((n) => /dialling the VIP|call watchdog/.test(n.what)).length;
    why = ` The client kept the IPsec SA of the node that was gone until charon's DPD declared the peer dead${profileHint ? ` (${profileHint})` : ''}${redials > 0 ? `; until then ${redials} L2TP redials went into an SA the new holder does not have` : ''}.`;
  } else if (phase === 'ike' && inside.some((n) => /retransmitted/.test(n.what))) why = ' charon retransmitted IKE requests before the new node answered.';
  const detected = ms0.find((m) => m.name === 'detect');
  // the session pppd was in when it noticed: it ends after its LCP Terminate-Requests time out
  const ended = detected ? r.notable.find((n) => n.what === 'pppd: the session ended' && n.t >= detected.t) : undefined;
  if (phase === 'l2tp' && r.detectedBy === 'lcp-echo' && detected && ended && ended.t - detected.t > 1 && ended.t >= startT - 1e-6) {
    why += ` pppd noticed the dead peer at ${at(detected.t)} but ended its session only at ${at(ended.t)}: it sends LCP Terminate-Requests to the peer that is gone and waits out their retransmits before it exits, and xl2tpd redials only after that.`;
  }
  // the VIP moved more than once while the client reconnected (a healed master preempting): the
  // client's new tunnel went to a node that lost the VIP, and the reconnect started over
  const moves = r.notable.filter((n) => n.source === 'keepalived');
  if (moves.length > 1) {
    const later = moves.slice(1).filter((n) => n.t <= endT + 1e-6);
    if (later.length > 0) why += ` The VIP moved again while the client was reconnecting (${later.map((n) => `${n.what.replace('keepalived: the VIP moved ', '')} at ${at(n.t)}`).join(', ')}): what the client had set up with the first new holder was gone, and it had to notice that too before it could start over.`;
  }
  return `${head}${why}${list.length > 0 ? ` In it: ${list.join('; ')}.` : ''}${phase !== 'detect' && detected ? ` (Detected by ${r.detectedBy} at ${at(detected.t)}.)` : ''}`;
}
