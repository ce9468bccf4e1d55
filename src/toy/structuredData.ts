/**
 * The structured feature model of the paper's synthetic experiment (Section 4; toy.py's generate_data):
 * core features that determine the label, background features independent of it, the concatenation
 * z = [core, background] mapped into the input space by a random transform T with orthonormal rows,
 * x = z T.
 *
 * Core features (n/2 points per class, labels +1 first then -1, as toy.py):
 *   nonlinear  positive class uniform on the unit sphere, negative class on the sphere of radius 2
 *              (not linearly separable in the core subspace)
 *   linear     positive class uniform in [0,1]^d, negative class its negation
 * Background: uniform in [0,1]^d for the training (ID) set, uniform in [-1,0]^d for the OOD set, whose core
 * features are the training set's. So the OOD set differs from the ID set only along background directions.
 */
import { CORE_MODES } from '../options.js';
import type { Mat } from '../compute/gemm.js';
import type { Rng } from '../math/rng.js';

export { CORE_MODES };
export type CoreMode = (typeof CORE_MODES)[number];

export interface StructuredDataSpec {
  n: number;
  coreDim: number;
  bgDim: number;
  inputDim: number;
  coreMode: CoreMode;
}

export interface StructuredData {
  spec: StructuredDataSpec;
  /** [latent, inputDim], latent = coreDim + bgDim, orthonormal rows (T T^T = I). */
  transform: Mat;
  /** Latent features [n, latent]: columns [0, coreDim) core, the rest background. */
  latentId: Mat;
  latentOod: Mat;
  /** Inputs x = z T, [n, inputDim]. */
  id: Mat;
  ood: Mat;
  /** +1 for the first floor(n/2) rows, -1 for the rest. */
  labels: Float32Array;
}

/**
 * Random matrix with orthonormal rows, [rows, cols] with rows <= cols: Gaussian rows orthonormalized by
 * modified Gram-Schmidt, twice, in float64. toy.py takes V^T from the SVD of a Gaussian matrix instead: both
 * give a uniformly random rows-dimensional subspace with an orthonormal basis of it, which is all that the
 * experiment depends on.
 */
export function randomOrthonormalRows(rows: number, cols: number, rng: Rng): Mat {
  if (rows > cols)
    throw new RangeError(`randomOrthonormalRows: ${rows} orthonormal rows do not fit in ${cols} dimensions`);
  const q = new Float64Array(rows * cols);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < rows; i++) {
      const oi = i * cols;
      for (let k = 0; k < i; k++) {
        const ok = k * cols;
        let dot = 0;
        for (let j = 0; j < cols; j++) dot += q[oi + j]! * q[ok + j]!;
        for (let j = 0; j < cols; j++) q[oi + j] = q[oi + j]! - dot * q[ok + j]!;
      }
      let norm = 0;
      for (let j = 0; j < cols; j++) norm += q[oi + j]! * q[oi + j]!;
      norm = Math.sqrt(norm);
      if (!(norm > 1e-12)) throw new RangeError('randomOrthonormalRows: degenerate draw');
      for (let j = 0; j < cols; j++) q[oi + j] = q[oi + j]! / norm;
    }
  }
  return { data: Float32Array.from(q), rows, cols };
}

/** out[n, cols] = z[n, k] t[k, cols] (float64 accumulation; done once, so plain JS). */
function multiply(z: Mat, t: Mat): Mat {
  const out = new Float32Array(z.rows * t.cols);
  const acc = new Float64Array(t.cols);
  for (let i = 0; i < z.rows; i++) {
    acc.fill(0);
    for (let k = 0; k < z.cols; k++) {
      const a = z.data[i * z.cols + k]!;
      const off = k * t.cols;
      for (let j = 0; j < t.cols; j++) acc[j] = acc[j]! + a * t.data[off + j]!;
    }
    out.set(acc, i * t.cols);
  }
  return { data: out, rows: z.rows, cols: t.cols };
}

export function generateStructuredData(spec: StructuredDataSpec, rng: Rng): StructuredData {
  const { n, coreDim: c, bgDim: b, inputDim } = spec;
  for (const k of ['n', 'coreDim', 'bgDim', 'inputDim'] as const) {
    if (!Number.isInteger(spec[k]) || spec[k] < 1)
      throw new RangeError(`StructuredDataSpec.${k} must be a positive integer, got ${spec[k]}`);
  }
  if (n < 2) throw new RangeError(`StructuredDataSpec.n must be at least 2 (one point per class), got ${n}`);
  const latent = c + b;
  const transform = randomOrthonormalRows(latent, inputDim, rng);
  const nPos = Math.floor(n / 2);
  const labels = new Float32Array(n);
  const zId = new Float32Array(n * latent);
  const zOod = new Float32Array(n * latent);
  const v = new Float64Array(c);
  for (let i = 0; i < n; i++) {
    const pos = i < nPos;
    labels[i] = pos ? 1 : -1;
    if (spec.coreMode === 'nonlinear') {
      let norm = 0;
      for (let j = 0; j < c; j++) {
        v[j] = rng.normal();
        norm += v[j]! * v[j]!;
      }
      const scale = (pos ? 1 : 2) / Math.sqrt(norm);
      for (let j = 0; j < c; j++) v[j] = v[j]! * scale;
    } else {
      for (let j = 0; j < c; j++) v[j] = pos ? rng.uniform() : -rng.uniform();
    }
    for (let j = 0; j < c; j++) zId[i * latent + j] = zOod[i * latent + j] = v[j]!;
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < b; j++) zId[i * latent + c + j] = rng.uniform();
  for (let i = 0; i < n; i++) for (let j = 0; j < b; j++) zOod[i * latent + c + j] = -rng.uniform();
  const latentId: Mat = { data: zId, rows: n, cols: latent };
  const latentOod: Mat = { data: zOod, rows: n, cols: latent };
  return {
    spec: { ...spec },
    transform,
    latentId,
    latentOod,
    id: multiply(latentId, transform),
    ood: multiply(latentOod, transform),
    labels,
  };
}
