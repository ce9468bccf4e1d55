/**
 * Linear probes on frozen features: fit a multinomial logistic regression on an ID feature set, then score
 * ID and OOD sets in their own label spaces. `runProbe` is the whole `fcprobe probe` command as a function.
 */
import { ensureWritableDir, writeFileAtomic } from '../io/atomic.js';
import { acquireLock } from '../features/lock.js';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Gemm } from '../compute/gemm.js';
import { FcprobeError, badOption } from '../errors.js';
import { PROBE_DEFAULTS, PROBE_OPTIONS } from '../options.js';
import { optionValue } from '../validate.js';
import { loadFeatureSet, type FeatureSet } from '../features/manifest.js';
import { verifyFinished } from '../features/writer.js';
import { hashValue } from '../io/hash.js';
import { selectionSha256, selectRows } from '../features/rowSelection.js';
import { FCPROBE_VERSION } from '../version.js';
import { DEFAULT_LBFGS } from '../math/lbfgs.js';
import { computeLogits, fitSoftmaxRegression, splitWeights, thetaToWeights, type RowSource } from './logreg.js';
import { MetricsAccumulator } from './metrics.js';
import { fitMlLogisticRegression, ML_DEFAULTS, type MlOptions } from './mlBaseline.js';
import { Rng } from '../math/rng.js';
import { clopperPearson } from '../math/intervals.js';
import { applyStandardization, computeStandardization, type Standardization } from '../math/standardize.js';
import { DEFAULT_C_GRID, describeSweepTie, sweepC } from './sweep.js';
import { checkSameRepresentation, featureOrigin } from '../features/origin.js';
import {
  loadProbe,
  PROBE_FILE,
  readCheckedLabels,
  readFeatureMatrix,
  saveProbe,
  type ConvergenceInfo,
  type LoadedProbe,
  type ProbeDecision,
  type ProbeFile,
  type SolverName,
  type TrainFit,
} from './probeFiles.js';
import {
  evaluateProbe,
  withGemm,
  withoutCorrectness,
  type EvalResult,
  type EvaluateOptions,
  type ProbeProgress,
} from './evaluate.js';
import { fitSgdStreamed, scanFeatures, type SgdSettings } from './sgdProbe.js';
import type { SgdStepInfo } from './sgdTrainer.js';

export type { ProbeFile, SolverName, LoadedProbe, ProbeDecision, TrainFit } from './probeFiles.js';
export type { SgdSettings } from './sgdProbe.js';
export { loadProbe } from './probeFiles.js';
export {
  evaluateProbe,
  withoutCorrectness,
  type EvalResult,
  type EvaluateOptions,
  type PerClassResult,
  type ProbeProgress,
} from './evaluate.js';

export interface FitProbeOptions {
  /** Training feature directory (written by `fcprobe extract`). */
  train: string;
  /**
   * Fit on these rows of `train` only (strictly ascending indices; default all): a part of a seeded ID split,
   * read in place (features/rowSelection.ts). probe.json records their count and SHA-256.
   */
  trainRows?: Int32Array | undefined;
  /** Default 'lbfgs' ('sgd' with --recipe paper). */
  solver?: SolverName | undefined;
  /** 'paper': the paper's probe (sgd, raw features, AdamW 1e-3, 10 epochs, batch 256, warmup 500, clip 1). */
  recipe?: 'paper' | null | undefined;
  /** lbfgs: inverse L2 strength as sklearn's C (default: PROBE_DEFAULTS.C). */
  C?: number | undefined;
  /** lbfgs: choose C on a held-out stratified split; `true` uses DEFAULT_C_GRID. */
  cSweep?: boolean | readonly number[] | undefined;
  /** Fraction of each class held out by the sweep (default: PROBE_DEFAULTS.holdout). */
  holdout?: number | undefined;
  /** Seed of the sweep split and the sgd shuffle/initialization (default: PROBE_DEFAULTS.seed). */
  seed?: number | undefined;
  /** lbfgs: max |gradient| of the mean-form objective at which to stop (default: PROBE_DEFAULTS.tol). */
  tol?: number | undefined;
  /**
   * lbfgs: also stop when an iteration lowers the objective by less than this relative amount (default
   * PROBE_DEFAULTS.ftol, 2.2e-9: scipy's L-BFGS-B default that scikit-learn keeps); 0 runs until `tol` (or the
   * noise floor).
   */
  ftol?: number | undefined;
  /** lbfgs: iteration limit (default: PROBE_DEFAULTS.maxIter). */
  maxIter?: number | undefined;
  /** Standardize with the training mean/std (default true; false with recipe 'paper'). */
  standardize?: boolean | undefined;
  ml?: Partial<MlOptions> | undefined;
  /** sgd settings; weightDecay is required for sgd and the paper recipe. */
  sgd?: Partial<SgdSettings> | undefined;
  /** onnxruntime intra-op threads for the GEMM (default: one per core). */
  threads?: number | undefined;
  /**
   * Bytes of feature rows held in memory (`--memory-budget`). lbfgs streams its passes from features.npy
   * when the training matrix is larger; sgd's block-shuffle buffer (two blocks, read-ahead) is sized from it.
   * Default: lbfgs loads everything; sgd uses 256 MiB per block.
   */
  memoryBudget?: number | undefined;
  /** A GEMM to use instead of creating one (tests, or callers that share one). */
  gemm?: Gemm | undefined;
  onProgress?: ((p: ProbeProgress) => void) | undefined;
}

