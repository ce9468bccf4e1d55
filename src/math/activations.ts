/**
 * Hidden-layer activations of the MLP, as PyTorch defines them (toy.py's choices): ReLU, exact (erf) GELU,
 * LeakyReLU with slope 0.1, Sigmoid, Tanh, or none (identity: a linear network).
 *
 * The loops are fused with the bias add (forward) and the column sums of the bias gradient (backward), and
 * the `switch` sits outside the loops so each loop stays monomorphic: these are the only passes over the
 * [rows, hidden] activations that run in JavaScript.
 */
import { ACTIVATIONS } from '../options.js';
export { ACTIVATIONS };
export type Activation = (typeof ACTIVATIONS)[number];

/** toy.py: nn.LeakyReLU(0.1). */
export const LEAKY_SLOPE = 0.1;

const INV_SQRT2 = 1 / Math.SQRT2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * erf(x) from Numerical Recipes' erfc fit (fractional error < 1.2e-7 everywhere): below float32 resolution,
 * so GELU matches PyTorch's exact (erf) form to float32 rounding. It is smooth, so finite differences of
 * GELU agree with the analytic derivative used in backprop.
 */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

/** Scalar activation (reference for tests and for small inputs). */
export function activate(kind: Activation, x: number): number {
  switch (kind) {
    case 'relu':
      return Math.max(x, 0);
    case 'gelu':
      return 0.5 * x * (1 + erf(x * INV_SQRT2));
    case 'leaky-relu':
      return x > 0 ? x : LEAKY_SLOPE * x;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'tanh':
      return Math.tanh(x);
    case 'none':
      return x;
  }
}

let zeros = new Float32Array(0);
function biasOrZeros(bias: Float32Array | null, cols: number): Float32Array {
  if (bias) return bias;
  if (zeros.length < cols) zeros = new Float32Array(cols);
  return zeros;
}

/*
 * Speed notes (these loops dominate the JavaScript side of a training step): each activation has its own
 * loop so V8 compiles it monomorphic, the bias add is fused into it, and the piecewise-linear ones are
 * branchless (`+(v > 0)` is 0 or 1): with pre-activations of random sign a branch mispredicts half the time,
 * which measured 3x slower here. v * 1 and v * 0.1 are exact, so the results equal the branchy forms.
 */

/**
 * Over a [rows, cols] block: pre[i, j] += bias[j] (bias may be null), act[i, j] = activation(pre[i, j]).
 * For 'relu' the pre-activation is left without its bias (backprop reads `act`); `act` may be `pre` only
 * for 'none'.
 */
export function biasActivate(
  kind: Activation,
  pre: Float32Array,
  act: Float32Array,
  bias: Float32Array | null,
  rows: number,
  cols: number,
): void {
  const b = biasOrZeros(bias, cols);
  switch (kind) {
    case 'relu':
      for (let i = 0, k = 0; i < rows; i++)
        for (let j = 0; j < cols; j++, k++) {
          const v = pre[k]! + b[j]!;
          act[k] = (v + Math.abs(v)) * 0.5;
        }
      return;
    case 'leaky-relu':
      for (let i = 0, k = 0; i < rows; i++)
        for (let j = 0; j < cols; j++, k++) {
          const v = pre[k]! + b[j]!;
          pre[k] = v;
          act[k] = v * (LEAKY_SLOPE + (1 - LEAKY_SLOPE) * +(v > 0));
        }
      return;
    case 'gelu':
      for (let i = 0, k = 0; i < rows; i++)
        for (let j = 0; j < cols; j++, k++) {
          const v = pre[k]! + b[j]!;
          pre[k] = v;
          act[k] = 0.5 * v * (1 + erf(v * INV_SQRT2));
        }
      return;
    case 'sigmoid':
      for (let i = 0, k = 0; i < rows; i++)
        for (let j = 0; j < cols; j++, k++) act[k] = 1 / (1 + Math.exp(-(pre[k]! + b[j]!)));
      return;
    case 'tanh':
      for (let i = 0, k = 0; i < rows; i++) for (let j = 0; j < cols; j++, k++) act[k] = Math.tanh(pre[k]! + b[j]!);
      return;
    case 'none':
      for (let i = 0, k = 0; i < rows; i++) for (let j = 0; j < cols; j++, k++) act[k] = pre[k]! + b[j]!;
      return;
  }
}

/**
 * In place: grad[i, j] *= activation'(pre[i, j]) (relu, sigmoid and tanh read it off `act`), and
 * biasGrad[j] = sum_i grad[i, j] (float64) when biasGrad is given.
 */
