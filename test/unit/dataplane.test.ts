import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseProbe } from '../../src/analysis/dataplane.js';

const line = (t: number, seq: number) => `[${t.toFixed(6)}] 64 bytes from 10.213.2.50: icmp_seq=${seq} ttl=63 time=2.10 ms`;

describe('data-plane probe', () => {
  // replies every 10 ms from t=100, a gap from 100.50 to 101.73, then replies again; ping's own noise in between
  const lines = ['PING 10.213.2.50 (10.213.2.50) 56(84) bytes of data.'];
  let seq = 1;
  for (let t = 100; t <= 100.5 + 1e-9; t += 0.01) lines.push(line(t, seq++));
  for (let k = 0; k < 20; k++) lines.push(`[${(100.6 + k * 0.05).toFixed(6)}] no answer yet for icmp_seq=${seq++}`);
  lines.push('ping: sendmsg: Network is unreachable');
  seq++; // 72: its send printed as the line for 71, and no answer
  for (let t = 101.73; t <= 102 + 1e-9; t += 0.01) lines.push(line(t, seq++));
  const p = parseProbe(lines.join('\n'), 10);

  it('counts replies and sequence numbers; times are send times (receive time less the round trip)', () => {
    expect(p.received).to.equal(51 + 28);
    expect(p.sent).to.equal(seq - 1);
    expect(p.firstReply).to.be.closeTo(100 - 0.0021, 1e-6);
    expect(p.lostOutsideOutages).to.equal(0);
    expect(p.outages[0]!.lost).to.equal(21);
  });

  it('finds the gap as an outage between its edges: after the last reply, and by the first probe through', () => {
    expect(p.outages).to.have.length(1);
    const o = p.outages[0]!;
    expect(o.gapMs).to.be.closeTo(1227.9, 0.01);
    // in send times: the last probe through (51) left at 100.4979; the first lost one (52, unprinted)
    // at the latest one interval before the second (100.60), which ping printed as it sent it
    expect(o.start![0]).to.be.closeTo(100.4979, 1e-6);
    expect(o.start![1]).to.be.closeTo(100.59, 1e-6);
    // the last lost probe (72) left at 101.55 by the line ping printed sending it; 73 got through
    expect(o.end![0]).to.be.closeTo(101.55, 1e-6);
    expect(o.end![1]).to.be.closeTo(101.7279, 1e-6);
    expect(o.ms).to.be.closeTo((101.63895 - 100.54395) * 1000, 0.01);
    expect(o.resolutionMs).to.be.closeTo((0.0921 + 0.1779) * 500, 0.01);
    expect(p.lossSpacingMs).to.be.closeTo(50, 0.01);
    // five 10 ms intervals
    expect(p.thresholdMs).to.equal(50);
    expect(p.achievedIntervalMs).to.be.closeTo(10, 0.01);
  });

  it('without send times of the lost probes, the edges are as wide as the lost probes could have been spread, and say so', () => {
    const bare = lines.filter((l) => !l.includes('no answer'));
    const o = parseProbe(bare.join('\n'), 10).outages[0]!;
    // 21 lost probes at least 10 ms apart somewhere between 100.4979 and 101.7279
    expect(o.start).to.deep.equal([o.start![0], o.start![1]]);
    expect(o.start![1] - o.start![0]).to.be.closeTo(1.23 - 0.21, 1e-6);
    expect(o.resolutionMs).to.be.greaterThan(1000);
    expect(o.ms - o.resolutionMs!).to.be.at.most(1217.9);
    expect(o.ms + o.resolutionMs!).to.be.at.least(1217.9);
  });

  it('counts probes lost outside outages', () => {
    const holes = ['PING x'];
    for (let k = 1; k <= 100; k++) if (k !== 40) holes.push(line(200 + k * 0.01, k));
    const q = parseProbe(holes.join('\n'), 10);
    expect(q.outages).to.have.length(0);
    expect(q.lostOutsideOutages).to.equal(1);
  });

  it('a late reply (answered after the next probe went out) is not a restart of ping, and nothing is lost', () => {
    const ls = ['PING x'];
    for (let k = 1; k <= 40; k++) {
      if (k === 21) continue;
      ls.push(line(400 + k * 0.005, k));
      if (k === 22) {
        // ping printed "no answer yet" for 21 as it sent 22, and 21's reply came after 22's
        ls.splice(ls.length - 1, 0, `[${(400 + 22 * 0.005).toFixed(6)}] no answer yet for icmp_seq=21`);
        ls.push(`[${(400 + 22 * 0.005 + 0.003).toFixed(6)}] 64 bytes from 10.213.2.50: icmp_seq=21 ttl=63 time=8.10 ms`);
      }
    }
    const q = parseProbe(ls.join('\n'), 5);
    expect(q.sent).to.equal(40);
    expect(q.received).to.equal(40);
    expect(q.lostOutsideOutages).to.equal(0);
    expect(q.outages).to.have.length(0);
  });

  it('a restart of ping (its PING header) begins a new run of sequence numbers; with nothing lost across it, it is a stall', () => {
    const ls = ['PING x'];
    for (let k = 1; k <= 30; k++) ls.push(line(500 + k * 0.005, k));
    ls.push('PING x');
    for (let k = 1; k <= 20; k++) ls.push(line(501 + k * 0.005, k));
    const q = parseProbe(ls.join('\n'), 5);
    expect(q.sent).to.equal(50);
    expect(q.received).to.equal(50);
    expect(q.lostOutsideOutages).to.equal(0);
    expect(q.outages).to.have.length(0);
    expect(q.stalls).to.have.length(1);
    // the old run's last probe unanswered: the gap across the restart is an outage of one lost probe
    const lossy = ls.flatMap((l) => (l.includes('icmp_seq=30 ') ? [] : l.includes('icmp_seq=29 ') ? [l, `[${(500 + 30 * 0.005).toFixed(6)}] no answer yet for icmp_seq=29`] : [l]));
    const r = parseProbe(lossy.join('\n'), 5);
    expect(r.outages).to.have.length(1);
    expect(r.outages[0]!.lost).to.equal(1);
  });

  it('sequence numbers wrap at 65536 without a new run', () => {
    const ls = ['PING x'];
    for (let k = 0; k < 40; k++) ls.push(line(600 + k * 0.005, (65520 + k) % 65536));
    const q = parseProbe(ls.join('\n'), 5);
    expect(q).to.deep.include({ sent: 40, received: 40, lostOutsideOutages: 0 });
    expect(q.outages).to.have.length(0);
  });

  it('a long probe (200,000 replies, 16.7 min at 5 ms, its sequence numbers wrapping thrice) is read whole', () => {
    const ls = ['PING x'];
    for (let k = 1; k <= 200_000; k++) ls.push(line(1000 + k * 0.005, k % 65536));
    const q = parseProbe(ls.join('\n'), 5);
    expect(q).to.deep.include({ sent: 200_000, received: 200_000, lostOutsideOutages: 0, outages: [] });
    expect(q.lastReply! - q.firstReply!).to.be.closeTo(199_999 * 0.005, 1e-3);
  });

  it('no replies, no outages', () => {
    expect(parseProbe('', 10)).to.deep.include({ received: 0, sent: 0, outages: [] });
  });
});

