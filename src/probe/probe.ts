/**
 * Linear probes on frozen features: fit a multinomial logistic regression on an ID feature set, then score
 * ID and OOD sets in their own label spaces. `runProbe` is the whole `fcprobe probe` command as a function.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Gemm } from '../compute/gemm.js';
import { FcprobeError, badOption } from '../errors.js';
import { loadFeatureSet, type FeatureSet } from '../features/manifest.js';
import { FCPROBE_VERSION } from '../version.js';
import { DEFAULT_LBFGS } from '../math/lbfgs.js';
import { computeLogits, fitSoftmaxRegression, splitWeights, thetaToWeights } from './logreg.js';
import { MetricsAccumulator } from './metrics.js';
import { fitMlLogisticRegression, ML_DEFAULTS, type MlOptions } from './mlBaseline.js';
import { Rng } from '../math/rng.js';
import { applyStandardization, computeStandardization, type Standardization } from '../math/standardize.js';
import { DEFAULT_C_GRID, sweepC } from './sweep.js';
import { checkSameRepresentation, featureOrigin } from '../features/origin.js';
import {
  loadProbe,
  readCheckedLabels,
  readFeatureMatrix,
  saveProbe,
  type ConvergenceInfo,
  type LoadedProbe,
  type ProbeFile,
  type SolverName,
} from './probeFiles.js';
import { evaluateProbe, withGemm, type EvalResult, type EvaluateOptions, type ProbeProgress } from './evaluate.js';
import { fitSgdStreamed, scanFeatures, type SgdSettings } from './sgdProbe.js';

export type { ProbeFile, SolverName, LoadedProbe } from './probeFiles.js';
export type { SgdSettings } from './sgdProbe.js';
export { loadProbe } from './probeFiles.js';
export {
  evaluateProbe,
  type EvalResult,
  type EvaluateOptions,
  type PerClassResult,
  type ProbeProgress,
} from './evaluate.js';

export interface FitProbeOptions {
  /** Training feature directory (written by `fcprobe extract`). */
  train: string;
  /** Default 'lbfgs' ('sgd' with --recipe paper). */
  solver?: SolverName;
  /** 'paper': the paper's probe (sgd, raw features, AdamW 1e-3, 10 epochs, batch 256, warmup 500, clip 1). */
  recipe?: 'paper' | null;
  /** lbfgs: inverse L2 strength as sklearn's C (default 1). */
  C?: number;
  /** lbfgs: choose C on a held-out stratified split; `true` uses DEFAULT_C_GRID. */
  cSweep?: boolean | readonly number[];
  /** Fraction of each class held out by the sweep (default 0.2). */
  holdout?: number;
  /** Seed of the sweep split and the sgd shuffle/initialization (default 0). */
  seed?: number;
  /** lbfgs: max |gradient| of the mean-form objective at which to stop (default 1e-7). */
  tol?: number;
  /**
   * lbfgs: also stop when an iteration lowers the objective by less than this relative amount (default
   * 2.2e-9, scipy's L-BFGS-B default that scikit-learn keeps); 0 runs until `tol` (or the noise floor).
   */
  ftol?: number;
  /** lbfgs: iteration limit (default 2000). */
  maxIter?: number;
  /** Standardize with the training mean/std (default true; false with recipe 'paper'). */
  standardize?: boolean;
  ml?: Partial<MlOptions>;
  /** sgd settings; weightDecay is required for sgd and the paper recipe. */
  sgd?: Partial<SgdSettings>;
  /** onnxruntime intra-op threads for the GEMM (default: one per core). */
  threads?: number;
  /** A GEMM to use instead of creating one (tests, or callers that share one). */
  gemm?: Gemm;
  onProgress?: (p: ProbeProgress) => void;
}

export interface ProbeOptions extends Omit<FitProbeOptions, 'train'>, Omit<EvaluateOptions, 'name' | 'predictionsDir'> {
  /** Training features; required unless `load` is given. */
  train?: string;
  /** Evaluate this saved probe directory instead of fitting one. */
  load?: string;
  /** Evaluation feature directories. */
  eval?: readonly string[];
  /** Probe directory to write (probe.json, weights.npy, metrics.json). */
  out: string;
  /** Write <out>/predictions/<set>.{csv,probabilities.npy}. */
  predictions?: boolean;
}

export interface ProbeResult {
  probeDir: string;
  probe: ProbeFile;
  evaluations: EvalResult[];
  seconds: { fit: number; evaluate: number };
}

const PAPER_SGD: Omit<SgdSettings, 'weightDecay' | 'bufferRows' | 'seed'> = {
  lr: 1e-3,
  epochs: 10,
  batchSize: 256,
  warmupSteps: 500,
  clipNorm: 1.0,
};

