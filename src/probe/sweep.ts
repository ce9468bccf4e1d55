/**
 * Choosing C: fit on a stratified split of the training features for each C of a log-spaced grid, keep the C
 * with the best held-out top-1 and let the caller refit on all rows. Ties in held-out top-1 go to the smallest
 * C (the strongest penalty), not to the lowest held-out loss: on a small, separable held-out split every C
 * classifies the same rows and the loss keeps falling as the penalty weakens, so a loss tie-break picks the
 * largest C for no reason the split can support. The tie count is returned so that callers can say so.
 * C increases along the grid and each fit starts from the previous solution, which makes the weakly
 * regularized fits (the slow ones) start close to their optimum.
 */
import { FcprobeError } from '../errors.js';
import type { Gemm } from '../compute/gemm.js';
import { computeLogits, fitSoftmaxRegression, thetaToWeights, splitWeights, type SoftmaxProblem } from './logreg.js';
import { MetricsAccumulator } from './metrics.js';
import type { Rng } from '../math/rng.js';

/** count values from lo to hi, evenly spaced in log10 (numpy's logspace). */
export function logGrid(lo: number, hi: number, count: number): number[] {
  if (count === 1) return [lo];
  const a = Math.log10(lo),
    b = Math.log10(hi);
  return Array.from({ length: count }, (_, i) => Number((10 ** (a + ((b - a) * i) / (count - 1))).toPrecision(12)));
}

/**
 * Half-decades from 1e-4 to 1e2. On standardized features the optimum is usually inside; small C values
 * converge in a few iterations, so the low end costs little. A choice at either end is flagged.
 */
export const DEFAULT_C_GRID: readonly number[] = logGrid(1e-4, 1e2, 13);

/**
 * A row order with the training rows first, then the held-out rows: per class, round(fraction * count)
 * rows (at least one, and at least one left for training) are held out, chosen by a seeded shuffle.
 */
export function stratifiedSplit(
  labels: Int32Array,
  k: number,
  fraction: number,
  rng: Rng,
  classNames?: readonly string[],
): { order: Int32Array; nTrain: number } {
  const byClass: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]!]!.push(i);
  const single = byClass.map((r, c) => (r.length === 1 ? c : -1)).filter((c) => c >= 0);
  if (single.length > 0) {
    const names = single
      .slice(0, 10)
      .map((c) => JSON.stringify(classNames?.[c] ?? String(c)))
      .join(', ');
    throw new FcprobeError(
      'BAD_DATA',
      `Sweeping C needs at least two training examples per class (one to fit, one to validate); ${single.length} ` +
        `class${single.length > 1 ? 'es have' : ' has'} one: ${names}${single.length > 10 ? ', ...' : ''}.`,
      'Pass a fixed --C instead, or add examples of those classes.',
    );
  }
  const train: number[] = [];
  const val: number[] = [];
  for (const rows of byClass) {
    if (rows.length === 0) continue;
    const shuffled = rng.shuffle(rows.slice());
    const nVal = Math.min(rows.length - 1, Math.max(1, Math.round(fraction * rows.length)));
    for (let i = 0; i < shuffled.length; i++) (i < nVal ? val : train).push(shuffled[i]!);
  }
  // Sorted within each part: the training part keeps the original relative order of its rows.
  train.sort((a, b) => a - b);
  val.sort((a, b) => a - b);
  return { order: Int32Array.from([...train, ...val]), nTrain: train.length };
}

/**
 * Permutes rows in place so that new row i is old row order[i] (x: [n, d], labels: [n]); one row of scratch,
 * no copy of the matrix.
 */
export function permuteRows(x: Float32Array, d: number, labels: Int32Array, order: Int32Array): void {
  const n = order.length;
  const done = new Uint8Array(n);
  const tmp = new Float32Array(d);
  for (let s = 0; s < n; s++) {
    if (done[s] || order[s] === s) {
      done[s] = 1;
      continue;
    }
    tmp.set(x.subarray(s * d, s * d + d));
    const tmpLabel = labels[s]!;
    let j = s;
    for (;;) {
      done[j] = 1;
      const src = order[j]!;
      if (src === s) {
        x.set(tmp, j * d);
        labels[j] = tmpLabel;
        break;
      }
      x.copyWithin(j * d, src * d, src * d + d);
      labels[j] = labels[src]!;
      j = src;
    }
  }
}