describe('the outage a fault caused', () => {
  const gap = (from: number, to: number) => ({ from, to, gapMs: (to - from) * 1000, ms: (to - from) * 1000 - 5 });
  const gaps = [gap(99, 99.2), gap(100.1, 100.19), gap(100.5, 112), gap(130, 140)];
  it('is the gap in which sampling saw the tunnel down', async () => {
    const { faultOutage } = await import('../../src/analysis/figures.js');
    expect(faultOutage(gaps, 100, 105)).to.equal(gaps[2]);
  });
  it('not a gap that began after the fault was reverted (the failback of a returning master), when one began while it was active', async () => {
    const { faultOutage } = await import('../../src/analysis/figures.js');
    // crash at 100, reverted at 111.5: the failover gap 100.5-112, then the failback 113-128, sampled down at 115
    const fb = [gap(100.5, 112), gap(113, 128)];
    expect(faultOutage(fb, 100, 115, 111.5)).to.equal(fb[0]);
    // sampled down inside the failover gap: that one
    expect(faultOutage(fb, 100, 105, 111.5)).to.equal(fb[0]);
    // nothing began while the fault was active: the gap sampling saw down after it
    expect(faultOutage([gap(113, 128)], 100, 115, 111.5)!.from).to.equal(113);
  });
  it('else the longest gap that began while the fault was active, not a blip right after it', async () => {
    const { faultOutage } = await import('../../src/analysis/figures.js');
    expect(faultOutage(gaps, 100, undefined, 120)).to.equal(gaps[2]);
    expect(faultOutage(gaps, 100, undefined, 100.3)).to.equal(gaps[1]);
  });
});

describe('a stalled prober is not an outage', () => {
  it('a gap with consecutive sequence numbers (ping sent nothing) is a stall, and nothing counts as lost', () => {
    const ls = ['PING x'];
    let t = 300;
    for (let k = 1; k <= 50; k++) {
      ls.push(line(t, k));
      t += k === 20 ? 0.4 : 0.005;
    }
    const p = parseProbe(ls.join('\n'), 5);
    expect(p.outages).to.have.length(0);
    expect(p.stalls).to.have.length(1);
    expect(p.stalls[0]!.gapMs).to.be.closeTo(400 - 2.1, 0.01);
    expect(p.lostOutsideOutages).to.equal(0);
  });
});

describe('a real blackout (calibrate-outage-1s under TCG)', () => {
  // ping every 5 ms; the blackout was applied in the lab from 840.8258 to 841.8635 (1037.7 ms, ±11.1 ms
  // from the brackets around its two nft commits). Inside it ping sent a probe only every 10-20 ms
  // (iputils waits MIN_INTERVAL_MS for a reply before the next), and it stalled ~20 ms right as the
  // blackout began. The gap less one interval measured 1067.9 ms (+30.3 ms).
  const text = readFileSync(new URL('../../../test/fixtures/logs/probe-blackout-1s.log', import.meta.url), 'utf8');
  const p = parseProbe(text, 5);
  const applied = 1037.6644;
  it('shows the spacing ping kept while probes went unanswered', () => {
    expect(p.lossSpacingMs).to.be.within(10, 20);
  });
  it('measures the window from the lost probes\' own send times, within one interval + 5 ms of the truth beyond its own ±11.1 ms', () => {
    expect(p.outages).to.have.length(1);
    const o = p.outages[0]!;
    expect(o.gapMs - p.achievedIntervalMs! - applied).to.be.greaterThan(25);
    expect(Math.abs(o.ms - applied)).to.be.at.most(p.achievedIntervalMs! + 5 + 11.1);
    expect(o.ms - applied).to.be.closeTo(9.4, 1);
    expect(o.resolutionMs).to.be.within(15, 30);
  });
});
