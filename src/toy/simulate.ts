/**
 * `fcprobe simulate`: the paper's synthetic experiment (Section 4, toy.py) with every knob exposed.
 * Resolves and validates options once, runs the training loop of simulation.ts on an onnxruntime Gemm,
 * optionally a linear-network control with the same seed, and states the finding in numbers. Files (CSV,
 * JSON, SVG) are written by `writeSimulationOutputs`, apart from the run.
 */
import { writeFileSync } from 'node:fs';
import { ensureWritableDir } from '../io/atomic.js';
import { join, resolve } from 'node:path';
import { createOrtGemm, type Gemm } from '../compute/gemm.js';
import type { Activation } from '../math/activations.js';
import type { LossKind } from '../math/losses.js';
import type { OptimizerKind } from '../math/optimizers.js';
import { runStructuredSimulation, type SimulationConfig, type SimulationRecord } from './simulation.js';
import type { CoreMode } from './structuredData.js';
import { badOption } from '../errors.js';
import { SIMULATE_OPTION_DEFAULTS, SIMULATE_OPTIONS } from '../options.js';
import { optionValue } from '../validate.js';
import { renderSimulationSvg } from './simulateSvg.js';
import { FCPROBE_VERSION } from '../version.js';
import type { SimulateJob, SimulateProgress, SimulateRunOutcome } from './simulateWorker.js';
import { runWorkerTask } from '../io/workerTask.js';
import { csvText } from '../io/csv.js';

/** Every option with toy.py's default. */
export interface SimulateOptions {
  /** Data points, half per class (1000). */
  n?: number;
  coreDim?: number;
  bgDim?: number;
  inputDim?: number;
  coreMode?: CoreMode;
  hidden?: number;
  layers?: number;
  activation?: Activation;
  bias?: boolean;
  freezeOutput?: boolean;
  loss?: LossKind;
  optimizer?: OptimizerKind;
  lr?: number;
  weightDecay?: number;
  momentum?: number;
  iterations?: number;
  every?: number;
  seed?: number;
  /** Also train the same network without activation (same seed: same data and initialization). */
  compareLinear?: boolean;
  /** Use the exact x = z T factorization in the first layer (default true). */
  lowRank?: boolean;
  /**
   * onnxruntime intra-op threads (default 1; 0: onnxruntime's choice, one per core). One thread is the
   * default because the products are small and JavaScript work runs between them: a second pool thread
   * mostly spins, and on a loaded 2-core machine it slowed a step down 4x (bench/simulate-RESULTS.md).
   */
  threads?: number;
  /** Matrix products (default: onnxruntime, created and disposed here). */
  gemm?: Gemm;
}

/** Every simulation option, defaults filled in and validated (see resolveSimulateOptions). */
export type ResolvedSimulateOptions = SimulationConfig & { compareLinear: boolean };

/** One trained network's curves (accuracies are fractions in [0, 1]). */
export interface SimulationRunResult {
  activation: Activation;
  records: SimulationRecord[];
  /** Per-neuron majority-class share of |activation| at the end (null: neuron never active). */
  finalAsymmetry: (number | null)[];
  seconds: number;
  iterationsPerSecond: number;
}

/** What runSimulation returns; writeSimulationOutputs stores it. */
export interface SimulationResult {
  tool: string;
  options: ResolvedSimulateOptions;
  runs: SimulationRunResult[];
  /** The finding in numbers, one sentence per line. */
  summary: string[];
}

/** Progress of runSimulation: `done` of `total` iterations of run `run` (1-based) of `runs`. */
export interface SimulateProgressEvent {
  activation: Activation;
  run: number;
  runs: number;
  done: number;
  total: number;
  latest: SimulationRecord | null;
}

const S = SIMULATE_OPTIONS;
const SD = SIMULATE_OPTION_DEFAULTS;

/**
 * The paper's toy.py settings (n 1000, 32 core + 32 background dims in 256, ReLU width 256, AdamW), from the option
 * table.
 */
export const SIMULATE_DEFAULTS: ResolvedSimulateOptions = Object.freeze({
  data: Object.freeze({ n: SD.n, coreDim: SD.coreDim, bgDim: SD.bgDim, inputDim: SD.inputDim, coreMode: SD.coreMode }),
  hidden: SD.hidden,
  layers: SD.layers,
  activation: SD.activation,
  bias: SD.bias,
  freezeOutput: SD.freezeOutput,
  loss: SD.loss,
  optimizer: SD.optimizer,
  lr: SD.lr,
  weightDecay: SD.weightDecay,
  momentum: SD.momentum,
  iterations: SD.iterations,
  every: SD.every,
  seed: SD.seed,
  lowRank: true,
  compareLinear: SD.compareLinear,
});

/**
 * Fills in defaults (SIMULATE_DEFAULTS) and validates every option.
 *
 * @throws FcprobeError BAD_OPTION naming the option (as its CLI flag) that is out of range, e.g. an input
 *   dimension below core + background dimensions, or momentum outside [0, 1).
 */
