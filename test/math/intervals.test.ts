/**
 * Clopper-Pearson, the exact McNemar p, Student's t quantile and the t-interval against scipy
 * (test/fixtures/intervals/make_intervals.py and test/fixtures/t-quantiles/make_t.py wrote the fixtures), the
 * incomplete beta and the t quantile against closed forms, and the paired bootstrap's coverage by simulation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  betaQuantile,
  clopperPearson,
  mcnemarExactP,
  pairedCounts,
  pairedDifferenceReplicate,
  percentileInterval,
  quantile,
  regularizedBeta,
  studentTQuantile,
  tInterval,
} from '../../src/math/intervals.js';
import { Rng } from '../../src/math/rng.js';

interface Fixture {
  clopperPearson: { k: number; n: number; level: number; low: number; high: number }[];
  mcnemar: { b: number; c: number; p: number }[];
}
const FIXTURE = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/intervals/intervals.json', import.meta.url), 'utf8'),
) as Fixture;

test('Clopper-Pearson matches scipy.stats.beta.ppf (n from 1 to 50,000, levels 95% and 99.5%)', () => {
  assert.ok(FIXTURE.clopperPearson.length >= 40);
  for (const c of FIXTURE.clopperPearson) {
    const r = clopperPearson(c.k, c.n, c.level);
    const where = `k=${c.k} n=${c.n} level=${c.level}`;
    assert.ok(Math.abs(r.low - c.low) <= 1e-10 + 1e-8 * c.low, `${where}: low ${r.low} vs ${c.low}`);
    assert.ok(Math.abs(r.high - c.high) <= 1e-10 + 1e-8 * (1 - c.high), `${where}: high ${r.high} vs ${c.high}`);
  }
});

test('Clopper-Pearson: closed forms at k = 0 and k = n, and input checks', () => {
  // k = 0: high solves (1 - p)^n = a/2.
  const r = clopperPearson(0, 7);
  assert.equal(r.low, 0);
  assert.ok(Math.abs(r.high - (1 - 0.025 ** (1 / 7))) < 1e-14);
  const s = clopperPearson(7, 7);
  assert.equal(s.high, 1);
  assert.ok(Math.abs(s.low - 0.025 ** (1 / 7)) < 1e-14);
  assert.throws(() => clopperPearson(3, 2), RangeError);
  assert.throws(() => clopperPearson(1, 0), RangeError);
  assert.throws(() => clopperPearson(1, 2, 1), RangeError);
});

test('incomplete beta: closed forms I_x(1, b) = 1 - (1-x)^b and I_x(a, 1) = x^a; quantile inverts it', () => {
  for (const x of [0.01, 0.3, 0.5, 0.77, 0.999]) {
    for (const e of [1, 2.5, 10, 300]) {
      assert.ok(Math.abs(regularizedBeta(x, 1, e) - (1 - (1 - x) ** e)) < 1e-13);
      assert.ok(Math.abs(regularizedBeta(x, e, 1) - x ** e) < 1e-13);
    }
  }
  for (const [a, b] of [
    [2, 3],
    [40, 12],
    [3000, 7000],
  ] as const) {
    for (const p of [0.001, 0.025, 0.5, 0.975]) {
      const x = betaQuantile(p, a, b);
      assert.ok(Math.abs(regularizedBeta(x, a, b) - p) < 1e-12, `a=${a} b=${b} p=${p}`);
    }
  }
});

test('exact McNemar p matches scipy.stats.binomtest on the discordant pairs', () => {
  for (const c of FIXTURE.mcnemar) {
    const p = mcnemarExactP(c.b, c.c);
    assert.ok(Math.abs(p - c.p) <= 1e-12 + 1e-9 * c.p, `b=${c.b} c=${c.c}: ${p} vs ${c.p}`);
  }
  assert.equal(mcnemarExactP(0, 0), 1);
  assert.throws(() => mcnemarExactP(-1, 2), RangeError);
});

test('quantile interpolates between order statistics as numpy does', () => {
  assert.equal(quantile([3, 1, 2, 4], 0.5), 2.5);
  assert.equal(quantile([10, 0], 0.25), 2.5);
  assert.equal(quantile([5], 0.9), 5);
  const ci = percentileInterval(Float64Array.from({ length: 101 }, (_, i) => 100 - i));
  // (1 - 0.95) / 2 is 0.025000000000000022 in binary floating point.
  assert.ok(Math.abs(ci.low - 2.5) < 1e-12 && Math.abs(ci.high - 97.5) < 1e-12, `${ci.low} ${ci.high}`);
});

test('pairedCounts counts discordant images and refuses vectors that score different images', () => {
  const a = Uint8Array.from([1, 1, 0, 0, 2, 1]);
  const b = Uint8Array.from([1, 0, 1, 0, 2, 0]);
  assert.deepEqual(pairedCounts(a, b), { n: 5, bothRight: 1, onlyFirst: 2, onlySecond: 1 });
  assert.throws(() => pairedCounts(a, b.subarray(1)), RangeError);
  assert.throws(() => pairedCounts(Uint8Array.from([2, 1]), Uint8Array.from([1, 1])), RangeError);
});

test('paired bootstrap replicate: same distribution as resampling image indices (mean and variance)', () => {
  // Resampling n images, the difference is a mean of n i.i.d. draws of +1 (p10), -1 (p01), 0: mean p10 - p01,
  // variance (p10 + p01 - (p10 - p01)^2) / n.
  const c = { n: 50, bothRight: 20, onlyFirst: 12, onlySecond: 5 };
  const rng = new Rng(3);
  const reps = 20000;
  let s = 0,
    s2 = 0;
  for (let r = 0; r < reps; r++) {
    const d = pairedDifferenceReplicate(c, rng);
    s += d;
    s2 += d * d;
  }
  const mean = s / reps,
    variance = s2 / reps - mean * mean;
  const p10 = 12 / 50,
    p01 = 5 / 50;
  const v = (p10 + p01 - (p10 - p01) ** 2) / 50;
  assert.ok(Math.abs(mean - (p10 - p01)) < 4 * Math.sqrt(v / reps), `mean ${mean}`);
  assert.ok(Math.abs(variance / v - 1) < 0.05, `variance ${variance} vs ${v}`);
  assert.equal(pairedDifferenceReplicate({ n: 9, bothRight: 9, onlyFirst: 0, onlySecond: 0 }, rng), 0);
});

test('paired bootstrap percentile 95% interval covers the true difference in 92-98% of 500 simulated sets', () => {
  // Each image: first only right with 0.2, second only with 0.12, both or neither otherwise; true difference 0.08.
  const rng = new Rng(20240601);
  const n = 120,
    reps = 500,
    sets = 500;
  const truth = 0.2 - 0.12;
  let covered = 0;
  const replicates = new Float64Array(reps);
  for (let s = 0; s < sets; s++) {
    const first = new Uint8Array(n),
      second = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      if (u < 0.2) first[i] = 1;
      else if (u < 0.32) second[i] = 1;
      else if (u < 0.72) first[i] = second[i] = 1;
    }
    const counts = pairedCounts(first, second);
    for (let r = 0; r < reps; r++) replicates[r] = pairedDifferenceReplicate(counts, rng);
    const ci = percentileInterval(replicates);
    if (ci.low <= truth && truth <= ci.high) covered++;
  }
  const rate = covered / sets;
  assert.ok(rate >= 0.92 && rate <= 0.98, `coverage ${rate}`);
});

interface TFixture {
  quantiles: { p: number; df: number; t: number }[];
  intervals: { values: number[]; level: number; mean: number; std: number; low: number; high: number }[];
}
const T_FIXTURE = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/t-quantiles/t.json', import.meta.url), 'utf8'),
) as TFixture;

test('Student t quantile: closed forms for 1, 2 and 4 degrees of freedom', () => {
  for (const p of [0.6, 0.9, 0.975, 0.995, 0.025, 0.3]) {
    // df 1 is the Cauchy distribution; df 2 and df 4 have the closed forms of Shaw (2006).
    const cauchy = Math.tan(Math.PI * (p - 0.5));
    const two = (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
    const a = 4 * p * (1 - p);
    const q = Math.cos(Math.acos(Math.sqrt(a)) / 3) / Math.sqrt(a);
    const four = Math.sign(p - 0.5) * 2 * Math.sqrt(q - 1);
    for (const [df, want] of [
      [1, cauchy],
      [2, two],
      [4, four],
    ] as const) {
      const got = studentTQuantile(p, df);
      assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `p=${p} df=${df}: ${got} vs ${want}`);
    }
  }
  assert.equal(studentTQuantile(0.5, 3), 0);
  assert.throws(() => studentTQuantile(1, 3), RangeError);
  assert.throws(() => studentTQuantile(0.9, 0), RangeError);
});

test('Student t quantile and the t-interval match scipy (test/fixtures/t-quantiles/make_t.py)', () => {
  assert.ok(T_FIXTURE.quantiles.length >= 40);
  for (const c of T_FIXTURE.quantiles) {
    const got = studentTQuantile(c.p, c.df);
    assert.ok(Math.abs(got - c.t) <= 1e-9 * Math.max(1, Math.abs(c.t)), `p=${c.p} df=${c.df}: ${got} vs ${c.t}`);
  }
  for (const c of T_FIXTURE.intervals) {
    const r = tInterval(c.values, c.level)!;
    for (const k of ['mean', 'std', 'low', 'high'] as const)
      assert.ok(Math.abs(r[k] - c[k]) <= 1e-12, `${c.values.join()}: ${k} ${r[k]} vs ${c[k]}`);
    assert.equal(r.n, c.values.length);
  }
  assert.equal(tInterval([0.3]), null, 'one seed has no spread');
  assert.equal(tInterval([0.3, Number.NaN]), null);
});
