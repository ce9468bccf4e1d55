/**
 * The machine's measured GEMM rate: onnxruntime's Gemm (src/compute/gemm.ts, MLAS) on large square float32
 * matrices, all cores. It is the practical peak that the model-only ceiling is compared with.
 *
 *   node dist/bench/gemm.js [--size 2048] [--repeats 3]
 */
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { createOrtGemm, type Mat } from '../src/compute/gemm.js';
import { buildOnnxModel } from '../src/compute/onnxBuilder.js';
import { summarize, type Stats } from '../src/bench/bench.js';

export interface GemmRate {
  size: number;
  /** GFLOP/s, 2*n^3 FLOPs per product. */
  gflops: Stats;
}

export async function measureGemmRate(size = 2048, repeats = 5, threads?: number): Promise<GemmRate> {
  const gemm = await createOrtGemm(threads ? { threads } : {});
  const mat = (seed: number): Mat => {
    const data = new Float32Array(size * size);
    let s = seed;
    for (let i = 0; i < data.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      data[i] = s / 4294967296 - 0.5;
    }
    return { data, rows: size, cols: size };
  };
  const a = mat(1),
    b = mat(2),
    out = { data: new Float32Array(size * size), rows: size, cols: size };
  try {
    await gemm.matmul(a, false, b, false, out);
    // About two seconds per repeat at ~100 GFLOP/s for 2048.
    const products = Math.max(1, Math.round(2e11 / (2 * size ** 3)));
    const runs: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t = performance.now();
      for (let p = 0; p < products; p++) await gemm.matmul(a, false, b, false, out);
      runs.push((products * 2 * size ** 3) / ((performance.now() - t) / 1000) / 1e9);
    }
    return { size, gflops: summarize(runs) };
  } finally {
    await gemm.dispose();
  }
}

/**
 * The probe step's two products alone, Z = X W^T then G = Z^T X at (rows, d, k), as one onnxruntime graph on
 * `threads` intra-op threads: the GEMM-bound floor of a training step. One session, as the trainer's fused
 * gradient graph: two sessions called in turn measured up to ~1.5x slower on the 2-core VM (each has its own
 * thread pool, woken in turn), which made the floor look higher than a step.
 */
export async function createStepProducts(
  rows: number,
  d: number,
  k: number,
  threads: number,
): Promise<{ run(): Promise<void>; dispose(): Promise<void> }> {
  const f32 = (name: string, shape: number[]) => ({ name, type: 'float32' as const, shape });
  const graph = buildOnnxModel({
    name: 'step_products',
    inputs: [f32('X', [rows, d]), f32('W', [k, d])],
    outputs: [f32('G', [k, d])],
    nodes: [
      { op: 'Gemm', inputs: ['X', 'W'], outputs: ['Z'], attrs: { transB: 1 } },
      { op: 'Gemm', inputs: ['Z', 'X'], outputs: ['G'], attrs: { transA: 1 } },
    ],
    initializers: [],
  });
  const session = await ort.InferenceSession.create(graph, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  let s = 7;
  const fill = (a: Float32Array, scale: number): Float32Array => {
    for (let i = 0; i < a.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      a[i] = (s / 4294967296 - 0.5) * scale;
    }
    return a;
  };
  const X = new ort.Tensor('float32', fill(new Float32Array(rows * d), 2), [rows, d]);
  const W = new ort.Tensor('float32', fill(new Float32Array(k * d), 0.05), [k, d]);
  const G = new ort.Tensor('float32', new Float32Array(k * d), [k, d]);
  return {
    run: async () => void (await session.run({ X, W }, { G })),
    dispose: () => session.release(),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const opt = (n: string, d: number): number => {
    const i = process.argv.indexOf(`--${n}`);
    return i >= 0 ? Number(process.argv[i + 1]) : d;
  };
  const r = await measureGemmRate(opt('size', 2048), opt('repeats', 3));
  process.stdout.write(
    `GEMM ${r.size}^3: ${r.gflops.median.toFixed(1)} GFLOP/s (min ${r.gflops.min.toFixed(1)}, max ` +
      `${r.gflops.max.toFixed(1)})\n`,
  );
}
