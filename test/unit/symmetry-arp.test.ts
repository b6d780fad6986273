import { expect } from 'chai';
import { parseArp } from '../../src/analysis/arp.js';
import { handoverMoments, judgeSymmetry, parseCounters, type CounterSnapshot } from '../../src/analysis/symmetry.js';
import { stats } from '../../src/util/stats.js';

const snap = (t: number, a: [number, number] | null, b: [number, number] | null, label = `t${t}`): CounterSnapshot => ({
  t,
  label,
  nodes: { a: a && { up: a[0], down: a[1] }, b: b && { up: b[0], down: b[1] } },
});

describe('routing symmetry (nft counters)', () => {
  it('parses `nft list counters`', () => {
    const text = 'table inet vipdrill_fw {\n\tcounter client_to_lan {\n\t\tpackets 12 bytes 1008\n\t}\n\tcounter lan_to_client {\n\t\tpackets 11 bytes 924\n\t}\n}';
    expect(parseCounters(text)).to.deep.equal({ up: 12, down: 11 });
    expect(parseCounters('')).to.equal(null);
  });

  it('one node both ways is symmetric; LAN -> client through the other node is asymmetric, with the counts', () => {
    expect(judgeSymmetry([snap(1, [0, 0], [0, 0]), snap(2, [200, 198], [0, 0])]).symmetric).to.equal(true);
    const bad = judgeSymmetry([snap(1, [0, 0], [0, 0]), snap(2, [200, 198], [0, 0]), snap(3, [400, 200], [0, 190])]);
    expect(bad.symmetric).to.equal(false);
    expect(bad.evidence).to.match(/client→LAN via a \(a 200, b 0 pkts\), LAN→client via b \(a 2, b 190 pkts\)/);
  });

  it('windows with a node down or restarted (counters reset), or without traffic, are not judged', () => {
    const s = judgeSymmetry([snap(1, [100, 100], [0, 0]), snap(2, null, [5, 5]), snap(3, [3, 3], [200, 200]), snap(4, [3, 3], [205, 205])]);
    expect(s.windows).to.have.length(0);
    expect(s.symmetric).to.equal(null);
  });
});

describe('ARP claims for the VIP', () => {
  const macs = { a: '02:42:0a:d5:01:0b', b: '02:42:0a:d5:01:0c' };
  const garp = (t: number, mac: string) => `${t.toFixed(6)} ${mac} > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.213.1.100 (ff:ff:ff:ff:ff:ff) tell 10.213.1.100, length 28`;
  it('a failover is a handover; claims in turn again and again are a duplicate', () => {
    const handover = parseArp([garp(10, macs.a), garp(20, macs.a), garp(21, macs.b), garp(31, macs.b)].join('\n'), '10.213.1.100', macs);
    expect(handover.duplicate).to.equal(false);
    expect(handover.claims.map((c) => c.node)).to.deep.equal(['a', 'a', 'b', 'b']);
    const dup = parseArp([garp(10, macs.a), garp(11, macs.b), garp(20, macs.a), garp(21, macs.b)].join('\n'), '10.213.1.100', macs);
    expect(dup.duplicate).to.equal(true);
    expect(dup.detail).to.match(/claimed in turn by a and b/);
  });
});

describe('stats', () => {
  it('min, median, p95 and max, ignoring missing values', () => {
    expect(stats([3, 1, undefined, 2, null, 10])).to.deep.equal({ n: 4, min: 1, median: 2.5, p95: 10, max: 10 });
    expect(stats([])).to.equal(undefined);
  });
});

describe('routing symmetry around a handover', () => {
  it('a window with a VRRP change in it (VIP and session moving at different moments) is not judged', () => {
    const snaps: CounterSnapshot[] = [snap(1, [0, 0], [0, 0]), snap(2, [200, 200], [0, 0]), snap(3, [210, 380], [190, 20])];
    expect(judgeSymmetry(snaps).symmetric).to.equal(false);
    const s = judgeSymmetry(snaps, [2.5]);
    expect(s.symmetric).to.equal(true);
    expect(s.windows).to.have.length(1);
  });

  // the counters of a misrouted-lan run on the real stack (20 ms probes): the LAN host's route to the pool
  // via the backup, from the fault (t 2.75) to the heal (4.25); the client's tunnel sampled down at 3.77
  const misroute: CounterSnapshot[] = [
    [0, 'start', [166, 461], [3862, 5798]],
    [2.7513, 'step 1 (fault)', [421, 711], [3862, 5808]],
    [3.923, 'step 2 (wait)', [467, 711], [3862, 5900]],
    [4.247, 'step 3 (heal)', [484, 721], [3862, 5912]],
    [4.5398, 'step 4 (wait)', [508, 745], [3862, 5912]],
    [4.9772, 'back at baseline', [553, 790], [3862, 5912]],
    [6.1779, 'end', [664, 902], [3862, 5912]],
  ].map(([t, label, e, w]) => ({ t: t as number, label: label as string, nodes: { east: { up: (e as number[])[0]!, down: (e as number[])[1]! }, west: { up: (w as number[])[0]!, down: (w as number[])[1]! } } }));

  it('a tunnel sampled down with no VRRP change before it is the fault, not a handover: its window is judged', () => {
    const tunnelDown = [3.7726];
    // no VRRP change: the misroute's window is judged, asymmetric (46 packets up through east, 92 down through west)
    const s = judgeSymmetry(misroute, handoverMoments([], tunnelDown));
    expect(s.symmetric).to.equal(false);
    const bad = s.windows.filter((w) => !w.symmetric);
    expect(bad.map((w) => [w.label, w.up, w.down])).to.deep.include(['step 1 (fault) → step 2 (wait)', { east: 467 - 421, west: 0 }, { east: 0, west: 5900 - 5808 }]);
    expect(s.evidence).to.match(/client→LAN via east .*LAN→client via west/);
    // after a VRRP change the same sample is a reconnect in flight, and its window is not judged
    expect(handoverMoments([1], tunnelDown)).to.deep.equal([1, 3.7726]);
    expect(handoverMoments([5], tunnelDown)).to.deep.equal([5]);
    expect(judgeSymmetry(misroute, handoverMoments([1], tunnelDown)).windows.map((w) => w.label)).to.not.include('step 1 (fault) → step 2 (wait)');
  });
});
