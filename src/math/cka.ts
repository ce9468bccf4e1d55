/**
 * Linear CKA (Kornblith et al., 2019) between two feature matrices X [N, Dx] and Y [N, Dy] whose rows are the
 * same N examples, computed in one streaming pass with memory O(Dx^2 + Dy^2 + Dx*Dy), never an N x N matrix:
 *
 *   CKA(X, Y) = ||Xc^T Yc||_F^2 / (||Xc^T Xc||_F * ||Yc^T Yc||_F),   Xc = X - 1 mu_x^T (column-centred)
 *
 * which equals the Gram-matrix form <Kc, Lc>_F / (||Kc||_F ||Lc||_F) with K = X X^T, L = Y Y^T.
 *
 * Numerics: the block products run in float32 (through a `Gemm`) and are summed across blocks in float64;
 * centring is algebraic, Xc^T Yc = X'^T Y' - n mu'_x mu'_y^T. Subtracting n mu mu^T cancels badly when the
 * columns' means are large next to their spread (post-ReLU features with a big offset), so every row is first
 * shifted by a fixed estimate of the mean (the first block's column means); a constant shift leaves the
 * centred products unchanged and makes the remaining correction small.
 */
import type { Gemm, Mat } from '../compute/gemm.js';

export interface LinearCkaResult {
  /** In [0, 1]; NaN when either matrix has no variance (all rows equal): CKA is undefined there. */
  cka: number;
  /**
   * Linear CKA from the unbiased HSIC estimator (Song et al. 2012; Kornblith et al. 2019's `debiased=True`):
   * near 0 for independent features at any n, where the biased `cka` reads ~0.2 at n = 32. Not confined to
   * [0, 1] (an unbiased estimate of a non-negative quantity can come out negative). NaN when n < 4 or when
   * either side's unbiased HSIC is not positive (no variance).
   */
  ckaDebiased: number;
  n: number;
  dx: number;
  dy: number;
  /** ||Xc^T Yc||_F^2, ||Xc^T Xc||_F, ||Yc^T Yc||_F (unnormalized, for checks and debugging). */
  crossSquared: number;
  normXX: number;
  normYY: number;
}

export class LinearCkaAccumulator {
  private readonly xx: Float64Array;
  private readonly yy: Float64Array;
  private readonly xy: Float64Array;
  private readonly sumX: Float64Array;
  private readonly sumY: Float64Array;
  // For the debiased estimator, with a_i = ||x_i||^2 and b_i = ||y_i||^2 of the shifted rows:
  // sum a_i x_i, sum b_i x_i (dx), sum a_i y_i, sum b_i y_i (dy), and the scalar sums below.
  private readonly axSum: Float64Array;
  private readonly bxSum: Float64Array;
  private readonly aySum: Float64Array;
  private readonly bySum: Float64Array;
  private sumA = 0;
  private sumB = 0;
  private sumAA = 0;
  private sumBB = 0;
  private sumAB = 0;
  private shiftX: Float64Array | null = null;
  private shiftY: Float64Array | null = null;
  private n = 0;
  private bufX = new Float32Array(0);
  private bufY = new Float32Array(0);
  private readonly outXX: Float32Array;
  private readonly outYY: Float32Array;
  private readonly outXY: Float32Array;

  constructor(
    readonly dx: number,
    readonly dy: number,
    private readonly gemm: Gemm,
  ) {
    if (!Number.isInteger(dx) || dx < 1 || !Number.isInteger(dy) || dy < 1) {
      throw new RangeError(`LinearCkaAccumulator: dimensions must be positive integers, got ${dx} and ${dy}`);
    }
    this.xx = new Float64Array(dx * dx);
    this.yy = new Float64Array(dy * dy);
    this.xy = new Float64Array(dx * dy);
    this.sumX = new Float64Array(dx);
    this.sumY = new Float64Array(dy);
    this.axSum = new Float64Array(dx);
    this.bxSum = new Float64Array(dx);
    this.aySum = new Float64Array(dy);
    this.bySum = new Float64Array(dy);
    this.outXX = new Float32Array(dx * dx);
    this.outYY = new Float32Array(dy * dy);
    this.outXY = new Float32Array(dx * dy);
  }

