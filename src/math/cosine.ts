/**
 * Per-example cosine similarity between two feature vectors of the same image (teacher vs student, same
 * dimension), streamed over row blocks. Each row's cosine is kept (8 bytes per example) so that the median and
 * other quantiles are exact.
 */

export interface CosineSummary {
  /** Rows with a defined cosine (both vectors non-zero). */
  n: number;
  /** Rows skipped because one of the two vectors is all zeros (cosine undefined). */
  zeroRows: number;
  mean: number;
  std: number;
  p10: number;
  median: number;
  p90: number;
  min: number;
  max: number;
}

export class CosineAccumulator {
  private values = new Float64Array(1024);
  private count = 0;
  private zeros = 0;

  constructor(readonly dim: number) {
    if (!Number.isInteger(dim) || dim < 1)
      throw new RangeError(`CosineAccumulator: dim must be a positive integer, got ${dim}`);
  }

  /** xBlock and yBlock are [rows, dim] row-major; row i of both is the same example. */
  add(xBlock: Float32Array, yBlock: Float32Array, rows: number): void {
    const d = this.dim;
    if (xBlock.length < rows * d || yBlock.length < rows * d)
      throw new RangeError(`CosineAccumulator.add: blocks shorter than ${rows} rows`);
    if (this.values.length < this.count + rows) {
      const grown = new Float64Array(Math.max(this.values.length * 2, this.count + rows));
      grown.set(this.values.subarray(0, this.count));
      this.values = grown;
    }
    for (let i = 0; i < rows; i++) {
      const off = i * d;
      let xy = 0,
        xx = 0,
        yy = 0;
      for (let j = 0; j < d; j++) {
        const a = xBlock[off + j]!,
          b = yBlock[off + j]!;
        xy += a * b;
        xx += a * a;
        yy += b * b;
      }
      if (xx === 0 || yy === 0) {
        this.zeros++;
        continue;
      }
      this.values[this.count++] = Math.max(-1, Math.min(1, xy / Math.sqrt(xx * yy)));
    }
  }

  result(): CosineSummary {
    const n = this.count;
    if (n === 0)
      return { n: 0, zeroRows: this.zeros, mean: NaN, std: NaN, p10: NaN, median: NaN, p90: NaN, min: NaN, max: NaN };
    const v = this.values.slice(0, n).sort();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += v[i]!;
    const mean = sum / n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (v[i]! - mean) ** 2;
    return {
      n,
      zeroRows: this.zeros,
      mean,
      std: Math.sqrt(ss / n),
      p10: quantileSorted(v, 0.1),
      median: quantileSorted(v, 0.5),
      p90: quantileSorted(v, 0.9),
      min: v[0]!,
      max: v[n - 1]!,
    };
  }
}

/** Linear interpolation between order statistics (NumPy's default, "type 7"). `sorted` ascending, non-empty. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}
