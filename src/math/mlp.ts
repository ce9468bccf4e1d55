/**
 * A fully connected network, PyTorch layout (weights [out, in] row-major, y = x W^T + b), trained by
 * backpropagation with the big products on a `Gemm`: the synthetic experiment's MLP (toy.py) and the demo's
 * student (an MSE regression onto a teacher's feature vector).
 *
 * Shapes: `layers` linear maps, in -> hidden -> ... -> hidden -> out, with the activation after every map but
 * the last (layers = 1: a single linear map). Buffers for activations live in an `MlpWorkspace` sized once for
 * the largest batch, so a training loop allocates nothing per step.
 *
 * Low-rank input: when x = L R (L [rows, r], R [r, in], r << in), as the synthetic data X = Z T is, the first
 * layer uses the exact identities x W1^T = L (R W1^T) and dW1 = (dP1^T L) R, which replace two
 * rows x in x hidden products by rows x r x hidden ones (3x fewer multiply-adds at the paper's sizes).
 */
import type { Gemm, Mat } from '../compute/gemm.js';
import {
  type Activation,
  backpropActivation,
  backpropOuterActivation,
  biasActivate,
  biasActivateWithDerivative,
  columnSums,
} from './activations.js';
import type { ParamTensor } from './optimizers.js';
import type { Rng } from './rng.js';

export interface MlpSpec {
  inDim: number;
  hidden: number;
  outDim: number;
  /** Number of linear maps (>= 1); toy.py's mlp_n_layers (default 2: one hidden layer). */
  layers: number;
  activation: Activation;
  bias: boolean;
  /**
   * Freeze the output layer at +1/hidden for the first half of the units and -1/hidden for the second half
   * (the theory's setting; toy.py's mlp_freeze_output). Its bias (if any) keeps its initial value, frozen.
   */
  freezeOutput: boolean;
}

export interface DenseLayer {
  inDim: number;
  outDim: number;
  /** [outDim, inDim] row-major. */
  weight: Float32Array;
  bias: Float32Array | null;
  gradWeight: Float32Array;
  gradBias: Float32Array | null;
  trainable: boolean;
}

/** x = left right: left [rows, r], right [r, inDim]. */
export interface LowRankInput {
  left: Mat;
  right: Mat;
}

export type MlpInput = Mat | LowRankInput;

export function isLowRank(x: MlpInput): x is LowRankInput {
  return (x as LowRankInput).left !== undefined;
}

export function validateMlpSpec(spec: MlpSpec): void {
  for (const k of ['inDim', 'hidden', 'outDim', 'layers'] as const) {
    if (!Number.isInteger(spec[k]) || spec[k] < 1)
      throw new RangeError(`MlpSpec.${k} must be a positive integer, got ${spec[k]}`);
  }
  if (spec.freezeOutput && spec.layers < 2) throw new RangeError('MlpSpec.freezeOutput needs at least 2 layers');
}

export class Mlp {
  readonly layers: DenseLayer[];

  constructor(
    readonly spec: MlpSpec,
    layers: DenseLayer[],
  ) {
    this.layers = layers;
  }

