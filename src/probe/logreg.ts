/**
 * Multinomial (softmax) logistic regression with an unpenalized intercept and an L2 penalty, defined as
 * scikit-learn's `LogisticRegression(C, solver='lbfgs')` defines it:
 *
 *     C * sum_i CE(x_i, y_i) + 0.5 * ||W||_F^2
 *
 * minimized here (as sklearn does) in its mean form  f = mean_i CE + ||W||^2 / (2 C n), which has the same
 * optimum. Parameters are a [K, D+1] row-major matrix theta: row k holds class k's weights, then its bias.
 *
 * The two products per evaluation (logits = X W^T and gradient = R^T X, 2*n*D*K flops each) run on the
 * float32 GEMM; softmax, loss and all accumulations are float64 and sequential, so results are reproducible.
 */
import type { Gemm } from '../compute/gemm.js';
import { minimizeLbfgs, type LbfgsIteration, type StopReason } from '../math/lbfgs.js';

/**
 * Rows of X read on demand (out-of-core L-BFGS): `read` fills `out` with rows [start, start + rows), already
 * transformed (standardized) as the in-memory X would be. Reads never overlap in time for one buffer.
 */
export interface RowSource {
  read(start: number, rows: number, out: Float32Array): Promise<void>;
}

/**
 * Features X [n, d] (row-major float32) with labels in [0, k). With `source`, X is not in memory (`x` is
 * ignored and may be empty): every evaluation streams it in chunks, the next chunk read while the current one
 * is computed. The arithmetic is the same per chunk, so equal chunkRows give identical results either way.
 */
export interface SoftmaxProblem {
  x: Float32Array;
  source?: RowSource | undefined;
  n: number;
  d: number;
  labels: Int32Array;
  k: number;
}

export interface SoftmaxFitOptions {
  /** Inverse regularization strength, as sklearn's C. */
  C: number;
  /** Stop when max |gradient of the mean-form objective| <= tol (sklearn's default: 1e-4). */
  tol: number;
  maxIter: number;
  /**
   * Also stop when an iteration lowers f by less than ftol relative (scipy's L-BFGS-B default 2.2e-9, which
   * scikit-learn keeps); 0 leaves only stagnation.
   */
  ftol?: number;
  /** Warm start [k, d+1]; zeros (sklearn's start) when absent. */
  init?: Float64Array | undefined;
  /** Rows per GEMM block; bounds the logits buffer to chunkRows * k floats. */
  chunkRows?: number;
  onIteration?: (info: LbfgsIteration) => void;
}

export interface SoftmaxFit {
  /** [k, d+1], bias last in each row. */
  theta: Float64Array;
  k: number;
  d: number;
  iterations: number;
  evaluations: number;
  gradMaxAbs: number;
  /** Mean-form objective at theta: mean CE + ||W||^2 / (2 C n). */
  objective: number;
  converged: boolean;
  reason: StopReason;
}

function defaultChunkRows(n: number, k: number, d: number): number {
  // Keep the logits block near 16 MB and the X block reasonable; one block when the data is small.
  const rows = Math.max(1024, Math.floor((1 << 22) / Math.max(k, 1)), Math.floor((1 << 22) / Math.max(d, 1)));
  return Math.min(n, rows);
}

/**
 * The cross-entropy step shared by the full-batch objective and the mini-batch trainer. In place over
 * `rows` rows of logits z (without bias): z_i becomes the residual (softmax(z_i + bias) - onehot(y_i)) / n,
 * whose column sums are added to the bias gradient biasGrad[c * stride + offset] (the objective's packed
 * [K, D + 1] gradient: stride d + 1, offset d; the trainer's own bias gradient: 1, 0). Returns the summed
 * cross-entropy. `scratch` holds k float64 values.
 */
export function softmaxResidual(
  z: Float32Array,
  rows: number,
  k: number,
  labels: Int32Array,
  labelStart: number,
  bias: Float64Array,
  n: number,
  biasGrad: Float64Array,
  stride: number,
  offset: number,
  scratch: Float64Array,
): number {
  const invN = 1 / n;
  const e = scratch;
  let lossSum = 0;
  for (let i = 0; i < rows; i++) {
    const off = i * k;
    const y = labels[labelStart + i]!;
    let mx = -Infinity;
    for (let c = 0; c < k; c++) {
      const v = z[off + c]! + bias[c]!;
      e[c] = v;
      if (v > mx) mx = v;
    }
    const vy = e[y]!;
    let se = 0;
    for (let c = 0; c < k; c++) {
      const t = Math.exp(e[c]! - mx);
      e[c] = t;
      se += t;
    }
    lossSum += mx + Math.log(se) - vy;
    const scale = 1 / (se * n);
    for (let c = 0; c < k; c++) {
      const r = e[c]! * scale - (c === y ? invN : 0);
      z[off + c] = r;
      biasGrad[c * stride + offset]! += r;
    }
  }
  return lossSum;
}

/**
 * f(theta) and its gradient for a problem. Buffers are allocated once; `evaluate` allocates nothing that
 * scales with n.
 */
export class SoftmaxObjective {
  readonly l2: number;
  private readonly wf: Float32Array;
  private readonly bias: Float64Array;
  private readonly z: Float32Array;
  private readonly gBlock: Float32Array;
  private readonly chunk: number;
  private readonly rowScratch: Float64Array;
  /** Two chunk buffers when X is streamed from `p.source`. */
  private readonly xBufs: [Float32Array, Float32Array] | null;
  /** Mean cross-entropy of the last evaluation (without the penalty). */
  lastMeanLoss = NaN;