export interface ProbeOptions
  extends Omit<FitProbeOptions, 'train'>,
    Omit<EvaluateOptions, 'name' | 'predictionsDir' | 'scoreOver'> {
  /** Training features; required unless `load` is given. */
  train?: string | undefined;
  /** Evaluate this saved probe directory instead of fitting one. */
  load?: string | undefined;
  /** Evaluation feature directories. */
  eval?: readonly string[] | undefined;
  /** Per evaluation directory (same order): protocol classes to score over (EvaluateOptions.scoreOver), or null. */
  evalScoreOver?: readonly (readonly string[] | null)[] | undefined;
  /** Per evaluation directory (same order): the rows to score (EvaluateOptions.rows), or null for all. */
  evalRows?: readonly (Int32Array | null)[] | undefined;
  /** Probe directory to write (probe.json, weights.npy, metrics.json). */
  out: string;
  /** Write <out>/predictions/<set>.{csv,probabilities.npy}. */
  predictions?: boolean | undefined;
  /**
   * Reuse the probe `out` already holds when its fitKey equals this fit's (probeFitKey), its weights match their
   * sha256 and the training features their manifest's checksums; otherwise fit. `run` sets it; `fcprobe probe`
   * always fits.
   */
  reuse?: boolean | undefined;
}

export interface ProbeResult {
  probeDir: string;
  /** The probe in `probeDir` was reused (ProbeOptions.reuse): nothing was fitted or written but metrics.json. */
  reused: boolean;
  probe: ProbeFile;
  evaluations: EvalResult[];
  seconds: { fit: number; evaluate: number };
}

const PAPER_SGD: Omit<SgdSettings, 'weightDecay' | 'bufferRows' | 'seed'> = {
  lr: PROBE_DEFAULTS.lr,
  epochs: PROBE_DEFAULTS.epochs,
  batchSize: PROBE_DEFAULTS.batch,
  warmupSteps: PROBE_DEFAULTS.warmup,
  clipNorm: PROBE_DEFAULTS.clip,
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
      `${set.dir} has training rows of ${classes.length} ` +
        `class${classes.length === 1 ? ` (${JSON.stringify(classes[0])})` : 'es'}; a probe needs at least two.`,
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
  // Two blocks are held (the one training and the one read ahead).
  const budgetRows =
    o.memoryBudget !== undefined
      ? Math.max(1, Math.floor(o.memoryBudget / (2 * 4 * dim)))
      : Math.max(1024, Math.floor((256 * 2 ** 20) / (4 * dim)));
  const r: SgdSettings = {
    ...PAPER_SGD,
    bufferRows: Math.min(rows, budgetRows),
    seed: o.seed ?? PROBE_DEFAULTS.seed,
    ...Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)),
    weightDecay: s.weightDecay,
  };
  optionValue(PROBE_OPTIONS, 'lr', r.lr);
  optionValue(PROBE_OPTIONS, 'epochs', r.epochs);
  optionValue(PROBE_OPTIONS, 'batch', r.batchSize);
  optionValue(PROBE_OPTIONS, 'weightDecay', r.weightDecay);
  return r;
}

/**
 * The paper's warm-up as a share of its schedule: 500 of 10 x ceil(1,281,167 / 256) = 50,050 steps on
 * ImageNet-1k, about 1%. A default warm-up that does not end within the fit is scaled to this share.
 */
export const PAPER_WARMUP_SHARE = 0.01;

/**
 * A warm-up that covers every step leaves the learning rate below its peak for the whole fit and never starts
 * the cosine decay (42 rows: 10 steps at <= 2e-5, a probe at chance). A given --warmup that does so is
 * refused with the numbers; the default one is scaled to PAPER_WARMUP_SHARE of the steps and said back.
 *
 * @throws FcprobeError BAD_OPTION when a given warm-up is not below the total steps.
 */
