/**
 * Cost growth of the probe with N (issue 17): the paper recipe (streamed AdamW, 10 epochs, batch 256) and
 * L-BFGS at N = 16k..128k rows of D 2048, K 1000, on generated features written to disk, each fit in its own
 * process so that its peak RSS is its own. PyTorch-CPU runs the same recipe on the same files in the same run.
 *
 *   npm run build && node dist/bench/probe-scale.js [--sizes 16384,32768,65536,131072] [--d 2048] [--k 1000]
 *     [--epochs 10] [--torch-epochs 10] [--lbfgs-iters 10] [--memory-budget-mib 256] [--threads 2]
 *     [--dir /tmp/fcprobe-probe-scale] [--keep] [--no-torch] [--no-lbfgs] [--no-tuned-malloc]
 *     [--generate-only --keep] [--out f.json]
 *
 * The recipe runs twice: as installed, and with GLIBC_TUNABLES=TUNED_MALLOC (docs/scale.md, "Memory churn").
 *
 * "GEMM alone" is the products a fit needs, timed by themselves in one onnxruntime session at the fit's shapes
 * (recipe: the batch's X W^T and R^T X; L-BFGS: the same two over 4096-row blocks; timed before and after the
 * fits, the mean of the two medians), times the number of steps or evaluations; the fraction of the GEMM
 * rate is that time over the fit's wall time. The 1.28M extrapolation scales the largest N's time per step
 * (recipe) or per evaluation (L-BFGS) linearly in N: both do a fixed amount of work per row, which is what the
 * table checks.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createOrtGemm, type Gemm } from '../src/compute/gemm.js';
import { ensureWritableDir } from '../src/io/atomic.js';
import { encodeNpy, encodeNpyHeader } from '../src/io/npy.js';
import { Rng } from '../src/math/rng.js';
import { fitProbe } from '../src/probe/probe.js';
import { featureManifest } from '../test/helpers/featureDir.js';
import { createStepProducts } from './gemm.js';

const argv = process.argv.slice(2);
function opt(name: string, d: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : d;
}
const num = (name: string, d: number): number => Number(opt(name, String(d)));
const MiB = 2 ** 20;

/** One fit in this process (the parent starts one per fit): prints its time, evaluations and peak RSS. */
async function child(): Promise<void> {
  const [solver, dir, epochs, iters, budgetMib, threads] = argv.slice(1);
  // The fit's own onnxruntime calls, timed where they run: their share of the fit is measured under the same
  // load. For the recipe that is the fused gradient graph (two products and the softmax, ~0.5 ms of it).
  const inner = await createOrtGemm({ threads: Number(threads) });
  let gemmSeconds = 0;
  const timed = async (f: () => Promise<void>): Promise<void> => {
    const t0 = performance.now();
    await f();
    gemmSeconds += (performance.now() - t0) / 1000;
  };
  const gemm: Gemm = {
    name: inner.name,
    matmul: (a, ta, b, tb, out) => timed(() => inner.matmul(a, ta, b, tb, out)),
    async softmaxGrad(k, d, maxBatch) {
      const g = await inner.softmaxGrad!(k, d, maxBatch);
      return { k: g.k, d: g.d, run: (buf, rows) => timed(() => g.run(buf, rows)), dispose: () => g.dispose() };
    },
    dispose: () => inner.dispose(),
  };
  const t = performance.now();
  const probe = await fitProbe({
    train: dir!,
    gemm,
    memoryBudget: Number(budgetMib) * MiB,
    ...(solver === 'recipe'
      ? { recipe: 'paper' as const, sgd: { weightDecay: 0.1, epochs: Number(epochs) } }
      : { solver: 'lbfgs' as const, C: 1, maxIter: Number(iters), tol: 1e-30, ftol: 0 }),
  });
  const seconds = (performance.now() - t) / 1000;
  await gemm.dispose();
  const c = probe.file.convergence;
  process.stdout.write(
    `${JSON.stringify({
      seconds,
      gemmSeconds,
      evaluations: c.evaluations,
      iterations: c.iterations,
      loss: c.meanTrainLoss,
      maxRssMiB: (process.resourceUsage().maxRSS * 1024) / MiB,
    })}\n`,
  );
}

