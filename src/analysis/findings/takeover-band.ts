import { formatMs } from '../../util/time.js';
import { FILES, type Evidence, type Finding, type Rule } from './finding.js';

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
  const adv = tk.advert;
  if (adv) {
    // the master's last advert on the wire splits the figure: before it, the fault command; after it, keepalived
    const advert = { t: (m.takeoverFaultAt ?? 0) + adv.lastAdvertMs / 1000, what: `the master's last advert reached ${tk.node}, ${formatMs(adv.lastAdvertMs)} after the fault was asked` };
    if (adv.ok) return killLatency([...evidence.slice(0, 1), advert, ...evidence.slice(1)], Math.min(excess, Math.max(0, adv.lastAdvertMs)), `${formatMs(adv.lastAdvertMs)} passed between the fault being asked and the master's last advert; from that advert keepalived took ${formatMs(adv.fromLastAdvertMs)}, inside VRRP's band (${formatMs(adv.expectedMs)} ±${formatMs(adv.toleranceMs)})`);
    return beyond(m.vipTakeoverMs, Math.abs(adv.fromLastAdvertMs - adv.expectedMs) - adv.toleranceMs, `from the master's last advert keepalived took ${formatMs(adv.fromLastAdvertMs)}, against VRRP's ${formatMs(adv.expectedMs)} ±${formatMs(adv.toleranceMs)} (one advert and ${formatMs(lagMs)} of host lag)`, [...evidence, advert], starved, profile.vrrp.advertInt);
  }
  if (kill >= excess * 0.5) return killLatency(evidence, Math.min(kill, excess), `${formatMs(kill)} of it went into carrying out the fault, before keepalived's timers started`);
  return beyond(m.vipTakeoverMs, excess, `${formatMs(excess)} beyond VRRP's master-down interval ${formatMs(tk.expectedMs)} plus one advert and the hosts' lag (${formatMs(lagMs)})`, evidence, starved, profile.vrrp.advertInt);

  function killLatency(ev: Evidence[], impactMs: number, why: string): Finding {
    return {
      id: 'takeover-kill-latency',
      mechanism: `The takeover read ${formatMs(m.vipTakeoverMs!)} against VRRP's ${formatMs(tk!.expectedMs)} (+${formatMs(advertMs)} for where in its advert cycle the master died, +${formatMs(lagMs)} of host lag): ${why}. The figure mixes the engine's kill latency with keepalived's.`,
      evidence: ev,
      impactMs,
      remedy: [{ file: '(the drill, not the stack)', line: 'read the takeover from the master\'s last advert (takeoverCheck.advert), or drill on a quieter host', why: 'keepalived is not slow here; the kill was' }],
      confidence: 'high',
    };
  }
};

function beyond(takeoverMs: number, excessMs: number, why: string, evidence: Evidence[], starved: boolean, advertInt: number): Finding {
  return {
    id: starved ? 'takeover-host-starved' : 'takeover-beyond-vrrp',
    mechanism: `The takeover read ${formatMs(takeoverMs)}: ${why}${starved ? '. The host was starved, and keepalived\'s timers fired late' : '. keepalived did not run its timers on time'}.`,
    evidence,
    impactMs: excessMs,
    remedy: [
      { file: FILES.keepalived, line: 'vrrp_rt_priority 50 (global_defs)', why: 'runs the VRRP process at real-time priority so its master-down timer fires on time on a loaded host' },
      // a loaded host: a longer advert tolerates its scheduling delay (the master-down interval grows with it)
      ...(starved
        ? [{ file: FILES.keepalived, line: `advert_int ${Number((advertInt * 2).toFixed(2))} (vrrp_instance; now ${advertInt})`, why: 'the master-down interval is 3 adverts plus the skew: a longer advert tolerates a loaded host, at the cost of a slower takeover', profile: 'vrrp.advertInt', value: Number((advertInt * 2).toFixed(2)) }]
        : [{ file: FILES.keepalived, line: `advert_int ${advertInt} (vrrp_instance)`, why: 'the master-down interval is 3 adverts plus the skew: a shorter advert shortens it, a longer one tolerates a loaded host better' }]),
    ],
    confidence: starved ? 'high' : 'medium',
  };
}