function now(): number {
  return performance.now() / 1000;
}

/** Training labels compacted to the classes that have rows; fewer than two such classes is an error. */
function compactClasses(
  set: FeatureSet,
  labels: Int32Array,
): { classes: string[]; dropped: string[]; labels: Int32Array } {
  const all = set.manifest.classes;
  const counts = new Int32Array(all.length);
  for (const l of labels) counts[l]!++;
  const newIndex = new Int32Array(all.length).fill(-1);
  const classes: string[] = [];
  const dropped: string[] = [];
  all.forEach((c, i) => {
    if (counts[i]! > 0) {
      newIndex[i] = classes.length;
      classes.push(c);
    } else dropped.push(c);
  });
  if (classes.length < 2) {
    throw new FcprobeError(
      'BAD_DATA',
      `${set.dir} has training rows of ${classes.length} class${classes.length === 1 ? ` (${JSON.stringify(classes[0])})` : 'es'}; a probe needs at least two.`,
    );
  }
  return { classes, dropped, labels: labels.map((l) => newIndex[l]!) };
}

function resolveSgd(o: FitProbeOptions, paper: boolean, rows: number, dim: number): SgdSettings {
  const s = o.sgd ?? {};
  if (s.weightDecay === undefined) {
    throw new FcprobeError(
      'BAD_OPTION',
      `The ${paper ? 'paper recipe' : 'sgd solver'} needs --weight-decay.`,
      'The paper uses 0.1 for CLIP teachers and 1e-3 for distilled students.',
    );
  }
  const budgetRows = Math.max(1024, Math.floor((256 * 2 ** 20) / (4 * dim)));
  const r: SgdSettings = {
    ...PAPER_SGD,
    bufferRows: Math.min(rows, budgetRows),
    seed: o.seed ?? 0,
    ...Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)),
    weightDecay: s.weightDecay,
  };
  if (!(r.lr > 0)) throw badOption('--lr', 'a positive number', r.lr);
  if (!(r.epochs >= 1) || !Number.isInteger(r.epochs)) throw badOption('--epochs', 'a positive integer', r.epochs);
  if (!(r.batchSize >= 1) || !Number.isInteger(r.batchSize))
    throw badOption('--batch', 'a positive integer', r.batchSize);
  if (!(r.weightDecay >= 0)) throw badOption('--weight-decay', 'a non-negative number', r.weightDecay);
  return r;
}

