import type { ScenarioResult } from '../../run/result.js';
import type { Profile, Topology } from '../../topology/schema.js';

/**
 * A finding: what a slow or hazardous repeat's figures say about why, with the events that show it
 * and the config change that would fix it. Rules are pure functions over a repeat's analysed result
 * (its figures and its event stream), one file each in this folder, so each is tested on recorded
 * results: one where it fires, one where it must not.
 */

export interface Evidence {
  /** lab clock (s) */
  t: number;
  what: string;
  /** the event's seq in the repeat's events.jsonl, when the evidence is one */
  seq?: number;
}

export interface Remedy {
  /** the config file to change, as the lab renders it (the same names on real hosts) */
  file: string;
  /** the line to set */
  line: string;
  why: string;
  /** the profile field that renders the line, where there is one (what `run --try-remedies` switches) */
  profile?: string;
  /** the value of that field the line sets: a remedy with both is one `run --try-remedies` measures */
  value?: number | boolean;
}

export interface Finding {
  id: string;
  mechanism: string;
  evidence: Evidence[];
  /** how much of the repeat's outage (or takeover) the mechanism accounts for (ms) */
  impactMs: number;
  remedy: Remedy[];
  confidence: 'high' | 'medium' | 'low';
}

export interface RuleInput {
  result: ScenarioResult;
  profile: Profile;
  topology: Topology;
}

export type Rule = (x: RuleInput) => Finding | undefined;

export const FILES = {
  keepalived: '/etc/keepalived/keepalived.conf',
  swanctl: '/etc/swanctl/swanctl.conf',
  xl2tpd: '/etc/xl2tpd/xl2tpd.conf',
  pppOptions: '/etc/ppp/options.xl2tpd',
  chapSecrets: '/etc/ppp/chap-secrets',
} as const;
