import { formatMs } from '../../util/time.js';
import { FILES, type Rule } from './finding.js';

/**
 * A takeover far beyond what VRRP predicts: RFC 5798's master-down interval (3 adverts plus the skew)
 * plus one advert (where in its cycle the master died) plus how late the hosts' agents ran. Beyond that
 * the time went elsewhere: into carrying out the fault (a loaded engine's kill), or into a host too
 * starved to run keepalived's timers.
 */
/** Faults after which the backup waits out the master-down interval: the master goes silent. */
const SILENT = new Set(['node-crash', 'node-stop', 'node-freeze', 'node-restart', 'link-down', 'partition']);

export const takeoverBand: Rule = ({ result: r, profile }) => {
  const m = r.metrics;
  const tk = m.takeoverCheck;
  if (m.vipTakeoverMs === undefined || !tk) return undefined;
  // a master that says it is going (a failed track script sends priority 0; a drain lowers it) hands over
  // without the master-down wait: the band is VRRP's only where the master went silent
  const inject = r.events.find((e) => e.kind === 'fault.inject' && m.takeoverFaultAt !== undefined && Math.abs(e.t - m.takeoverFaultAt) < 1e-6);
  const kind = inject?.data?.kind;
  if (typeof kind !== 'string' || !(SILENT.has(kind) || (kind === 'kill-daemon' && /keepalived/.test(inject!.message)))) return undefined;
  const advertMs = profile.vrrp.advertInt * 1000;
  const lagMs = r.starvation?.lagMaxMs ?? 0;
  const bandMs = tk.expectedMs + advertMs + lagMs;
  const excess = m.vipTakeoverMs - bandMs;
  if (excess <= 0) return undefined;
  const kill = tk.faultLatencyMs ?? 0;
  const master = r.vrrp.find((v) => v.node === tk.node && v.state === 'MASTER' && v.t >= (m.takeoverFaultAt ?? 0));
  const evidence = [
    ...(inject ? [{ seq: inject.seq, t: inject.t, what: `the fault was asked; it was seen carried out ${formatMs(kill)} later` }] : []),
    ...(master ? [{ t: master.t, what: `${tk.node}'s keepalived entered MASTER, ${formatMs(m.vipTakeoverMs)} after the fault` }] : []),
  ];
  const starved = r.starvation?.starved === true;
  if (kill >= excess * 0.5) {
    return {
      id: 'takeover-kill-latency',
      mechanism: `The takeover read ${formatMs(m.vipTakeoverMs)} against VRRP's ${formatMs(tk.expectedMs)} (+${formatMs(advertMs)} for where in its advert cycle the master died, +${formatMs(lagMs)} of host lag): ${formatMs(kill)} of it went into carrying out the fault, before keepalived's timers started. The figure mixes the engine's kill latency with keepalived's.`,
      evidence,
      impactMs: Math.min(kill, excess),
      remedy: [{ file: '(the drill, not the stack)', line: 'measure the takeover from the master\'s last advert on the wire (calibrate-takeover) or on a quieter host', why: 'keepalived is not slow here; the kill was' }],
      confidence: 'high',
    };
  }
  return {
    id: starved ? 'takeover-host-starved' : 'takeover-beyond-vrrp',
    mechanism: `The takeover read ${formatMs(m.vipTakeoverMs)}, ${formatMs(excess)} beyond VRRP's master-down interval ${formatMs(tk.expectedMs)} plus one advert and the hosts' lag (${formatMs(lagMs)})${starved ? ': the host was starved, and keepalived\'s timers fired late' : ': keepalived did not run its timers on time'}.`,
    evidence,
    impactMs: excess,
    remedy: [
      { file: FILES.keepalived, line: 'vrrp_rt_priority 50 (global_defs)', why: 'runs the VRRP process at real-time priority so its master-down timer fires on time on a loaded host' },
      { file: FILES.keepalived, line: `advert_int ${profile.vrrp.advertInt} (vrrp_instance)`, why: 'the master-down interval is 3 adverts plus the skew: a shorter advert shortens it, a longer one tolerates a loaded host better', profile: 'vrrp.advertInt' },
    ],
    confidence: starved ? 'high' : 'medium',
  };
};
