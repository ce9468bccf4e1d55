/**
 * Mini-batch training of a linear softmax classifier (the paper's probe: `Linear(D, K)`, cross-entropy,
 * AdamW, warmup + cosine, global-norm clipping). The caller streams batches in (any order it likes); this
 * class owns the parameters and the optimizer, so memory is O(K D + batch D) whatever the data set size.
 *
 * Speed (issue 17): parameters, gradient and AdamW moments are float32 in one WebAssembly memory
 * (compute/adamwWasm.ts). Where the GEMM backend offers it (onnxruntime), the loss gradient is one fused graph
 * (compute/softmaxGrad.ts) that reads the weights and writes the gradient in that memory; otherwise two
 * products with the float64 softmax of logreg.ts between them. One SIMD pass then clips and updates; a step
 * allocates no typed array. Results equal the float64 trainer's up to float32 rounding (tested against it).
 */
import type { Gemm, Mat } from '../compute/gemm.js';
import { FusedAdamW } from '../compute/adamwWasm.js';
import type { SoftmaxGrad } from '../compute/softmaxGrad.js';
import { cosineLr } from '../math/adamw.js';
import type { Rng } from '../math/rng.js';
import { softmaxResidual } from './logreg.js';

export interface SgdSchedule {
  lr: number;
  weightDecay: number;
  warmupSteps: number;
  totalSteps: number;
  /** Global-norm clip threshold; null: no clipping. */
  clipNorm: number | null;
}

export interface SgdStepInfo {
  step: number;
  lr: number;
  /** Mean cross-entropy of the batch before the update. */
  loss: number;
  /** Gradient L2 norm before clipping. */
  gradNorm: number;
}

export interface SgdTrainerOptions {
  /** Use the TypeScript reference of the WebAssembly kernels (tests). */
  reference?: boolean;
  /** Compose the gradient from `matmul` and the float64 softmax even where the backend has a fused one (tests). */
  unfused?: boolean;
}

export class SoftmaxSgdTrainer {
  private readonly opt: FusedAdamW;
  /** [k, d] weights then [k] bias: views of the optimizer's parameters. */
  private readonly w: Float32Array;
  private readonly b: Float32Array;
  private readonly gw: Float32Array;
  private readonly gb: Float32Array;
  private readonly z: Float32Array;
  private readonly bias: Float64Array;
  private readonly biasGrad: Float64Array;
  private readonly e: Float64Array;
  private readonly wMat: Mat;
  private readonly gwMat: Mat;
  /** One-hot labels of the current batch for the fused gradient (all zero between steps). */
  private readonly onehot: Float32Array;
  private readonly rowLoss: Float32Array;
  private readonly fused: Promise<SoftmaxGrad> | null;
  private stepIndex = 0;