export function backpropActivation(
  kind: Activation,
  grad: Float32Array,
  pre: Float32Array,
  act: Float32Array,
  rows: number,
  cols: number,
  biasGrad: Float64Array | null,
): void {
  const n = rows * cols;
  switch (kind) {
    case 'relu':
      for (let k = 0; k < n; k++) grad[k] = grad[k]! * +(act[k]! > 0);
      break;
    case 'leaky-relu':
      for (let k = 0; k < n; k++) grad[k] = grad[k]! * (LEAKY_SLOPE + (1 - LEAKY_SLOPE) * +(pre[k]! > 0));
      break;
    case 'gelu':
      for (let k = 0; k < n; k++) {
        const v = pre[k]!;
        grad[k] = grad[k]! * (0.5 * (1 + erf(v * INV_SQRT2)) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
      }
      break;
    case 'sigmoid':
      for (let k = 0; k < n; k++) {
        const s = act[k]!;
        grad[k] = grad[k]! * s * (1 - s);
      }
      break;
    case 'tanh':
      for (let k = 0; k < n; k++) {
        const t = act[k]!;
        grad[k] = grad[k]! * (1 - t * t);
      }
      break;
    case 'none':
      break;
  }
  if (biasGrad) columnSums(grad, rows, cols, biasGrad);
}

/**
 * biasActivate that also writes deriv[i, j] = activation'(pre[i, j] + bias[j]), for the single-output
 * shortcut of MlpWorkspace.backward (the derivative is then read once by a Gemm instead of a JS pass).
 */
export function biasActivateWithDerivative(
  kind: Activation,
  pre: Float32Array,
  act: Float32Array,
  deriv: Float32Array,
  bias: Float32Array | null,
  rows: number,
  cols: number,
): void {
  const b = biasOrZeros(bias, cols);
  if (kind === 'relu') {
    for (let i = 0, k = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++, k++) {
        const v = pre[k]! + b[j]!;
        act[k] = (v + Math.abs(v)) * 0.5;
        deriv[k] = +(v > 0);
      }
    }
    return;
  }
  if (kind === 'gelu') {
    // One erf and one exp per element for both the value and the derivative: Phi(v) serves twice.
    for (let i = 0, k = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++, k++) {
        const v = pre[k]! + b[j]!;
        const cdf = 0.5 * (1 + erf(v * INV_SQRT2));
        pre[k] = v;
        act[k] = v * cdf;
        deriv[k] = cdf + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v);
      }
    }
    return;
  }
  biasActivate(kind, pre, act, bias, rows, cols);
  deriv.fill(1, 0, rows * cols);
  if (kind !== 'none') backpropActivation(kind, deriv, pre, act, rows, cols, null);
}

/**
 * backpropActivation for a gradient that is an outer product, grad[i, j] = u[i] v[j] (a single-output layer:
 * d loss / d hidden = dOut[i] w[j]), written into `grad` in one pass with the bias sums instead of three.
 */
export function backpropOuterActivation(
  kind: Activation,
  u: Float32Array,
  v: Float32Array,
  grad: Float32Array,
  pre: Float32Array,
  act: Float32Array,
  rows: number,
  cols: number,
  biasGrad: Float64Array,
): void {
  if (kind !== 'relu' && kind !== 'none') {
    for (let i = 0, k = 0; i < rows; i++) {
      const ui = u[i]!;
      for (let j = 0; j < cols; j++, k++) grad[k] = ui * v[j]!;
    }
    backpropActivation(kind, grad, pre, act, rows, cols, biasGrad);
    return;
  }
  biasGrad.fill(0, 0, cols);
  if (kind === 'relu') {
    for (let i = 0, k = 0; i < rows; i++) {
      const ui = u[i]!;
      for (let j = 0; j < cols; j++, k++) {
        const g = ui * v[j]! * +(act[k]! > 0);
        grad[k] = g;
        biasGrad[j] = biasGrad[j]! + g;
      }
    }
  } else {
    for (let i = 0, k = 0; i < rows; i++) {
      const ui = u[i]!;
      for (let j = 0; j < cols; j++, k++) {
        const g = ui * v[j]!;
        grad[k] = g;
        biasGrad[j] = biasGrad[j]! + g;
      }
    }
  }
}

/** out[j] = sum_i m[i, j] in float64. */
export function columnSums(m: Float32Array, rows: number, cols: number, out: Float64Array): void {
  out.fill(0, 0, cols);
  for (let i = 0; i < rows; i++) {
    const off = i * cols;
    for (let j = 0; j < cols; j++) out[j] = out[j]! + m[off + j]!;
  }
}