export interface SweepPoint {
  C: number;
  valTop1: number;
  valLoss: number;
  iterations: number;
  converged: boolean;
}

export interface SweepOptions {
  grid: readonly number[];
  /** Fraction of each class held out. */
  holdout: number;
  rng: Rng;
  tol: number;
  ftol?: number;
  maxIter: number;
  classNames?: readonly string[];
  onPoint?: (p: SweepPoint, index: number, total: number) => void;
}

export interface SweepResult {
  bestC: number;
  points: SweepPoint[];
  nTrain: number;
  nVal: number;
  /** The split fit at bestC: a warm start for the refit on all rows. */
  bestTheta: Float64Array;
  /**
   * How many grid values share the best held-out top-1 (1: a clear winner). bestC is the smallest of them;
   * when every value ties, the sweep said nothing about C.
   */
  tied: number;
}

/** Reorders problem's rows in place (training split first); the caller refits on all rows afterwards. */
export async function sweepC(gemm: Gemm, problem: SoftmaxProblem, o: SweepOptions): Promise<SweepResult> {
  const { k, d } = problem;
  const { order, nTrain } = stratifiedSplit(problem.labels, k, o.holdout, o.rng, o.classNames);
  permuteRows(problem.x, d, problem.labels, order);
  const nVal = problem.n - nTrain;
  const train: SoftmaxProblem = {
    x: problem.x.subarray(0, nTrain * d),
    n: nTrain,
    d,
    labels: problem.labels.subarray(0, nTrain),
    k,
  };
  const valX = problem.x.subarray(nTrain * d);
  const valLabels = problem.labels.subarray(nTrain);
  const grid = [...o.grid].sort((a, b) => a - b);
  const logits = new Float32Array(nVal * k);
  const points: SweepPoint[] = [];
  let theta: Float64Array | undefined;
  let best = -1;
  let bestTheta = new Float64Array(k * (d + 1));
  for (let g = 0; g < grid.length; g++) {
    const C = grid[g]!;
    const fit = await fitSoftmaxRegression(gemm, train, {
      C,
      tol: o.tol,
      maxIter: o.maxIter,
      ...(o.ftol !== undefined ? { ftol: o.ftol } : {}),
      ...(theta ? { init: theta } : {}),
    });
    theta = fit.theta;
    const w = thetaToWeights(theta);
    await computeLogits(gemm, w, k, d, valX, nVal, logits, splitWeights(w, k, d));
    const acc = new MetricsAccumulator(k, 1);
    acc.add(logits, nVal, valLabels);
    const r = acc.result();
    const p: SweepPoint = {
      C,
      valTop1: r.top1,
      valLoss: r.meanLoss,
      iterations: fit.iterations,
      converged: fit.converged,
    };
    points.push(p);
    o.onPoint?.(p, g, grid.length);
    // The grid ascends, so keeping the first point that reaches the best top-1 keeps the smallest tied C.
    const b = points[best];
    if (!b || p.valTop1 > b.valTop1) {
      best = g;
      bestTheta = Float64Array.from(theta);
    }
  }
  const bestTop1 = points[best]!.valTop1;
  const tied = points.filter((p) => p.valTop1 === bestTop1).length;
  return { bestC: points[best]!.C, points, nTrain, nVal, bestTheta, tied };
}

/** What a C sweep's choice rests on, as recorded in probe.json and results.json. */
export interface SweepChoice {
  /** Grid size. */
  of: number;
  /** Grid values sharing the best held-out top-1 (SweepResult.tied). */
  tied: number;
  /** That best held-out top-1 (fraction). */
  valTop1: number;
  nVal: number;
  chosenC: number;
}

/**
 * The sentence that states a tied sweep's choice, or null when one C won outright (nothing to state beyond C).
 * Printed by `probe` and listed among the report's warnings after `run`, so that a choice the split could not
 * make is never read as a finding.
 */
export function describeSweepTie(s: SweepChoice): string | null {
  if (s.tied <= 1) return null;
  const at = `${(100 * s.valTop1).toFixed(1)}% held-out top-1 on ${s.nVal} rows`;
  const head = `${s.tied} of ${s.of} C values tied at ${at}`;
  return s.tied === s.of
    ? `${head}: chose C=${s.chosenC} (smallest); the sweep carried no information`
    : `${head}: chose C=${s.chosenC}, the smallest of them (ties go to the strongest penalty)`;
}