  get rows(): number {
    return this.n;
  }

  /** Adds `rows` examples: xBlock is [rows, dx], yBlock is [rows, dy], row-major, row i of each the same example. */
  async add(xBlock: Float32Array, yBlock: Float32Array, rows: number): Promise<void> {
    if (rows === 0) return;
    if (xBlock.length < rows * this.dx || yBlock.length < rows * this.dy) {
      throw new RangeError(`LinearCkaAccumulator.add: blocks shorter than ${rows} rows`);
    }
    if (!this.shiftX || !this.shiftY) {
      this.shiftX = columnMeans(xBlock, rows, this.dx);
      this.shiftY = columnMeans(yBlock, rows, this.dy);
    }
    if (this.bufX.length < rows * this.dx) this.bufX = new Float32Array(rows * this.dx);
    if (this.bufY.length < rows * this.dy) this.bufY = new Float32Array(rows * this.dy);
    shiftInto(xBlock, rows, this.dx, this.shiftX, this.bufX, this.sumX);
    shiftInto(yBlock, rows, this.dy, this.shiftY, this.bufY, this.sumY);
    this.addRowNorms(rows);
    const X: Mat = { data: this.bufX, rows, cols: this.dx };
    const Y: Mat = { data: this.bufY, rows, cols: this.dy };
    await this.gemm.matmul(X, true, X, false, { data: this.outXX, rows: this.dx, cols: this.dx });
    addInto(this.xx, this.outXX);
    await this.gemm.matmul(Y, true, Y, false, { data: this.outYY, rows: this.dy, cols: this.dy });
    addInto(this.yy, this.outYY);
    await this.gemm.matmul(X, true, Y, false, { data: this.outXY, rows: this.dx, cols: this.dy });
    addInto(this.xy, this.outXY);
    this.n += rows;
  }

  /** Row squared norms of the shifted block and the norm-weighted row sums the debiased estimator needs. */
  private addRowNorms(rows: number): void {
    const { dx, dy, bufX, bufY } = this;
    for (let i = 0; i < rows; i++) {
      const ox = i * dx,
        oy = i * dy;
      let a = 0,
        b = 0;
      for (let j = 0; j < dx; j++) a += bufX[ox + j]! * bufX[ox + j]!;
      for (let j = 0; j < dy; j++) b += bufY[oy + j]! * bufY[oy + j]!;
      for (let j = 0; j < dx; j++) {
        const v = bufX[ox + j]!;
        this.axSum[j]! += a * v;
        this.bxSum[j]! += b * v;
      }
      for (let j = 0; j < dy; j++) {
        const v = bufY[oy + j]!;
        this.aySum[j]! += a * v;
        this.bySum[j]! += b * v;
      }
      this.sumA += a;
      this.sumB += b;
      this.sumAA += a * a;
      this.sumBB += b * b;
      this.sumAB += a * b;
    }
  }

  /**
   * Unbiased HSIC (Song et al. 2012) with linear kernels, from sums over rows only:
   * [tr(K~L~) + (1'K~1)(1'L~1) / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3)), where K~ = XX' with a zero diagonal,
   * tr(K~L~) = ||X'Y||_F^2 - sum a_i b_i, 1'K~1 = ||s_x||^2 - sum a_i and
   * 1'K~L~1 = s_x' (X'Y) s_y - s_x' (sum b_i x_i) - s_y' (sum a_i y_i) + sum a_i b_i.
   * The estimator is invariant to a constant shift of either side's rows, so the shifted sums serve.
   */
  private hsicUnbiased(
    cross: Float64Array,
    sx: Float64Array,
    sy: Float64Array,
    bWeightedX: Float64Array,
    aWeightedY: Float64Array,
    sumA: number,
    sumB: number,
    sumAB: number,
  ): number {
    const n = this.n;
    const da = sx.length,
      db = sy.length;
    let frob = 0,
      sCs = 0;
    for (let i = 0; i < da; i++) {
      const off = i * db;
      let row = 0;
      for (let j = 0; j < db; j++) {
        const v = cross[off + j]!;
        frob += v * v;
        row += v * sy[j]!;
      }
      sCs += sx[i]! * row;
    }
    const trace = frob - sumAB;
    const oneK = dot(sx, sx) - sumA;
    const oneL = dot(sy, sy) - sumB;
    const oneKL = sCs - dot(sx, bWeightedX) - dot(sy, aWeightedY) + sumAB;
    return (trace + (oneK * oneL) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * oneKL) / (n * (n - 3));
  }

