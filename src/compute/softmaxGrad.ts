/**
 * The loss and gradient of a linear softmax classifier on one mini-batch, as one onnxruntime graph: the
 * paper probe's step (issue 17) minus the optimizer.
 *
 *   Z  = X W^T + b                  [rows, k]
 *   LS = log_softmax(Z)             [rows, k]
 *   L  = -sum over classes of LS * onehot   [rows]   (each row's cross-entropy)
 *   R  = (exp(LS) - onehot) * s     [rows, k]   s = 1 / rows
 *   GW = R^T X                      [k, d]
 *   GB = sum over rows of R         [k]
 *
 * Why one graph rather than two Gemm calls with the softmax in JavaScript between them: the softmax ran as a
 * float64 JavaScript loop on one core (~3.6 ms of a ~14 ms step at batch 256, K 1000), onnxruntime runs it
 * vectorized on all intra-op threads (~0.5 ms), and one run per step instead of two saves a thread-pool
 * wake-up and an async round trip. All arithmetic is float32, as PyTorch's step: the residual differs from the
 * float64 JavaScript one by float32 rounding of the probabilities (test/probe/sgdTrainer.test.ts bounds it).
 *
 * Outputs are few and small but GW: onnxruntime-node returns every output as a fresh copy (an allocation, and
 * page faults when the allocator maps new memory), on top of filling the pre-allocated buffer; the copies are
 * freed as soon as the run returns (ortOutputs.ts).
 */
import ort from 'onnxruntime-node';
import { buildOnnxModel } from './onnxBuilder.js';
import { cpuSessionOptions } from './ortSession.js';
import { discardCopies, fillsOutputsInPlace, takeOutputs } from './ortOutputs.js';

export interface SoftmaxGradOptions {
  /** Intra-op threads; default: onnxruntime's choice (one per core). */
  threads?: number;
}

/** Caller-owned buffers of one step; nothing is allocated per call. */
export interface SoftmaxGradBuffers {
  /** The batch, [rows, d] row-major (only the first rows * d values are read). */
  x: Float32Array;
  /** Weights [k, d] and bias [k]. */
  w: Float32Array;
  b: Float32Array;
  /** One-hot labels [maxBatch, k]: 1 at (i, y_i) for the batch's rows, 0 elsewhere (the caller sets them). */
  onehot: Float32Array;
  /** Outputs: weight gradient [k, d], bias gradient [k], each row's cross-entropy [maxBatch]. */
  gw: Float32Array;
  gb: Float32Array;
  rowLoss: Float32Array;
}

/** One onnxruntime session computing the batch gradient of the mean cross-entropy. */
export interface SoftmaxGrad {
  readonly k: number;
  readonly d: number;
  /**
   * Writes gw, gb (gradient of the mean cross-entropy over the batch's `rows` rows) and rowLoss's first
   * `rows` values. Throws RangeError when rows is outside 1..maxBatch or a buffer is too short.
   */
  run(buf: SoftmaxGradBuffers, rows: number): Promise<void>;
  dispose(): Promise<void>;
}

function stepGraph(k: number, d: number): Uint8Array {
  const f32 = (name: string, shape: Array<number | string>) => ({ name, type: 'float32' as const, shape });
  return buildOnnxModel({
    name: 'softmax_grad',
    inputs: [f32('X', ['n', d]), f32('W', [k, d]), f32('b', [k]), f32('Y', ['n', k]), f32('s', [])],
    outputs: [f32('GW', [k, d]), f32('GB', [k]), f32('L', ['n'])],
    nodes: [
      { op: 'Gemm', inputs: ['X', 'W', 'b'], outputs: ['Z'], attrs: { transB: 1 } },
      { op: 'LogSoftmax', inputs: ['Z'], outputs: ['LS'], attrs: { axis: 1 } },
      { op: 'Exp', inputs: ['LS'], outputs: ['P'] },
      { op: 'Sub', inputs: ['P', 'Y'], outputs: ['R0'] },
      { op: 'Mul', inputs: ['R0', 's'], outputs: ['R'] },
      { op: 'Gemm', inputs: ['R', 'X'], outputs: ['GW'], attrs: { transA: 1 } },
      { op: 'ReduceSum', inputs: ['R', 'rowAxis'], outputs: ['GB'], attrs: { keepdims: 0 } },
      { op: 'Mul', inputs: ['LS', 'Y'], outputs: ['LY'] },
      { op: 'ReduceSum', inputs: ['LY', 'classAxis'], outputs: ['NL'], attrs: { keepdims: 0 } },
      { op: 'Neg', inputs: ['NL'], outputs: ['L'] },
    ],
    initializers: [
      { name: 'rowAxis', dims: [1], data: new BigInt64Array([0n]) },
      { name: 'classAxis', dims: [1], data: new BigInt64Array([1n]) },
    ],
  });
}

