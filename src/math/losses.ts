/**
 * Training losses of the synthetic experiment (toy.py) and of student distillation, each the mean over the
 * batch as PyTorch computes them:
 *   logistic  mean_i log(1 + exp(-y_i f_i))              (labels +1/-1, one output)
 *   hinge     mean_i max(0, 1 - y_i f_i)                  (labels +1/-1, one output)
 *   mse       mean_{i,k} (f_ik - t_ik)^2                  (nn.MSELoss: mean over every element, any output dim)
 */
export const LOSSES = ['logistic', 'hinge', 'mse'] as const;
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
