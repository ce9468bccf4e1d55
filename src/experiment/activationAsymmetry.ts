/**
 * Activation asymmetry: how unequally each neuron's (non-negative) activation is spread over the classes.
 *
 * Definition (stated in the report verbatim, see ASYMMETRY_DEFINITION): for neuron j and each class c that
 * has at least one example, m_jc = mean activation of j over class c's examples (ID training set). With K such
 * classes,
 *   a_j = max_c m_jc / sum_c m_jc,   in [1/K, 1]   (1/K: the same mean activation for every class; 1: the
 *                                                  neuron is active for one class only)
 *   s_j = (a_j - 1/K) / (1 - 1/K),   in [0, 1]     (normalized, so models and label sets with different K compare)
 * Neurons with m_jc = 0 for every class (dead on the training set) have no a_j and are counted apart.
 *
 * Why per-class means, not sums: class sizes differ, and a neuron should not look class-specific because its
 * class is frequent. Why non-negative only: with signed features a ratio of means is not a share (a neuron
 * could have sum_c m_jc = 0 while being strongly class-dependent), so the measure is reported as not
 * applicable instead. In the paper's analysis, a ReLU neuron that activates more for one class than for the
 * others also receives gradient along label-uncorrelated (background) directions, so it learns them: this
 * asymmetry is the mechanism of feature contamination, and a linear network (no asymmetry) does not show it.
 */
import { quantileSorted } from '../math/cosine.js';

export const ASYMMETRY_DEFINITION =
  'For neuron j, m_jc is its mean activation over the ID training examples of class c (K classes with ' +
  'examples). a_j = max_c m_jc / sum_c m_jc lies in [1/K, 1] (1/K: equal mean activation for every class; ' +
  '1: active for one class only); the normalized asymmetry s_j = (a_j - 1/K) / (1 - 1/K) lies in [0, 1]. ' +
  'Neurons with zero activation on every class (dead) are excluded and counted. Defined only for ' +
  'non-negative (e.g. post-ReLU) features.';

/** Shares of neurons whose normalized asymmetry s_j is at least each of these. */
export const ASYMMETRY_THRESHOLDS: readonly number[] = [0.1, 0.25, 0.5];

export interface AsymmetryDistribution {
  mean: number;
  min: number;
  p10: number;
  p25: number;
  median: number;
  p75: number;
  p90: number;
  max: number;
}

export type ActivationAsymmetryResult =
  | {
      applicable: true;
      /** Classes with at least one example (K). */
      classes: number;
      examples: number;
      neurons: number;
      deadNeurons: number;
      /** Distribution of the normalized s_j over live neurons. */
      normalized: AsymmetryDistribution;
      /** Distribution of the raw a_j over live neurons. */
      raw: AsymmetryDistribution;
      /** share[i]: fraction of live neurons with s_j >= thresholds[i]. */
      thresholds: number[];
      shareAbove: number[];
    }
  | {
      applicable: false;
      reason: string;
      classes: number;
      examples: number;
      neurons: number;
      /** Smallest activation seen (negative when that is why it does not apply). */
      minActivation: number;
    };

export class ActivationAsymmetryAccumulator {
  private readonly sums: Float64Array;
  private readonly counts: Float64Array;
  private minValue = Infinity;
  private n = 0;

  /** `numClasses`: size of the label space (labels are indices in [0, numClasses)). */
  constructor(
    readonly dim: number,
    readonly numClasses: number,
  ) {
    if (!Number.isInteger(dim) || dim < 1)
      throw new RangeError(`ActivationAsymmetryAccumulator: dim must be a positive integer, got ${dim}`);
    if (!Number.isInteger(numClasses) || numClasses < 1)
      throw new RangeError(`ActivationAsymmetryAccumulator: numClasses must be a positive integer, got ${numClasses}`);
    this.sums = new Float64Array(numClasses * dim);
    this.counts = new Float64Array(numClasses);
  }

  /** block is [rows, dim] row-major; labels[i] is row i's class. */
  add(block: Float32Array, labels: ArrayLike<number>, rows: number): void {
    const d = this.dim;
    if (block.length < rows * d || labels.length < rows)
      throw new RangeError(`ActivationAsymmetryAccumulator.add: inputs shorter than ${rows} rows`);
    for (let i = 0; i < rows; i++) {
      const c = labels[i]!;
      if (!Number.isInteger(c) || c < 0 || c >= this.numClasses) {
        throw new RangeError(`ActivationAsymmetryAccumulator.add: label ${c} outside [0, ${this.numClasses})`);
      }
      this.counts[c]! += 1;
      const off = i * d,
        so = c * d;
      for (let j = 0; j < d; j++) {
        const v = block[off + j]!;
        if (v < this.minValue) this.minValue = v;
        this.sums[so + j]! += v;
      }
    }
    this.n += rows;
  }

  result(): ActivationAsymmetryResult {
    const d = this.dim;
    const present: number[] = [];
    for (let c = 0; c < this.numClasses; c++) if (this.counts[c]! > 0) present.push(c);
    const K = present.length;
    const base = { classes: K, examples: this.n, neurons: d };
    if (this.n === 0) return { applicable: false, reason: 'no examples', ...base, minActivation: NaN };
    if (this.minValue < 0) {
      return {
        applicable: false,
        ...base,
        minActivation: this.minValue,
        reason:
          `features take negative values (minimum ${this.minValue.toPrecision(4)}); the asymmetry is defined ` +
          `for non-negative (post-ReLU) features`,
      };
    }
    if (K < 2)
      return {
        applicable: false,
        reason: `needs at least 2 classes with examples, found ${K}`,
        ...base,
        minActivation: this.minValue,
      };
    const raw: number[] = [];
    let dead = 0;
    for (let j = 0; j < d; j++) {
      let max = 0,
        total = 0;
      for (const c of present) {
        const m = this.sums[c * d + j]! / this.counts[c]!;
        total += m;
        if (m > max) max = m;
      }
      if (total === 0) {
        dead++;
        continue;
      }
      raw.push(max / total);
    }
    const norm = raw.map((a) => Math.max(0, Math.min(1, (a - 1 / K) / (1 - 1 / K))));
    const shareAbove = ASYMMETRY_THRESHOLDS.map((t) =>
      norm.length ? norm.filter((s) => s >= t).length / norm.length : NaN,
    );
    return {
      applicable: true,
      ...base,
      deadNeurons: dead,
      normalized: distribution(norm),
      raw: distribution(raw),
      thresholds: [...ASYMMETRY_THRESHOLDS],
      shareAbove,
    };
  }
}

function distribution(values: number[]): AsymmetryDistribution {
  if (values.length === 0)
    return { mean: NaN, min: NaN, p10: NaN, p25: NaN, median: NaN, p75: NaN, p90: NaN, max: NaN };
  const v = Float64Array.from(values).sort();
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return {
    mean,
    min: v[0]!,
    p10: quantileSorted(v, 0.1),
    p25: quantileSorted(v, 0.25),
    median: quantileSorted(v, 0.5),
    p75: quantileSorted(v, 0.75),
    p90: quantileSorted(v, 0.9),
    max: v[v.length - 1]!,
  };
}