function fitWarmup(
  s: SgdSettings,
  given: boolean,
  rows: number,
): { settings: SgdSettings; decided: ProbeDecision[]; totalSteps: number } {
  const perEpoch = Math.ceil(rows / s.batchSize);
  const totalSteps = s.epochs * perEpoch;
  if (s.warmupSteps < totalSteps) return { settings: s, decided: [], totalSteps };
  const batches = `${perEpoch} batch${perEpoch === 1 ? '' : 'es'}`;
  const steps = `${totalSteps} optimizer steps (${s.epochs} epochs x ${batches} of ${s.batchSize} rows)`;
  const scaled = Math.floor(PAPER_WARMUP_SHARE * totalSteps);
  if (given)
    throw new FcprobeError(
      'BAD_OPTION',
      `--warmup ${s.warmupSteps} is not below the ${steps}: the learning rate would never reach --lr ${s.lr} ` +
        'and the cosine decay would never start.',
      `Give --warmup below ${totalSteps} (the paper's share, 1% of the steps, is ${scaled}), or more --epochs.`,
    );
  const from =
    `scaled from the default ${s.warmupSteps}, which is not below the ${steps}, to ` +
    `${100 * PAPER_WARMUP_SHARE}% of them, the paper's share (500 of 50,050 steps on ImageNet-1k)`;
  return { settings: { ...s, warmupSteps: scaled }, decided: [{ setting: 'warmup', value: scaled, from }], totalSteps };
}

/** Fit settings every solver sees (lbfgs uses all of them; validated whatever the solver). */
interface LbfgsSettings {
  C: number;
  tol: number;
  maxIter: number;
  ftol: number;
  seed: number;
  holdout: number;
}

/** The parts of probe.json that do not depend on the solver. */
type ProbeBase = Omit<ProbeFile, 'C' | 'standardization' | 'convergence' | 'settings' | 'sweep'>;

/** What a solver fits from: the training set, its compacted labels and the resolved settings. */
interface FitContext {
  o: FitProbeOptions;
  paper: boolean;
  standardize: boolean;
  progress: (p: ProbeProgress) => void;
  set: FeatureSet;
  labels: Int32Array;
  /** Classes with training rows (k = classes.length). */
  classes: string[];
  settings: LbfgsSettings;
  base: ProbeBase;
  gemm: Gemm;
}

interface Solver {
  /** Fits the probe; nothing is written. */
  fit(ctx: FitContext): Promise<LoadedProbe>;
}

/**
 * The probe solvers by name (like transformers.js's SUPPORTED_TASKS): lbfgs (sklearn-equivalent multinomial
 * logistic regression, optional C sweep), ml (ml-logistic-regression's one-vs-all baseline) and sgd (the
 * paper's streamed AdamW probe).
 */
export const SOLVERS: Readonly<Record<SolverName, Solver>> = Object.freeze({
  lbfgs: { fit: fitLbfgs },
  ml: { fit: fitMl },
  sgd: { fit: fitSgd },
});

/**
 * Fits a multinomial logistic-regression probe on a training feature directory; nothing is written (see
 * `saveProbe`, or `runProbe` for fit + save + evaluate). Solvers: 'lbfgs' (default; L2 strength as
 * scikit-learn's C, optionally chosen by a held-out sweep), 'ml' (ml-logistic-regression, a baseline) and
 * 'sgd' (streamed AdamW, for feature sets larger than memory; `recipe: 'paper'` is the paper's settings).
 * Classes without training rows are dropped and listed in `file.train.droppedClasses`.
 *
 * @throws FcprobeError BAD_OPTION for an invalid or inconsistent setting (solver, C, holdout, C grid, sgd settings,
 *   both a C and a C sweep,
 *   a missing sgd `weightDecay`, a sweep with a solver other than lbfgs); NOT_FOUND or BAD_FEATURES when
 *   `train` is not a valid feature directory or holds NaN/infinite values or out-of-range labels; BAD_DATA
 *   when fewer than two classes have training rows.
 */
