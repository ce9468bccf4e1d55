/**
 * What the paper plots for the synthetic experiment, and the mechanism behind it.
 *
 * Weight norms along the core and background directions, what the paper (toy.py) plots and calls "feature
 * correlation": C = W1 T^T expresses each first-layer neuron's weight vector in latent (core, background)
 * coordinates; the plotted values are the mean over neurons of ||C[j, core]|| and of ||C[j, background]||.
 * They are norms, not correlations (1.36 after training at the defaults), so fcprobe names them weight norms
 * in every output. Background growth is feature contamination: the label is independent of those
 * directions, yet the neurons learn them.
 *
 * Activation asymmetry: neuron j's share of activation mass on its majority class,
 *   a_j = max_c m_jc / sum_c m_jc,  m_jc = mean over class c of |activation_j|,
 * in [1/2, 1] for two classes. For ReLU (non-negative activations) this is exactly the raw a_j of
 * activationAsymmetry.ts; the absolute value makes it defined for signed activations too. In the paper's
 * analysis a neuron that fires mostly for one class gets gradient along the background directions that
 * does not cancel between classes, which is why non-linear networks contaminate and linear ones do not.
 */
import type { Gemm, Mat } from '../compute/gemm.js';

export interface WeightNorms {
  core: number;
  background: number;
}

/**
 * Mean over neurons of the core and background norms of W1 T^T. `scratch` [hidden, latent] avoids an
 * allocation when called in a loop.
 */
export async function meanWeightNorms(
  gemm: Gemm,
  w1: Mat,
  transform: Mat,
  coreDim: number,
  scratch?: Float32Array,
): Promise<WeightNorms> {
  const latent = transform.rows;
  if (coreDim < 0 || coreDim > latent)
    throw new RangeError(`meanWeightNorms: coreDim ${coreDim} outside [0, ${latent}]`);
  const c: Mat = { data: scratch ?? new Float32Array(w1.rows * latent), rows: w1.rows, cols: latent };
  await gemm.matmul(w1, false, transform, true, c);
  let core = 0,
    bg = 0;
  for (let j = 0; j < w1.rows; j++) {
    let sc = 0,
      sb = 0;
    const off = j * latent;
    for (let k = 0; k < coreDim; k++) sc += c.data[off + k]! ** 2;
    for (let k = coreDim; k < latent; k++) sb += c.data[off + k]! ** 2;
    core += Math.sqrt(sc);
    bg += Math.sqrt(sb);
  }
  return { core: core / w1.rows, background: bg / w1.rows };
}

/**
 * Per-neuron majority-class share of |activation| mass (see above) for labels +1/-1, written to `out`
 * (length cols). Neurons with no mass on either class get NaN. Returns the mean over the others.
 */
export function activationAsymmetry(
  act: Float32Array,
  rows: number,
  cols: number,
  labels: Float32Array,
  out: Float32Array,
): number {
  const pos = new Float64Array(cols),
    neg = new Float64Array(cols);
  let nPos = 0,
    nNeg = 0;
  for (let i = 0; i < rows; i++) {
    const target = labels[i]! > 0 ? pos : neg;
    if (labels[i]! > 0) nPos++;
    else nNeg++;
    const off = i * cols;
    for (let j = 0; j < cols; j++) target[j] = target[j]! + Math.abs(act[off + j]!);
  }
  let sum = 0,
    live = 0;
  for (let j = 0; j < cols; j++) {
    const mp = nPos ? pos[j]! / nPos : 0,
      mn = nNeg ? neg[j]! / nNeg : 0;
    const total = mp + mn;
    if (!(total > 0)) {
      out[j] = NaN;
      continue;
    }
    out[j] = Math.max(mp, mn) / total;
    sum += out[j]!;
    live++;
  }
  return live ? sum / live : NaN;
}
