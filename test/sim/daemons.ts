import type { LogLine } from '../../src/analysis/reconnect.js';

/**
 * The client's daemons' side of a lab stream with known truth: charon, xl2tpd, pppd and the redial
 * watchdog reconnecting after a fault, as their stamped logs say it (the lines the lab really writes),
 * with the chatter around it: DPD requests and IKE retransmits, attempts that failed before the one
 * that held, the session before the fault and a rekey after the tunnel came back.
 */

export type Detector = 'dpd' | 'ike-retransmit' | 'lcp-echo' | 'l2tp-retransmit' | 'pppd-hangup' | 'call-watchdog';

const DETECT_LINES: Record<Detector, Pick<LogLine, 'source' | 'text'>> = {
  dpd: { source: 'charon', text: '11[JOB] <l2tp|1> DPD check timed out, enforcing DPD action' },
  'ike-retransmit': { source: 'charon', text: '05[IKE] <l2tp|1> giving up after 3 retransmits' },
  'lcp-echo': { source: 'pppd', text: 'No response to 3 echo-requests' },
  'l2tp-retransmit': { source: 'xl2tpd', text: 'xl2tpd[50]: Maximum retries exceeded for tunnel 12345.  Closing.' },
  'pppd-hangup': { source: 'pppd', text: 'Modem hangup' },
  'call-watchdog': { source: 'redial', text: 'tunnel up without a call for 6 s: reconnecting' },
};

const IKE = (n: number): Pick<LogLine, 'source' | 'text'> => ({ source: 'charon', text: `16[IKE] <l2tp|${n}> CHILD_SA l2tp{${n}} established with SPIs cb7e2529_i c67eb86b_o and TS 10.213.1.50/32[17/1701] === 10.213.1.100/32[17/1701]` });
const CALL: Pick<LogLine, 'source' | 'text'> = { source: 'xl2tpd', text: 'xl2tpd[50]: Call established with 10.213.1.100, Local: 6823, Remote: 50416, Serial: 2 (ref=0/0)' };
const AUTH: Pick<LogLine, 'source' | 'text'> = { source: 'pppd', text: 'CHAP authentication succeeded' };
const PPP: Pick<LogLine, 'source' | 'text'> = { source: 'pppd', text: 'local  IP address 10.213.3.10' };

export interface ReconnectTruth {
  fault: number;
  detector: Detector;
  /** ms after the previous milestone; null where the reconnect did not need it (the SA survived) */
  detectMs: number;
  ikeMs: number | null;
  l2tpMs: number;
  pppMs: number;
  firstPacketMs: number;
  /** IPsec SAs and calls set up inside the reconnect that did not hold (a VIP that moved again) */
  failedAttempts: number;
  /** DPD requests and IKE retransmits logged inside the detect phase */
  chatter: number;
}

export interface ReconnectSim {
  lines: LogLine[];
  firstThrough: number;
  /** the milestones' times the analysis must find */
  at: { detect: number; ike?: number; l2tp: number; ppp: number };
}

/** Times in whole µs, as the logs stamp them. */
const us = (t: number) => Math.round(t * 1e6) / 1e6;

export function simulateReconnect(x: ReconnectTruth): ReconnectSim {
  const lines: LogLine[] = [];
  const add = (t: number, l: Pick<LogLine, 'source' | 'text'>) => lines.push({ t: us(t), ...l });
  // the session before the fault
  add(x.fault - 30, IKE(1));
  add(x.fault - 29.5, CALL);
  add(x.fault - 29, AUTH);
  add(x.fault - 29, PPP);
  const detect = us(x.fault + x.detectMs / 1000);
  for (let k = 1; k <= x.chatter; k++) add(x.fault + ((detect - x.fault) * k) / (x.chatter + 1), { source: 'charon', text: k % 2 ? '16[IKE] <l2tp|1> sending DPD request' : '05[IKE] <l2tp|1> retransmit 1 of request with message ID 7' });
  add(detect, DETECT_LINES[x.detector]);
  let t = detect;
  const ike = x.ikeMs === null ? undefined : us((t += x.ikeMs / 1000));
  const l2tp = us((t += x.l2tpMs / 1000));
  const ppp = us((t += x.pppMs / 1000));
  const firstThrough = us(t + x.firstPacketMs / 1000);
  // attempts that failed: an SA and a call before the ones that held, between detection and them
  for (let k = 1; k <= x.failedAttempts; k++) {
    const f = detect + ((Math.min(ike ?? l2tp, l2tp) - detect) * k) / (x.failedAttempts + 1);
    if (f <= detect || f >= (ike ?? l2tp)) continue;
    // with the SA surviving, only the L2TP redials failed
    if (ike !== undefined) add(f, IKE(k + 1));
    add(f, { source: 'xl2tpd', text: 'xl2tpd[50]: Connecting to host 10.213.1.100, port 1701' });
  }
  if (ike !== undefined) add(ike, IKE(x.failedAttempts + 2));
  add(l2tp, CALL);
  add(ppp, AUTH);
  add(ppp, PPP);
  // after the tunnel came back: a rekey, and chatter
  add(firstThrough + 5, IKE(x.failedAttempts + 3));
  add(firstThrough + 6, { source: 'charon', text: '16[IKE] <l2tp|9> sending DPD request' });
  lines.sort((a, b) => a.t - b.t);
  return { lines, firstThrough, at: { detect, ...(ike !== undefined ? { ike } : {}), l2tp, ppp } };
}
