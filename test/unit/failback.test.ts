import { expect } from 'chai';
import { attribute, failback } from '../../src/analysis/failback.js';
import type { Outage } from '../../src/analysis/dataplane.js';
import type { VrrpTransition } from '../../src/analysis/metrics.js';
import type { RunEvent } from '../../src/run/events.js';

const gap = (from: number, to: number): Outage => ({ from, to, gapMs: (to - from) * 1000, ms: (to - from) * 1000 });
const ev = (t: number, kind: RunEvent['kind'], id: string): RunEvent => ({ seq: 0, t, kind, message: '', data: { id } });

/** A node crash at t=10 reverted at t=40 (the old master back, preempting): the stream of old-master-returns-preempt. */
const events = [ev(10, 'fault.inject', 'crash'), ev(40, 'fault.revert', 'crash')];
const vrrp: VrrpTransition[] = [
  { t: 1, node: 'a', state: 'MASTER', source: 'keepalived' },
  { t: 10, node: 'a', state: 'DOWN', source: 'runner' },
  { t: 11.2, node: 'b', state: 'MASTER', source: 'keepalived' },
  { t: 43.5, node: 'a', state: 'MASTER', source: 'keepalived' },
  { t: 43.6, node: 'b', state: 'BACKUP', source: 'keepalived' },
];

describe('outages attributed, and the failback measured', () => {
  it('an outage that began while the fault was active is the fault\'s; one after its revert the revert\'s; one before any fault unexplained', () => {
    const a = attribute([gap(2, 2.1), gap(10.05, 25), gap(43.4, 58.2)], events);
    expect(a.map((o) => [o.cause, o.step])).to.deep.equal([['unexplained', undefined], ['fault', 'crash'], ['revert', 'crash']]);
  });

  it('a second fault still active keeps an outage the fault\'s though the first was reverted', () => {
    const two = [ev(10, 'fault.inject', 'one'), ev(12, 'fault.inject', 'two'), ev(20, 'fault.revert', 'one'), ev(30, 'fault.revert', 'two')];
    expect(attribute([gap(21, 22), gap(31, 32)], two).map((o) => [o.cause, o.step])).to.deep.equal([['fault', 'two'], ['revert', 'two']]);
  });

  it('the failback: the longest revert-caused outage each way, and the revert -> the old holder MASTER again', () => {
    const fwd = attribute([gap(10.05, 25), gap(43.4, 58.2), gap(60, 61)], events);
    const rev = attribute([gap(10.1, 25.2), gap(43.5, 57.9)], events);
    const f = failback(fwd, rev, events, vrrp, 'a');
    // 58.2 - 43.4 = 14.8 s; 57.9 - 43.5 = 14.4 s; 43.5 - 40 = 3.5 s
    expect(f.outageMs).to.be.closeTo(14_800, 1e-6);
    expect(f.reverseOutageMs).to.be.closeTo(14_400, 1e-6);
    expect(f.takeoverMs).to.be.closeTo(3_500, 1e-6);
    expect([f.node, f.revertAt]).to.deep.equal(['a', 40]);
  });

  it('nopreempt: the old holder never takes the VIP back, and no outage follows the revert', () => {
    const f = failback(attribute([gap(10.05, 25)], events), [], events, vrrp.filter((v) => !(v.node === 'a' && v.t > 40)), 'a');
    expect([f.outageMs, f.takeoverMs]).to.deep.equal([undefined, undefined]);
  });
});

describe('a revert counts from when it was asked', () => {
  it('a failback that began while the node was still restarting (before the revert returned) is the revert\'s', () => {
    // the revert of the crash was asked at 30 and returned at 40; the old master preempted at 35.5
    const asked = [ev(10, 'fault.inject', 'crash'), { ...ev(40, 'fault.revert', 'crash'), data: { id: 'crash', asked: 30 } }];
    const a = attribute([gap(10.05, 25), gap(35.4, 50)], asked);
    expect(a.map((o) => o.cause)).to.deep.equal(['fault', 'revert']);
    const f = failback(a, [], asked, [...vrrp.slice(0, 3), { t: 35.5, node: 'a', state: 'MASTER', source: 'keepalived' }], 'a');
    expect(f.outageMs).to.be.closeTo(14_600, 1e-6);
    expect(f.takeoverMs).to.be.closeTo(5_500, 1e-6);
  });
});

describe('host starvation over enough windows', () => {
  const lag = (t: number, host: string, maxMs: number) => ({ ev: 'host.lag' as const, t, host, maxMs, meanMs: maxMs / 2, ticks: 10 });
  it('a short fault with two spikes of the lab\'s own work is not starved: its p90 is taken over 40 windows, the calm ones before it included', async () => {
    const { starvation } = await import('../../src/analysis/starvation.js');
    const hosts = ['a', 'b', 'client', 'lanhost'];
    // 6 quiet seconds before the fault at t=10, then 5 s of fault with a 165 ms and a 140 ms spike
    const ev = [...[4, 5, 6, 7, 8, 9].flatMap((t) => hosts.map((h) => lag(t, h, 10))), ...[10, 11, 12, 13, 14].flatMap((t) => hosts.map((h) => lag(t, h, h === 'lanhost' && t === 12 ? 165 : h === 'client' && t === 13 ? 140 : 15)))];
    const s = starvation(ev, 10, 14);
    expect([s.windows, s.starved]).to.deep.equal([40, false]);
    expect(s.detail).to.match(/over 40 one-second windows \(20 of them before the fault\)/);
    // the same span sustained at 80 ms is starved
    const hog = ev.map((e) => ({ ...e, maxMs: 80 }));
    expect(starvation(hog, 10, 14).starved).to.equal(true);
  });
});