/** Fits a probe on the training features; nothing is written. */
export async function fitProbe(o: FitProbeOptions): Promise<LoadedProbe> {
  const paper = o.recipe === 'paper';
  const solver: SolverName = o.solver ?? (paper ? 'sgd' : 'lbfgs');
  if (paper && solver !== 'sgd') throw badOption('--solver', 'sgd (or nothing) with --recipe paper', solver);
  const standardize = o.standardize ?? !paper;
  const progress = o.onProgress ?? (() => {});
  const set = loadFeatureSet(o.train);
  const { classes, dropped, labels } = compactClasses(set, readCheckedLabels(set));
  const k = classes.length,
    d = set.dim,
    n = set.rows;
  const C = o.C ?? 1;
  if (!(C > 0) || !Number.isFinite(C)) throw badOption('--C', 'a positive number', C);
  const tol = o.tol ?? 1e-7;
  const maxIter = o.maxIter ?? 2000;
  const ftol = o.ftol ?? DEFAULT_LBFGS.ftol;
  const seed = o.seed ?? 0;
  const holdout = o.holdout ?? 0.2;
  if (!(holdout > 0 && holdout < 1)) throw badOption('--holdout', 'a fraction in (0, 1)', holdout);
  const base = {
    format: 'fcprobe-probe' as const,
    formatVersion: 1 as const,
    fcprobeVersion: FCPROBE_VERSION,
    classes,
    featureDim: d,
    solver,
    recipe: paper ? ('paper' as const) : null,
    train: {
      dir: resolve(o.train),
      key: set.manifest.key,
      rows: n,
      origin: featureOrigin(set.manifest),
      droppedClasses: dropped,
    },
  };
  return withGemm(o.gemm, o.threads, async (gemm) => {
    if (solver === 'sgd') {
      if (o.cSweep) throw badOption('--C-sweep', 'used with --solver lbfgs only', true);
      const s = resolveSgd(o, paper, n, d);
      progress({ phase: 'load', message: `scanning ${n} x ${d} features` });
      const st = scanFeatures(set, standardize, s.bufferRows);
      const totalSteps = s.epochs * Math.ceil(n / s.batchSize);
      if (s.warmupSteps >= totalSteps) {
        progress({
          phase: 'fit',
          message: `warning: ${s.warmupSteps} warmup steps >= ${totalSteps} total steps: the learning rate never reaches ${s.lr} (lower --warmup for a small set)`,
        });
      }
      let last = -1;
      const r = await fitSgdStreamed(gemm, set, labels, k, st, s, (info, total) => {
        const pct = Math.floor((100 * info.step) / total);
        if (pct !== last || info.step === total) {
          last = pct;
          progress({
            phase: 'fit',
            message: `step ${info.step}/${total}, loss ${info.loss.toFixed(4)}, lr ${info.lr.toExponential(2)}`,
            fraction: info.step / total,
          });
        }
      });
      const weights = thetaToWeights(r.theta);
      const convergence: ConvergenceInfo = {
        iterations: r.steps,
        evaluations: r.steps,
        finalGradNorm: r.lastGradNorm,
        objective: null,
        meanTrainLoss: r.lastEpochLoss,
        converged: true,
        reason: 'epochs',
      };
      const file: ProbeFile = {
        ...base,
        C: null,
        standardization: jsonStandardization(st),
        convergence,
        settings: { ...s },
        sweep: null,
      };
      return { file, weights, standardization: st };
    }
    progress({ phase: 'load', message: `reading ${n} x ${d} features` });
    const x = readFeatureMatrix(set);
    const st = standardize ? computeStandardization(x, n, d) : null;
    if (st) applyStandardization(x, n, st);
    const problem = { x, n, d, labels, k };
    if (solver === 'ml') {
      if (o.cSweep) throw badOption('--C-sweep', 'used with --solver lbfgs only', true);
      const ml: MlOptions = { ...ML_DEFAULTS, ...definedOnly(o.ml ?? {}) };
      progress({ phase: 'fit', message: `ml-logistic-regression: ${k} one-vs-all classifiers x ${ml.numSteps} steps` });
      const { weights } = fitMlLogisticRegression(x, n, d, labels, k, ml);
      const loss = await meanLoss(gemm, weights, problem);
      const convergence: ConvergenceInfo = {
        iterations: ml.numSteps,
        evaluations: ml.numSteps,
        finalGradNorm: null,
        objective: null,
        meanTrainLoss: loss,
        converged: true,
        reason: 'steps',
      };
      return {
        file: {
          ...base,
          C: null,
          standardization: jsonStandardization(st),
          convergence,
          settings: { ...ml },
          sweep: null,
        },
        weights,
        standardization: st,
      };
    }
    let chosenC = C;
    let sweep: ProbeFile['sweep'] = null;
    let init: Float64Array | undefined;
    if (o.cSweep) {
      const grid = o.cSweep === true ? DEFAULT_C_GRID : o.cSweep;
      if (grid.length === 0 || grid.some((c) => !(c > 0))) throw badOption('--C-grid', 'positive numbers', grid);
      const r = await sweepC(gemm, problem, {
        grid,
        holdout,
        rng: new Rng(seed),
        tol,
        ftol,
        maxIter,
        classNames: classes,
        onPoint: (p, i, total) =>
          progress({
            phase: 'sweep',
            message: `C=${p.C}: held-out top-1 ${(100 * p.valTop1).toFixed(2)}% (${p.iterations} it)`,
            fraction: (i + 1) / total,
          }),
      });
      chosenC = r.bestC;
      init = r.bestTheta;
      const sorted = [...grid].sort((a, b) => a - b);
      const atGridEdge = sorted.length > 1 && (chosenC === sorted[0] || chosenC === sorted[sorted.length - 1]);
      if (atGridEdge)
        progress({
          phase: 'sweep',
          message: `warning: the chosen C=${chosenC} is at the end of the grid; the best C may lie outside it (extend --C-grid)`,
        });
      sweep = { grid: sorted, holdout, seed, nTrain: r.nTrain, nVal: r.nVal, chosenC, atGridEdge, points: r.points };
    }
    const fit = await fitSoftmaxRegression(gemm, problem, {
      C: chosenC,
      tol,
      ftol,
      maxIter,
      ...(init ? { init } : {}),
      onIteration: (it) => {
        if (it.iteration % 10 === 0)
          progress({
            phase: 'fit',
            message: `iteration ${it.iteration}: objective ${it.f.toPrecision(8)}, max|grad| ${it.gradMaxAbs.toExponential(2)}`,
          });
      },
    });
    const weights = thetaToWeights(fit.theta);
    const convergence: ConvergenceInfo = {
      iterations: fit.iterations,
      evaluations: fit.evaluations,
      finalGradNorm: fit.gradMaxAbs,
      objective: fit.objective,
      meanTrainLoss: fit.objective - penalty(fit.theta, k, d, chosenC, n),
      converged: fit.converged,
      reason: fit.reason,
    };
    const file: ProbeFile = {
      ...base,
      C: chosenC,
      standardization: jsonStandardization(st),
      convergence,
      settings: { tol, ftol, maxIter, memory: DEFAULT_LBFGS.memory },
      sweep,
    };
    return { file, weights, standardization: st };
  });
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function jsonStandardization(s: Standardization | null): ProbeFile['standardization'] {
  return s ? { mean: Array.from(s.mean), std: Array.from(s.std) } : null;
}

function penalty(theta: Float64Array, k: number, d: number, C: number, n: number): number {
  let s = 0;
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) s += theta[c * (d + 1) + j]! ** 2;
  return s / (2 * C * n);
}

