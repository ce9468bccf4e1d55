/**
 * The machine's measured GEMM rate: onnxruntime's Gemm (MLAS, as src/compute/gemm.ts) on large square float32
 * matrices, all cores. It is the practical peak that the model-only ceiling is compared with.
 *
 *   node dist/bench/gemm.js [--size 2048] [--repeats 3]
 */
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { buildOnnxModel, type NodeSpec } from '../src/compute/onnxBuilder.js';
import { cpuSessionOptions } from '../src/compute/ortSession.js';
import { summarize, type Stats } from '../src/bench/bench.js';

export interface GemmRate {
  size: number;
  /** GFLOP/s, 2*n^3 FLOPs per product. */
  gflops: Stats;
}

export async function measureGemmRate(size = 2048, repeats = 5, threads?: number): Promise<GemmRate> {
  // One product per run, returning one element of it: the binding's copy of a 16 MB output is not the GEMM's
  // cost (createStepProducts says why).
  const session = await productSession(
    [
      { op: 'Gemm', inputs: ['A', 'B'], outputs: ['Y'] },
      { op: 'Slice', inputs: ['Y', 'zeros', 'ones'], outputs: ['Y00'] },
    ],
    [f32('A', [size, size]), f32('B', [size, size])],
    threads ?? 0,
  );
  const A = new ort.Tensor('float32', lcgFill(new Float32Array(size * size), 1, 1), [size, size]);
  const B = new ort.Tensor('float32', lcgFill(new Float32Array(size * size), 2, 1), [size, size]);
  const Y00 = new ort.Tensor('float32', new Float32Array(1), [1, 1]);
  const once = async (): Promise<void> => void (await session.run({ A, B }, { Y00 }));
  try {
    await once();
    // About two seconds per repeat at ~100 GFLOP/s for 2048.
    const products = Math.max(1, Math.round(2e11 / (2 * size ** 3)));
    const runs: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t = performance.now();
      for (let p = 0; p < products; p++) await once();
      runs.push((products * 2 * size ** 3) / ((performance.now() - t) / 1000) / 1e9);
    }
    return { size, gflops: summarize(runs) };
  } finally {
    await session.release();
  }
}

const f32 = (name: string, shape: number[]) => ({ name, type: 'float32' as const, shape });

/** Uniform values in [-scale/2, scale/2) from a seeded LCG (no Math.random: reruns see the same operands). */
function lcgFill(a: Float32Array, seed: number, scale: number): Float32Array {
  let s = seed;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 4294967296 - 0.5) * scale;
  }
  return a;
}

/** A session of `nodes` whose output is the 1x1 `*00` slice (threads 0: onnxruntime's default). */
async function productSession(
  nodes: NodeSpec[],
  inputs: ReturnType<typeof f32>[],
  threads: number,
): Promise<ort.InferenceSession> {
  const out = nodes[nodes.length - 1]!.outputs[0]!;
  const graph = buildOnnxModel({
    name: 'products',
    inputs,
    outputs: [f32(out, [1, 1])],
    nodes,
    initializers: [
      { name: 'zeros', dims: [2], data: new BigInt64Array([0n, 0n]) },
      { name: 'ones', dims: [2], data: new BigInt64Array([1n, 1n]) },
    ],
  });
  return ort.InferenceSession.create(graph, cpuSessionOptions(threads));
}

/**
 * The probe step's two products alone, Z = X W^T then G = Z^T X at (rows, d, k), as one onnxruntime graph on
 * `threads` intra-op threads: the GEMM-bound floor of a training step. One session, as the trainer's fused
 * gradient graph: two sessions called in turn measured up to ~1.5x slower on the 2-core VM (each has its own
 * thread pool, woken in turn), which made the floor look higher than a step. The graph returns one element of
 * G, not G: onnxruntime-node copies every output into a new buffer, and on the VM that copy of 8 MB (page
 * faults included) cost up to 3x the products (docs/scale.md, "Memory churn").
 */
export async function createStepProducts(
  rows: number,
  d: number,
  k: number,
  threads: number,
): Promise<{ run(): Promise<void>; dispose(): Promise<void> }> {
  const session = await productSession(
    [
      { op: 'Gemm', inputs: ['X', 'W'], outputs: ['Z'], attrs: { transB: 1 } },
      { op: 'Gemm', inputs: ['Z', 'X'], outputs: ['G'], attrs: { transA: 1 } },
      { op: 'Slice', inputs: ['G', 'zeros', 'ones'], outputs: ['G00'] },
    ],
    [f32('X', [rows, d]), f32('W', [k, d])],
    threads,
  );
  const X = new ort.Tensor('float32', lcgFill(new Float32Array(rows * d), 7, 2), [rows, d]);
  const W = new ort.Tensor('float32', lcgFill(new Float32Array(k * d), 8, 0.05), [k, d]);
  const G00 = new ort.Tensor('float32', new Float32Array(1), [1, 1]);
  return {
    run: async () => void (await session.run({ X, W }, { G00 })),
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
