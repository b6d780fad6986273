import { expect } from 'chai';
import { masterIntervals, parseVrrpLog, splitBrain, tunnelRestored, vipTakeoverMs } from '../../src/runner/metrics.js';

const logA = ['100.000000 INSTANCE "VI_1" MASTER 150', 'garbage', '105.000000 INSTANCE "VI_1" MASTER_RX_LOWER_PRI 150', '110.500000 INSTANCE "VI_1" FAULT 150', '120.000000 INSTANCE "VI_1" BACKUP 150'].join('\n');
const logB = ['100.000000 INSTANCE "VI_1" BACKUP 100', '110.800000 INSTANCE "VI_1" MASTER 100', '121.250000 INSTANCE "VI_1" BACKUP 100'].join('\n');

describe('VRRP metrics', () => {
  const ts = [...parseVrrpLog(logA, 'a'), ...parseVrrpLog(logB, 'b')];

  it('parses keepalived notify_fifo lines and skips the rest', () => {
    expect(ts).to.have.length(6);
    expect(ts[0]).to.deep.equal({ t: 100, node: 'a', state: 'MASTER', source: 'keepalived' });
  });

  it('clips MASTER intervals to the window', () => {
    expect(masterIntervals(ts, 'a', 105, 130)).to.deep.equal([[105, 110.5]]);
    expect(masterIntervals(ts, 'b', 105, 121)).to.deep.equal([[110.8, 121]]);
  });

  it('finds no split brain when the masters hand over', () => {
    expect(splitBrain(ts, ['a', 'b'], 100, 130).totalMs).to.equal(0);
  });

  it('measures the overlap when both are MASTER', () => {
    const both = [...ts, { t: 115, node: 'a', state: 'MASTER', source: 'keepalived' as const }];
    const sb = splitBrain(both, ['a', 'b'], 100, 130);
    expect(sb.totalMs).to.be.closeTo(5000, 1);
    expect(sb.periods).to.deep.equal([[115, 120]]);
  });

  it('takeover is fault to the other node\'s MASTER line', () => {
    const tk = vipTakeoverMs(ts, 'a', 110)!;
    expect(tk.node).to.equal('b');
    expect(tk.ms).to.be.closeTo(800, 0.001);
    expect(vipTakeoverMs(ts, 'a', 122)).to.equal(undefined);
  });

  it('tunnel restoration needs a down sample first', () => {
    expect(tunnelRestored([{ t: 1, up: true }, { t: 2, up: true }], 0)).to.deep.equal({});
    expect(tunnelRestored([{ t: 1, up: true }, { t: 2, up: false }, { t: 5, up: false }, { t: 7.5, up: true }], 1.5)).to.deep.equal({ downAt: 2, upAt: 7.5 });
  });
});