async function meanLoss(
  gemm: Gemm,
  weights: Float32Array,
  p: { x: Float32Array; n: number; d: number; labels: Int32Array; k: number },
): Promise<number> {
  const block = 4096;
  const logits = new Float32Array(Math.min(block, p.n) * p.k);
  const w = splitWeights(weights, p.k, p.d);
  const acc = new MetricsAccumulator(p.k, 1);
  for (let s = 0; s < p.n; s += block) {
    const rows = Math.min(block, p.n - s);
    await computeLogits(gemm, weights, p.k, p.d, p.x.subarray(s * p.d, (s + rows) * p.d), rows, logits, w);
    acc.add(logits, rows, p.labels.subarray(s, s + rows));
  }
  return acc.result().meanLoss;
}

/** The `fcprobe probe` command: fit (or load) a probe, save it, evaluate every set, write metrics.json. */
export async function runProbe(o: ProbeOptions): Promise<ProbeResult> {
  if (!o.train && !o.load)
    throw new FcprobeError('BAD_OPTION', 'Expected --train <features-dir> (or --load <probe-dir>).');
  if (o.train && o.load)
    throw new FcprobeError(
      'BAD_OPTION',
      'Give either --train (fit a probe) or --load (evaluate a saved one), not both.',
    );
  const evalDirs = o.eval ?? [];
  // Validate every evaluation set's origin before spending time on the fit.
  const sets = evalDirs.map((dir) => ({ dir, set: loadFeatureSet(dir) }));
  if (o.train) {
    const ref = featureOrigin(loadFeatureSet(o.train).manifest);
    for (const { dir, set } of sets) checkSameRepresentation(ref, o.train, featureOrigin(set.manifest), dir);
  }
  return withGemm(o.gemm, o.threads, async (gemm) => {
    const t0 = now();
    let probe: LoadedProbe;
    if (o.load) {
      probe = loadProbe(o.load);
    } else {
      probe = await fitProbe({ ...o, train: o.train!, gemm });
    }
    saveProbe(o.out, probe.file, probe.weights);
    const t1 = now();
    const names = uniqueNames(evalDirs);
    const evaluations: EvalResult[] = [];
    for (let i = 0; i < evalDirs.length; i++) {
      evaluations.push(
        await evaluateProbe(probe, evalDirs[i]!, {
          name: names[i]!,
          gemm,
          ignoreUnknown: o.ignoreUnknown ?? false,
          ...(o.predictions ? { predictionsDir: join(o.out, 'predictions') } : {}),
          ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        }),
      );
    }
    const t2 = now();
    mkdirSync(o.out, { recursive: true });
    writeFileSync(
      join(o.out, 'metrics.json'),
      `${JSON.stringify(
        {
          format: 'fcprobe-probe-metrics',
          formatVersion: 1,
          fcprobeVersion: FCPROBE_VERSION,
          probe: {
            solver: probe.file.solver,
            recipe: probe.file.recipe,
            C: probe.file.C,
            classes: probe.file.classes.length,
            featureDim: probe.file.featureDim,
            train: probe.file.train.dir,
          },
          sets: evaluations,
        },
        null,
        1,
      )}\n`,
    );
    return { probeDir: resolve(o.out), probe: probe.file, evaluations, seconds: { fit: t1 - t0, evaluate: t2 - t1 } };
  });
}

/** Base names of the directories, made unique with a -2, -3... suffix when they collide. */
function uniqueNames(dirs: readonly string[]): string[] {
  const names = dirs.map((d) => basename(resolve(d)));
  const seen = new Map<string, number>();
  return names.map((nm) => {
    const c = seen.get(nm) ?? 0;
    seen.set(nm, c + 1);
    return c === 0 ? nm : `${nm}-${c + 1}`;
  });
}
