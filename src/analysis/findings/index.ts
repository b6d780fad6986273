import { authDrift } from './auth-drift.js';
import { detectionDominates } from './detection.js';
import type { Finding, Rule, RuleInput } from './finding.js';
import { ikeToVoid } from './ike-to-void.js';
import { l2tpDeadTunnel } from './l2tp-dead-tunnel.js';
import { notifyRace } from './notify-race.js';
import { preemptFailback } from './preempt-failback.js';
import { splitClaims } from './split-claims.js';
import { staleArp } from './stale-arp.js';
import { takeoverBand } from './takeover-band.js';
import { unitRestart } from './unit-restart.js';

export type { Evidence, Finding, Remedy } from './finding.js';

/** Every rule, in the order their findings are shown. */
export const RULES: Rule[] = [takeoverBand, detectionDominates, l2tpDeadTunnel, ikeToVoid, staleArp, splitClaims, preemptFailback, authDrift, notifyRace, unitRestart];

/** The findings of one analysed repeat, largest impact first. */
export function findingsOf(x: RuleInput): Finding[] {
  return RULES.flatMap((rule) => {
    const f = rule(x);
    return f ? [f] : [];
  }).sort((a, b) => b.impactMs - a.impactMs);
}