export async function fitProbe(o: FitProbeOptions): Promise<LoadedProbe> {
  const paper = o.recipe === 'paper';
  const solver: SolverName = o.solver ?? (paper ? 'sgd' : 'lbfgs');
  if (paper && solver !== 'sgd') throw badOption('--solver', 'sgd (or nothing) with --recipe paper', solver);
  if (!Object.hasOwn(SOLVERS, solver)) throw badOption('--solver', `one of ${Object.keys(SOLVERS).join(', ')}`, solver);
  // A given C beside a sweep used to be dropped without a word; the user meant one of the two, so ask which.
  if (o.cSweep && o.C !== undefined)
    throw new FcprobeError(
      'BAD_OPTION',
      `Give either a fixed C (--C ${o.C}, config probe.C) or a C sweep (--C-sweep, config probe.sweep), not both.`,
      'Drop --C to let the sweep choose C, or drop --C-sweep to fit at that C.',
    );
  const whole = loadFeatureSet(o.train);
  const set = o.trainRows ? selectRows(whole, o.trainRows) : whole;
  const { classes, dropped, labels } = compactClasses(set, readCheckedLabels(set));
  const settings = resolveLbfgsSettings(o);
  const base: ProbeBase = {
    format: 'fcprobe-probe',
    formatVersion: 1,
    fcprobeVersion: FCPROBE_VERSION,
    classes,
    featureDim: set.dim,
    solver,
    recipe: paper ? 'paper' : null,
    train: {
      dir: resolve(o.train),
      key: set.manifest.key,
      rows: set.rows,
      origin: featureOrigin(set.manifest),
      droppedClasses: dropped,
      ...(o.trainRows ? { selection: { of: whole.rows, sha256: selectionSha256(o.trainRows) } } : {}),
    },
  };
  const standardize = o.standardize ?? !paper;
  const fitKey = probeFitKey(o, whole);
  if (fitKey) base.fitKey = fitKey;
  const progress = o.onProgress ?? (() => {});
  return withGemm(o.gemm, o.threads, async (gemm) => {
    const probe = await SOLVERS[solver].fit({
      o,
      paper,
      standardize,
      progress,
      set,
      labels,
      classes,
      settings,
      base,
      gemm,
    });
    progress({ phase: 'fit', message: `scoring the probe on its ${set.rows} training rows` });
    const trainFit = await trainingFit(gemm, set, labels, probe);
    const warnings = trainFit.nearChance ? [nearChanceWarning(trainFit, probe.file)] : [];
    for (const w of warnings) progress({ phase: 'fit', message: `warning: ${w}` });
    return { ...probe, file: { ...probe.file, trainFit, ...(warnings.length > 0 ? { warnings } : {}) } };
  });
}

/**
 * What determines the probe fitProbe makes from `o` on `whole` (the training folder, before a row selection): the
 * features' key, path and the sha256 of both arrays as their manifest records them, the selected rows, the label
 * space (the key's file list and labels, the labels' sha256), every fit setting as resolved with its default, the
 * seed, the memory budget (it changes the summation order) and fcprobe's version. Not the thread count: the GEMM
 * splits rows and columns over threads, never a dot product, so the bytes do not depend on it. Null when the
 * manifest records no checksums (older fcprobe): such features are never trusted to be the same.
 *
 * @throws FcprobeError BAD_OPTION for an invalid setting (as fitProbe).
 */
export function probeFitKey(o: FitProbeOptions, whole: FeatureSet): string | null {
  const sums = whole.manifest.checksums;
  if (!sums) return null;
  const paper = o.recipe === 'paper';
  const grid = o.cSweep === true ? DEFAULT_C_GRID : o.cSweep ? [...o.cSweep] : null;
  return hashValue({
    v: 1,
    fcprobe: FCPROBE_VERSION,
    train: {
      dir: resolve(o.train),
      key: whole.manifest.key,
      features: sums.features.sha256,
      labels: sums.labels.sha256,
      rows: o.trainRows ? selectionSha256(o.trainRows) : null,
    },
    solver: o.solver ?? (paper ? 'sgd' : 'lbfgs'),
    recipe: paper ? 'paper' : null,
    standardize: o.standardize ?? !paper,
    lbfgs: resolveLbfgsSettings(o),
    sweep: grid,
    ml: definedOnly(o.ml ?? {}),
    sgd: definedOnly(o.sgd ?? {}),
    memoryBudget: o.memoryBudget ?? null,
  });
}

/**
 * The probe `out` holds when it was fitted from this very request (fitKey), its weights match their sha256 and
 * the training features still match their manifest's checksums; else null (the caller fits). A damaged or foreign
 * probe folder is not an error here: fitting again replaces it.
 */
function reusableProbe(o: ProbeOptions & { train: string }): LoadedProbe | null {
  if (!existsSync(join(o.out, PROBE_FILE))) return null;
  const whole = loadFeatureSet(o.train);
  const key = probeFitKey(o, whole);
  if (key === null) return null;
  let probe: LoadedProbe;
  try {
    probe = loadProbe(o.out);
  } catch (e) {
    if (e instanceof FcprobeError) return null;
    throw e;
  }
  if (probe.file.fitKey !== key || probe.file.weightsSha256 === undefined) return null;
  return verifyFinished(whole.dir, whole.manifest, true) === null ? probe : null;
}

