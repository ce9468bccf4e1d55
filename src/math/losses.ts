/**
 * Training losses of the synthetic experiment (toy.py) and of student distillation, each the mean over the
 * batch as PyTorch computes them:
 *   logistic  mean_i log(1 + exp(-y_i f_i))              (labels +1/-1, one output)
 *   hinge     mean_i max(0, 1 - y_i f_i)                  (labels +1/-1, one output)
 *   mse       mean_{i,k} (f_ik - t_ik)^2                  (nn.MSELoss: mean over every element, any output dim)
 */
import { LOSSES } from '../options.js';
export { LOSSES };
export type LossKind = (typeof LOSSES)[number];

/** log(1 + exp(z)) without overflow. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/**
 * Loss of `out` [rows, outDim] against `target` ([rows] labels +1/-1 for logistic and hinge, [rows, outDim]
 * for mse). When `grad` is given it receives d loss / d out (same shape as out).
 */
export function computeLoss(
  kind: LossKind,
  out: Float32Array,
  target: Float32Array,
  rows: number,
  outDim: number,
  grad: Float32Array | null,
): number {
  let sum = 0;
  switch (kind) {
    case 'logistic': {
      if (outDim !== 1) throw new RangeError(`logistic loss needs one output, got ${outDim}`);
      const inv = 1 / rows;
      for (let i = 0; i < rows; i++) {
        const y = target[i]!;
        const m = y * out[i]!;
        sum += softplus(-m);
        // d/df log(1 + exp(-y f)) = -y sigmoid(-y f)
        if (grad) grad[i] = (-y * inv) / (1 + Math.exp(m));
      }
      return sum / rows;
    }
    case 'hinge': {
      if (outDim !== 1) throw new RangeError(`hinge loss needs one output, got ${outDim}`);
      const inv = 1 / rows;
      for (let i = 0; i < rows; i++) {
        const y = target[i]!;
        const slack = 1 - y * out[i]!;
        if (slack > 0) sum += slack;
        if (grad) grad[i] = slack > 0 ? -y * inv : 0;
      }
      return sum / rows;
    }
    case 'mse': {
      const n = rows * outDim;
      const scale = 2 / n;
      for (let k = 0; k < n; k++) {
        const d = out[k]! - target[k]!;
        sum += d * d;
        if (grad) grad[k] = scale * d;
      }
      return sum / n;
    }
  }
}

/** Share of rows with sign(out_i) = y_i (out_i <= 0 counts as the negative class). */
export function signAccuracy(out: Float32Array, labels: Float32Array, rows: number): number {
  let ok = 0;
  for (let i = 0; i < rows; i++) if ((out[i]! > 0 ? 1 : -1) === labels[i]) ok++;
  return rows > 0 ? ok / rows : NaN;
}

/**
 * Cosine-distance loss mean_i (1 - cos(f_i, t_i)) over `rows` rows of `dim` values, with cosine as PyTorch's
 * F.cosine_similarity (each norm clamped below at eps = 1e-8, so an all-zero row counts as cosine 0 instead of
 * NaN). When `grad` is given it receives d loss / d out [rows, dim].
 */
export function cosineDistanceLoss(
  out: Float32Array,
  target: Float32Array,
  rows: number,
  dim: number,
  grad: Float32Array | null,
): number {
  const eps = 1e-8;
  let sum = 0;
  for (let i = 0; i < rows; i++) {
    const o = i * dim;
    let ff = 0,
      tt = 0,
      ft = 0;
    for (let k = 0; k < dim; k++) {
      const f = out[o + k]!,
        t = target[o + k]!;
      ff += f * f;
      tt += t * t;
      ft += f * t;
    }
    const nf = Math.max(Math.sqrt(ff), eps),
      nt = Math.max(Math.sqrt(tt), eps);
    const cos = ft / (nf * nt);
    sum += 1 - cos;
    if (grad) {
      // d cos / d f = t / (|f| |t|) - cos f / |f|^2 (the clamped norm is constant below eps).
      const a = -1 / (rows * nf * nt);
      const b = Math.sqrt(ff) > eps ? cos / (rows * nf * nf) : 0;
      for (let k = 0; k < dim; k++) grad[o + k] = a * target[o + k]! + b * out[o + k]!;
    }
  }
  return sum / rows;
}
