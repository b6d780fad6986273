import type { HostEvent } from '../../run/events.js';
import { formatMs } from '../../util/time.js';
import { FILES, type Evidence, type Rule } from './finding.js';

/**
 * Notify handling racing keepalived: a node's notify side (the notify_fifo lines, or whatever the
 * operator's notify scripts act on) sat in a state keepalived had already left, for longer than the
 * normal delivery delay after a transition. keepalived runs notify_master/notify_backup scripts
 * concurrently, so a quick blip (MASTER then BACKUP within a second) can finish out of order and leave
 * the hooks in the wrong state (routes, services, a second daemon started on the backup); the ordered
 * notify_fifo with one reader cannot. Evidence: keepalived's own state lines against the notify lines,
 * both pushed by the node's agent with its clock.
 */

/** the states keepalived writes both as its own line and to the notify fifo */
const STATES = new Set(['MASTER', 'BACKUP', 'FAULT']);

interface Disagreement {
  node: string;
  /** time the notify side was wrong beyond the delivery tolerance (ms) */
  ms: number;
  /** keepalived's line the notify side had not caught up with, and the notify line it sat on */
  keepalived: { t: number; state: string };
  notify: { t: number; state: string };
  /** the notify line came after keepalived had already left its state (delivered out of order) */
  outOfOrder: boolean;
  /** still wrong when the repeat ended */
  atEnd: boolean;
}

type Line = { t: number; state: string; side: 'k' | 'n' };

/** The worst disagreement of one node's notify side with keepalived, past `tolMs` after each of keepalived's transitions. */
export function notifyDisagreement(events: HostEvent[], node: string, end: number, tolMs: number): Disagreement | undefined {
  const lines: Line[] = [];
  for (const e of events) {
    if (e.host !== node) continue;
    if (e.ev === 'vrrp.state') lines.push({ t: e.t, state: e.state, side: 'k' });
    else if (e.ev === 'vrrp.notify' && STATES.has(e.state)) lines.push({ t: e.t, state: e.state, side: 'n' });
  }
  lines.sort((a, b) => a.t - b.t);
  let k: Line | undefined;
  let n: Line | undefined;
  // every state keepalived entered, and when, so a notify of a state it left is known as late
  const entered: Line[] = [];
  let worst: Disagreement | undefined;
  let cur: Disagreement | undefined;
  let prev = -Infinity;
  const close = (to: number, atEnd: boolean) => {
    if (!k || !n || k.state === n.state) return;
    const from = Math.max(k.t + tolMs / 1000, n.t, prev);
    if (to <= from) return;
    cur ??= { node, ms: 0, keepalived: { t: k.t, state: k.state }, notify: { t: n.t, state: n.state }, outOfOrder: entered.some((x) => x.state === n!.state && x.t < k!.t) && n.t > k.t, atEnd: false };
    cur.ms += (to - from) * 1000;
    cur.atEnd = atEnd;
  };
  for (const l of [...lines, undefined]) {
    close(l?.t ?? end, l === undefined);
    if (!l) break;
    prev = l.t;
    if (l.side === 'k') {
      k = l;
      entered.push(l);
    } else n = l;
    if (k && n && k.state === n.state && cur) {
      if (!worst || cur.ms > worst.ms) worst = cur;
      cur = undefined;
    }
  }
  if (cur && (!worst || cur.ms > worst.ms)) worst = cur;
  return worst;
}

/** The notify side saw keepalived's states in keepalived's order (a prefix of them: late ones may not have come yet). */
export function inKeepalivedOrder(events: HostEvent[], node: string): boolean {
  const seq = (ev: 'vrrp.state' | 'vrrp.notify') =>
    events
      .filter((e) => e.host === node && e.ev === ev && STATES.has(e.state))
      .sort((a, b) => a.t - b.t)
      .map((e) => (e as { state: string }).state)
      .filter((x, i, xs) => i === 0 || x !== xs[i - 1]);
  const k = seq('vrrp.state');
  const n = seq('vrrp.notify');
  return n.length <= k.length && n.every((x, i) => x === k[i]);
}

export const notifyRace: Rule = ({ result: r }) => {
  const events = r.hostEvents ?? [];
  // the fifo reader may run late on a loaded host: twice its lag, and never under a second, is delivery
  const tolMs = Math.max(1000, 2 * (r.starvation?.lagMaxMs ?? 0));
  const nodes = [...new Set(events.filter((e) => e.ev === 'vrrp.state').map((e) => e.host))];
  const worst = nodes
    .map((n) => notifyDisagreement(events, n, r.labEnd, tolMs))
    .filter((d): d is Disagreement => d !== undefined && d.ms >= 1000)
    .sort((a, b) => b.ms - a.ms)[0];
  if (!worst) return undefined;
  // every notification came, in keepalived's order, only late: the reader ran behind (a loaded host), no race
  const late = inKeepalivedOrder(events, worst.node);
  if (late) worst.outOfOrder = false;
  const evidence: Evidence[] = [
    { t: worst.keepalived.t, what: `${worst.node}'s keepalived entered ${worst.keepalived.state}` },
    { t: worst.notify.t, what: `${worst.node}'s notify line said ${worst.notify.state}${worst.outOfOrder ? ' (a state keepalived had already left)' : ''}` },
  ];
  return {
    id: 'notify-race',
    mechanism: `${worst.node}'s notify side was in ${worst.notify.state} for ${formatMs(worst.ms)} beyond the ${formatMs(tolMs)} a notification takes, while keepalived was ${worst.keepalived.state}${worst.outOfOrder ? ': the notification of an earlier state arrived after keepalived had moved on, so the two were handled out of order' : ''}${late ? ': its notifications came in keepalived\'s order, only late (the notify reader ran behind)' : ''}${worst.atEnd ? ', and it was still so when the repeat ended' : ''}. Whatever the notify hooks start, stop or route follows the wrong state.`,
    evidence,
    impactMs: worst.ms,
    remedy: late
      ? [
          { file: FILES.keepalived, line: 'notify_fifo_script: one long-running reader that does no more per line than record the state and wake the hooks', why: 'a reader that forks per line, or runs the hooks inline, falls seconds behind on a loaded host' },
          { file: 'the VRRP hosts', line: `CPU headroom for keepalived and its notify reader${r.starvation ? ` (the agents ran up to ${formatMs(r.starvation.lagMaxMs)} late)` : ''}`, why: 'the notifications are only as timely as the reader is scheduled' },
        ]
      : [
      { file: FILES.keepalived, line: 'notify_fifo /run/keepalived/notify.fifo and notify_fifo_script <one script> (global_defs), in place of notify_master/notify_backup/notify_fault', why: 'keepalived writes every change to one FIFO in order and one reader applies them one at a time; notify scripts run concurrently and a quick blip can finish out of order' },
      { file: 'the notify script', line: 'act on the state keepalived is in now (read it again, e.g. from the fifo\'s last line), not only on the argument', why: 'a late or reordered call then does no harm' },
        ],
    confidence: worst.atEnd || worst.outOfOrder ? 'high' : 'medium',
  };
};