/** The near-chance rule's level: one-sided 99%, the low end of a 98% Clopper-Pearson interval. */
const TRAIN_FIT_LEVEL = 0.98;

/**
 * The probe's top-1 on its own training rows (one more streamed scoring pass, block by block, standardized as
 * the probe is), against chance: the largest class's share, what predicting that one class scores. A fit whose
 * one-sided 99% lower bound does not exceed chance learned nothing its own rows can show (a schedule stuck in
 * its warm-up, a learning rate far too small); probe.json and the report carry a warning then.
 */
export async function trainingFit(
  gemm: Gemm,
  set: FeatureSet,
  labels: Int32Array,
  probe: LoadedProbe,
): Promise<TrainFit> {
  const n = set.rows,
    d = set.dim,
    k = probe.file.classes.length;
  const block = Math.max(1, Math.min(n, 4096));
  const x = new Float32Array(block * d);
  const logits = new Float32Array(block * k);
  const w = splitWeights(probe.weights, k, d);
  const acc = new MetricsAccumulator(k, 1);
  const reader = set.open();
  try {
    for (let s = 0; s < n; s += block) {
      const rows = Math.min(block, n - s);
      const xs = x.subarray(0, rows * d);
      reader.readFloat32Rows(s, rows, xs);
      if (probe.standardization) applyStandardization(xs, rows, probe.standardization);
      await computeLogits(gemm, probe.weights, k, d, xs, rows, logits, w);
      acc.add(logits, rows, labels.subarray(s, s + rows));
    }
  } finally {
    reader.close();
  }
  const top1 = acc.result().top1;
  const counts = new Int32Array(k);
  for (const l of labels) counts[l]!++;
  const chance = Math.max(...counts) / n;
  const top1Low = clopperPearson(Math.round(top1 * n), n, TRAIN_FIT_LEVEL).low;
  return { rows: n, top1, top1Low, chance, nearChance: top1Low <= chance };
}

function nearChanceWarning(t: TrainFit, f: ProbeFile): string {
  const pc = (v: number): string => `${(100 * v).toFixed(1)}%`;
  const why = f.solver === 'sgd' ? ' (too few steps, a warm-up or learning rate too small?)' : '';
  return (
    `the probe scores ${pc(t.top1)} top-1 on its own ${t.rows} training rows, not above chance ` +
    `(${pc(t.chance)}, the largest class's share) at one-sided 99% (lower bound ${pc(t.top1Low)}): ` +
    `the fit learned nothing its training rows show${why}`
  );
}

function resolveLbfgsSettings(o: FitProbeOptions): LbfgsSettings {
  const C = optionValue(PROBE_OPTIONS, 'C', o.C);
  const tol = optionValue(PROBE_OPTIONS, 'tol', o.tol);
  const maxIter = optionValue(PROBE_OPTIONS, 'maxIter', o.maxIter);
  const ftol = optionValue(PROBE_OPTIONS, 'ftol', o.ftol);
  const seed = optionValue(PROBE_OPTIONS, 'seed', o.seed);
  const holdout = optionValue(PROBE_OPTIONS, 'holdout', o.holdout);
  return { C, tol, maxIter, ftol, seed, holdout };
}

function refuseSweep(o: FitProbeOptions): void {
  if (o.cSweep) throw badOption('--C-sweep', 'used with --solver lbfgs only', true);
}

/** The paper's probe: streamed AdamW over raw (or standardized) features, never all in memory. */
async function fitSgd(ctx: FitContext): Promise<LoadedProbe> {
  const { o, set, progress } = ctx;
  refuseSweep(o);
  const n = set.rows,
    d = set.dim;
  const { settings: s, decided } = fitWarmup(resolveSgd(o, ctx.paper, n, d), o.sgd?.warmupSteps !== undefined, n);
  for (const x of decided) progress({ phase: 'fit', message: `note: --${x.setting} ${x.value}: ${x.from}` });
  progress({ phase: 'load', message: `scanning ${n} x ${d} features` });
  const st = scanFeatures(set, ctx.standardize, s.bufferRows);
  const r = await fitSgdStreamed(ctx.gemm, set, ctx.labels, ctx.classes.length, st, s, sgdProgress(progress));
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
    ...ctx.base,
    C: null,
    standardization: jsonStandardization(st),
    convergence,
    settings: { ...s },
    sweep: null,
    ...(decided.length > 0 ? { decided } : {}),
  };
  return { file, weights: thetaToWeights(r.theta), standardization: st };
}