  constructor(
    private readonly gemm: Gemm,
    private readonly p: SoftmaxProblem,
    C: number,
    chunkRows?: number,
  ) {
    this.l2 = 1 / (C * p.n);
    this.wf = new Float32Array(p.k * p.d);
    this.bias = new Float64Array(p.k);
    this.chunk = chunkRows ?? defaultChunkRows(p.n, p.k, p.d);
    this.z = new Float32Array(this.chunk * p.k);
    this.gBlock = new Float32Array(p.k * p.d);
    this.rowScratch = new Float64Array(p.k);
    this.xBufs = p.source
      ? [
          new Float32Array(this.chunk * p.d),
          new Float32Array(Math.min(this.chunk, Math.max(0, p.n - this.chunk)) * p.d),
        ]
      : null;
  }

  /** Rows held in memory per chunk (two chunks of X when streamed). */
  get chunkRows(): number {
    return this.chunk;
  }

  async evaluate(theta: Float64Array, grad: Float64Array): Promise<number> {
    const { x, n, d, k, labels } = this.p;
    const d1 = d + 1;
    const wf = this.wf,
      bias = this.bias,
      z = this.z,
      gb = this.gBlock,
      e = this.rowScratch;
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < d; j++) wf[c * d + j] = theta[c * d1 + j]!;
      bias[c] = theta[c * d1 + d]!;
    }
    grad.fill(0);
    let lossSum = 0;
    const src = this.p.source,
      bufs = this.xBufs;
    const chunkRead = (start: number, slot: number): Promise<void> => {
      const rows = Math.min(this.chunk, n - start);
      const p = src!.read(start, rows, bufs![slot]!.subarray(0, rows * d));
      p.catch(() => {}); // awaited below; a read-ahead failure surfaces there
      return p;
    };
    let next = src && n > 0 ? chunkRead(0, 0) : null;
    for (let start = 0, ci = 0; start < n; start += this.chunk, ci++) {
      const rows = Math.min(this.chunk, n - start);
      let xs: Float32Array;
      if (next) {
        await next;
        next = start + this.chunk < n ? chunkRead(start + this.chunk, (ci + 1) & 1) : null;
        xs = bufs![ci & 1]!.subarray(0, rows * d);
      } else xs = x.subarray(start * d, (start + rows) * d);
      const xb = { data: xs, rows, cols: d };
      const zb = { data: z.subarray(0, rows * k), rows, cols: k };
      await this.gemm.matmul(xb, false, { data: wf, rows: k, cols: d }, true, zb);
      lossSum += softmaxResidual(z, rows, k, labels, start, bias, n, grad, d + 1, d, e);
      await this.gemm.matmul(zb, true, xb, false, { data: gb, rows: k, cols: d });
      for (let c = 0; c < k; c++) {
        const go = c * d1,
          bo = c * d;
        for (let j = 0; j < d; j++) grad[go + j]! += gb[bo + j]!;
      }
    }
    let pen = 0;
    const l2 = this.l2;
    for (let c = 0; c < k; c++) {
      const go = c * d1;
      for (let j = 0; j < d; j++) {
        const w = theta[go + j]!;
        pen += w * w;
        grad[go + j]! += l2 * w;
      }
    }
    this.lastMeanLoss = lossSum / n;
    return lossSum / n + 0.5 * l2 * pen;
  }
}

export async function fitSoftmaxRegression(
  gemm: Gemm,
  problem: SoftmaxProblem,
  o: SoftmaxFitOptions,
): Promise<SoftmaxFit> {
  const { k, d } = problem;
  const obj = new SoftmaxObjective(gemm, problem, o.C, o.chunkRows);
  const x0 = o.init ? Float64Array.from(o.init) : new Float64Array(k * (d + 1));
  const r = await minimizeLbfgs((t, g) => obj.evaluate(t, g), x0, {
    gtol: o.tol,
    maxIter: o.maxIter,
    ...(o.ftol !== undefined ? { ftol: o.ftol } : {}),
    ...(o.onIteration ? { onIteration: o.onIteration } : {}),
  });
  return {
    theta: r.x,
    k,
    d,
    iterations: r.iterations,
    evaluations: r.evaluations,
    gradMaxAbs: r.gradMaxAbs,
    objective: r.f,
    converged: r.converged,
    reason: r.reason,
  };
}

/** float32 [k, d+1] weights (as stored in weights.npy) from float64 theta. */
export function thetaToWeights(theta: Float64Array): Float32Array {
  return Float32Array.from(theta);
}

/**
 * logits[rows, k] = x W^T + b for weights [k, d+1] (bias last). `wScratch` ([k, d]) avoids re-splitting
 * the weights for every block when given.
 */
export async function computeLogits(
  gemm: Gemm,
  weights: Float32Array,
  k: number,
  d: number,
  x: Float32Array,
  rows: number,
  out: Float32Array,
  wScratch?: Float32Array,
): Promise<void> {
  const w = wScratch ?? splitWeights(weights, k, d);
  await gemm.matmul({ data: x, rows, cols: d }, false, { data: w, rows: k, cols: d }, true, {
    data: out,
    rows,
    cols: k,
  });
  for (let i = 0; i < rows; i++) {
    const off = i * k;
    for (let c = 0; c < k; c++) out[off + c] = out[off + c]! + weights[c * (d + 1) + d]!;
  }
}

/** The [k, d] weight block of [k, d+1] weights (for computeLogits' scratch argument). */
export function splitWeights(weights: Float32Array, k: number, d: number): Float32Array {
  const w = new Float32Array(k * d);
  for (let c = 0; c < k; c++) w.set(weights.subarray(c * (d + 1), c * (d + 1) + d), c * d);
  return w;
}