  private debiased(): number {
    if (this.n < 4) return NaN;
    const { sumX, sumY } = this;
    const hxy = this.hsicUnbiased(this.xy, sumX, sumY, this.bxSum, this.aySum, this.sumA, this.sumB, this.sumAB);
    const hxx = this.hsicUnbiased(this.xx, sumX, sumX, this.axSum, this.axSum, this.sumA, this.sumA, this.sumAA);
    const hyy = this.hsicUnbiased(this.yy, sumY, sumY, this.bySum, this.bySum, this.sumB, this.sumB, this.sumBB);
    if (!(hxx > 0 && hyy > 0)) return NaN;
    return hxy / Math.sqrt(hxx * hyy);
  }

  result(): LinearCkaResult {
    const { n, dx, dy } = this;
    if (n === 0) throw new RangeError('LinearCkaAccumulator.result: no rows were added');
    const normXX = Math.sqrt(centredSquaredNorm(this.xx, this.sumX, this.sumX, n, dx, dx));
    const normYY = Math.sqrt(centredSquaredNorm(this.yy, this.sumY, this.sumY, n, dy, dy));
    const crossSquared = centredSquaredNorm(this.xy, this.sumX, this.sumY, n, dx, dy);
    const denom = normXX * normYY;
    // Relative to the data's scale, a zero-variance side leaves only rounding noise in its norm.
    const cka = denom > 0 && Number.isFinite(denom) ? Math.min(1, crossSquared / denom) : NaN;
    return { cka, ckaDebiased: this.debiased(), n, dx, dy, crossSquared, normXX, normYY };
  }
}

/** Convenience for matrices already in memory: one `add` per block of `blockRows` rows. */
export async function linearCka(x: Mat, y: Mat, gemm: Gemm, blockRows = 4096): Promise<LinearCkaResult> {
  if (x.rows !== y.rows) throw new RangeError(`linearCka: X has ${x.rows} rows, Y has ${y.rows}`);
  const acc = new LinearCkaAccumulator(x.cols, y.cols, gemm);
  for (let start = 0; start < x.rows; start += blockRows) {
    const rows = Math.min(blockRows, x.rows - start);
    await acc.add(
      x.data.subarray(start * x.cols, (start + rows) * x.cols),
      y.data.subarray(start * y.cols, (start + rows) * y.cols),
      rows,
    );
  }
  return acc.result();
}

function columnMeans(block: Float32Array, rows: number, d: number): Float64Array {
  const m = new Float64Array(d);
  for (let i = 0; i < rows; i++) {
    const off = i * d;
    for (let j = 0; j < d; j++) m[j]! += block[off + j]!;
  }
  for (let j = 0; j < d; j++) m[j]! /= rows;
  return m;
}

/** out = block - shift (row-wise), and adds the shifted column sums to `sums`. */
function shiftInto(
  block: Float32Array,
  rows: number,
  d: number,
  shift: Float64Array,
  out: Float32Array,
  sums: Float64Array,
): void {
  for (let i = 0; i < rows; i++) {
    const off = i * d;
    for (let j = 0; j < d; j++) {
      const v = Math.fround(block[off + j]! - shift[j]!);
      out[off + j] = v;
      sums[j]! += v;
    }
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function addInto(acc: Float64Array, part: Float32Array): void {
  for (let i = 0; i < acc.length; i++) acc[i]! += part[i]!;
}

/** ||A - s_a s_b^T / n||_F^2 for A = sum of shifted outer products, s = shifted column sums. */
function centredSquaredNorm(
  a: Float64Array,
  sa: Float64Array,
  sb: Float64Array,
  n: number,
  da: number,
  db: number,
): number {
  let total = 0;
  for (let i = 0; i < da; i++) {
    const si = sa[i]! / n;
    const off = i * db;
    for (let j = 0; j < db; j++) {
      const v = a[off + j]! - si * sb[j]!;
      total += v * v;
    }
  }
  return total;
}
