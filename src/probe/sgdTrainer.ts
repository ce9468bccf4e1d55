/**
 * Mini-batch training of a linear softmax classifier (the paper's probe: `Linear(D, K)`, cross-entropy,
 * AdamW, warmup + cosine, global-norm clipping). The caller streams batches in (any order it likes); this
 * class owns the parameters and the optimizer, so memory is O(K D + batch D) whatever the data set size.
 *
 * Speed (issue 17): parameters, gradient and AdamW moments are float32 in one WebAssembly memory
 * (compute/adamwWasm.ts). The forward GEMM reads the weights in place, the backward GEMM writes the weight
 * gradient in place, and one SIMD pass clips and updates; a step allocates no typed array. Results equal the
 * float64 trainer's up to float32 rounding of the parameters and moments (tested against it).
 */
import type { Gemm, Mat } from '../compute/gemm.js';
import { FusedAdamW } from '../compute/adamwWasm.js';
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
    this.z = new Float32Array(maxBatch * k);
    this.bias = new Float64Array(k);
    this.biasGrad = new Float64Array(k);
    this.e = new Float64Array(k);
    this.wMat = { data: this.w, rows: k, cols: d };
    this.gwMat = { data: this.gw, rows: k, cols: d };
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
    const { k, d } = this;
    if (rows < 1 || rows > this.maxBatch)
      throw new RangeError(`step: rows must be in 1..${this.maxBatch}, got ${rows}`);
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
    const s = this.schedule;
    const lr = cosineLr(s.lr, s.warmupSteps, s.totalSteps, this.stepIndex);
    const gradNorm = this.opt.step(lr, s.clipNorm);
    this.stepIndex++;
    return { step: this.stepIndex, lr, loss: lossSum / rows, gradNorm };
  }
}