export function resolveSimulateOptions(o: SimulateOptions): ResolvedSimulateOptions {
  const data = {
    n: optionValue(S, 'n', o.n),
    coreDim: optionValue(S, 'coreDim', o.coreDim),
    bgDim: optionValue(S, 'bgDim', o.bgDim),
    inputDim: optionValue(S, 'inputDim', o.inputDim),
    coreMode: optionValue(S, 'coreMode', o.coreMode),
  };
  if (data.coreDim + data.bgDim > data.inputDim) {
    throw badOption(
      '--input-dim',
      `at least --core-dim + --bg-dim = ${data.coreDim + data.bgDim} (the transform has orthonormal rows)`,
      data.inputDim,
    );
  }
  const r: ResolvedSimulateOptions = {
    data,
    hidden: optionValue(S, 'hidden', o.hidden),
    layers: optionValue(S, 'layers', o.layers),
    activation: optionValue(S, 'activation', o.activation),
    bias: o.bias ?? SD.bias,
    freezeOutput: o.freezeOutput ?? SD.freezeOutput,
    loss: optionValue(S, 'loss', o.loss),
    optimizer: optionValue(S, 'optimizer', o.optimizer),
    lr: optionValue(S, 'lr', o.lr),
    weightDecay: optionValue(S, 'weightDecay', o.weightDecay),
    momentum: optionValue(S, 'momentum', o.momentum),
    iterations: optionValue(S, 'iterations', o.iterations),
    every: optionValue(S, 'every', o.every),
    seed: optionValue(S, 'seed', o.seed),
    lowRank: o.lowRank ?? true,
    compareLinear: o.compareLinear ?? SD.compareLinear,
  };
  return Object.freeze(r);
}

/**
 * The paper's synthetic experiment (Section 4): trains a network on structured data with core and background
 * features and records, every `every` iterations, ID/OOD accuracy, the mean norm of the first-layer neurons'
 * weights along the core and the background directions (what the paper plots as "feature correlation"),
 * and activation asymmetry; with `compareLinear`, also the same
 * network without activation (same seed; the two train in parallel worker threads unless `gemm` is given).
 * Nothing is written.
 *
 * @param progress - called as iterations complete.
 * @throws FcprobeError BAD_OPTION for an invalid option (see resolveSimulateOptions) or thread count.
 *
 * @example
 * ```js
 * const result = await runSimulation({ iterations: 2000, every: 200, compareLinear: true });
 * console.log(result.summary.join('\n'));
 * writeSimulationOutputs(result, 'work/simulate');
 * ```
 */
export async function runSimulation(
  options: SimulateOptions,
  progress?: (e: SimulateProgressEvent) => void,
): Promise<SimulationResult> {
  const resolved = resolveSimulateOptions(options);
  const activations: Activation[] = [resolved.activation];
  if (resolved.compareLinear && resolved.activation !== 'none') activations.push('none');
  const threads = optionValue(S, 'threads', options.threads);
  const toResult = (
    activation: Activation,
    records: SimulationRecord[],
    finalAsymmetry: Float32Array,
    seconds: number,
  ): SimulationRunResult => ({
    activation,
    records,
    seconds,
    iterationsPerSecond: resolved.iterations / seconds,
    finalAsymmetry: Array.from(finalAsymmetry, (v) => (Number.isNaN(v) ? null : v)),
  });
  const reporter = (
    activation: Activation,
    k: number,
  ): { record: (r: SimulationRecord) => void; report: (done: number) => void } => {
    let latest: SimulationRecord | null = null;
    return {
      record: (r) => {
        latest = r;
      },
      report: (done) =>
        progress?.({ activation, run: k + 1, runs: activations.length, done, total: resolved.iterations, latest }),
    };
  };
  let runs: SimulationRunResult[];
  if (!options.gemm && activations.length > 1) {
    // Two networks: one worker thread each (same arithmetic, so the same records as one after the other).
    runs = await Promise.all(
      activations.map((activation, k) =>
        simulateInWorker(
          { config: { ...resolved, activation }, threads, progressEvery: 250 },
          reporter(activation, k),
        ).then((r) => toResult(activation, r.records, r.finalAsymmetry, r.seconds)),
      ),
    );
  } else {
    const gemm = options.gemm ?? (await createOrtGemm(threads > 0 ? { threads } : {}));
    runs = [];
    try {
      for (const [k, activation] of activations.entries()) {
        const { record, report } = reporter(activation, k);
        const t0 = performance.now();
        const outcome = await runStructuredSimulation(
          gemm,
          { ...resolved, activation },
          { onRecord: record, onProgress: report, progressEvery: 250 },
        );
        report(resolved.iterations);
        runs.push(toResult(activation, outcome.records, outcome.finalAsymmetry, (performance.now() - t0) / 1000));
      }
    } finally {
      if (!options.gemm) await gemm.dispose();
    }
  }
  return { tool: `fcprobe ${FCPROBE_VERSION}`, options: resolved, runs, summary: summarizeSimulation(resolved, runs) };
}

