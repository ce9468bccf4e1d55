/**
 * Per-feature standardization (x - mean) / std with the training set's statistics, as scikit-learn's
 * StandardScaler: population std (ddof 0), and a constant feature gets scale 1 so that it maps to 0 instead
 * of NaN. Statistics are float64; the standardized features stay float32 (they feed the float32 GEMM).
 */

export interface Standardization {
  mean: Float64Array;
  std: Float64Array;
}

/**
 * Streaming mean/variance: feed row blocks in a fixed order, then `finish`. Sums are float64 and sequential,
 * so the result is the same bytes whatever the block size (Chan's merge would not be).
 */
export class StandardizationAccumulator {
  private readonly sum: Float64Array;
  private readonly sumSq: Float64Array;
  private readonly shift: Float64Array;
  private shiftSet = false;
  private count = 0;
  constructor(readonly dim: number) {
    this.sum = new Float64Array(dim);
    this.sumSq = new Float64Array(dim);
    this.shift = new Float64Array(dim);
  }

  /** Adds `rows` rows of `x` (row-major, `dim` columns). */
  add(x: Float32Array, rows: number): void {
    const d = this.dim;
    // Shifting by the first row keeps sum-of-squares cancellation small for features with a large mean.
    if (!this.shiftSet && rows > 0) {
      for (let j = 0; j < d; j++) this.shift[j] = x[j]!;
      this.shiftSet = true;
    }
    const s = this.sum,
      q = this.sumSq,
      c = this.shift;
    for (let i = 0; i < rows; i++) {
      const off = i * d;
      for (let j = 0; j < d; j++) {
        const v = x[off + j]! - c[j]!;
        s[j]! += v;
        q[j]! += v * v;
      }
    }
    this.count += rows;
  }

  finish(): Standardization {
    const d = this.dim,
      n = this.count;
    const mean = new Float64Array(d);
    const std = new Float64Array(d);
    if (n === 0) {
      std.fill(1);
      return { mean, std };
    }
    for (let j = 0; j < d; j++) {
      const m = this.sum[j]! / n;
      const variance = Math.max(0, this.sumSq[j]! / n - m * m);
      mean[j] = m + this.shift[j]!;
      const sd = Math.sqrt(variance);
      std[j] = isConstant(sd, mean[j]!) ? 1 : sd;
    }
    return { mean, std };
  }
}

/** A std at float32 rounding level of the mean is noise from a constant column, not a real spread. */
function isConstant(sd: number, mean: number): boolean {
  return !(sd > 1e-7 * Math.max(1, Math.abs(mean)));
}

export function computeStandardization(x: Float32Array, rows: number, dim: number): Standardization {
  const acc = new StandardizationAccumulator(dim);
  acc.add(x, rows);
  return acc.finish();
}

/** Standardizes `rows` rows of `x` in place (no copy of the feature matrix). */
export function applyStandardization(x: Float32Array, rows: number, s: Standardization): void {
  const d = s.mean.length;
  const mean = s.mean;
  const inv = new Float64Array(d);
  for (let j = 0; j < d; j++) inv[j] = 1 / s.std[j]!;
  for (let i = 0; i < rows; i++) {
    const off = i * d;
    for (let j = 0; j < d; j++) x[off + j] = (x[off + j]! - mean[j]!) * inv[j]!;
  }
}

/** Inverse of applyStandardization, in place. */
export function invertStandardization(x: Float32Array, rows: number, s: Standardization): void {
  const d = s.mean.length;
  for (let i = 0; i < rows; i++) {
    const off = i * d;
    for (let j = 0; j < d; j++) x[off + j] = x[off + j]! * s.std[j]! + s.mean[j]!;
  }
}
