/**
 * How well a head's output fits the teacher's features on one pair of feature sets (same images): MSE (mean over
 * every element, in the teacher's raw feature space, and standardized by the training targets' std), per-image
 * cosine, and linear CKA, each streamed over row blocks.
 *
 * Intervals (95%): MSE and mean cosine are means over images, so their intervals are mean +- 1.96 s / sqrt(n)
 * (normal approximation, s the sample standard deviation of the per-image values). Linear CKA is not a mean over
 * images: its interval is a leave-one-image-out jackknife (the Gram-matrix form), computed when
 * n <= JACKKNIFE_MAX_ROWS (the Gram matrices are n x n, the time n^3) and left null above.
 */
import type { Gemm, Mat } from '../compute/gemm.js';
import type { FeatureSet } from '../features/manifest.js';
import { LinearCkaAccumulator } from '../math/cka.js';
import { CosineAccumulator } from '../math/cosine.js';
import { type Mlp, MlpWorkspace } from '../math/mlp.js';
import type { Standardization } from '../math/standardize.js';

export const JACKKNIFE_MAX_ROWS = 1000;

export interface Interval {
  low: number;
  high: number;
}

export interface FitMetrics {
  n: number;
  /** Mean over images and dimensions of (output - teacher)^2, raw teacher space. */
  mse: number;
  mseInterval: Interval;
  /** Same with each dimension divided by the training teacher features' std (1 = as bad as the mean). */
  mseStandardized: number;
  mseStandardizedInterval: Interval;
  cosineMean: number;
  cosineInterval: Interval;
  cosineMedian: number;
  cka: number;
  /** Jackknife over images (see jackknifeCkaInterval); null when n > JACKKNIFE_MAX_ROWS or n < 4. */
  ckaInterval: Interval | null;
}

function meanInterval(sum: number, sumSq: number, n: number): { mean: number; interval: Interval } {
  const mean = sum / n;
  const variance = n > 1 ? Math.max(0, (sumSq - n * mean * mean) / (n - 1)) : NaN;
  const half = (1.96 * Math.sqrt(variance)) / Math.sqrt(n);
  return { mean, interval: { low: mean - half, high: mean + half } };
}

/**
 * Applies `net` (output already in the teacher's raw space) to the student features of `student` and compares
 * with `teacher` (same images, checked by the caller). `trainingStd`: per-dimension std of the training targets.
 */
export async function measureFit(
  gemm: Gemm,
  net: Mlp,
  student: FeatureSet,
  teacher: FeatureSet,
  trainingStd: Standardization['std'],
  blockRows: number,
): Promise<FitMetrics> {
  const n = student.rows,
    ds = student.dim,
    dt = teacher.dim;
  const rowsPer = Math.max(1, Math.min(blockRows, n));
  const ws = new MlpWorkspace(net, rowsPer);
  const xs = new Float32Array(rowsPer * ds);
  const ts = new Float32Array(rowsPer * dt);
  const cka = new LinearCkaAccumulator(dt, dt, gemm);
  const cos = new CosineAccumulator(dt);
  const keep = n <= JACKKNIFE_MAX_ROWS;
  const allOut = keep ? new Float32Array(n * dt) : null;
  const allT = keep ? new Float32Array(n * dt) : null;
  const invVar = Float64Array.from(trainingStd, (s) => 1 / (s * s));
  let se = 0,
    se2 = 0,
    sz = 0,
    sz2 = 0;
  const rx = student.open();
  const rt = teacher.open();
  try {
    for (let start = 0; start < n; start += rowsPer) {
      const rows = Math.min(rowsPer, n - start);
      const x = xs.subarray(0, rows * ds);
      const t = ts.subarray(0, rows * dt);
      rx.readFloat32Rows(start, rows, x);
      rt.readFloat32Rows(start, rows, t);
      const out = await ws.forward(gemm, { data: x, rows, cols: ds } as Mat);
      const o = out.data.subarray(0, rows * dt);
      for (let i = 0; i < rows; i++) {
        let e = 0,
          z = 0;
        for (let j = 0; j < dt; j++) {
          const d = o[i * dt + j]! - t[i * dt + j]!;
          e += d * d;
          z += d * d * invVar[j]!;
        }
        e /= dt;
        z /= dt;
        se += e;
        se2 += e * e;
        sz += z;
        sz2 += z * z;
      }
      cos.add(o, t, rows);
      await cka.add(o, t, rows);
      allOut?.set(o, start * dt);
      allT?.set(t, start * dt);
    }
  } finally {
    rx.close();
    rt.close();
  }
  const m = meanInterval(se, se2, n);
  const z = meanInterval(sz, sz2, n);
  const c = cos.result();
  const ckaValue = cka.result().cka;
  const cosHalf = c.n > 1 ? (1.96 * c.std * Math.sqrt(c.n / (c.n - 1))) / Math.sqrt(c.n) : NaN;
  return {
    n,
    mse: m.mean,
    mseInterval: m.interval,
    mseStandardized: z.mean,
    mseStandardizedInterval: z.interval,
    cosineMean: c.mean,
    cosineInterval: { low: c.mean - cosHalf, high: c.mean + cosHalf },
    cosineMedian: c.median,
    cka: ckaValue,
    ckaInterval: allOut && allT ? await jackknifeCkaInterval(gemm, allOut, allT, n, dt, ckaValue) : null,
  };
}