  /**
   * PyTorch's nn.Linear initialization (kaiming_uniform with a = sqrt(5)): weights and bias uniform in
   * (-1/sqrt(fan_in), 1/sqrt(fan_in)), so weight norms start where the reference implementation's do.
   */
  static create(spec: MlpSpec, rng: Rng): Mlp {
    validateMlpSpec(spec);
    const dims = [spec.inDim];
    for (let l = 0; l < spec.layers - 1; l++) dims.push(spec.hidden);
    dims.push(spec.outDim);
    const layers: DenseLayer[] = [];
    for (let l = 0; l < spec.layers; l++) {
      const inDim = dims[l]!,
        outDim = dims[l + 1]!;
      const bound = 1 / Math.sqrt(inDim);
      const weight = new Float32Array(outDim * inDim);
      for (let i = 0; i < weight.length; i++) weight[i] = (2 * rng.uniform() - 1) * bound;
      let bias: Float32Array | null = null;
      if (spec.bias) {
        bias = new Float32Array(outDim);
        for (let i = 0; i < outDim; i++) bias[i] = (2 * rng.uniform() - 1) * bound;
      }
      const last = l === spec.layers - 1;
      if (last && spec.freezeOutput) {
        const half = Math.floor(inDim / 2);
        for (let o = 0; o < outDim; o++)
          for (let j = 0; j < inDim; j++) weight[o * inDim + j] = (j < half ? 1 : -1) / inDim;
      }
      layers.push({
        inDim,
        outDim,
        weight,
        bias,
        gradWeight: new Float32Array(weight.length),
        gradBias: bias ? new Float32Array(outDim) : null,
        trainable: !(last && spec.freezeOutput),
      });
    }
    return new Mlp(spec, layers);
  }

  /** Trainable tensors, in layer order (weight then bias), for an Optimizer. */
  parameters(): ParamTensor[] {
    const out: ParamTensor[] = [];
    this.layers.forEach((L, l) => {
      if (!L.trainable) return;
      out.push({ name: `fc${l}.weight`, data: L.weight, grad: L.gradWeight });
      if (L.bias && L.gradBias) out.push({ name: `fc${l}.bias`, data: L.bias, grad: L.gradBias });
    });
    return out;
  }

  /** Deep copy (weights only; gradients start at zero). */
  clone(): Mlp {
    return new Mlp(
      { ...this.spec },
      this.layers.map((L) => ({
        ...L,
        weight: L.weight.slice(),
        bias: L.bias ? L.bias.slice() : null,
        gradWeight: new Float32Array(L.gradWeight.length),
        gradBias: L.gradBias ? new Float32Array(L.gradBias.length) : null,
      })),
    );
  }
}

/** Activation buffers for batches of up to `maxRows` rows (and a low-rank input of rank up to `maxRank`). */
export class MlpWorkspace {
  /** Per hidden layer: pre-activation and activation, [maxRows, hidden]. */
  readonly pre: Float32Array[];
  readonly act: Float32Array[];
  /** Gradient w.r.t. each hidden layer's activation, turned in place into the pre-activation's. */
  readonly delta: Float32Array[];
  /** Network output [maxRows, outDim]. */
  readonly out: Float32Array;
  private readonly biasAcc: Float64Array;
  /** Low-rank scratch: R W1^T [maxRank, out0] and dP1^T L [out0, maxRank]. */
  private readonly proj: Float32Array;
  private readonly projGrad: Float32Array;
  /** Single-output shortcut (see backward): activation derivative, [dOut * L, dOut] and its product. */
  private readonly deriv: Float32Array | null;
  private readonly zs: Float32Array;
  private readonly gAug: Float32Array;

  constructor(
    readonly net: Mlp,
    readonly maxRows: number,
    readonly maxRank = 0,
  ) {
    const hidden = net.layers.slice(0, -1);
    this.pre = hidden.map((L) => new Float32Array(maxRows * L.outDim));
    // A linear network's activation is its pre-activation: share the buffer.
    this.act = hidden.map((L, l) =>
      net.spec.activation === 'none' ? this.pre[l]! : new Float32Array(maxRows * L.outDim),
    );
    this.delta = hidden.map((L) => new Float32Array(maxRows * L.outDim));
    this.out = new Float32Array(maxRows * net.spec.outDim);
    this.biasAcc = new Float64Array(Math.max(...net.layers.map((L) => L.outDim)));
    const out0 = net.layers[0]!.outDim;
    this.proj = new Float32Array(maxRank * out0);
    this.projGrad = new Float32Array(out0 * maxRank);
    const shortcut = net.layers.length === 2 && net.spec.outDim === 1 && maxRank > 0;
    this.deriv = shortcut ? new Float32Array(maxRows * out0) : null;
    this.zs = new Float32Array(shortcut ? maxRows * (maxRank + 1) : 0);
    this.gAug = new Float32Array(shortcut ? out0 * (maxRank + 1) : 0);
  }

