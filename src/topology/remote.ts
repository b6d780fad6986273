import type { ConfigIssue } from '../errors.js';
import { faultStep } from '../scenario/schema.js';
import { nearestName } from '../util/names.js';
import { SSH_TARGET, type Remote, type Topology } from './schema.js';

/** Every fault kind a scenario may name. */
export const ALL_FAULT_KINDS: string[] = faultStep.options.map((o) => o.shape.fault.value);

/**
 * Fault kinds a real host cannot revert by itself (the engine undoes them), so they are never leased:
 * a crash needs the user's power commands, a stop or a freeze of a whole host has no way back over SSH.
 */
export const UNLEASED_KINDS = new Set(['node-crash', 'node-stop', 'node-freeze', 'node-restart']);

/** The fault kinds a remote topology allows: its `allow:` list, else every kind a host can revert by itself. */
export function allowedKinds(r: Remote): string[] {
  return r.allow ?? ALL_FAULT_KINDS.filter((k) => !UNLEASED_KINDS.has(k) || (k === 'node-crash' && r.crash !== undefined));
}

export interface SshAddress {
  user: string;
  host: string;
  port: number;
}

export function parseSshTarget(s: string): SshAddress {
  const m = SSH_TARGET.exec(s)!;
  return { user: m[1]!, host: m[2]!, port: m[3] ? Number(m[3]) : 22 };
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** A weekly maintenance window in UTC: the days it opens on, and its minutes of the day (it may run past midnight). */
export interface Window {
  text: string;
  days: Set<number>;
  from: number;
  to: number;
}

/** "Sat 02:00-04:00 UTC", "Mon-Fri 22:00-23:30 UTC", "Sat,Sun 01:00-03:00 UTC", "daily 23:00-01:00 UTC". */
export function parseWindow(text: string): Window | string {
  const m = /^\s*(daily|[A-Za-z]{3}(?:-[A-Za-z]{3})?(?:,[A-Za-z]{3}(?:-[A-Za-z]{3})?)*)\s+(\d{2}):(\d{2})-(\d{2}):(\d{2})\s+UTC\s*$/.exec(text);
  if (!m) return 'expected a window like "Sat 02:00-04:00 UTC" (days: daily, Mon, Mon-Fri or Sat,Sun; times in UTC, HH:MM-HH:MM)';
  const days = new Set<number>();
  if (m[1]!.toLowerCase() === 'daily') for (let d = 0; d < 7; d++) days.add(d);
  else {
    for (const part of m[1]!.toLowerCase().split(',')) {
      const [a, b] = part.split('-').map((d) => DAYS.indexOf(d));
      if (a === undefined || a < 0 || (b !== undefined && b < 0)) return `unknown day in "${part}": expected ${DAYS.map((d) => d[0]!.toUpperCase() + d.slice(1)).join(', ')}`;
      for (let d = a; ; d = (d + 1) % 7) {
        days.add(d);
        if (d === (b ?? a)) break;
      }
    }
  }
  const [h1, m1, h2, m2] = [m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number];
  if (h1 > 23 || h2 > 23 || m1 > 59 || m2 > 59) return `expected times from 00:00 to 23:59, got ${m[2]}:${m[3]}-${m[4]}:${m[5]}`;
  const from = h1 * 60 + m1;
  const to = h2 * 60 + m2;
  if (from === to) return 'the window opens and closes at the same minute';
  return { text: text.trim(), days, from, to };
}

/** Whether `at` lies in the window; a window past midnight belongs to the day it opened on. */
export function inWindow(w: Window, at: Date): boolean {
  const minute = at.getUTCHours() * 60 + at.getUTCMinutes();
  const day = at.getUTCDay();
  if (w.from < w.to) return w.days.has(day) && minute >= w.from && minute < w.to;
  return (w.days.has(day) && minute >= w.from) || (w.days.has((day + 6) % 7) && minute < w.to);
}

/** What is wrong in a topology's remote block: the hosts it must name, the kinds it allows, its window. */
export function remoteIssues(t: Topology, file: string): ConfigIssue[] {
  const r = t.remote;
  if (!r) return [];
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ file, path, message });
  const needed = [...Object.keys(t.nodes), 'client', 'lanhost'];
  for (const h of needed) if (!r.hosts[h]) add(`remote.hosts.${h}`, `missing: every host of the drill is reached over SSH (${needed.join(', ')}); the LAN target too, since the return path is probed from it`);
  for (const h of Object.keys(r.hosts)) {
    if (!needed.includes(h)) add(`remote.hosts.${h}`, `unknown host "${h}"${nearestName(h, needed) ? ` (did you mean ${nearestName(h, needed)}?)` : ''}; expected ${needed.join(', ')}`);
  }
  for (const [i, k] of (r.allow ?? []).entries()) {
    if (!ALL_FAULT_KINDS.includes(k)) add(`remote.allow[${i}]`, `unknown fault kind "${k}"${nearestName(k, ALL_FAULT_KINDS) ? ` (did you mean ${nearestName(k, ALL_FAULT_KINDS)}?)` : ''}`);
    else if (UNLEASED_KINDS.has(k) && !(k === 'node-crash' && r.crash)) add(`remote.allow[${i}]`, `${k} cannot be reverted by a host itself${k === 'node-crash' ? ': give remote.crash.<node> {off, on} power commands to allow it' : ', so it is not allowed on real hosts'}`);
  }
  for (const n of Object.keys(r.crash ?? {})) if (!t.nodes[n]) add(`remote.crash.${n}`, `unknown node "${n}"; expected ${Object.keys(t.nodes).join(' or ')}`);
  if (r.window !== undefined) {
    const w = parseWindow(r.window);
    if (typeof w === 'string') add('remote.window', w);
  }
  if (t.config) add('config', 'a remote topology runs the hosts\' own configs: vipdrill renders and writes nothing there, so config: does not apply');
  if (r.lease && r.lease.renew * 2 > r.lease.ttl) add('remote.lease.renew', `renewing every ${r.lease.renew} s with a ${r.lease.ttl} s lease leaves no room for a late renewal; expected renew <= ttl / 2`);
  return issues;
}
