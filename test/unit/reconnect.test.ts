import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { decomposeReconnect, parseStampedLog, type LogLine } from '../../src/analysis/reconnect.js';
import { fixture } from '../helpers.js';

/**
 * Client log lines of a real node-crash failover in the lab (fast profile, TCG), with the source daemon
 * in front; the pppd lines are the ones pppd writes (stamped by the log fifo).
 */
function lines(file = 'node-crash-client.log'): LogLine[] {
  return readFileSync(fixture('logs', file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      const [source, ...rest] = l.split(' ');
      return parseStampedLog(rest.join(' '), source as LogLine['source']);
    });
}

describe('reconnect decomposition', () => {
  const fault = 1795695204.762426;
  const first = 1795695216.61;
  const r = decomposeReconnect(lines(), fault, first, 'DPD every 1 s');

  it('finds the milestones in order: DPD, IPsec SA, the call, PPP up, the first probe', () => {
    expect(r.detectedBy).to.equal('dpd');
    expect(r.milestones.map((m) => m.name)).to.deep.equal(['fault', 'detect', 'ike', 'l2tp', 'auth', 'ppp', 'firstPacket']);
  });

  it('phases are consecutive and add up to the reconnect', () => {
    const p = r.phasesMs;
    expect(p.detect).to.be.closeTo(2892, 1);
    expect(p.ike).to.be.closeTo(587.6, 1);
    expect(p.l2tp).to.be.closeTo(7632, 1);
    expect(p.ppp).to.be.closeTo(605.5, 1);
    expect(p.firstPacket).to.be.closeTo(130, 1);
    const sum = Object.values(p).reduce<number>((a, b) => a + (b ?? 0), 0);
    expect(sum).to.be.closeTo(r.reconnectMs!, 0.01);
  });

  it('explains the longest phase with the events inside it', () => {
    expect(r.longest?.phase).to.equal('l2tp');
    expect(r.explanation).to.match(/longest phase was l2tp/);
    expect(r.explanation).to.match(/lingered/);
    expect(r.explanation).to.match(/gave up the tunnel after its control retransmits at \+10\.\d s/);
    expect(r.explanation).to.match(/Detected by dpd at \+2\.9 s/);
  });

  it('an IKE SA that survived leaves the ike phase empty, and no reconnect at all is said so', () => {
    const noIke = lines().filter((l) => !/established with SPIs|IKE_SA \S+ established/.test(l.text));
    const q = decomposeReconnect(noIke, fault, first);
    expect(q.phasesMs.ike).to.equal(null);
    expect(q.phasesMs.l2tp).to.be.greaterThan(0);
    const none = decomposeReconnect([], fault, undefined);
    expect(none.explanation).to.match(/did not come back/);
  });
});

describe('reconnect decomposition without a reconnect', () => {
  it('a path that came back without any daemon noticing is said so, with no longest phase', () => {
    const r = decomposeReconnect([], 100, 101.2);
    expect(r.longest).to.equal(undefined);
    expect(r.phasesMs.firstPacket).to.be.closeTo(1200, 0.01);
    expect(r.explanation).to.match(/^No reconnect: .* 1\.2 s after the fault/);
  });
});

describe('reconnect decomposition with distro-default timers', () => {
  it('an ike phase that waited for DPD is explained by the stale IPsec SA and the redials into it', () => {
    const l = (t: number, source: LogLine['source'], text: string): LogLine => ({ t, source, text });
    const lines = [
      l(65, 'xl2tpd', 'xl2tpd[50]: Maximum retries exceeded for tunnel 1.  Closing.'),
      l(77, 'xl2tpd', 'xl2tpd[50]: Connecting to host 10.213.1.100, port 1701'),
      l(88, 'xl2tpd', 'xl2tpd[50]: Connecting to host 10.213.1.100, port 1701'),
      l(151, 'charon', '11[JOB] <l2tp|1> DPD check timed out, enforcing DPD action'),
      l(151.5, 'charon', '16[IKE] <l2tp|2> CHILD_SA l2tp{2} established with SPIs a_i b_o'),
      l(153, 'xl2tpd', 'xl2tpd[50]: Call established with 10.213.1.100, Local: 1, Remote: 2, Serial: 7'),
      l(155, 'pppd', 'local  IP address 10.213.3.10'),
    ];
    const r = decomposeReconnect(lines, 0, 155.3, 'DPD every 30 s, timeout 150 s');
    expect(r.detectedBy).to.equal('l2tp-retransmit');
    expect(r.longest?.phase).to.equal('ike');
    expect(r.explanation).to.match(/kept the IPsec SA of the node that was gone until charon's DPD declared the peer dead \(DPD every 30 s, timeout 150 s\); until then 2 L2TP redials/);
  });
});

describe('reconnect decomposition when the healed master preempts mid-reconnect (calibrate-takeover, real logs)', () => {
  // a crashed at 0 and healed at +11.9 s; b took the VIP at +1.5 s, a took it back at +14.0 s. The client
  // had just set up a tunnel and call with b (+11.3 s): they went nowhere once the VIP was back on a, and
  // xl2tpd retransmitted on that tunnel until +72.3 s before dialling a.
  const fault = 1795707426.040663;
  const moves = [{ t: fault + 1.512, node: 'b' }, { t: fault + 13.958, node: 'a' }];
  const r = decomposeReconnect(lines('failback-client.log'), fault, 1795707500.394275, 'DPD every 1 s', moves);
  it('anchors the phases on the reconnect that worked: the last IPsec SA, call and PPP before traffic', () => {
    expect(r.detectedBy).to.equal('lcp-echo');
    expect(r.longest?.phase).to.equal('l2tp');
    expect(r.reconnectMs).to.be.closeTo(74354, 1);
  });
  it('says the VIP moved again, and does not blame the first session\'s Terminate-Requests for 70 s', () => {
    expect(r.explanation).to.match(/The VIP moved again while the client was reconnecting \(to a at \+14\.0 s\)/);
    expect(r.explanation).not.to.match(/ended its session only at \+72/);
    expect(r.notable.some((n) => n.what === 'pppd: its LCP Config-Requests went unanswered')).to.equal(true);
  });
});
