/**
 * The paper-probe trainer as it was before issue 17 (float64 parameters and AdamW state, JavaScript update),
 * kept as the reference that src/probe/sgdTrainer.ts's float32 WebAssembly step is compared against.
 */
import type { Gemm } from '../../src/compute/gemm.js';
import { AdamW, clipGradNorm, cosineLr } from '../../src/math/adamw.js';
import type { Rng } from '../../src/math/rng.js';
import { softmaxResidual } from '../../src/probe/logreg.js';
import type { SgdSchedule, SgdStepInfo } from '../../src/probe/sgdTrainer.js';

export class ReferenceSgdTrainer {
  /** [k, d+1], bias last, as weights.npy. */
  readonly theta: Float64Array;
  private readonly grad: Float64Array;
  private readonly wf: Float32Array;
  private readonly z: Float32Array;
  private readonly gBlock: Float32Array;
  private readonly rowScratch: Float64Array;
  private readonly bias: Float64Array;
  private readonly opt: AdamW;
  private stepIndex = 0;

  constructor(
    private readonly gemm: Gemm,
    readonly k: number,
    readonly d: number,
    maxBatch: number,
    private readonly schedule: SgdSchedule,
    rng: Rng,
  ) {
    this.theta = new Float64Array(k * (d + 1));
    // PyTorch's nn.Linear initialization: weights and bias ~ U(-1/sqrt(D), 1/sqrt(D)).
    const bound = 1 / Math.sqrt(d);
    for (let i = 0; i < this.theta.length; i++) this.theta[i] = (2 * rng.uniform() - 1) * bound;
    this.grad = new Float64Array(k * (d + 1));
    this.wf = new Float32Array(k * d);
    this.z = new Float32Array(maxBatch * k);
    this.gBlock = new Float32Array(k * d);
    this.rowScratch = new Float64Array(k);
    this.bias = new Float64Array(k);
    this.opt = new AdamW(this.theta.length, { lr: schedule.lr, weightDecay: schedule.weightDecay });
  }

  get steps(): number {
    return this.stepIndex;
  }

  /** One optimizer step on the batch x [rows, d] with labels y. */
  async step(x: Float32Array, y: Int32Array, rows: number): Promise<SgdStepInfo> {
    const { k, d } = this;
    const d1 = d + 1;
    const theta = this.theta,
      grad = this.grad,
      wf = this.wf,
      z = this.z,
      gb = this.gBlock,
      e = this.rowScratch;
    for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) wf[c * d + j] = theta[c * d1 + j]!;
    const xb = { data: x.subarray(0, rows * d), rows, cols: d };
    const zb = { data: z.subarray(0, rows * k), rows, cols: k };
    await this.gemm.matmul(xb, false, { data: wf, rows: k, cols: d }, true, zb);
    grad.fill(0);
    const bias = this.bias;
    for (let c = 0; c < k; c++) bias[c] = theta[c * d1 + d]!;
    const lossSum = softmaxResidual(z, rows, k, y, 0, bias, rows, grad, d + 1, d, e);
    await this.gemm.matmul(zb, true, xb, false, { data: gb, rows: k, cols: d });
    for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) grad[c * d1 + j]! += gb[c * d + j]!;
    const s = this.schedule;
    const gradNorm =
      s.clipNorm === null ? Math.sqrt(grad.reduce((a, g) => a + g * g, 0)) : clipGradNorm(grad, s.clipNorm);
    const lr = cosineLr(s.lr, s.warmupSteps, s.totalSteps, this.stepIndex);
    this.opt.step(theta, grad, lr);
    this.stepIndex++;
    return { step: this.stepIndex, lr, loss: lossSum / rows, gradNorm };
  }
}
