/**
 * The paper recipe's probe step at ImageNet shape (issue 17): fcprobe's SoftmaxSgdTrainer (float32 state,
 * WebAssembly AdamW, fused onnxruntime gradient graph) against the same trainer with the gradient composed of
 * two products and the JavaScript softmax, the float64 trainer it replaced, and PyTorch-CPU's step, in one run.
 *
 *   npm run build && node dist/bench/sgd-step.js [--batch 256] [--d 2048] [--k 1000] [--threads 2]
 *     [--rounds 5] [--steps 40] [--no-torch]
 *
 * Each contender runs in a process of its own (a child per contender and round, PyTorch as a server), so that
 * one contender's garbage, page faults and thread pools never land in another's timings (they did when all ran
 * in one process: docs/scale.md, "Memory churn"). Rounds alternate the contenders; a round's figure is the
 * median per-step time over `steps` steps after a warm-up, and the table gives the median over rounds. "GEMM" is the
 * step's two matrix products alone (X W^T and R^T X through the same onnxruntime Gemm): the fraction of the
 * GEMM rate is that time over the step's.
 */
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
  rounds = opt('rounds', 5),
  steps = opt('steps', 40);
const CONTENDERS = {
  fused: 'fcprobe step (float32, WebAssembly AdamW, fused gradient graph)',
  unfused: 'same, gradient as two products + JavaScript softmax',
  float64: 'float64 trainer before issue 17',
  floor: "the step's two GEMMs alone (one session)",
} as const;
type Contender = keyof typeof CONTENDERS;

/** Child mode: one contender, `steps` timed steps after a warm-up; prints the median step time in seconds. */
async function child(which: Contender): Promise<void> {
  const rng = new Rng(1);
  const x = Float32Array.from({ length: batch * d }, () => rng.normal());
  const y = Int32Array.from({ length: batch }, () => rng.int(k));
  const sched: SgdSchedule = { lr: 1e-3, weightDecay: 0.1, warmupSteps: 10, totalSteps: 1e6, clipNorm: 1 };
  const gemm = await createOrtGemm({ threads });
  let step: () => Promise<unknown>;
  let done = async (): Promise<void> => {};
  if (which === 'floor') {
    const products = await createStepProducts(batch, d, k, threads);
    step = () => products.run();
    done = () => products.dispose();
  } else if (which === 'float64') {
    const t = new ReferenceSgdTrainer(gemm, k, d, batch, sched, new Rng(2));
    step = () => t.step(x, y, batch);
  } else {
    const t = new SoftmaxSgdTrainer(gemm, k, d, batch, sched, new Rng(2), { unfused: which === 'unfused' });
    step = () => t.step(x, y, batch);
  }
  for (let s = 0; s < 5; s++) await step();
  const times: number[] = [];
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    await step();
    times.push((performance.now() - t0) / 1000);
  }
  await done();
  await gemm.dispose();
  process.stdout.write(`${median(times)}\n`);
}

function runChild(which: Contender): number {
  const out = execFileSync(
    process.execPath,
    [fileURLToPath(import.meta.url), '--child', which, ...process.argv.slice(2)],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return Number(out.trim().split('\n').pop());
}

async function main(): Promise<void> {
  const torch = process.argv.includes('--no-torch') ? null : await torchServer(batch, d, k, threads);
  const t: Record<Contender | 'torch', number[]> = { fused: [], unfused: [], float64: [], floor: [], torch: [] };
  const order = Object.keys(CONTENDERS) as Contender[];
  const loads: number[] = [];
  for (let r = 0; r < rounds; r++) {
    loads.push(loadavg()[0]!);
    // Rotate the order each round so that no contender always follows the same one.
    for (let i = 0; i < order.length; i++) {
      const which = order[(i + r) % order.length]!;
      t[which].push(runChild(which));
    }
    if (torch) t.torch.push(await torch.run(steps));
  }
  torch?.close();
  const flops = 2 * 2 * batch * d * k;
  const ms = (v: number): string => (1000 * v).toFixed(2);
  const row = (name: string, a: number[]): string =>
    `| ${name} | ${ms(median(a))} | ${ms(Math.min(...a))}-${ms(Math.max(...a))} | ` +
    `${((flops / median(a)) * 1e-9).toFixed(0)} |`;
  const frac = (c: Contender): string => (median(t.floor) / median(t[c])).toFixed(2);
  const out = [
    `shape: batch ${batch}, D ${d}, K ${k}; ${threads} threads; ${rounds} rounds x ${steps} steps, a process per ` +
      'contender and round',
    `machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}; load average (1 min) at each round: ` +
      `${loads.map((l) => l.toFixed(1)).join(', ')}`,
    `GLIBC_TUNABLES: ${process.env.GLIBC_TUNABLES ?? '(unset)'}${torch ? `; torch ${torch.version}` : ''}`,
    '',
    '| contender | ms/step (median of rounds) | min-max | GFLOP/s of the two products |',
    '| --- | ---: | --- | ---: |',
    ...order.map((c) => row(CONTENDERS[c], t[c])),
    ...(torch ? [row('PyTorch-CPU step', t.torch)] : []),
    '',
    `fraction of the GEMM rate: ${frac('fused')} (unfused: ${frac('unfused')}, float64 trainer: ${frac('float64')})`,
    ...(torch ? [`PyTorch step / fcprobe step: ${(median(t.torch) / median(t.fused)).toFixed(2)}x`] : []),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) await child(process.argv[childAt + 1] as Contender);
else await main();
