/**
 * Dense float32 matrix products for the solvers (probe, simulate, demo student training).
 *
 * Why onnxruntime: a JS loop over Float32Array reaches ~1-2 GFLOP/s per core; onnxruntime's MLAS GEMM uses
 * the CPU's vector units and its thread pool (tens to hundreds of GFLOP/s on the same cores). The maths in
 * the maths depends only on the `Gemm` interface, so it can be tested against `jsGemm`, the reference.
 */
import ort from 'onnxruntime-node';
import { buildOnnxModel } from './onnxBuilder.js';
import { cpuSessionOptions } from './ortSession.js';
import { discardCopies, fillsOutputsInPlace, takeOutputs } from './ortOutputs.js';
import { createSoftmaxGrad, type SoftmaxGrad } from './softmaxGrad.js';

/** Row-major matrix view over a Float32Array. */
export interface Mat {
  data: Float32Array;
  rows: number;
  cols: number;
}

/**
 * out[M, N] = op(a) * op(b), op = transpose when the flag is set (as BLAS sgemm with alpha 1, beta 0).
 * `out` is caller-supplied so hot loops allocate nothing.
 */
export interface Gemm {
  readonly name: string;
  matmul(a: Mat, transA: boolean, b: Mat, transB: boolean, out: Mat): Promise<void>;
  /**
   * The fused softmax-classifier gradient (compute/softmaxGrad.ts) on this backend's threads, made once per
   * shape and released by `dispose`; absent where the backend has none (the trainer then composes `matmul`
   * with its own softmax).
   */
  softmaxGrad?(k: number, d: number, maxBatch: number): Promise<SoftmaxGrad>;
  dispose(): Promise<void>;
}

function checkShapes(a: Mat, transA: boolean, b: Mat, transB: boolean, out: Mat): { m: number; k: number; n: number } {
  const m = transA ? a.cols : a.rows;
  const k = transA ? a.rows : a.cols;
  const kb = transB ? b.cols : b.rows;
  const n = transB ? b.rows : b.cols;
  if (k !== kb) throw new RangeError(`matmul: inner dimensions differ (${k} vs ${kb})`);
  if (out.rows !== m || out.cols !== n)
    throw new RangeError(`matmul: out is ${out.rows}x${out.cols}, expected ${m}x${n}`);
  if (a.data.length < a.rows * a.cols || b.data.length < b.rows * b.cols || out.data.length < m * n) {
    throw new RangeError('matmul: buffer shorter than its declared shape');
  }
  return { m, k, n };
}

/** Reference implementation (float64 accumulation, i-k-j order for cache-friendly inner loops). */
export function matmulJs(a: Mat, transA: boolean, b: Mat, transB: boolean, out: Mat): void {
  const { m, k, n } = checkShapes(a, transA, b, transB, out);
  const A = a.data,
    B = b.data,
    C = out.data;
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    for (let p = 0; p < k; p++) {
      const av = transA ? A[p * a.cols + i]! : A[i * a.cols + p]!;
      if (av === 0) continue;
      if (!transB) {
        const off = p * b.cols;
        for (let j = 0; j < n; j++) acc[j]! += av * B[off + j]!;
      } else {
        for (let j = 0; j < n; j++) acc[j]! += av * B[j * b.cols + p]!;
      }
    }
    for (let j = 0; j < n; j++) C[i * n + j] = acc[j]!;
  }
}

export const jsGemm: Gemm = {
  name: 'js',
  matmul: async (a, ta, b, tb, out) => matmulJs(a, ta, b, tb, out),
  dispose: async () => {},
};

function gemmGraph(transA: boolean, transB: boolean): Uint8Array {
  return buildOnnxModel({
    name: `gemm_${+transA}${+transB}`,
    inputs: [
      { name: 'A', type: 'float32', shape: ['a0', 'a1'] },
      { name: 'B', type: 'float32', shape: ['b0', 'b1'] },
    ],
    outputs: [{ name: 'Y', type: 'float32', shape: ['m', 'n'] }],
    nodes: [{ op: 'Gemm', inputs: ['A', 'B'], outputs: ['Y'], attrs: { transA: +transA, transB: +transB } }],
    initializers: [],
  });
}

export interface OrtGemmOptions {
  /** Intra-op threads; default: onnxruntime's choice (one per core). */
  threads?: number;
}

/** onnxruntime's Gemm operator, one cached session per transpose combination. */
export async function createOrtGemm(options: OrtGemmOptions = {}): Promise<Gemm> {
  const sessions = new Map<string, Promise<{ s: ort.InferenceSession; inPlace: boolean }>>();
  const grads = new Map<string, Promise<SoftmaxGrad>>();
  const opts = cpuSessionOptions(options.threads);
  const run = (s: ort.InferenceSession, a: Mat, b: Mat, out: Float32Array, m: number, n: number) => {
    const A = new ort.Tensor('float32', a.data.subarray(0, a.rows * a.cols), [a.rows, a.cols]);
    const B = new ort.Tensor('float32', b.data.subarray(0, b.rows * b.cols), [b.rows, b.cols]);
    // A pre-allocated output: onnxruntime writes into `out` (see ortOutputs.ts for what the binding adds).
    return s.run({ A, B }, { Y: new ort.Tensor('float32', out.subarray(0, m * n), [m, n]) });
  };
  const open = async (ta: boolean, tb: boolean) => {
    const s = await ort.InferenceSession.create(gemmGraph(ta, tb), opts);
    const a = { data: Float32Array.from([1, 2, 3, 4]), rows: 2, cols: 2 };
    const y = new Float32Array(4);
    return { s, inPlace: await fillsOutputsInPlace({ Y: y }, () => run(s, a, a, y, 2, 2)) };
  };
  // The promise is cached, so that concurrent first calls share one session.
  function session(ta: boolean, tb: boolean): Promise<{ s: ort.InferenceSession; inPlace: boolean }> {
    const key = `${+ta}${+tb}`;
    let entry = sessions.get(key);
    if (!entry) {
      entry = open(ta, tb);
      sessions.set(key, entry);
    }
    return entry;
  }
  return {
    name: 'onnxruntime',
    async matmul(a, ta, b, tb, out) {
      const { m, n } = checkShapes(a, ta, b, tb, out);
      const { s, inPlace } = await session(ta, tb);
      const r = await run(s, a, b, out.data, m, n);
      const mine = { Y: out.data.subarray(0, m * n) };
      if (!inPlace) takeOutputs(r, mine);
      discardCopies(r, mine);
    },
    softmaxGrad(k, d, maxBatch) {
      const key = `${k}x${d}x${maxBatch}`;
      let g = grads.get(key);
      if (!g) {
        g = createSoftmaxGrad(k, d, maxBatch, options.threads ? { threads: options.threads } : {});
        grads.set(key, g);
      }
      return g;
    },
    async dispose() {
      for (const e of await Promise.allSettled(sessions.values()))
        if (e.status === 'fulfilled') await e.value.s.release();
      sessions.clear();
      for (const g of await Promise.allSettled(grads.values())) if (g.status === 'fulfilled') await g.value.dispose();
      grads.clear();
    },
  };
}
