/**
 * Exact intervals and tests for accuracies measured on a finite set of images:
 *
 * - Clopper-Pearson ("exact") binomial interval, through the inverse of the regularized incomplete beta function;
 * - the exact McNemar test for two classifiers scored on the same images (a binomial test on the discordant pairs);
 * - the percentile bootstrap: quantiles of resampled statistics, and the paired resampling of two models'
 *   per-image correctness.
 *
 * Pure: randomness comes only from a seeded `Rng`, so a seed fixes every interval.
 */
import type { Rng } from './rng.js';

export interface Interval {
  low: number;
  high: number;
}

// Lanczos approximation (g = 7, 9 coefficients): |relative error| < 1e-15 for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Gamma(x) for x > 0. */
export function lnGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`lnGamma: expected x > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz), valid for x < (a + 1) / (a + b + 2). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b,
    qap = a + 1,
    qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 100000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) return h;
  }
  throw new RangeError(`betaContinuedFraction: no convergence for a=${a}, b=${b}, x=${x}`);
}

/** The regularized incomplete beta function I_x(a, b) = P[Beta(a, b) <= x], for a, b > 0 and x in [0, 1]. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`regularizedBeta: expected a, b > 0, got ${a}, ${b}`);
  if (!(x >= 0 && x <= 1)) throw new RangeError(`regularizedBeta: expected x in [0, 1], got ${x}`);
  if (x === 0) return 0;
  if (x === 1) return 1;
  const lnFront = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(a, b, x)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(b, a, 1 - x)) / b;
}

/**
 * The p-quantile of Beta(a, b): the x with I_x(a, b) = p. Bisection to the last representable bit (I is
 * monotone, so bisection cannot fail where Newton steps could leave [0, 1]).
 */
export function betaQuantile(p: number, a: number, b: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`betaQuantile: expected p in [0, 1], got ${p}`);
  if (p === 0) return 0;
  if (p === 1) return 1;
  let lo = 0,
    hi = 1;
  for (let i = 0; i < 1100; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    if (regularizedBeta(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

function checkCounts(k: number, n: number, where: string): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${where}: expected n to be a positive integer, got ${n}`);
  if (!Number.isInteger(k) || k < 0 || k > n)
    throw new RangeError(`${where}: expected k to be an integer in [0, ${n}], got ${k}`);
}

function checkLevel(level: number, where: string): void {
  if (!(level > 0 && level < 1)) throw new RangeError(`${where}: expected a level in (0, 1), got ${level}`);
}

/**
 * Exact two-sided Clopper-Pearson interval for a proportion: k successes out of n, at `level` (default 0.95),
 * as fractions. low = Beta(a/2; k, n - k + 1) quantile (0 when k = 0), high = Beta(1 - a/2; k + 1, n - k)
 * quantile (1 when k = n), a = 1 - level. Throws RangeError for k, n not counts or a level outside (0, 1).
 */
export function clopperPearson(k: number, n: number, level = 0.95): Interval {
  checkCounts(k, n, 'clopperPearson');
  checkLevel(level, 'clopperPearson');
  const alpha = 1 - level;
  return {
    low: k === 0 ? 0 : betaQuantile(alpha / 2, k, n - k + 1),
    high: k === n ? 1 : betaQuantile(1 - alpha / 2, k + 1, n - k),
  };
}

/**
 * Exact two-sided McNemar p-value for two classifiers on the same images: b = images only the first gets right,
 * c = images only the second gets right; p = min(1, 2 P[Binomial(b + c, 1/2) <= min(b, c)]). 1 when b + c = 0.
 * The binomial tail is summed term by term in log space (exact up to rounding for any b + c).
 */
export function mcnemarExactP(b: number, c: number): number {
  for (const [name, v] of [
    ['b', b],
    ['c', c],
  ] as const)
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`mcnemarExactP: expected ${name} to be a count, got ${v}`);
  const n = b + c;
  if (n === 0) return 1;
  const m = Math.min(b, c);
  const lnHalfN = -n * Math.LN2;
  const lnFactN = lnGamma(n + 1);
  // log terms ln C(n, k) 2^-n for k = 0..m, added with a running maximum (the largest is the last, k = m <= n/2).
  const terms: number[] = [];
  for (let k = 0; k <= m; k++) terms.push(lnFactN - lnGamma(k + 1) - lnGamma(n - k + 1) + lnHalfN);
  const top = terms[terms.length - 1]!;
  let s = 0;
  for (const t of terms) s += Math.exp(t - top);
  return Math.min(1, 2 * Math.exp(top) * s);
}