/**
 * 95% jackknife interval of linear CKA over images: CKA of each leave-one-image-out subset through the Gram
 * matrices K = X X^T and L = Y Y^T (a subset of rows idx has Gram K[idx, idx]), standard error
 * sqrt((n - 1) / n * sum_i (cka_i - mean)^2), interval cka +- 1.96 se. Not a percentile bootstrap: resampling
 * with replacement duplicates rows, which biases linear CKA upward at small n (at n = 28 the bootstrap interval
 * fell entirely above the estimate). O(n^3) time, O(n^2) memory.
 */
export async function jackknifeCkaInterval(
  gemm: Gemm,
  x: Float32Array,
  y: Float32Array,
  n: number,
  d: number,
  cka: number,
): Promise<Interval | null> {
  if (n < 4 || !Number.isFinite(cka)) return null;
  const K = new Float32Array(n * n);
  const L = new Float32Array(n * n);
  const X = { data: x, rows: n, cols: d },
    Y = { data: y, rows: n, cols: d };
  await gemm.matmul(X, false, X, true, { data: K, rows: n, cols: n });
  await gemm.matmul(Y, false, Y, true, { data: L, rows: n, cols: n });
  const m = n - 1;
  const idx = new Int32Array(m);
  const rk = new Float64Array(m),
    rl = new Float64Array(m);
  const values = new Float64Array(n);
  for (let leave = 0; leave < n; leave++) {
    for (let i = 0, j = 0; i < n; i++) if (i !== leave) idx[j++] = i;
    values[leave] = subsetCka(K, L, n, idx, rk, rl);
  }
  let mean = 0;
  for (const v of values) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  const se = Math.sqrt(((n - 1) / n) * ss);
  return { low: cka - 1.96 * se, high: cka + 1.96 * se };
}

/** Linear CKA of the rows `idx` from full Gram matrices K, L [n, n]: <HKH, HLH> / (||HKH|| ||HLH||). */
function subsetCka(
  K: Float32Array,
  L: Float32Array,
  n: number,
  idx: Int32Array,
  rk: Float64Array,
  rl: Float64Array,
): number {
  const m = idx.length;
  let gk = 0,
    gl = 0;
  for (let a = 0; a < m; a++) {
    const ra = idx[a]! * n;
    let sk = 0,
      sl = 0;
    for (let c = 0; c < m; c++) {
      sk += K[ra + idx[c]!]!;
      sl += L[ra + idx[c]!]!;
    }
    rk[a] = sk / m;
    rl[a] = sl / m;
    gk += sk;
    gl += sl;
  }
  gk /= m * m;
  gl /= m * m;
  let kl = 0,
    kk = 0,
    ll = 0;
  for (let a = 0; a < m; a++) {
    const ra = idx[a]! * n;
    const ka = rk[a]! - gk,
      la = rl[a]! - gl;
    for (let c = 0; c < m; c++) {
      // Centred entry K_ac - rowmean_a - colmean_c + grand (K symmetric: column means are the row means).
      const kc = K[ra + idx[c]!]! - ka - rk[c]!;
      const lc = L[ra + idx[c]!]! - la - rl[c]!;
      kl += kc * lc;
      kk += kc * kc;
      ll += lc * lc;
    }
  }
  return kl / Math.sqrt(kk * ll);
}
