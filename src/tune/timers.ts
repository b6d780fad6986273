import type { LabHosts } from '../hosts/lab-hosts.js';
import type { Profile } from '../topology/schema.js';
import { median } from 'simple-statistics';
import { parseAdverts, type Advert } from '../analysis/adverts.js';

export { parseAdverts, type Advert };

/**
 * The timers really in force on a running lab, read back from the daemons rather than from the files
 * vipdrill wrote: the advert interval from captured VRRP packets (spacing and the advertised field), DPD
 * from charon's loaded connection (vici, `swanctl --list-conns --raw`), LCP from the options pppd logs
 * at its start (`dump`). A point whose timers differ from its profile is an error, not a measurement.
 */

/** `dpd_delay=1 dpd_timeout=3` of the named connection in `swanctl --list-conns --raw`. */
export function parseDpd(raw: string): { delayS: number; timeoutS: number } | undefined {
  const d = /dpd_delay=(\d+)/.exec(raw);
  const t = /dpd_timeout=(\d+)/.exec(raw);
  return d ? { delayS: Number(d[1]), timeoutS: t ? Number(t[1]) : 0 } : undefined;
}

export interface LcpTimers {
  intervalS: number;
  failure: number;
  /** lcp-restart and lcp-max-terminate (pppd's defaults, 3 and 3, when not dumped) */
  restartS: number;
  maxTerminate: number;
  adaptive: boolean;
  dumped: boolean;
}

/** The last LCP options pppd dumped at its start (no echo lines: LCP echo off). */
export function parseLcp(log: string): LcpTimers {
  const last = (re: RegExp) => [...log.matchAll(re)].map((m) => Number(m[1])).at(-1);
  return {
    intervalS: last(/lcp-echo-interval (\d+)/g) ?? 0,
    failure: last(/lcp-echo-failure (\d+)/g) ?? 0,
    restartS: last(/lcp-restart (\d+)/g) ?? 3,
    maxTerminate: last(/lcp-max-terminate (\d+)/g) ?? 3,
    adaptive: /lcp-echo-adaptive/.test(log),
    dumped: /# \(from /.test(log),
  };
}

/** A pppd log from its newest option dump on ("pppd options in effect:"): the options the running pppd took. */
export function lastOptionDump(log: string): string {
  const at = log.lastIndexOf('pppd options in effect:');
  return at < 0 ? log : log.slice(log.lastIndexOf('\n', at) + 1);
}

/** keepalived's processes on a node as `vipdrill-fault sched` lists them (ps pid, class, RT priority). */
export interface SchedLine {
  pid: number;
  cls: string;
  rtprio?: number;
}

export function parseSched(out: string): SchedLine[] {
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 2 && /^\d+$/.test(f[0]!))
    .map(([pid, cls, rt]) => ({ pid: Number(pid), cls: cls!, ...(rt && /^\d+$/.test(rt) ? { rtprio: Number(rt) } : {}) }));
}

/** The VRRP process runs SCHED_RR at the profile's vrrp.rtPriority, or nothing of keepalived is realtime when it is 0. */
export function checkSched(p: Profile, node: string, procs: SchedLine[]): string[] {
  if (procs.length === 0) return [`VRRP: no keepalived process on ${node}`];
  const rr = procs.filter((x) => x.cls === 'RR' || x.cls === 'FF');
  const want = p.vrrp.rtPriority;
  if (want === 0) return rr.length ? [`VRRP: keepalived on ${node} runs realtime (${rr.map((x) => `pid ${x.pid} ${x.cls} ${x.rtprio ?? '?'}`).join(', ')}); the profile asks for normal scheduling`] : [];
  if (rr.some((x) => x.rtprio === want)) return [];
  return [`VRRP: no keepalived process on ${node} runs SCHED_RR at priority ${want} (${procs.map((x) => `pid ${x.pid} ${x.cls}${x.rtprio !== undefined ? ` ${x.rtprio}` : ''}`).join(', ')}); keepalived could not raise it (CAP_SYS_NICE missing, or an RT limit)`];
}

export interface TimerCheck {
  ok: boolean;
  problems: string[];
  advert: { expectedMs: number; advertisedMs?: number; spacingMedianMs?: number; n: number; version?: number };
  dpd?: { delayS: number; timeoutS: number };
  lcp: LcpTimers;
}

/** How far the median spacing of captured adverts may lie from the profile's interval. */
export function advertToleranceMs(expectedMs: number): number {
  return Math.max(0.25 * expectedMs, 50);
}