/**
 * Writes N rows of K Gaussian classes (means ~ N(0, 4/D I), unit noise; balanced labels in a seeded order)
 * as a feature directory, streaming 4096 rows at a time so that generating 1 GB needs no 1 GB buffer.
 */
function generate(dir: string, n: number, d: number, k: number): void {
  ensureWritableDir(dir);
  const rng = new Rng(17);
  const means = Float32Array.from({ length: k * d }, () => rng.normal() * (2 / Math.sqrt(d)));
  const labels = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i % k));
  const fd = openSync(join(dir, 'features.npy'), 'w');
  writeSync(fd, encodeNpyHeader('<f4', [n, d]));
  const block = 4096;
  const buf = new Float32Array(block * d);
  for (let start = 0; start < n; start += block) {
    const rows = Math.min(block, n - start);
    for (let r = 0; r < rows; r++) {
      const m = labels[start + r]! * d;
      for (let j = 0; j < d; j++) buf[r * d + j] = means[m + j]! + rng.normal();
    }
    const bytes = new Uint8Array(buf.buffer, 0, rows * d * 4);
    writeSync(fd, bytes);
  }
  closeSync(fd);
  writeFileSync(
    join(dir, 'labels.npy'),
    encodeNpy(
      '<i8',
      [n],
      BigInt64Array.from(labels, (v) => BigInt(v)),
    ),
  );
  const classes = Array.from({ length: k }, (_, i) => `c${String(i).padStart(4, '0')}`);
  const manifest = featureManifest({ d, labels, classes, files: Array.from({ length: n }, (_, i) => `r/${i}.jpg`) });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

/**
 * Seconds for the two products X W^T and R^T X at `rows` x d x k in one session (bench/gemm.ts), median of
 * `reps`: the floor that "GEMM alone / fit" compares each fit with.
 */
async function gemmPair(threads: number, rows: number, d: number, k: number, reps: number): Promise<number> {
  const products = await createStepProducts(rows, d, k, threads);
  try {
    await products.run();
    const times: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t = performance.now();
      await products.run();
      times.push((performance.now() - t) / 1000);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  } finally {
    await products.dispose();
  }
}

interface FitRow {
  seconds: number;
  /** Time inside the fit's GEMM calls (fcprobe's fits only). */
  gemmSeconds?: number;
  evaluations: number;
  iterations: number;
  loss: number | null;
  maxRssMiB: number;
}

/**
 * glibc malloc settings under which the allocator keeps freed memory mapped. Before fcprobe freed
 * onnxruntime-node's output copies at once (compute/ortOutputs.ts), they made the recipe up to ~20% faster on
 * the 2-core VM; the column stays to show that the fits no longer depend on the allocator.
 */
export const TUNED_MALLOC = 'glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=536870912';

function runChild(args: string[], tunedMalloc = false): FitRow {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', ...args], {
    encoding: 'utf8',
    // The as-installed run drops a GLIBC_TUNABLES the bench itself may have been started with.
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'GLIBC_TUNABLES')),
      ...(tunedMalloc ? { GLIBC_TUNABLES: TUNED_MALLOC } : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * MiB,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as FitRow;
}

