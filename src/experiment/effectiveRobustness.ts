/**
 * Effective robustness (Taori et al., 2020), as imagenet-testbed computes it: fit a line through baseline
 * models' accuracies in logit space, logit(acc_OOD) = a * logit(acc_ID) + b, by ordinary least squares;
 * the baseline's predicted OOD accuracy is beta(x) = sigmoid(a * logit(x) + b) and a model's effective
 * robustness is rho = acc_OOD - beta(acc_ID). Accuracies are fractions in [0, 1].
 */
import { percentileInterval } from '../math/intervals.js';
import type { Rng } from '../math/rng.js';

export interface AccuracyPair {
  /** ID accuracy, a fraction in (0, 1). */
  id: number;
  /** OOD accuracy, a fraction in (0, 1). */
  ood: number;
}

export interface LogitFit {
  slope: number;
  intercept: number;
  /** Number of baseline points. */
  n: number;
  /**
   * Coefficient of determination of the fit in logit space (1 for a perfect line; NaN with 2 points' zero residual
   * variance).
   */
  r2: number;
}

export function logit(p: number): number {
  return Math.log(p / (1 - p));
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/**
 * Why the points cannot be fitted, or null when they can: at least two points, every accuracy strictly
 * between 0 and 1 (logit is infinite at the ends), and two distinct ID accuracies (else the slope is undefined).
 */
export function baselineProblem(points: readonly AccuracyPair[]): string | null {
  if (points.length < 2) return `needs at least 2 baseline points, got ${points.length}`;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    for (const k of ['id', 'ood'] as const) {
      const v = p[k];
      if (typeof v !== 'number' || !(v > 0 && v < 1)) {
        return (
          `point ${i}: ${k} accuracy must be a fraction strictly between 0 and 1, got ${JSON.stringify(v)}` +
          (typeof v === 'number' && v > 1 && v < 100 ? ' (percentages must be divided by 100)' : '')
        );
      }
    }
  }
  const first = points[0]!.id;
  if (points.every((p) => p.id === first))
    return 'all baseline points have the same ID accuracy, so no line can be fitted';
  return null;
}

/** OLS of logit(ood) on logit(id). Throws RangeError when `baselineProblem` reports one. */
export function fitLogitLinear(points: readonly AccuracyPair[]): LogitFit {
  const problem = baselineProblem(points);
  if (problem) throw new RangeError(`fitLogitLinear: ${problem}`);
  const n = points.length;
  const xs = points.map((p) => logit(p.id));
  const ys = points.map((p) => logit(p.ood));
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0,
    sxy = 0,
    syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx,
      dy = ys[i]! - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i]! - (slope * xs[i]! + intercept)) ** 2;
  const r2 = syy > 0 ? 1 - sse / syy : NaN;
  return { slope, intercept, n, r2 };
}

/** beta(x): the OOD accuracy the baseline fit predicts for ID accuracy x. */
export function predictOod(fit: LogitFit, idAccuracy: number): number {
  return sigmoid(fit.slope * logit(idAccuracy) + fit.intercept);
}

/** rho = acc_OOD - beta(acc_ID), in accuracy fraction units (multiply by 100 for percentage points). */
export function effectiveRobustness(fit: LogitFit, idAccuracy: number, oodAccuracy: number): number {
  return oodAccuracy - predictOod(fit, idAccuracy);
}

/** Pointwise band of the baseline fit's prediction, from a bootstrap over the baseline models. */
export interface FitBand {
  /** ID accuracies (fractions) at which the band is evaluated, ascending. */
  x: number[];
  /** Percentile interval of the predicted OOD accuracy at each x (fractions). */
  low: number[];
  high: number[];
  /** Replicates that could be fitted (a resample with a single distinct ID accuracy cannot). */
  replicates: number;
  level: number;
}

/**
 * Bootstrap band of beta(x): resample the baseline models with replacement `reps` times, refit the logit line
 * each time, and take the percentile interval of the prediction at each x. Resamples that cannot be fitted are
 * skipped (counted in `replicates`). Returns null when fewer than 3 points (no resample varies meaningfully) or
 * fewer than half the replicates could be fitted.
 */
export function bootstrapFitBand(
  points: readonly AccuracyPair[],
  x: readonly number[],
  reps: number,
  rng: Rng,
  level = 0.95,
): FitBand | null {
  if (points.length < 3 || reps < 1) return null;
  const preds = x.map(() => [] as number[]);
  let ok = 0;
  const sample: AccuracyPair[] = [];
  for (let r = 0; r < reps; r++) {
    sample.length = 0;
    for (let i = 0; i < points.length; i++) sample.push(points[rng.int(points.length)]!);
    if (baselineProblem(sample)) continue;
    const fit = fitLogitLinear(sample);
    ok++;
    for (let i = 0; i < x.length; i++) preds[i]!.push(predictOod(fit, x[i]!));
  }
  if (ok < reps / 2) return null;
  const low: number[] = [],
    high: number[] = [];
  for (const p of preds) {
    const ci = percentileInterval(p, level);
    low.push(ci.low);
    high.push(ci.high);
  }
  return { x: [...x], low, high, replicates: ok, level };
}