/**
 * The q-quantile (q in [0, 1]) of `values` by linear interpolation between order statistics (numpy's default,
 * "type 7"). NaN entries are not allowed. Sorts a copy.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new RangeError('quantile: no values');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: expected q in [0, 1], got ${q}`);
  const sorted = Float64Array.from(values).sort();
  if (Number.isNaN(sorted[sorted.length - 1]!)) throw new RangeError('quantile: NaN among the values');
  return sortedQuantile(sorted, q);
}

function sortedQuantile(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Percentile bootstrap interval at `level`: the (1 - level)/2 and (1 + level)/2 quantiles of the replicates. */
export function percentileInterval(replicates: ArrayLike<number>, level = 0.95): Interval {
  checkLevel(level, 'percentileInterval');
  if (replicates.length === 0) throw new RangeError('percentileInterval: no replicates');
  const sorted = Float64Array.from(replicates).sort();
  if (Number.isNaN(sorted[sorted.length - 1]!)) throw new RangeError('percentileInterval: NaN among the replicates');
  return { low: sortedQuantile(sorted, (1 - level) / 2), high: sortedQuantile(sorted, (1 + level) / 2) };
}

/**
 * Two models' top-1 correctness on the same images, reduced to what a paired resample can change: the counts of
 * images only the first model gets right (`onlyFirst`) and only the second (`onlySecond`), out of `n` scored.
 */
export interface PairedCounts {
  n: number;
  bothRight: number;
  onlyFirst: number;
  onlySecond: number;
}

/**
 * Counts the paired outcomes of two per-image correctness vectors (1 right, 0 wrong, any other value: not
 * scored). Throws RangeError when the vectors differ in length or in which images are scored.
 */
export function pairedCounts(first: Uint8Array, second: Uint8Array): PairedCounts {
  if (first.length !== second.length) throw new RangeError(`pairedCounts: ${first.length} vs ${second.length} images`);
  let n = 0,
    bothRight = 0,
    onlyFirst = 0,
    onlySecond = 0;
  for (let i = 0; i < first.length; i++) {
    const a = first[i]!,
      b = second[i]!;
    const sa = a <= 1,
      sb = b <= 1;
    if (sa !== sb) throw new RangeError(`pairedCounts: image ${i} is scored for one model only`);
    if (!sa) continue;
    n++;
    if (a === 1 && b === 1) bothRight++;
    else if (a === 1) onlyFirst++;
    else if (b === 1) onlySecond++;
  }
  return { n, bothRight, onlyFirst, onlySecond };
}

/**
 * One paired bootstrap replicate of (accuracy of first - accuracy of second): n images drawn with replacement
 * from the set, both models scored on the same draw. Only the discordant images change the difference, so a
 * draw needs the counts, not the images: each of the n draws lands on a "first only" image with probability
 * onlyFirst / n and on a "second only" one with onlySecond / n, exactly as drawing an image index would.
 */
export function pairedDifferenceReplicate(c: PairedCounts, rng: Rng): number {
  const { n, onlyFirst, onlySecond } = c;
  if (n === 0) return NaN;
  const discordant = onlyFirst + onlySecond;
  if (discordant === 0) return 0;
  let diff = 0;
  for (let i = 0; i < n; i++) {
    const r = rng.int(n);
    if (r < discordant) diff += r < onlyFirst ? 1 : -1;
  }
  return diff / n;
}

/**
 * The p-quantile of Student's t distribution with `df` degrees of freedom (df > 0, p in (0, 1)), from the
 * incomplete beta function: P(|T| > t) = I_{df / (df + t^2)}(df / 2, 1 / 2), so with q = 2 min(p, 1 - p) and
 * x = the q-quantile of Beta(df / 2, 1 / 2), |t| = sqrt(df (1 - x) / x), negative below the median.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: expected p in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`studentTQuantile: expected df > 0, got ${df}`);
  if (p === 0.5) return 0;
  const x = betaQuantile(2 * Math.min(p, 1 - p), df / 2, 0.5);
  const t = Math.sqrt((df * (1 - x)) / x);
  return p < 0.5 ? -t : t;
}

/** A mean over repeats (seeds) with its sample standard deviation and its t-interval. */
export interface TInterval extends Interval {
  mean: number;
  /** Sample standard deviation (n - 1). */
  std: number;
  n: number;
  /** The t quantile used, t_{(1 + level) / 2, n - 1}. */
  t: number;
}

/**
 * The t-interval of the mean of `values` (independent repeats, e.g. one measurement per seed): mean +- t s /
 * sqrt(n) with s the sample standard deviation and t the (1 + level) / 2 quantile of Student's t with n - 1
 * degrees of freedom. null with fewer than two values or a non-finite one: one repeat has no spread to use.
 */
export function tInterval(values: readonly number[], level = 0.95): TInterval | null {
  checkLevel(level, 'tInterval');
  const n = values.length;
  if (n < 2 || values.some((v) => !Number.isFinite(v))) return null;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const t = studentTQuantile((1 + level) / 2, n - 1);
  const half = (t * std) / Math.sqrt(n);
  return { mean, std, n, t, low: mean - half, high: mean + half };
}