function runTorch(dir: string, epochs: number, threads: number): FitRow | null {
  try {
    const out = execFileSync(
      '/usr/bin/python3',
      [fileURLToPath(new URL('../../bench/torch_probe_scale.py', import.meta.url)), dir, `${epochs}`, `${threads}`],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    return JSON.parse(out.trim().split('\n').pop()!) as FitRow;
  } catch (e) {
    process.stderr.write(`PyTorch side skipped: ${(e as Error).message.split('\n')[0]}\n`);
    return null;
  }
}

interface Row {
  n: number;
  loadAvgBefore: number;
  recipe: FitRow & { msPerStep: number; gemmFraction: number; gemmShare: number };
  /** The same fit under TUNED_MALLOC. */
  recipeTuned: (FitRow & { msPerStep: number; gemmFraction: number }) | null;
  torch: (FitRow & { msPerStep: number; ratioPerStep: number }) | null;
  lbfgs: (FitRow & { secondsPerEvaluation: number; gemmFraction: number; gemmShare: number }) | null;
}

/**
 * The table bench/RESULTS.md shows (one row per N). "GEMM alone": the products timed by themselves over the fit's
 * time; "GEMM share": the time inside the fit's own onnxruntime calls over the fit's time (for the recipe the fused
 * gradient graph, softmax included).
 */
function markdown(rows: Row[]): string {
  const f = (v: number | undefined, digits: number): string => (v === undefined ? '-' : v.toFixed(digits));
  return [
    '| N | recipe s | ms/step | GEMM alone / fit | GEMM share | RSS MiB | tuned malloc: s | ms/step | ' +
      'GEMM alone / fit | PyTorch s | PyTorch ms/step | PyTorch RSS MiB | PyTorch / fcprobe | PyTorch / tuned | ' +
      'L-BFGS s/eval | GEMM alone / fit | GEMM share | RSS MiB | load |',
    `|${' ---: |'.repeat(20)}`,
    ...rows.map(
      (r) =>
        `| ${r.n} | ${f(r.recipe.seconds, 1)} | ${f(r.recipe.msPerStep, 1)} | ${f(r.recipe.gemmFraction, 2)} | ` +
        `${f(r.recipe.gemmShare, 2)} | ${f(r.recipe.maxRssMiB, 0)} | ${f(r.recipeTuned?.seconds, 1)} | ` +
        `${f(r.recipeTuned?.msPerStep, 1)} | ${f(r.recipeTuned?.gemmFraction, 2)} | ${f(r.torch?.seconds, 1)} | ` +
        `${f(r.torch?.msPerStep, 1)} | ${f(r.torch?.maxRssMiB, 0)} | ${f(r.torch?.ratioPerStep, 2)} | ` +
        `${f(r.torch && r.recipeTuned ? r.torch.msPerStep / r.recipeTuned.msPerStep : undefined, 2)} | ` +
        `${f(r.lbfgs?.secondsPerEvaluation, 2)} | ${f(r.lbfgs?.gemmFraction, 2)} | ${f(r.lbfgs?.gemmShare, 2)} | ` +
        `${f(r.lbfgs?.maxRssMiB, 0)} | ${f(r.loadAvgBefore, 1)} |`,
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const sizes = opt('sizes', '16384,32768,65536,131072').split(',').map(Number);
  const d = num('d', 2048),
    k = num('k', 1000),
    epochs = num('epochs', 10),
    torchEpochs = num('torch-epochs', epochs),
    iters = num('lbfgs-iters', 10),
    budget = num('memory-budget-mib', 256),
    threads = num('threads', 2);
  const root = opt('dir', '/tmp/fcprobe-probe-scale');
  const withTorch = !argv.includes('--no-torch');
  const withLbfgs = !argv.includes('--no-lbfgs');
  const withTuned = !argv.includes('--no-tuned-malloc');
  const batch = 256;
  const rows: Record<string, unknown>[] = [];
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  for (const n of sizes) {
    const dir = join(root, `n${n}-d${d}-k${k}`);
    if (!existsSync(join(dir, 'manifest.json'))) {
      log(`generating ${n} x ${d} (${((n * d * 4) / MiB).toFixed(0)} MiB) in ${dir}`);
      generate(dir, n, d, k);
    }
    if (argv.includes('--generate-only')) continue;
    const load0 = loadavg()[0]!;
    // Measured before and after the fits (mean of the two medians): the machine's load can change meanwhile.
    const stepGemm0 = await gemmPair(threads, batch, d, k, 15);
    const blockGemm0 = await gemmPair(threads, 4096, d, k, 3);
    const steps = epochs * Math.ceil(n / batch);
    log(`N ${n}: recipe (${steps} steps) ...`);
    const rec = runChild(['recipe', dir, `${epochs}`, '0', `${budget}`, `${threads}`]);
    let recTuned: FitRow | null = null;
    if (withTuned) {
      log(`N ${n}: recipe with GLIBC_TUNABLES=${TUNED_MALLOC} ...`);
      recTuned = runChild(['recipe', dir, `${epochs}`, '0', `${budget}`, `${threads}`], true);
    }
    let tor: FitRow | null = null;
    if (withTorch) {
      log(`N ${n}: PyTorch (${torchEpochs} epochs) ...`);
      tor = runTorch(dir, torchEpochs, threads);
    }
    let lb: FitRow | null = null;
    if (withLbfgs) {
      log(`N ${n}: L-BFGS (${iters} iterations) ...`);
      lb = runChild(['lbfgs', dir, '0', `${iters}`, `${budget}`, `${threads}`]);
    }
    const stepGemm = (stepGemm0 + (await gemmPair(threads, batch, d, k, 15))) / 2;
    const blockGemm = (blockGemm0 + (await gemmPair(threads, 4096, d, k, 3))) / 2;
    const row = {
      n,
      loadAvgBefore: load0,
      loadAvgAfter: loadavg()[0]!,
      gemmPairSeconds: { batch256: stepGemm, block4096: blockGemm },
      recipe: {
        ...rec,
        msPerStep: (1000 * rec.seconds) / rec.evaluations,
        gemmFraction: (rec.evaluations * stepGemm) / rec.seconds,
        gemmShare: (rec.gemmSeconds ?? Number.NaN) / rec.seconds,
      },
      recipeTuned: recTuned
        ? {
            ...recTuned,
            msPerStep: (1000 * recTuned.seconds) / recTuned.evaluations,
            gemmFraction: (recTuned.evaluations * stepGemm) / recTuned.seconds,
          }
        : null,
      torch: tor
        ? {
            ...tor,
            epochs: torchEpochs,
            msPerStep: (1000 * tor.seconds) / tor.evaluations,
            ratioPerStep: tor.seconds / tor.evaluations / (rec.seconds / rec.evaluations),
          }
        : null,
      lbfgs: lb
        ? {
            ...lb,
            secondsPerEvaluation: lb.seconds / lb.evaluations,
            gemmFraction: (lb.evaluations * (n / 4096) * blockGemm) / lb.seconds,
            gemmShare: (lb.gemmSeconds ?? Number.NaN) / lb.seconds,
          }
        : null,
    };
    rows.push(row);
    log(JSON.stringify(row));
  }
  if (!argv.includes('--keep')) rmSync(root, { recursive: true, force: true });
  if (rows.length === 0) return;
  const last = rows[rows.length - 1] as {
    n: number;
    recipe: { msPerStep: number };
    recipeTuned: { msPerStep: number } | null;
    lbfgs: { secondsPerEvaluation: number } | null;
  };
  const fullSteps = 10 * Math.ceil(1_281_167 / batch);
  const result = {
    command: `node dist/bench/probe-scale.js ${argv.join(' ')}`.trim(),
    machine: `${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    date: new Date().toISOString(),
    shape: { d, k, batch, epochs, lbfgsIterations: iters, memoryBudgetMiB: budget, threads },
    rows,
    extrapolation1281167: {
      recipeMinutes: (fullSteps * last.recipe.msPerStep) / 60000,
      recipeTunedMallocMinutes: last.recipeTuned ? (fullSteps * last.recipeTuned.msPerStep) / 60000 : null,
      recipeSteps: fullSteps,
      lbfgsSecondsPerEvaluation: last.lbfgs ? (last.lbfgs.secondsPerEvaluation * 1_281_167) / last.n : null,
      from: `N ${last.n}, linear in N`,
    },
  };
  const text = JSON.stringify(result, null, 1);
  const out = opt('out', '');
  if (out) writeFileSync(out, `${text}\n`);
  process.stdout.write(`${markdown(result.rows as unknown as Row[])}\n\n${text}\n`);
}

if (argv[0] === '--child') await child();
else await main();
