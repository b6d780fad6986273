import { expect } from 'chai';
import { TimeoutError } from '../../src/errors.js';
import { formatMs, parseDuration, waitFor, type Clock } from '../../src/util/time.js';

function fakeClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: (ms) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

describe('time', () => {
  it('formats durations in the unit of what is printed: no "1000 ms", no "60 s"', () => {
    expect([999.4, 999.9999, 1000, 119_949, 119_960, 179_600, 181_000].map(formatMs)).to.deep.equal(['999 ms', '1.0 s', '1.0 s', '119.9 s', '2 min 0 s', '3 min 0 s', '3 min 1 s']);
  });

  it('parses durations', () => {
    expect(parseDuration('500ms')).to.equal(500);
    expect(parseDuration('1.5s')).to.equal(1500);
    expect(parseDuration('2m')).to.equal(120_000);
    expect(parseDuration(3)).to.equal(3000);
    expect(() => parseDuration('soon')).to.throw(/expected a duration like "5s"/);
  });

  it('waitFor polls with growing intervals until the predicate holds', async () => {
    const clock = fakeClock();
    let n = 0;
    const v = await waitFor('n to reach 4', () => Promise.resolve(++n), (x) => x >= 4, String, { timeoutMs: 10_000, intervalMs: 100, clock });
    expect(v).to.equal(4);
    expect(clock.slept).to.deep.equal([100, 150, 225]);
  });

  it('waitFor names what it awaited, the last state and the deadline', async () => {
    const clock = fakeClock();
    const err = await waitFor('the VIP to move', () => Promise.resolve('a=MASTER'), () => false, (s) => s, { timeoutMs: 1000, intervalMs: 200, clock }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(TimeoutError);
    expect((err as Error).message).to.equal('timed out after 1.0 s waiting for the VIP to move; last observed: a=MASTER');
  });
});