  private checkInput(x: MlpInput): number {
    const inDim = this.net.spec.inDim;
    if (isLowRank(x)) {
      const { left, right } = x;
      if (right.cols !== inDim || left.cols !== right.rows)
        throw new RangeError(
          `MLP low-rank input: ${left.rows}x${left.cols} times ${right.rows}x${right.cols}, expected inner match ` +
            `and ${inDim} columns`,
        );
      if (right.rows > this.maxRank)
        throw new RangeError(`MLP low-rank input of rank ${right.rows}, workspace sized for ${this.maxRank}`);
      return left.rows;
    }
    if (x.cols !== inDim) throw new RangeError(`MLP input has ${x.cols} columns, expected ${inDim}`);
    return x.rows;
  }

  /** Forward pass; returns the output [rows, outDim] (a view on `this.out`, valid until the next call). */
  async forward(gemm: Gemm, x: MlpInput): Promise<Mat> {
    const rows = this.checkInput(x);
    if (rows > this.maxRows) throw new RangeError(`MLP batch of ${rows} rows, workspace sized for ${this.maxRows}`);
    const layers = this.net.layers;
    const last = layers.length - 1;
    for (let l = 0; l <= last; l++) {
      const L = layers[l]!;
      const W: Mat = { data: L.weight, rows: L.outDim, cols: L.inDim };
      const target: Mat = { data: l === last ? this.out : this.pre[l]!, rows, cols: L.outDim };
      if (l === 0 && isLowRank(x)) {
        const proj: Mat = { data: this.proj, rows: x.right.rows, cols: L.outDim };
        await gemm.matmul(x.right, false, W, true, proj);
        await gemm.matmul(x.left, false, proj, false, target);
      } else {
        const input: Mat = l === 0 ? (x as Mat) : { data: this.act[l - 1]!, rows, cols: L.inDim };
        await gemm.matmul(input, false, W, true, target);
      }
      if (l === last) biasActivate('none', target.data, target.data, L.bias, rows, L.outDim);
      else if (l === 0 && this.deriv)
        biasActivateWithDerivative(
          this.net.spec.activation,
          this.pre[0]!,
          this.act[0]!,
          this.deriv,
          L.bias,
          rows,
          L.outDim,
        );
      else biasActivate(this.net.spec.activation, this.pre[l]!, this.act[l]!, L.bias, rows, L.outDim);
    }
    return { data: this.out, rows, cols: this.net.spec.outDim };
  }