/** Creates the session for k classes and d features; batches may have up to maxBatch rows. */
export async function createSoftmaxGrad(
  k: number,
  d: number,
  maxBatch: number,
  options: SoftmaxGradOptions = {},
): Promise<SoftmaxGrad> {
  for (const [name, v] of [
    ['k', k],
    ['d', d],
    ['maxBatch', maxBatch],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`softmaxGrad: ${name} must be an integer >= 1, got ${v}`);
  }
  const session = await ort.InferenceSession.create(stepGraph(k, d), cpuSessionOptions(options.threads));
  const scale = new Float32Array(1);
  const t = (a: Float32Array, n: number, dims: number[]) => new ort.Tensor('float32', a.subarray(0, n), dims);
  async function run(buf: SoftmaxGradBuffers, rows: number): Promise<ort.InferenceSession.ReturnType> {
    scale[0] = 1 / rows;
    return session.run(
      {
        X: t(buf.x, rows * d, [rows, d]),
        W: t(buf.w, k * d, [k, d]),
        b: t(buf.b, k, [k]),
        Y: t(buf.onehot, rows * k, [rows, k]),
        s: new ort.Tensor('float32', scale, []),
      },
      { GW: t(buf.gw, k * d, [k, d]), GB: t(buf.gb, k, [k]), L: t(buf.rowLoss, rows, [rows]) },
    );
  }
  const outputsOf = (buf: SoftmaxGradBuffers) => ({ GW: buf.gw, GB: buf.gb, L: buf.rowLoss });
  // One run of one row at creation tells whether the pre-allocated buffers receive the results (ortOutputs.ts).
  const probe: SoftmaxGradBuffers = {
    x: Float32Array.from({ length: d }, (_, j) => 1 + (j % 3)),
    w: new Float32Array(k * d),
    b: Float32Array.from({ length: k }, (_, c) => c / k),
    onehot: Float32Array.from({ length: k }, (_, c) => (c === 0 ? 1 : 0)),
    gw: new Float32Array(k * d),
    gb: new Float32Array(k),
    rowLoss: new Float32Array(1),
  };
  const inPlace = await fillsOutputsInPlace(outputsOf(probe), () => run(probe, 1));
  return {
    k,
    d,
    async run(buf, rows) {
      if (!Number.isInteger(rows) || rows < 1 || rows > maxBatch)
        throw new RangeError(`softmaxGrad: rows must be in 1..${maxBatch}, got ${rows}`);
      const short = (
        [
          ['x', buf.x, rows * d],
          ['w', buf.w, k * d],
          ['b', buf.b, k],
          ['onehot', buf.onehot, rows * k],
          ['gw', buf.gw, k * d],
          ['gb', buf.gb, k],
          ['rowLoss', buf.rowLoss, rows],
        ] as const
      ).find(([, a, n]) => a.length < n);
      if (short) throw new RangeError(`softmaxGrad: ${short[0]} holds ${short[1].length} values, needs ${short[2]}`);
      const r = await run(buf, rows);
      const mine = outputsOf(buf);
      if (!inPlace) takeOutputs(r, mine);
      discardCopies(r, mine);
    },
    async dispose() {
      await session.release();
    },
  };
}
