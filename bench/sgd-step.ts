/**
 * The paper recipe's probe step at ImageNet shape (issue 17): fcprobe's SoftmaxSgdTrainer (float32 state,
 * WebAssembly AdamW, fused onnxruntime gradient graph) against the same trainer with the gradient composed of
 * two products and the JavaScript softmax, the float64 trainer it replaced, and PyTorch-CPU's step, in one run.
 *
 *   npm run build && node dist/bench/sgd-step.js [--batch 256] [--d 2048] [--k 1000] [--threads 2]
 *     [--rounds 15] [--steps 8] [--no-torch]
 *
 * Rounds interleave the contenders (short rounds: this VM's speed drifts within minutes), so that on a shared
 * machine each sees the same load; the figure is the median over rounds of the per-step time. "GEMM" is the
 * step's two matrix products alone (X W^T and R^T X through the same onnxruntime Gemm): the fraction of the
 * GEMM rate is that time over the step's.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { cpus, loadavg } from 'node:os';
import { createOrtGemm } from '../src/compute/gemm.js';
import { createStepProducts } from './gemm.js';
import { Rng } from '../src/math/rng.js';
import { SoftmaxSgdTrainer, type SgdSchedule } from '../src/probe/sgdTrainer.js';
import { ReferenceSgdTrainer } from '../test/helpers/referenceSgdTrainer.js';

function opt(name: string, d: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
}

const median = (a: number[]): number => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function torchServer(
  batch: number,
  d: number,
  k: number,
  threads: number,
): Promise<{ run(n: number): Promise<number>; version: string; close(): void } | null> {
  const p = spawn(
    '/usr/bin/python3',
    [new URL('../../bench/torch_sgd_step.py', import.meta.url).pathname, `${batch}`, `${d}`, `${k}`, `${threads}`],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: p.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done || !String(first.value).startsWith('ready')) return null;
  return {
    version: String(first.value).split(' ')[1] ?? '?',
    async run(n) {
      p.stdin.write(`${n}\n`);
      const r = await lines.next();
      return Number(r.value);
    },
    close() {
      p.stdin.end('\n');
    },
  };
}

const batch = opt('batch', 256),
  d = opt('d', 2048),
  k = opt('k', 1000),
  threads = opt('threads', 2),
  rounds = opt('rounds', 15),
  steps = opt('steps', 8);
const gemm = await createOrtGemm({ threads });
const rng = new Rng(1);
const x = Float32Array.from({ length: batch * d }, () => rng.normal());
const y = Int32Array.from({ length: batch }, () => rng.int(k));
const sched: SgdSchedule = { lr: 1e-3, weightDecay: 0.1, warmupSteps: 10, totalSteps: 1e6, clipNorm: 1 };
const fast = new SoftmaxSgdTrainer(gemm, k, d, batch, sched, new Rng(2));
const unfused = new SoftmaxSgdTrainer(gemm, k, d, batch, sched, new Rng(2), { unfused: true });
const old = new ReferenceSgdTrainer(gemm, k, d, batch, sched, new Rng(2));
// The floor: the step's two products alone, one session (bench/gemm.ts says why not gemm.matmul twice).
const products = await createStepProducts(batch, d, k, threads);
const gemmsOnly = (): Promise<void> => products.run();
const timeIt = async (f: () => Promise<unknown>): Promise<number> => {
  const t = performance.now();
  for (let s = 0; s < steps; s++) await f();
  return (performance.now() - t) / steps / 1000;
};
const torch = process.argv.includes('--no-torch') ? null : await torchServer(batch, d, k, threads);
for (let s = 0; s < 3; s++) {
  await fast.step(x, y, batch);
  await unfused.step(x, y, batch);
  await old.step(x, y, batch);
  await gemmsOnly();
}
const t = {
  fast: [] as number[],
  unfused: [] as number[],
  old: [] as number[],
  gemm: [] as number[],
  torch: [] as number[],
};
const loads: number[] = [];
for (let r = 0; r < rounds; r++) {
  loads.push(loadavg()[0]!);
  t.fast.push(await timeIt(() => fast.step(x, y, batch)));
  t.gemm.push(await timeIt(gemmsOnly));
  t.unfused.push(await timeIt(() => unfused.step(x, y, batch)));
  t.old.push(await timeIt(() => old.step(x, y, batch)));
  if (torch) t.torch.push(await torch.run(steps));
}
torch?.close();
await gemm.dispose();
await products.dispose();
const flops = 2 * 2 * batch * d * k;
const ms = (v: number): string => (1000 * v).toFixed(2);
const row = (name: string, a: number[]): string =>
  `| ${name} | ${ms(median(a))} | ${ms(Math.min(...a))}-${ms(Math.max(...a))} | ` +
  `${((flops / median(a)) * 1e-9).toFixed(0)} |`;
const out = [
  `shape: batch ${batch}, D ${d}, K ${k}; ${threads} threads; ${rounds} rounds x ${steps} steps, interleaved`,
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}; load average (1 min) during the rounds: ` +
    `${loads.map((l) => l.toFixed(1)).join(', ')}`,
  `fcprobe backend: ${fast.backend}, gradient ${fast.gradient}${torch ? `; torch ${torch.version}` : ''}`,
  '',
  '| contender | ms/step (median) | min-max | GFLOP/s of the two products |',
  '| --- | ---: | --- | ---: |',
  row('fcprobe step (float32, WebAssembly AdamW, fused gradient graph)', t.fast),
  row('same, gradient as two products + JavaScript softmax', t.unfused),
  row('float64 trainer before issue 17', t.old),
  row("the step's two GEMMs alone (one session)", t.gemm),
  ...(torch ? [row('PyTorch-CPU step', t.torch)] : []),
  '',
  `fraction of the GEMM rate: ${(median(t.gemm) / median(t.fast)).toFixed(2)} (unfused: ` +
    `${(median(t.gemm) / median(t.unfused)).toFixed(2)}, float64 trainer: ` +
    `${(median(t.gemm) / median(t.old)).toFixed(2)})`,
  ...(torch ? [`PyTorch step / fcprobe step: ${(median(t.torch) / median(t.fast)).toFixed(2)}x`] : []),
];
process.stdout.write(`${out.join('\n')}\n`);