  /**
   * Backward pass after `forward(gemm, x)` on the same x: writes every trainable layer's gradWeight and
   * gradBias from dOut = d loss / d output [rows, outDim].
   */
  async backward(gemm: Gemm, x: MlpInput, dOut: Float32Array): Promise<void> {
    const rows = this.checkInput(x);
    if (this.deriv && isLowRank(x)) return this.backwardSingleOutputLowRank(gemm, x, rows, dOut);
    const layers = this.net.layers;
    const act = this.net.spec.activation;
    const acc = this.biasAcc;
    let delta: Mat = { data: dOut, rows, cols: this.net.spec.outDim };
    let fusedBias = false; // delta already holds d loss / d pre and acc its column sums
    for (let l = layers.length - 1; l >= 0; l--) {
      const L = layers[l]!;
      if (l < layers.length - 1) {
        // delta holds d loss / d act[l] (unless the fused pass already made it d loss / d pre[l] and the sums).
        if (!fusedBias)
          backpropActivation(
            act,
            delta.data,
            this.pre[l]!,
            this.act[l]!,
            rows,
            L.outDim,
            L.trainable && L.gradBias ? acc : null,
          );
      } else if (L.trainable && L.gradBias) {
        columnSums(delta.data, rows, L.outDim, acc);
      }
      if (L.trainable) {
        if (L.gradBias) for (let j = 0; j < L.outDim; j++) L.gradBias[j] = acc[j]!;
        const gW: Mat = { data: L.gradWeight, rows: L.outDim, cols: L.inDim };
        if (l === 0 && isLowRank(x)) {
          const pg: Mat = { data: this.projGrad, rows: L.outDim, cols: x.left.cols };
          await gemm.matmul(delta, true, x.left, false, pg);
          await gemm.matmul(pg, false, x.right, false, gW);
        } else {
          const input: Mat = l === 0 ? (x as Mat) : { data: this.act[l - 1]!, rows, cols: L.inDim };
          await gemm.matmul(delta, true, input, false, gW);
        }
      }
      if (l > 0) {
        const next: Mat = { data: this.delta[l - 1]!, rows, cols: L.inDim };
        if (L.outDim === 1) {
          // d loss / d act = dOut w^T is an outer product: one fused JS pass with the activation's derivative
          // and the bias sums beats a k = 1 Gemm followed by two more passes.
          backpropOuterActivation(
            act,
            delta.data,
            L.weight,
            next.data,
            this.pre[l - 1]!,
            this.act[l - 1]!,
            rows,
            L.inDim,
            acc,
          );
          fusedBias = true;
        } else {
          await gemm.matmul(delta, false, { data: L.weight, rows: L.outDim, cols: L.inDim }, false, next);
          fusedBias = false;
        }
        delta = next;
      }
    }
  }

  /**
   * Two layers, one output, x = L R. With D = act'(P1) saved by forward, d loss / d P1 = (dOut w2^T) * D, so
   *   dW1 = diag(w2) D^T diag(dOut) L R   and   db1 = diag(w2) D^T dOut,
   * which is one Gemm of D^T with [dOut * L, dOut] (rows x (r + 1), built in a pass over rows x r instead of
   * rows x hidden). No JavaScript pass over the [rows, hidden] gradient remains.
   */
  private async backwardSingleOutputLowRank(
    gemm: Gemm,
    x: LowRankInput,
    rows: number,
    dOut: Float32Array,
  ): Promise<void> {
    const [L0, L1] = this.net.layers as [DenseLayer, DenseLayer];
    const h = L0.outDim,
      r = x.left.cols,
      c = r + 1;
    if (L1.trainable) {
      if (L1.gradBias) {
        let s = 0;
        for (let i = 0; i < rows; i++) s += dOut[i]!;
        L1.gradBias[0] = s;
      }
      await gemm.matmul({ data: dOut, rows, cols: 1 }, true, { data: this.act[0]!, rows, cols: h }, false, {
        data: L1.gradWeight,
        rows: 1,
        cols: h,
      });
    }
    const zs = this.zs,
      left = x.left.data;
    for (let i = 0; i < rows; i++) {
      const d = dOut[i]!,
        o = i * c,
        li = i * r;
      for (let k = 0; k < r; k++) zs[o + k] = d * left[li + k]!;
      zs[o + r] = d;
    }
    await gemm.matmul({ data: this.deriv!, rows, cols: h }, true, { data: zs, rows, cols: c }, false, {
      data: this.gAug,
      rows: h,
      cols: c,
    });
    const w2 = L1.weight,
      g = this.gAug,
      pg = this.projGrad,
      gb = L0.gradBias;
    for (let j = 0; j < h; j++) {
      const s = w2[j]!,
        o = j * c;
      for (let k = 0; k < r; k++) pg[j * r + k] = s * g[o + k]!;
      if (gb) gb[j] = s * g[o + r]!;
    }
    await gemm.matmul({ data: pg, rows: h, cols: r }, false, x.right, false, {
      data: L0.gradWeight,
      rows: h,
      cols: L0.inDim,
    });
  }

  /** Activations of hidden layer `l` [rows, hidden] after the last forward (a view). */
  hiddenActivations(l = 0): Float32Array {
    return this.act[l]!;
  }
}
