import { RT_LIMIT_US } from '../stack/keepalived.js';
import type { Profile } from '../topology/schema.js';
import { formatMs } from '../util/time.js';
import type { PointStats } from './analysis.js';

/**
 * The recommendation as lines for production files: each setting with a comment that says what was
 * measured with it (point, n, outage median and p95 with their intervals, false-failover bound). The
 * operator pastes them into their own files; vipdrill never writes a production file.
 */

export interface Snippet {
  file: string;
  text: string;
}

const s = (ms: number) => formatMs(ms);

/** One line of evidence for the recommended point, from its first scenario's figures. */
export function evidenceLine(p: PointStats, scenario: string): string {
  const st = p.scenarios[scenario];
  const o = st?.metrics.outage;
  const fb = st?.metrics.failbackOutage;
  const ci = o?.p95Ci ? ` [95 % CI ${s(o.p95Ci.low)}–${s(o.p95Ci.high)}]` : '';
  const ff = p.falseFailover;
  return [
    o ? `${scenario}: outage median ${s(o.median)}, p95 ${s(o.p95)}${ci}, n=${o.n}` : `${scenario}: no outage measured`,
    fb ? `failback outage median ${s(fb.median)}` : '',
    ff.rate ? `false failovers ${ff.count} in ${ff.trials} s of stress (≤ ${(ff.rate.high * 100).toFixed(2)} % a second)` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

export function snippets(p: Profile, best: PointStats, scenario: string, sweepName: string): Snippet[] {
  const ev = evidenceLine(best, scenario);
  const head = (file: string) => [`# vipdrill tune ${sweepName}, point ${best.id} (${best.label})`, `# measured: ${ev}`, `# put these lines in ${file}`];
  const v = p.vrrp;
  const keepalived = [
    ...head("keepalived.conf, inside each node's vrrp_instance (and `vrrp_version` in global_defs)"),
    'global_defs {',
    `    vrrp_version ${v.version}            # ${v.version === 3 ? 'VRRPv3: sub-second adverts in 10 ms steps' : 'VRRPv2: whole seconds only'}`,
    ...(v.rtPriority > 0
      ? [
          `    vrrp_rt_priority ${v.rtPriority}         # the VRRP process runs SCHED_RR: a busy host no longer delays adverts (needs CAP_SYS_NICE in a container)`,
          `    vrrp_rlimit_rtime ${RT_LIMIT_US}     # µs it may run without blocking before the kernel kills it (keepalived's default 10000 killed it on a slow host)`,
        ]
      : []),
    '}',
    'vrrp_instance VI_1 {',
    `    advert_int ${v.advertInt}            # master down ≈ 3 × ${v.advertInt} s + skew; ${ev}`,
    v.preempt ? (v.preemptDelay > 0 ? `    preempt_delay ${v.preemptDelay}         # a returning master waits ${v.preemptDelay} s before it takes the VIP back` : '    # preempt (the default): a returning master takes the VIP back at once') : '    nopreempt                 # a returning master stays BACKUP: no failback outage',
    '}',
    'vrrp_script chk_stack {',
    `    interval ${p.health.interval}              # health check every ${p.health.interval} s`,
    `    fall ${p.health.fall}                  # ${p.health.fall} failures mark the node FAULT`,
    `    rise ${p.health.rise}`,
    '}',
  ];
  const dpd = `DPD every ${p.ike.dpdDelay} s of silence, peer declared dead after ${p.ike.dpdTimeout} s (IKEv1)`;
  const swanctl = [...head('swanctl.conf, the L2TP connection'), 'connections {', '    l2tp {', `        dpd_delay = ${p.ike.dpdDelay}s     # ${dpd}`, `        dpd_timeout = ${p.ike.dpdTimeout}s`, '        children {', '            l2tp {', `                dpd_action = ${p.ike.dpdAction}`, '            }', '        }', '    }', '}'];
  const ipsec = [...head('ipsec.conf (stroke), the L2TP conn'), 'conn l2tp', `    dpddelay=${p.ike.dpdDelay}s         # ${dpd}`, `    dpdtimeout=${p.ike.dpdTimeout}s`, `    dpdaction=${p.ike.dpdAction}`];
  const xl2tpd = [
    ...head('xl2tpd.conf, the [lac] section of the client (max retries on both ends)'),
    `max retries = ${p.l2tp.maxRetries}          # control retransmits (1, 2, 4, … s) before a dead tunnel is given up`,
    'redial = yes',
    `redial timeout = ${p.l2tp.redialTimeout}        # seconds between redials`,
    `max redials = ${p.l2tp.maxRedials}`,
    ...(p.l2tp.clientRestart
      ? [
          '# and on the client, in swanctl.conf children.l2tp: updown = <a script that restarts xl2tpd on up-host> (NetworkManager-l2tp',
          '# does the same itself): when DPD has restarted IKE on the new holder, xl2tpd dials over the new SA at once, instead of',
          `# waiting for LCP and then tearing the dead call and tunnel down (a CDN and a StopCCN, each retransmitted ${p.l2tp.maxRetries === 1 ? 'once' : `${p.l2tp.maxRetries} times`})`,
        ]
      : []),
  ];
  const lcpOn = p.ppp.lcpEchoInterval > 0 && p.ppp.lcpEchoFailure > 0;
  const options = [
    ...head('options.xl2tpd (pppd options of the L2TP session, both ends)'),
    ...(lcpOn
      ? [
          `lcp-echo-interval ${p.ppp.lcpEchoInterval}       # a dead link is declared between ${(p.ppp.lcpEchoFailure - 1) * p.ppp.lcpEchoInterval} and ${p.ppp.lcpEchoFailure * p.ppp.lcpEchoInterval} s after it died`,
          `lcp-echo-failure ${p.ppp.lcpEchoFailure}`,
          ...(p.ppp.lcpEchoAdaptive ? ['lcp-echo-adaptive         # echoes only while nothing arrives: lost echoes on a lossy WAN no longer end a busy session'] : []),
        ]
      : ['# LCP echo off: the client notices a dead peer through DPD and xl2tpd alone']),
    `lcp-restart ${p.ppp.lcpRestart}              # Terminate-Requests to a dead peer are retransmitted every ${p.ppp.lcpRestart} s…`,
    p.ppp.lcpMaxTerminate === 0
      ? `lcp-max-terminate 0        # …never: one Terminate-Request is sent and not waited for, so pppd exits at once and xl2tpd can redial`
      : `lcp-max-terminate ${p.ppp.lcpMaxTerminate}        # …sent ${p.ppp.lcpMaxTerminate === 1 ? 'once' : `${p.ppp.lcpMaxTerminate} times`}: up to ${p.ppp.lcpRestart * p.ppp.lcpMaxTerminate} s before pppd exits and xl2tpd can redial`,
  ];
  return [
    { file: 'keepalived.conf', text: keepalived.join('\n') + '\n' },
    { file: 'swanctl.conf', text: swanctl.join('\n') + '\n' },
    { file: 'ipsec.conf', text: ipsec.join('\n') + '\n' },
    { file: 'xl2tpd.conf', text: xl2tpd.join('\n') + '\n' },
    { file: 'options.xl2tpd', text: options.join('\n') + '\n' },
  ];
}