/** Reports sgd steps at most once per percent. */
function sgdProgress(progress: (p: ProbeProgress) => void): (info: SgdStepInfo, total: number) => void {
  let last = -1;
  return (info, total) => {
    const pct = Math.floor((100 * info.step) / total);
    if (pct !== last || info.step === total) {
      last = pct;
      progress({
        phase: 'fit',
        message: `step ${info.step}/${total}, loss ${info.loss.toFixed(4)}, lr ${info.lr.toExponential(2)}`,
        fraction: info.step / total,
      });
    }
  };
}

interface Problem {
  x: Float32Array;
  source?: RowSource | undefined;
  n: number;
  d: number;
  labels: Int32Array;
  k: number;
}

/** The whole training matrix in memory, standardized in place when asked. */
function loadProblem(ctx: FitContext): { problem: Problem; st: Standardization | null } {
  const { set } = ctx;
  const n = set.rows,
    d = set.dim;
  ctx.progress({ phase: 'load', message: `reading ${n} x ${d} features` });
  const x = readFeatureMatrix(set);
  const st = ctx.standardize ? computeStandardization(x, n, d) : null;
  if (st) applyStandardization(x, n, st);
  return { problem: { x, n, d, labels: ctx.labels, k: ctx.classes.length }, st };
}

/** ml-logistic-regression's one-vs-all classifiers, the JavaScript baseline. */
async function fitMl(ctx: FitContext): Promise<LoadedProbe> {
  const { o } = ctx;
  const { problem, st } = loadProblem(ctx);
  refuseSweep(o);
  const { x, n, d, labels, k } = problem;
  const ml: MlOptions = { ...ML_DEFAULTS, ...definedOnly(o.ml ?? {}) };
  ctx.progress({ phase: 'fit', message: `ml-logistic-regression: ${k} one-vs-all classifiers x ${ml.numSteps} steps` });
  const { weights } = fitMlLogisticRegression(x, n, d, labels, k, ml);
  const convergence: ConvergenceInfo = {
    iterations: ml.numSteps,
    evaluations: ml.numSteps,
    finalGradNorm: null,
    objective: null,
    meanTrainLoss: await meanLoss(ctx.gemm, weights, problem),
    converged: true,
    reason: 'steps',
  };
  const file: ProbeFile = {
    ...ctx.base,
    C: null,
    standardization: jsonStandardization(st),
    convergence,
    settings: { ...ml },
    sweep: null,
  };
  return { file, weights, standardization: st };
}

/** Multinomial logistic regression by L-BFGS (scikit-learn's objective), after an optional C sweep. */
async function fitLbfgs(ctx: FitContext): Promise<LoadedProbe> {
  const budget = ctx.o.memoryBudget;
  const { set } = ctx;
  if (budget !== undefined && set.rows * set.dim * 4 > budget) return fitLbfgsStreamed(ctx, budget);
  const { problem, st } = loadProblem(ctx);
  const { chosenC, init, sweep } = await chooseC(ctx, problem);
  return fitLbfgsOn(ctx, problem, st, chosenC, init, sweep, undefined);
}

/**
 * L-BFGS with the features left on disk (they exceed `--memory-budget`): one scan for NaN/Inf and the
 * standardization, then every evaluation streams features.npy in chunks of at most budget / (2 * 4 * D) rows
 * (two chunks held: one computed, one read ahead). Same objective and solver as in memory; only the GEMM's
 * float32 summation order over rows follows the chunking.
 */
async function fitLbfgsStreamed(ctx: FitContext, budget: number): Promise<LoadedProbe> {
  const { set } = ctx;
  const n = set.rows,
    d = set.dim;
  if (ctx.o.cSweep) {
    throw new FcprobeError(
      'BAD_OPTION',
      `--C-sweep needs the training features in memory (${n} x ${d} float32 > --memory-budget ${budget} bytes).`,
      'Raise --memory-budget, or give --C (e.g. the best C of a sweep on a subset).',
    );
  }
  const chunkRows = Math.max(1, Math.floor(budget / (2 * 4 * d)));
  ctx.progress({ phase: 'load', message: `streaming ${n} x ${d} features in chunks of ${chunkRows} rows` });
  const st = scanFeatures(set, ctx.standardize, chunkRows);
  const reader = set.open();
  try {
    const source = {
      async read(start: number, rows: number, out: Float32Array): Promise<void> {
        await reader.readFloat32RowsAsync(start, rows, out);
        if (st) applyStandardization(out, rows, st);
      },
    };
    const problem: Problem = { x: new Float32Array(0), source, n, d, labels: ctx.labels, k: ctx.classes.length };
    return await fitLbfgsOn(ctx, problem, st, ctx.settings.C, undefined, null, chunkRows);
  } finally {
    reader.close();
  }
}

