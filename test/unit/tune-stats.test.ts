import { expect } from 'chai';
import { bootstrapCi, seededRandom, summarize, tukeyFences, wilson } from '../../src/tune/stats.js';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

describe('tune statistics', () => {
  it('Wilson intervals by hand: 5 of 10 is [0.2366, 0.7634]; 0 of 20 still has an upper bound of z²/(n+z²) = 0.1611', () => {
    const w = wilson(5, 10);
    expect(w.estimate).to.equal(0.5);
    expect(w.low).to.be.closeTo(0.2366, 1e-4);
    expect(w.high).to.be.closeTo(0.7634, 1e-4);
    const z = wilson(0, 20);
    expect([z.estimate, z.low]).to.deep.equal([0, 0]);
    expect(z.high).to.be.closeTo(3.8415 / (20 + 3.8415), 1e-4);
    expect(() => wilson(3, 2)).to.throw(RangeError);
  });

  it('Tukey fences by hand: 1..8 and 100 have Q1 3, Q3 7 (linear quantiles), fences −3 and 13, and 100 is flagged', () => {
    const f = tukeyFences([1, 2, 3, 4, 5, 6, 7, 8, 100]);
    expect([f.q1, f.q3, f.low, f.high, f.outliers]).to.deep.equal([3, 7, -3, 13, [100]]);
  });

  it('a seeded bootstrap is reproducible, and a different seed resamples differently', () => {
    const xs = [4.6, 14.8, 5.1, 4.9, 15.2, 5.0, 4.7, 5.3, 14.1, 4.8];
    const a = bootstrapCi(xs, median, { seed: 42, resamples: 500 });
    expect(bootstrapCi(xs, median, { seed: 42, resamples: 500 })).to.deep.equal(a);
    expect(a.estimate).to.equal(5.05);
    expect(a.low).to.be.at.most(a.estimate);
    expect(a.high).to.be.at.least(a.estimate);
    const r1 = seededRandom(1);
    const r2 = seededRandom(2);
    expect(r1()).to.not.equal(r2());
  });

  it('covers the true median of a known distribution about 95 % of the time (400 samples of 40 uniform values)', () => {
    const rnd = seededRandom(7);
    let hit = 0;
    const trials = 400;
    for (let k = 0; k < trials; k++) {
      const xs = Array.from({ length: 40 }, () => rnd());
      const ci = bootstrapCi(xs, median, { seed: 1000 + k, resamples: 400 });
      if (ci.low <= 0.5 && 0.5 <= ci.high) hit++;
    }
    // a percentile bootstrap of the median runs slightly conservative at this n
    expect(hit / trials).to.be.within(0.9, 0.99);
  });

  it('summarize: n, median, p95, max and intervals; one value gives no interval', () => {
    const s = summarize([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], 3);
    // linear p95 of 1..20: 19 + 0.05 × (20 − 19) = 19.05
    expect([s.n, s.median, s.p95, s.max, s.seed]).to.deep.equal([20, 10.5, 19.05, 20, 3]);
    expect(s.medianCi!.low).to.be.below(10.5);
    expect(summarize([7], 1).medianCi).to.equal(null);
  });
});
