/**
 * The probe's GEMM on an execution provider other than the CPU (issue 17, GPU part): onnxruntime's Gemm at
 * 2048^3 and at the paper-recipe step's two shapes (X W^T: 256x2048 by 2048x1000; R^T X: 1000x256 by
 * 256x2048), host arrays in and out as the probe would pass them (so transfers are included).
 *
 *   npm run build && node dist/bench/gpu-gemm.js --ep cuda|webgpu|cpu [--repeats 20]
 *
 * Prints one JSON line; a provider that cannot load prints {"ep": ..., "error": ...} and exits 7.
 */
import ort from 'onnxruntime-node';
import { buildOnnxModel } from '../src/compute/onnxBuilder.js';

const arg = (n: string, d: string): string => {
  const i = process.argv.indexOf(`--${n}`);
  return i >= 0 ? (process.argv[i + 1] ?? d) : d;
};
const ep = arg('ep', 'cpu');
const repeats = Number(arg('repeats', '20'));

function graph(ta: boolean, tb: boolean): Uint8Array {
  return buildOnnxModel({
    name: 'gemm',
    inputs: [
      { name: 'A', type: 'float32', shape: ['a0', 'a1'] },
      { name: 'B', type: 'float32', shape: ['b0', 'b1'] },
    ],
    outputs: [{ name: 'Y', type: 'float32', shape: ['m', 'n'] }],
    nodes: [{ op: 'Gemm', inputs: ['A', 'B'], outputs: ['Y'], attrs: { transA: +ta, transB: +tb } }],
    initializers: [],
  });
}

const rand = (n: number): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);

async function rate(
  ta: boolean,
  tb: boolean,
  a: [number, number],
  b: [number, number],
  m: number,
  n: number,
  k: number,
) {
  const s = await ort.InferenceSession.create(graph(ta, tb), { executionProviders: [ep] });
  const A = new ort.Tensor('float32', rand(a[0] * a[1]), a);
  const B = new ort.Tensor('float32', rand(b[0] * b[1]), b);
  await s.run({ A, B });
  const t = performance.now();
  for (let r = 0; r < repeats; r++) await s.run({ A, B });
  const sec = (performance.now() - t) / 1000 / repeats;
  await s.release();
  return { ms: sec * 1000, gflops: (2 * m * n * k) / sec / 1e9 };
}

try {
  const square = await rate(false, false, [2048, 2048], [2048, 2048], 2048, 2048, 2048);
  const forward = await rate(false, true, [256, 2048], [1000, 2048], 256, 1000, 2048);
  const backward = await rate(true, false, [256, 1000], [256, 2048], 1000, 2048, 256);
  process.stdout.write(`${JSON.stringify({ ep, repeats, square, forward, backward })}\n`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ ep, error: e instanceof Error ? e.message : String(e) })}\n`);
  process.exitCode = 7;
}