async function fitLbfgsOn(
  ctx: FitContext,
  problem: Problem,
  st: Standardization | null,
  chosenC: number,
  init: Float64Array | undefined,
  sweep: ProbeFile['sweep'],
  chunkRows: number | undefined,
): Promise<LoadedProbe> {
  const { tol, ftol, maxIter } = ctx.settings;
  const fit = await fitSoftmaxRegression(ctx.gemm, problem, {
    C: chosenC,
    tol,
    ftol,
    maxIter,
    init,
    ...(chunkRows !== undefined ? { chunkRows } : {}),
    onIteration: (it) => {
      if (it.iteration % 10 === 0)
        ctx.progress({
          phase: 'fit',
          message:
            `iteration ${it.iteration}: objective ${it.f.toPrecision(8)}, max|grad| ` +
            `${it.gradMaxAbs.toExponential(2)}`,
        });
    },
  });
  const convergence: ConvergenceInfo = {
    iterations: fit.iterations,
    evaluations: fit.evaluations,
    finalGradNorm: fit.gradMaxAbs,
    objective: fit.objective,
    meanTrainLoss: fit.objective - penalty(fit.theta, problem.k, problem.d, chosenC, problem.n),
    converged: fit.converged,
    reason: fit.reason,
  };
  const file: ProbeFile = {
    ...ctx.base,
    C: chosenC,
    standardization: jsonStandardization(st),
    convergence,
    settings: { tol, ftol, maxIter, memory: DEFAULT_LBFGS.memory },
    sweep,
  };
  return { file, weights: thetaToWeights(fit.theta), standardization: st };
}

/**
 * The C to fit with: the given one, or the sweep's best on a held-out split (whose weights start the refit).
 * @throws FcprobeError BAD_OPTION for an empty grid or a non-positive C in it.
 */