/** Compare what the daemons report with the profile; every mismatch is a problem naming both values. */
export function checkTimers(p: Profile, adverts: Advert[], dpd: ReturnType<typeof parseDpd>, lcp: ReturnType<typeof parseLcp>): TimerCheck {
  const problems: string[] = [];
  const expectedMs = Math.round(p.vrrp.advertInt * 1000);
  const spacing = adverts.slice(1).map((a, i) => (a.t - adverts[i]!.t) * 1000);
  const advert: TimerCheck['advert'] = { expectedMs, n: adverts.length, ...(adverts[0] ? { advertisedMs: adverts[0].intervalMs, version: adverts[0].version } : {}), ...(spacing.length ? { spacingMedianMs: median(spacing) } : {}) };
  if (adverts.length < 3) problems.push(`VRRP: ${adverts.length} advert(s) captured on the backup; expected a stream every ${expectedMs} ms`);
  else {
    if (advert.version !== p.vrrp.version) problems.push(`VRRP: adverts are VRRPv${advert.version}; the profile asks for v${p.vrrp.version}`);
    if (advert.advertisedMs !== expectedMs) problems.push(`VRRP: adverts carry an interval of ${advert.advertisedMs} ms; the profile asks for ${expectedMs} ms (keepalived changed it)`);
    if (Math.abs(advert.spacingMedianMs! - expectedMs) > advertToleranceMs(expectedMs)) problems.push(`VRRP: adverts arrive every ${advert.spacingMedianMs!.toFixed(0)} ms (median of ${spacing.length}); the profile asks for ${expectedMs} ms (±${advertToleranceMs(expectedMs).toFixed(0)} ms)`);
  }
  if (!dpd) problems.push('DPD: charon reports no dpd_delay for the client connection');
  else {
    if (dpd.delayS !== p.ike.dpdDelay) problems.push(`DPD: charon runs dpd_delay ${dpd.delayS} s; the profile asks for ${p.ike.dpdDelay} s`);
    if (dpd.timeoutS !== p.ike.dpdTimeout) problems.push(`DPD: charon runs dpd_timeout ${dpd.timeoutS} s; the profile asks for ${p.ike.dpdTimeout} s`);
  }
  const lcpOn = p.ppp.lcpEchoInterval > 0 && p.ppp.lcpEchoFailure > 0;
  if (!lcp.dumped) problems.push("LCP: the client's pppd logged no option dump since the switch (was it restarted?)");
  else if (lcpOn && (lcp.intervalS !== p.ppp.lcpEchoInterval || lcp.failure !== p.ppp.lcpEchoFailure)) problems.push(`LCP: pppd runs lcp-echo-interval ${lcp.intervalS} s, lcp-echo-failure ${lcp.failure}; the profile asks for ${p.ppp.lcpEchoInterval} s × ${p.ppp.lcpEchoFailure}`);
  else if (!lcpOn && lcp.intervalS > 0) problems.push(`LCP: pppd runs lcp-echo-interval ${lcp.intervalS} s; the profile turns LCP echo off`);
  if (lcp.dumped && lcpOn && lcp.adaptive !== p.ppp.lcpEchoAdaptive) problems.push(`LCP: pppd runs ${lcp.adaptive ? 'with' : 'without'} lcp-echo-adaptive; the profile asks ${p.ppp.lcpEchoAdaptive ? 'for' : 'against'} it`);
  if (lcp.dumped && (lcp.restartS !== p.ppp.lcpRestart || lcp.maxTerminate !== p.ppp.lcpMaxTerminate)) problems.push(`LCP: pppd runs lcp-restart ${lcp.restartS} s, lcp-max-terminate ${lcp.maxTerminate}; the profile asks for ${p.ppp.lcpRestart} s, ${p.ppp.lcpMaxTerminate}`);
  return { ok: problems.length === 0, problems, advert, ...(dpd ? { dpd } : {}), lcp };
}

/** Read the timers in force from the running lab (the backup's capture, the client's charon and pppd). */
export async function readTimers(hosts: LabHosts, p: Profile, backup: string, backupWanDev: string, since: number): Promise<TimerCheck> {
  const h = hosts.host(backup);
  const tag = `timers-${backup}`;
  await h.startCapture(tag, backupWanDev, 'vrrp');
  // long enough for at least six adverts, and past tcpdump's own start-up
  await new Promise((r) => setTimeout(r, Math.max(2500, 7 * p.vrrp.advertInt * 1000 + 1000)));
  const adverts = parseAdverts(await h.stopRecorder(tag));
  const client = hosts.host('client');
  const ike = await client.act<{ out: string }>('fault', { argv: ['ike-conns'] });
  const ppp = lastOptionDump(await client.logWindow('pppd.log', since, 1e12));
  const sched = await Promise.all(hosts.nodes.map(async (n) => checkSched(p, n, parseSched((await hosts.host(n).act<{ out: string }>('fault', { argv: ['sched'] })).result.out))));
  const check = checkTimers(p, adverts, parseDpd(ike.result.out), parseLcp(ppp));
  const problems = [...check.problems, ...sched.flat()];
  return { ...check, problems, ok: problems.length === 0 };
}