async function simulateInWorker(
  job: SimulateJob,
  hooks: { record: (r: SimulationRecord) => void; report: (done: number) => void },
): Promise<SimulateRunOutcome> {
  const outcome = await runWorkerTask<SimulateProgress, SimulateRunOutcome>(
    new URL('./simulateWorker.js', import.meta.url),
    job,
    'simulation',
    (m) => (m.type === 'record' ? hooks.record(m.record) : hooks.report(m.done)),
  );
  hooks.report(job.config.iterations);
  return outcome;
}

const f3 = (x: number): string => (Math.abs(x) >= 0.001 || x === 0 ? x.toFixed(3) : x.toExponential(2));
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

function describeActivation(a: Activation): string {
  return a === 'none' ? 'linear network (no activation)' : `${a} network`;
}

/** Sentences that state what happened, with the numbers. */
export function summarizeSimulation(_o: ResolvedSimulateOptions, runs: SimulationRunResult[]): string[] {
  const lines: string[] = [];
  const growth: number[] = [];
  for (const run of runs) {
    const a = run.records[0]!,
      b = run.records[run.records.length - 1]!;
    const dBg = b.backgroundWeightNorm - a.backgroundWeightNorm;
    growth.push(dBg);
    lines.push(
      `${describeActivation(run.activation)}, ${b.iteration} iterations: background weight norm ` +
        `${f3(a.backgroundWeightNorm)} -> ` +
        `${f3(b.backgroundWeightNorm)} (x${(b.backgroundWeightNorm / a.backgroundWeightNorm).toFixed(2)}) while ` +
        `the label is independent of ` +
        `the background; core weight norm ${f3(a.coreWeightNorm)} -> ${f3(b.coreWeightNorm)} ` +
        `(x${(b.coreWeightNorm / a.coreWeightNorm).toFixed(2)}).`,
    );
    lines.push(
      `  final loss: OOD ${f3(b.oodLoss)} vs ID ` +
        `${f3(b.idLoss)}${b.oodLoss > b.idLoss ? ` (OOD ${(b.oodLoss - b.idLoss).toFixed(3)} higher)` : ''}; ` +
        `accuracy OOD ${pct(b.oodAccuracy)} vs ID ${pct(b.idAccuracy)}; mean activation asymmetry ` +
        `${a.asymmetry.toFixed(3)} -> ${b.asymmetry.toFixed(3)} ` +
        `(0.5: no class preference, 1: one class only).`,
    );
  }
  if (runs.length === 2) {
    const [g0, g1] = [growth[0]!, growth[1]!];
    const name = runs[0]!.activation;
    const separated = g0 > 0 && g1 < 0.25 * g0;
    lines.push(
      `Feature contamination: background weight norm grew by ${f3(g0)} for the ${name} network and ` +
        `by ${f3(g1)} for the ` +
        `linear network${g1 > 0 && g0 > g1 ? ` (${(g0 / g1).toFixed(1)}x less)` : ''}: ` +
        (separated
          ? `the ${name} network learns the label-independent background, the linear network stays close to its ` +
            `start by comparison.`
          : 'no clear separation between the two networks in this setting.'),
    );
  }
  if (runs[0]!.records.length < 2)
    lines.push('(Only one record: raise --iterations or lower --every to see the curves.)');
  return lines;
}

/** CSV: one row per (run, record). */
export function simulationCsv(result: SimulationResult): string {
  const head =
    'activation,iteration,id_loss,ood_loss,id_accuracy,ood_accuracy,' +
    'core_weight_norm,background_weight_norm,activation_asymmetry';
  const rows = result.runs.flatMap((run) =>
    run.records.map((r) =>
      [
        // A fixed name (relu, ...), but every CSV cell of fcprobe's goes through the one cell function.
        csvText(run.activation),
        r.iteration,
        r.idLoss,
        r.oodLoss,
        r.idAccuracy,
        r.oodAccuracy,
        r.coreWeightNorm,
        r.backgroundWeightNorm,
        r.asymmetry,
      ].join(','),
    ),
  );
  return `${[head, ...rows].join('\n')}\n`;
}

export interface SimulationFiles {
  csv: string;
  json: string;
  svg: string;
}

/**
 * Writes curves.csv, curves.json and curves.svg into outDir (created if needed).
 *
 * @returns the absolute paths written. Errors from node:fs when outDir cannot be written.
 */
export function writeSimulationOutputs(result: SimulationResult, outDir: string): SimulationFiles {
  const dir = resolve(outDir);
  ensureWritableDir(dir);
  const files = { csv: join(dir, 'curves.csv'), json: join(dir, 'curves.json'), svg: join(dir, 'curves.svg') };
  writeFileSync(files.csv, simulationCsv(result));
  writeFileSync(files.json, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(files.svg, renderSimulationSvg(result));
  return files;
}