async function chooseC(
  ctx: FitContext,
  problem: Problem,
): Promise<{ chosenC: number; init: Float64Array | undefined; sweep: ProbeFile['sweep'] }> {
  const { o, progress } = ctx;
  const { C, holdout, seed, tol, ftol, maxIter } = ctx.settings;
  if (!o.cSweep) return { chosenC: C, init: undefined, sweep: null };
  const grid = o.cSweep === true ? DEFAULT_C_GRID : optionValue(PROBE_OPTIONS, 'CGrid', o.cSweep);
  const r = await sweepC(ctx.gemm, problem, {
    grid,
    holdout,
    rng: new Rng(seed),
    tol,
    ftol,
    maxIter,
    classNames: ctx.classes,
    onPoint: (p, i, total) =>
      progress({
        phase: 'sweep',
        message: `C=${p.C}: held-out top-1 ${(100 * p.valTop1).toFixed(2)}% (${p.iterations} it)`,
        fraction: (i + 1) / total,
      }),
  });
  const chosenC = r.bestC;
  const sorted = [...grid].sort((a, b) => a - b);
  // An edge value that only won a tie says nothing about C beyond the grid: no advice to extend it.
  const atGridEdge =
    r.tied === 1 && sorted.length > 1 && (chosenC === sorted[0] || chosenC === sorted[sorted.length - 1]);
  const valTop1 = r.points.find((p) => p.C === chosenC)?.valTop1 ?? NaN;
  const tie = describeSweepTie({ of: sorted.length, tied: r.tied, valTop1, nVal: r.nVal, chosenC });
  if (tie) progress({ phase: 'sweep', message: `note: ${tie}` });
  if (atGridEdge)
    progress({
      phase: 'sweep',
      message:
        `warning: the chosen C=${chosenC} is at the end of the grid; the best C may lie outside ` +
        `it (extend --C-grid)`,
    });
  const sweep = {
    grid: sorted,
    holdout,
    seed,
    nTrain: r.nTrain,
    nVal: r.nVal,
    chosenC,
    tied: r.tied,
    atGridEdge,
    points: r.points,
  };
  return { chosenC, init: r.bestTheta, sweep };
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

/**
 * The `fcprobe probe` command as a function: fits a probe on `train` (or loads the one in `load`), saves it to
 * `out` (probe.json, weights.npy), scores every `eval` directory in its own label space and writes
 * `out`/metrics.json (and per-image predictions with `predictions`). Accuracies are fractions in [0, 1].
 *
 * @throws FcprobeError BAD_OPTION when neither or both of `train` and `load` are given, or for a bad fit
 *   setting (see fitProbe); NOT_FOUND / BAD_FEATURES / BAD_DATA for unreadable inputs (see fitProbe,
 *   loadProbe, evaluateProbe); MISMATCH when an evaluation set was extracted with another model, output,
 *   pooling or preprocessing than the training set (checked before the fit), or has classes the probe cannot
 *   score (see evaluateProbe).
 *
 * @example
 * ```js
 * const r = await runProbe({ train: 'work/t-train', eval: ['work/t-test', 'work/t-sketch'], out: 'work/probe-t' });
 * for (const e of r.evaluations) console.log(e.name, (100 * e.top1).toFixed(2), '% top-1 of', e.n);
 * ```
 */
export async function runProbe(o: ProbeOptions): Promise<ProbeResult> {
  const source = probeSource(o);
  const evalDirs = o.eval ?? [];
  // Validate every evaluation set's origin before spending time on the fit.
  const sets = evalDirs.map((dir) => ({ dir, set: loadFeatureSet(dir) }));
  if (source.train !== undefined) {
    const ref = featureOrigin(loadFeatureSet(source.train).manifest);
    for (const { dir, set } of sets) checkSameRepresentation(ref, source.train, featureOrigin(set.manifest), dir);
  }
  // One writer per probe folder (features/lock.ts).
  ensureWritableDir(o.out);
  const lock = acquireLock(resolve(o.out), 'probe');
  try {
    return await withGemm(o.gemm, o.threads, async (gemm) => {
      const t0 = now();
      const kept = o.reuse && source.train !== undefined ? reusableProbe({ ...o, train: source.train }) : null;
      const probe =
        kept ??
        (source.train !== undefined ? await fitProbe({ ...o, train: source.train, gemm }) : loadProbe(source.load));
      if (!kept) saveProbe(o.out, probe.file, probe.weights);
      const t1 = now();
      const evaluations = await evaluateAll(probe, evalDirs, o, gemm);
      const t2 = now();
      writeMetrics(o.out, probe.file, evaluations);
      return {
        probeDir: resolve(o.out),
        reused: kept !== null,
        probe: probe.file,
        evaluations,
        seconds: { fit: t1 - t0, evaluate: t2 - t1 },
      };
    });
  } finally {
    lock.release();
  }
}

/** Exactly one of --train (fit) and --load (saved probe). */
function probeSource(o: ProbeOptions): { train: string; load?: never } | { train?: never; load: string } {
  if (o.train && o.load)
    throw new FcprobeError(
      'BAD_OPTION',
      'Give either --train (fit a probe) or --load (evaluate a saved one), not both.',
    );
  if (o.train) return { train: o.train };
  if (o.load) return { load: o.load };
  throw new FcprobeError('BAD_OPTION', 'Expected --train <features-dir> (or --load <probe-dir>).');
}

async function evaluateAll(
  probe: LoadedProbe,
  evalDirs: readonly string[],
  o: ProbeOptions,
  gemm: Gemm,
): Promise<EvalResult[]> {
  const names = uniqueNames(evalDirs);
  const evaluations: EvalResult[] = [];
  for (const [i, dir] of evalDirs.entries()) {
    evaluations.push(
      await evaluateProbe(probe, dir, {
        name: names[i],
        gemm,
        ignoreUnknown: o.ignoreUnknown ?? false,
        scoreOver: o.evalScoreOver?.[i] ?? undefined,
        rows: o.evalRows?.[i] ?? undefined,
        predictionsDir: o.predictions ? join(o.out, 'predictions') : undefined,
        onProgress: o.onProgress,
      }),
    );
  }
  return evaluations;
}

/** <out>/metrics.json: the probe's summary and every set's scores. */
function writeMetrics(out: string, probe: ProbeFile, evaluations: EvalResult[]): void {
  ensureWritableDir(out);
  const metrics = {
    format: 'fcprobe-probe-metrics',
    formatVersion: 1,
    fcprobeVersion: FCPROBE_VERSION,
    probe: {
      solver: probe.solver,
      recipe: probe.recipe,
      C: probe.C,
      classes: probe.classes.length,
      featureDim: probe.featureDim,
      train: probe.train.dir,
    },
    sets: evaluations.map(withoutCorrectness),
  };
  writeFileAtomic(join(out, 'metrics.json'), `${JSON.stringify(metrics, null, 1)}\n`);
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
