/**
 * What onnxruntime-node's output copy costs (docs/scale.md, "Memory churn"): the probe step's two products
 * (X W^T, then R^T X at batch 256, D 2048, K 1000) in one session, returning the 8 MB product (as the trainer's
 * gradient graph must) or one element of it (as the GEMM floor does), alternating run by run.
 *
 *   npm run build && node dist/bench/output-copy.js [--runs 150] [--threads 2]
 *
 * Prints the median time per run of each, and the minor page faults of the process during each kind of run.
 * Run it as installed and with GLIBC_TUNABLES=glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=
 * 536870912 to see what keeping freed memory mapped does.
 */
import ort from 'onnxruntime-node';
import { buildOnnxModel } from '../src/compute/onnxBuilder.js';

const opt = (name: string, d: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const runs = opt('runs', 150),
  threads = opt('threads', 2);
const [B, D, K] = [256, 2048, 1000];
const f32 = (name: string, shape: number[]) => ({ name, type: 'float32' as const, shape });
const products = [
  { op: 'Gemm', inputs: ['X', 'W'], outputs: ['Z'], attrs: { transB: 1 } },
  { op: 'Gemm', inputs: ['Z', 'X'], outputs: ['G'], attrs: { transA: 1 } },
];
const session = async (whole: boolean): Promise<ort.InferenceSession> =>
  ort.InferenceSession.create(
    buildOnnxModel({
      name: whole ? 'whole' : 'one',
      inputs: [f32('X', [B, D]), f32('W', [K, D])],
      outputs: [whole ? f32('G', [K, D]) : f32('G00', [1, 1])],
      nodes: whole ? products : [...products, { op: 'Slice', inputs: ['G', 'zeros', 'ones'], outputs: ['G00'] }],
      initializers: whole
        ? []
        : [
            { name: 'zeros', dims: [2], data: new BigInt64Array([0n, 0n]) },
            { name: 'ones', dims: [2], data: new BigInt64Array([1n, 1n]) },
          ],
    }),
    {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    },
  );
let s = 5;
const fill = (n: number, scale: number): Float32Array =>
  Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 4294967296 - 0.5) * scale;
  });
const X = new ort.Tensor('float32', fill(B * D, 2), [B, D]);
const W = new ort.Tensor('float32', fill(K * D, 0.05), [K, D]);
const G = new ort.Tensor('float32', new Float32Array(K * D), [K, D]);
const G00 = new ort.Tensor('float32', new Float32Array(1), [1, 1]);
const whole = await session(true),
  one = await session(false);
const kinds = [
  { name: 'returns the 8 MB product', run: () => whole.run({ X, W }, { G }), ms: [] as number[], faults: 0 },
  { name: 'returns one element', run: () => one.run({ X, W }, { G00 }), ms: [] as number[], faults: 0 },
];
for (let r = 0; r < runs + 10; r++) {
  for (const k of kinds) {
    const f0 = process.resourceUsage().minorPageFault;
    const t = performance.now();
    await k.run();
    if (r >= 10) {
      k.ms.push(performance.now() - t);
      k.faults += process.resourceUsage().minorPageFault - f0;
    }
  }
}
await whole.release();
await one.release();
const median = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1]!;
process.stdout.write(`GLIBC_TUNABLES: ${process.env.GLIBC_TUNABLES ?? '(unset)'}; ${runs} runs each, alternating\n`);
for (const k of kinds) {
  process.stdout.write(
    `${k.name}: ${median(k.ms).toFixed(2)} ms per run (median), ${(k.faults / runs).toFixed(0)} minor faults per run\n`,
  );
}
