import { expect } from 'chai';
import { advertTakeover, parseAdverts, type Advert } from '../../src/analysis/adverts.js';
import { takeoverBand } from '../../src/analysis/findings/takeover-band.js';
import type { ScenarioResult } from '../../src/run/result.js';
import { defaultTopologyPath, loadProfile, loadTopology } from '../../src/topology/load.js';
import { readFileSync } from 'node:fs';
import { fixture } from '../helpers.js';

/**
 * The takeover from the master's last advert on the wire: a backup restarts its master-down timer at
 * every advert it receives, so its MASTER line comes 3 × A + skew after the last one, whatever the
 * fault command cost.
 */

// the master (10.213.1.11, prio 150) advertising every 300 ms from 100.0 s until it died after 102.1 s
const stream = (until: number, prio = 150): Advert[] => {
  const out: Advert[] = [];
  for (let t = 100; t <= until + 1e-9; t += 0.3) out.push({ t, src: '10.213.1.11', version: 3, prio, intervalMs: 300 });
  return out;
};
// west, prio 100, fast profile: down = 3 × 0.3 + (156/256) × 0.3 s
const skewMs = ((256 - 100) / 256) * 300;
const downMs = 900 + skewMs;
const o = { faultAt: 101.5, downMs, skewMs, advertMs: 300, lagMs: 40 };

describe('the takeover from the master\'s last advert', () => {
  it('parses tcpdump -e -tt -v lines of VRRPv3 adverts', () => {
    const text = [
      '1700000100.123456 02:42:0a:d5:01:0b > 01:00:5e:00:00:12, ethertype IPv4 (0x0800), length 54: (tos 0xc0, ttl 255, id 0, offset 0, flags [none], proto VRRP (112), length 40)',
      '    10.213.1.11 > 224.0.0.18: VRRPv3, Advertisement, vrid 51, prio 150, intvl 30cs, length 20, addrs: 10.213.1.100',
    ].join('\n');
    expect(parseAdverts(text)).to.deep.equal([{ t: 1700000100.123456, src: '10.213.1.11', version: 3, prio: 150, intervalMs: 300 }]);
  });

  it('a MASTER line one master-down interval after the last advert is inside the band; the kill latency is the advert\'s distance from the ask', () => {
    const ads = stream(102.1);
    const a = advertTakeover(ads, { ...o, masterAt: 102.1 + downMs / 1000 + 0.015 })!;
    expect(a.ok, a.detail).to.equal(true);
    expect(a.fromLastAdvertMs).to.be.closeTo(downMs + 15, 1e-6);
    expect(a.lastAdvertMs).to.be.closeTo(600, 1e-6);
    expect(a.resigned).to.equal(false);
    expect(a.detail).to.match(/600 ms after the fault was asked/);
  });

  it('a MASTER line beyond one advert plus the lag is outside; the measured lag widens the band', () => {
    const late = { ...o, masterAt: 102.1 + downMs / 1000 + 0.4 };
    expect(advertTakeover(stream(102.1), late)!.ok).to.equal(false);
    expect(advertTakeover(stream(102.1), late)!.detail).to.match(/: outside$/);
    expect(advertTakeover(stream(102.1), { ...late, lagMs: 200 })!.ok).to.equal(true);
    // too early is outside as well: the timer cannot fire before the interval
    expect(advertTakeover(stream(102.1), { ...o, masterAt: 102.1 + 0.5 })!.ok).to.equal(false);
  });

  it('after a priority-0 advert (the master resigned) VRRP predicts only the skew', () => {
    const ads = [...stream(101.8), { t: 102.0, src: '10.213.1.11', version: 3, prio: 0, intervalMs: 300 }];
    const a = advertTakeover(ads, { ...o, masterAt: 102.0 + skewMs / 1000 + 0.01 })!;
    expect([a.resigned, a.expectedMs, a.ok]).to.deep.equal([true, skewMs, true]);
  });

  it('no advert in the window: nothing to measure from', () => {
    expect(advertTakeover([], { ...o, masterAt: 103 })).to.equal(undefined);
    expect(advertTakeover(stream(100.5), { ...o, faultAt: 110, masterAt: 111 })).to.equal(undefined);
  });

  describe('the takeover-band finding reads it', () => {
    const topology = loadTopology(defaultTopologyPath()).topology;
    const profile = loadProfile('fast');
    const tight = (): ScenarioResult => JSON.parse(readFileSync(fixture('report-run', 'node-crash-tight', 'repeat-1', 'result.json'), 'utf8')) as ScenarioResult;

    it('keepalived inside the band from the last advert: the excess is the kill, measured on the wire', () => {
      const r = tight();
      const tk = r.metrics.takeoverCheck!;
      const faultAt = r.metrics.takeoverFaultAt!;
      const masterAt = faultAt + tk.keepalivedLogMs! / 1000;
      // the master's last advert reached the backup one master-down interval (+10 ms) before the line
      const last = masterAt - downMs / 1000 - 0.01;
      const ads = [0.9, 0.6, 0.3, 0].map((d) => ({ t: last - d, src: '10.213.1.11', version: 3, prio: 150, intervalMs: 300 }));
      tk.advert = advertTakeover(ads, { faultAt, masterAt, downMs, skewMs, advertMs: 300, lagMs: 40 });
      expect(tk.advert?.ok, tk.advert?.detail).to.equal(true);
      const f = takeoverBand({ result: r, profile, topology })!;
      expect(f.id).to.equal('takeover-kill-latency');
      expect(f.mechanism).to.match(/passed between the fault being asked and the master's last advert/);
      expect(f.evidence.map((e) => e.what).join('\n')).to.match(/the master's last advert reached/);
    });

    it('keepalived late from the last advert: the timer fired late, whatever the kill cost', () => {
      const r = tight();
      const tk = r.metrics.takeoverCheck!;
      const faultAt = r.metrics.takeoverFaultAt!;
      const masterAt = faultAt + tk.keepalivedLogMs! / 1000;
      // the last advert came right at the ask: all of the takeover is keepalived's
      tk.advert = advertTakeover([{ t: faultAt + 0.01, src: '10.213.1.11', version: 3, prio: 150, intervalMs: 300 }], { faultAt, masterAt, downMs, skewMs, advertMs: 300, lagMs: 40 });
      expect(tk.advert?.ok).to.equal(false);
      const f = takeoverBand({ result: r, profile, topology })!;
      expect(f.id).to.be.oneOf(['takeover-beyond-vrrp', 'takeover-host-starved']);
      expect(f.impactMs).to.be.closeTo(tk.advert!.fromLastAdvertMs - downMs - 340, 1e-6);
    });
  });
});
