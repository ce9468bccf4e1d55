/**
 * What onnxruntime-node's output copy costs (docs/scale.md, "Memory churn"): the probe step's two products
 * (X W^T, then R^T X at batch 256, D 2048, K 1000) in one session, returning the 8 MB product (as the trainer's
 * gradient graph must) or one element of it (as the GEMM floor does), each in a process of its own; and the 8 MB
 * product again with the binding's copy freed as soon as the run returns (compute/ortOutputs.ts, what fcprobe's
 * solvers do).
 *
 *   npm run build && node dist/bench/output-copy.js [--runs 150] [--threads 2]
 *
 * Prints the median time per run of each, and the minor page faults per run.
 * Run it as installed and with GLIBC_TUNABLES=glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=
 * 536870912 to see what keeping freed memory mapped does.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { buildOnnxModel } from '../src/compute/onnxBuilder.js';
import { discardCopies } from '../src/compute/ortOutputs.js';
import { cpuSessionOptions } from '../src/compute/ortSession.js';

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
    cpuSessionOptions(threads),
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
type Kind = 'whole' | 'one' | 'discard';
const NAMES: Record<Kind, string> = {
  whole: 'returns the 8 MB product',
  one: 'returns one element',
  discard: 'returns the 8 MB product, copy freed at once',
};

/** Child mode: one kind of run, `runs` times after 10 warm-up runs; prints "ms faults" per run. */
async function child(kind: Kind): Promise<void> {
  const s = await session(kind !== 'one');
  const run = async (): Promise<void> => {
    if (kind === 'one') await s.run({ X, W }, { G00 });
    else {
      const r = await s.run({ X, W }, { G });
      if (kind === 'discard') discardCopies(r, { G: G.data as Float32Array });
    }
  };
  for (let r = 0; r < 10; r++) await run();
  const ms: number[] = [];
  const f0 = process.resourceUsage().minorPageFault;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  const faults = (process.resourceUsage().minorPageFault - f0) / runs;
  await s.release();
  process.stdout.write(`${[...ms].sort((p, q) => p - q)[ms.length >> 1]} ${faults}\n`);
}

const at = process.argv.indexOf('--child');
if (at >= 0) await child(process.argv[at + 1] as Kind);
else {
  // Each kind in a process of its own (in one process, one kind's garbage moves the faults onto another's
  // runs), two rounds in turn.
  process.stdout.write(`GLIBC_TUNABLES: ${process.env.GLIBC_TUNABLES ?? '(unset)'}; ${runs} runs per process\n`);
  for (let round = 0; round < 2; round++) {
    for (const kind of Object.keys(NAMES) as Kind[]) {
      const out = execFileSync(
        process.execPath,
        [fileURLToPath(import.meta.url), '--child', kind, ...process.argv.slice(2)],
        {
          encoding: 'utf8',
        },
      );
      const [ms, faults] = out.trim().split(' ').map(Number);
      process.stdout.write(
        `${NAMES[kind]}: ${ms!.toFixed(2)} ms per run (median), ${faults!.toFixed(0)} minor faults per run\n`,
      );
    }
  }
}