  /**
   * Parameters drawn as PyTorch's nn.Linear does (weights and bias ~ U(-1/sqrt(D), 1/sqrt(D))), in the order
   * of theta ([k, d+1], bias last) so that a seed gives the float64 trainer's initial values rounded to float32.
   */
  constructor(
    private readonly gemm: Gemm,
    readonly k: number,
    readonly d: number,
    readonly maxBatch: number,
    private readonly schedule: SgdSchedule,
    rng: Rng,
    options: SgdTrainerOptions = {},
  ) {
    const kd = k * d;
    this.opt = new FusedAdamW(kd + k, {
      lr: schedule.lr,
      weightDecay: schedule.weightDecay,
      ...(options.reference ? { reference: true } : {}),
    });
    const p = this.opt.params,
      g = this.opt.grad;
    this.w = p.subarray(0, kd);
    this.b = p.subarray(kd, kd + k);
    this.gw = g.subarray(0, kd);
    this.gb = g.subarray(kd, kd + k);
    const bound = 1 / Math.sqrt(d);
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < d; j++) this.w[c * d + j] = (2 * rng.uniform() - 1) * bound;
      this.b[c] = (2 * rng.uniform() - 1) * bound;
    }
    this.fused = !options.unfused && gemm.softmaxGrad ? gemm.softmaxGrad(k, d, maxBatch) : null;
    // Marked handled here; a failure surfaces at the first step, which awaits it.
    this.fused?.catch(() => {});
    // Each path's buffers only: the logits of the unfused path, the one-hot labels and row losses of the fused.
    this.z = new Float32Array(this.fused ? 0 : maxBatch * k);
    this.onehot = new Float32Array(this.fused ? maxBatch * k : 0);
    this.rowLoss = new Float32Array(this.fused ? maxBatch : 0);
    this.bias = new Float64Array(k);
    this.biasGrad = new Float64Array(k);
    this.e = new Float64Array(k);
    this.wMat = { data: this.w, rows: k, cols: d };
    this.gwMat = { data: this.gw, rows: k, cols: d };
  }

  /** 'fused' (one onnxruntime graph per step) or 'gemm' (two products and the JavaScript softmax). */
  get gradient(): 'fused' | 'gemm' {
    return this.fused ? 'fused' : 'gemm';
  }

  get steps(): number {
    return this.stepIndex;
  }

  /** 'wasm' or 'js': which implementation of the optimizer step runs. */
  get backend(): 'wasm' | 'js' {
    return this.opt.backend;
  }

  /** The parameters as float64 [k, d+1] (bias last, as weights.npy); a new array on every call. */
  get theta(): Float64Array {
    const { k, d } = this;
    const d1 = d + 1;
    const t = new Float64Array(k * d1);
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < d; j++) t[c * d1 + j] = this.w[c * d + j]!;
      t[c * d1 + d] = this.b[c]!;
    }
    return t;
  }

  /** One optimizer step on the batch x [rows, d] (rows <= maxBatch) with labels y in [0, k). */
  async step(x: Float32Array, y: Int32Array, rows: number): Promise<SgdStepInfo> {
    if (rows < 1 || rows > this.maxBatch)
      throw new RangeError(`step: rows must be in 1..${this.maxBatch}, got ${rows}`);
    const lossSum = this.fused ? await this.fusedGradient(x, y, rows) : await this.gemmGradient(x, y, rows);
    const s = this.schedule;
    const lr = cosineLr(s.lr, s.warmupSteps, s.totalSteps, this.stepIndex);
    const gradNorm = this.opt.step(lr, s.clipNorm);
    this.stepIndex++;
    return { step: this.stepIndex, lr, loss: lossSum / rows, gradNorm };
  }

  /** Writes the gradient of the batch's mean cross-entropy into gw/gb; returns the summed cross-entropy. */
  private async fusedGradient(x: Float32Array, y: Int32Array, rows: number): Promise<number> {
    const { k, onehot, rowLoss } = this;
    const kernel = await this.fused!;
    for (let i = 0; i < rows; i++) {
      const c = y[i]!;
      // An out-of-range label would mark another row's class: refuse it (the JavaScript path gives NaN).
      if (!(c >= 0 && c < k)) {
        for (let j = 0; j < i; j++) onehot[j * k + y[j]!] = 0;
        throw new RangeError(`step: label ${c} of row ${i} is outside 0..${k - 1}`);
      }
      onehot[i * k + c] = 1;
    }
    try {
      await kernel.run({ x, w: this.w, b: this.b, onehot, gw: this.gw, gb: this.gb, rowLoss }, rows);
    } finally {
      for (let i = 0; i < rows; i++) onehot[i * k + y[i]!] = 0;
    }
    let lossSum = 0;
    for (let i = 0; i < rows; i++) lossSum += rowLoss[i]!;
    return lossSum;
  }

  private async gemmGradient(x: Float32Array, y: Int32Array, rows: number): Promise<number> {
    const { k, d } = this;
    const z = this.z,
      e = this.e,
      bias = this.bias,
      bg = this.biasGrad;
    const xb = { data: x.subarray(0, rows * d), rows, cols: d };
    const zb = { data: z.subarray(0, rows * k), rows, cols: k };
    await this.gemm.matmul(xb, false, this.wMat, true, zb);
    for (let c = 0; c < k; c++) bias[c] = this.b[c]!;
    bg.fill(0);
    // Softmax cross-entropy residual (float64 per row), scaled by 1 / rows; bias gradient summed into bg.
    const lossSum = softmaxResidual(z, rows, k, y, 0, bias, rows, bg, 1, 0, e);
    for (let c = 0; c < k; c++) this.gb[c] = bg[c]!;
    await this.gemm.matmul(zb, true, xb, false, this.gwMat);
    return lossSum;
  }
}
