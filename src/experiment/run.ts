/**
 * `run`: the whole experiment. Validate everything first (config, folders, class spaces, both models), then
 * extract every (model, set) pair into the work directory (cached and resumable), fit one probe per model on
 * the ID training features, score every set, compute the diagnostics, and write results + report.
 */
import { join } from 'node:path';
import { createOrtGemm, type Gemm } from '../compute/gemm.js';
import { buildLabelSpace } from '../probe/labelSpace.js';
import { FcprobeError } from '../errors.js';
import { readClassFile, type DatasetListing } from '../dataset/listing.js';
import { listDataset, parseLayout } from '../dataset/layouts.js';
import { protocolClasses, selectPerClass, splitListing } from '../dataset/suite.js';
import { isTarData, listTarShards } from '../dataset/tarListing.js';
import { mergeFoundShards } from './plan.js';
import type {
  AccuracyMeasurement,
  AsymmetryMeasurement,
  DistilledStudentEntry,
  ModelEntry,
  ModelRole,
  ProbeSummary,
  RepresentationFitMeasurement,
  RunResults,
  SetEntry,
  SetRole,
  StageTiming,
  JsonValue,
  LeftOutEntry,
  SuiteRecord,
} from './types.js';
import { FCPROBE_VERSION } from '../version.js';
import { ensureWritableDir } from '../io/atomic.js';
import { acquireLock } from '../features/lock.js';
import { computeActivationAsymmetry, computeRepresentationFit } from './diagnostics.js';
import {
  accuracyInterval,
  computeStatistics,
  DEFAULT_BOOTSTRAP,
  type PairedSet,
  statisticsInfo,
} from './statistics.js';
import { checkSameImages, loadFeatureSet } from '../features/manifest.js';
import type { EvalResult } from '../probe/evaluate.js';
import { extractFeatures, type ExtractProgress, type ExtractResult } from '../extract/extract.js';
import { inspectModel } from '../extract/modelCheck.js';
import { describePreprocess } from '../image/preprocessSpec.js';
import { runProbe, type ProbeOptions } from '../probe/probe.js';
import { describeMachine, writeResults } from './results.js';
import { type DistillResult, finishedDistill, runDistill } from '../distill/distill.js';
import {
  backboneModelName,
  checkConfigPaths,
  configFieldName,
  distillDir,
  type FieldNamer,
  type ModelConfig,
  type RunConfig,
  type SetConfig,
} from './config.js';

export interface RunOptions {
  config: RunConfig;
  /** How errors name config fields (the CLI's flags); default: config field names. */
  nameOf?: FieldNamer;
  /** Stage headlines ("extract teacher / photo-train"). */
  onStage?: (message: string) => void;
  onExtractProgress?: (label: string, p: ExtractProgress) => void;
  onNotice?: (message: string) => void;
  shouldStop?: () => boolean;
  /** The suite's record of found and missing sets (suiteRun), written into results.json and the report. */
  suite?: SuiteRecord;
}

export interface RunOutcome {
  results: RunResults;
  workDir: string;
}

interface PlannedSet {
  config: SetConfig;
  role: SetRole;
  listing: DatasetListing;
  /** A part of the ID folder's split. */
  split?: { seed: number; fraction: number };
  /** Protocol scoring: the classes it is scored over whatever folders are present (config scoreOver). */
  scoreOver: string[] | null;
}

const SEED = 0;

/** Evaluation sets keep their own class lists: the probe maps them to training classes by name. */
async function listSet(s: SetConfig): Promise<DatasetListing> {
  const classes = s.classes ? readClassFile(s.classes) : undefined;
  let listing = isTarData(s.path)
    ? await listTarShards(s.path, classes ? { classes } : {})
    : listDataset(s.path, {
        ...(s.layout ? { layout: parseLayout(s.layout, `layout of set "${s.name}"`) } : {}),
        ...(classes ? { classes } : {}),
      });
  if (s.perClass) listing = selectPerClass(listing, s.perClass, SEED);
  if (s.borderCrop !== undefined) listing = { ...listing, borderCrop: s.borderCrop };
  return listing;
}

function featureDir(workDir: string, model: ModelConfig, set: SetConfig): string {
  return join(workDir, 'features', model.name, set.name);
}

/** A distilled student's backbone as a model of its own (`<name>.backbone`, its features in the work dir). */
function backboneOf(m: ModelConfig): ModelConfig {
  if (!m.distill) throw new Error(`${m.name} is not distilled`);
  return { ...m, name: backboneModelName(m.name), path: m.distill.backbone, distill: undefined };
}

function extractOptionsOf(m: ModelConfig, cfg: RunConfig): Parameters<typeof inspectModel>[0] {
  return {
    modelPath: m.path,
    // A distilled student's preprocessing is its backbone's; its one output is the head's `features`.
    outputName: m.distill ? 'features' : m.output,
    pool: m.distill ? undefined : m.pool,
    providers: cfg.providers,
    threads: cfg.threads,
    preprocess: {
      preset: m.preset,
      resize: m.resize,
      crop: m.crop,
      interpolation: m.interpolation,
      mean: m.mean,
      std: m.std,
    },
  };
}

function probeOptionsOf(
  cfg: RunConfig,
  train: string,
  evalDirs: string[],
  out: string,
  evalScoreOver: (string[] | null)[],
): ProbeOptions {
  const p = cfg.probe;
  return {
    train,
    eval: evalDirs,
    evalScoreOver,
    out,
    solver: p.solver,
    recipe: p.recipe,
    C: p.C,
    cSweep: p.sweep,
    maxIter: p.maxIter,
    seed: p.seed,
    ...(p.weightDecay !== undefined ? { sgd: { weightDecay: p.weightDecay } } : {}),
    threads: cfg.threads,
  };
}

interface PlannedModel {
  config: ModelConfig;
  role: ModelRole;
  /** Its config field ("teacher", "students[1]"), for messages. */
  field: string;
}

/** The preprocessing and output options of a model, by the flag `extract` calls them and their config field. */
const MODEL_OPTION_FLAGS: [string, string][] = [
  ['--output', 'output'],
  ['--pool', 'pool'],
  ['--preset', 'preset'],
  ['--resize', 'resize'],
  ['--crop', 'crop'],
  ['--interpolation', 'interpolation'],
  ['--mean', 'mean'],
  ['--std', 'std'],
];

/**
 * A model check's error in the terms of this run: `Expected --pool ...` (extract's flag) becomes
 * `Expected config field "student.pool" ...` or `Expected --student-pool ...`, as the user gave the model.
 */
function inTermsOf(err: FcprobeError, field: string, nameOf: FieldNamer): FcprobeError {
  let { message } = err;
  let hint = err.hint;
  for (const [flag, key] of MODEL_OPTION_FLAGS) {
    const re = new RegExp(`${flag}(?![\\w-])`, 'g');
    const name = nameOf(`${field}.${key}`);
    message = message.replace(re, name);
    hint = hint?.replace(re, name);
  }
  return new FcprobeError(err.code, message, hint);
}

/** What runExperiment will do, all of it checked before the first image is decoded. */
interface RunPlan {
  cfg: RunConfig;
  /** Teacher first, then the students, then the references. */
  models: PlannedModel[];
  train: PlannedSet;
  evals: PlannedSet[];
  /** train, then evals. */
  sets: PlannedSet[];
  /** Execution providers the model checks ended up on. */
  providers: string[];
}

/** Stage headlines and the time each stage takes. */
interface StageLog {
  stage: (message: string) => void;
  timed: <T>(name: string, f: () => Promise<T>) => Promise<T>;
  timings: StageTiming[];
}

function stageLog(onStage: ((message: string) => void) | undefined): StageLog {
  const timings: StageTiming[] = [];
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      timings.push({ stage: name, seconds: (performance.now() - t0) / 1000 });
    }
  };
  return { stage: onStage ?? (() => {}), timed, timings };
}

/** Extraction results by model and set name. */
type Extracted = Map<string, ExtractResult>;
const pairKey = (model: ModelConfig, set: SetConfig): string => `${model.name}\u0000${set.name}`;

interface Diagnostics {
  representationFit: RepresentationFitMeasurement[];
  asymmetry: AsymmetryMeasurement[];
}

interface Probed {
  accuracy: AccuracyMeasurement[];
  probes: ProbeSummary[];
  /** Per model name, its evaluations in plan.evals order (per-image correctness for the paired statistics). */
  evaluations: Map<string, EvalResult[]>;
}

type Statistics = Pick<RunResults, 'gaps' | 'contamination' | 'statistics'>;

/**
 * The whole experiment (`fcprobe run` without the report): validates the config's files, set listings,
 * class spaces and both models first; extracts every (model, set) pair into `<workDir>/features/<model>/<set>`
 * (cached and resumable); fits one probe per model on the ID training set and scores every set; measures
 * representation fit and activation asymmetry; writes `<workDir>/results.json`. Render the report from the
 * returned results with writeReport. Accuracies are fractions in [0, 1]; timings in seconds.
 *
 * @throws FcprobeError NOT_FOUND when a model or data folder is missing; BAD_DATA when a set's classes do not
 *   fit the training classes or a folder is not a dataset; BAD_MODEL / PROVIDER_UNAVAILABLE when a model
 *   cannot run; extraction and probe errors (see extractFeatures, runProbe) prefixed with the model and set;
 *   INTERRUPTED when `shouldStop` returned true (rerunning resumes).
 *
 * @example
 * ```js
 * const { results } = await runExperiment({ config: readRunConfig('experiment.json'), onStage: console.log });
 * const { terminal } = writeReport(results, ['terminal', 'md', 'html'], 'work/exp');
 * console.log(terminal);
 * ```
 */
export async function runExperiment(o: RunOptions): Promise<RunOutcome> {
  // One `run` per work folder at a time (features/lock.ts).
  ensureWritableDir(o.config.workDir);
  const lock = acquireLock(o.config.workDir, 'run');
  try {
    return await runLocked(o);
  } finally {
    lock.release();
  }
}

async function runLocked(o: RunOptions): Promise<RunOutcome> {
  const log = stageLog(o.onStage);
  const plan = await planRun(o.config, log, o.nameOf ?? configFieldName);
  const distilled: Distilled = new Map();
  const extracted = await extractAll(plan, o, log, distilled);
  const gemm: Gemm = await createOrtGemm(plan.cfg.threads ? { threads: plan.cfg.threads } : {});
  try {
    const probed = await probeAll(plan, gemm, log);
    const diagnostics = await diagnose(plan, gemm, log);
    const statistics = await measureStatistics(plan, probed, log);
    const results = assembleResults(plan, extracted, distilled, probed, statistics, diagnostics, log.timings, o.suite);
    writeResults(plan.cfg.workDir, results);
    return { results, workDir: plan.cfg.workDir };
  } finally {
    await gemm.dispose();
  }
}

/** Validates everything before long work: paths, listings, class spaces, both models. */
async function planRun(cfg: RunConfig, log: StageLog, nameOf: FieldNamer): Promise<RunPlan> {
  checkConfigPaths(cfg, nameOf);
  const { train, splitTest } = await planTrain(cfg, nameOf);
  // --present-classes-only: every set over its folders present (today's behaviour before protocol scoring).
  const scoreOver = (s: SetConfig): string[] | null =>
    s.scoreOver && !cfg.presentClassesOnly ? protocolClasses(s.scoreOver) : null;
  const evals: PlannedSet[] = splitTest ? [splitTest] : [];
  for (const s of cfg.test)
    evals.push({ config: s, role: 'id-test', listing: await listSet(s), scoreOver: scoreOver(s) });
  for (const s of cfg.ood) evals.push({ config: s, role: 'ood', listing: await listSet(s), scoreOver: scoreOver(s) });
  for (const e of evals) checkLabelSpace(train.listing.classes, e);
  const models: PlannedModel[] = [
    { config: cfg.teacher, role: 'teacher', field: 'teacher' },
    ...cfg.students.map((config, i) => ({
      config,
      role: 'student' as const,
      field: cfg.students.length === 1 ? 'student' : `students[${i}]`,
    })),
    ...cfg.references.map((config, i) => ({ config, role: 'reference' as const, field: `references[${i}]` })),
  ];
  const providers: string[] = [];
  for (const { config, field } of models) {
    // A distilled student does not exist yet: its backbone is checked with the student's preprocessing fields.
    const m = config.distill ? backboneOf(config) : config;
    log.stage(`check model ${m.name}: ${m.path}`);
    try {
      const check = await inspectModel({ ...extractOptionsOf(m, cfg), onNotice: log.stage });
      providers.push(check.provider);
    } catch (err) {
      if (err instanceof FcprobeError) throw inTermsOf(err, field, nameOf);
      throw err;
    }
  }
  return { cfg, models, train, evals, sets: [train, ...evals], providers: [...new Set(providers)] };
}

/**
 * The ID training set, or with `split` its two parts: "<name>-train" and "<name>-test" (distinct feature
 * folders, so that a run without the split keeps its own). One seed per run for now.
 * @throws FcprobeError BAD_OPTION / BAD_CONFIG for several seeds; BAD_DATA when the split leaves a part empty.
 */
async function planTrain(
  cfg: RunConfig,
  nameOf: FieldNamer,
): Promise<{ train: PlannedSet; splitTest: PlannedSet | null }> {
  const listing = await listSet(cfg.train);
  if (cfg.split === undefined)
    return { train: { config: cfg.train, role: 'id-train', listing, scoreOver: null }, splitTest: null };
  const seeds = cfg.seeds ?? [cfg.probe.seed ?? 0];
  if (seeds.length > 1) {
    const name = nameOf('seeds');
    throw new FcprobeError(
      name.startsWith('--') ? 'BAD_OPTION' : 'BAD_CONFIG',
      `${name.charAt(0).toUpperCase()}${name.slice(1)}: several seeds per run are not supported yet; give one seed.`,
      'Run once per seed with --seed <n> (each run extracts the ID folder once).',
    );
  }
  const seed = seeds[0]!;
  const parts = splitListing(listing, cfg.split, seed);
  if (parts.train.items.length === 0 || parts.test.items.length === 0)
    throw new FcprobeError(
      'BAD_DATA',
      `Splitting ${cfg.train.path} (${listing.items.length} images) with ${cfg.split} leaves no ` +
        `${parts.test.items.length === 0 ? 'test' : 'training'} image.`,
      'Every class needs at least two images for a split.',
    );
  const part = (which: 'train' | 'test'): SetConfig => ({ ...cfg.train, name: `${cfg.train.name}-${which}` });
  return {
    train: {
      config: part('train'),
      role: 'id-train',
      listing: parts.train,
      split: { seed, fraction: cfg.split },
      scoreOver: null,
    },
    splitTest: {
      config: part('test'),
      role: 'id-test',
      listing: parts.test,
      split: { seed, fraction: cfg.split },
      scoreOver: null,
    },
  };
}

/** @throws FcprobeError BAD_DATA when the set's classes cannot be scored by a probe on the training classes. */
function checkLabelSpace(trainClasses: string[], e: PlannedSet): void {
  try {
    buildLabelSpace(trainClasses, e.listing.classes, e.listing.classMap, { scoreOver: e.scoreOver ?? undefined });
  } catch (err) {
    if (err instanceof FcprobeError)
      throw new FcprobeError(
        'BAD_DATA',
        `Set "${e.config.name}" (${e.config.path}): ${err.message}`,
        `Its classes must be among the training set's ${trainClasses.length} classes ` +
          `(${trainClasses.slice(0, 5).join(', ')}${trainClasses.length > 5 ? ', ...' : ''}).`,
      );
    throw err;
  }
}

/** Features of every (model, set) pair, cached: a finished pair is not recomputed. Distils students that ask for it. */
async function extractAll(plan: RunPlan, o: RunOptions, log: StageLog, distilled: Distilled): Promise<Extracted> {
  const extracted: Extracted = new Map();
  // The teacher comes first in plan.models, so its training features exist when a student is distilled.
  for (const { config: m } of plan.models) {
    if (m.distill) distilled.set(m.name, await distillStudent(plan, m, o, log));
    for (const s of plan.sets) extracted.set(pairKey(m, s.config), await extractPair(plan, m, s, o, log));
  }
  return extracted;
}

async function extractPair(
  plan: RunPlan,
  m: ModelConfig,
  s: PlannedSet,
  o: RunOptions,
  log: StageLog,
): Promise<ExtractResult> {
  const { cfg } = plan;
  const resumeHint = 'Rerun the same command: finished extractions are reused and an interrupted one resumes.';
  const report = o.onExtractProgress;
  const label = `${m.name} / ${s.config.name}`;
  log.stage(`extract ${label} (${s.listing.items.length} images)`);
  try {
    // Shards written by the jobs of `run --plan` (a cluster array) become this pair's features.
    const merged = mergeFoundShards(featureDir(cfg.workDir, m, s.config));
    if (merged) log.stage(`  merged ${merged} shard(s) of the cluster plan`);
    const r = await log.timed(`extract ${label}`, () =>
      extractFeatures({
        ...extractOptionsOf(m, cfg),
        listing: s.listing,
        outDir: featureDir(cfg.workDir, m, s.config),
        batchSize: cfg.batchSize,
        onStale: 'replace',
        onNotice: o.onNotice,
        onProgress: report && ((p: ExtractProgress) => report(label, p)),
        shouldStop: o.shouldStop,
      }),
    );
    if (r.status === 'already-done') log.stage(`  cached: ${r.rows} x ${r.manifest.featureDim}`);
    return r;
  } catch (err) {
    if (err instanceof FcprobeError && err.code !== 'INTERRUPTED') {
      // A rerun helps only after an I/O problem is fixed; bad data or a bad model fails again the same way.
      throw new FcprobeError(
        err.code,
        `While extracting ${label}: ${err.message}`,
        err.hint ?? (err.code === 'IO' || err.code === 'LOCKED' ? resumeHint : undefined),
      );
    }
    throw err;
  }
}

/** Distillation records by student name. */
type Distilled = Map<string, DistilledStudentEntry>;

/**
 * A `distill` student: extracts its backbone on the ID training set (as model `<name>.backbone`), then distils
 * the head on those features and the teacher's into `<workDir>/distill/<name>/`, or reuses a finished
 * distillation of the same key (settings and both feature sets; its files' SHA-256 verified). An interrupted
 * distillation resumes from its epoch checkpoint. The composed student.onnx is then extracted like any model:
 * its features' key holds its SHA-256, so new settings re-extract them.
 */
async function distillStudent(
  plan: RunPlan,
  m: ModelConfig,
  o: RunOptions,
  log: StageLog,
): Promise<DistilledStudentEntry> {
  const { cfg, train } = plan;
  const d = m.distill!;
  const bb = backboneOf(m);
  await extractPair(plan, bb, train, o, log);
  const teacherDir = featureDir(cfg.workDir, cfg.teacher, train.config);
  const backboneDir = featureDir(cfg.workDir, bb, train.config);
  const out = distillDir(cfg.workDir, m.name);
  let r: DistillResult | null = await finishedDistill(out, d.settings, teacherDir, backboneDir);
  const reused = r !== null;
  if (r) log.stage(`distill ${m.name}: cached (${out})`);
  else {
    log.stage(`distill ${m.name}: ${d.settings.head.kind} head on ${bb.name}, ${d.settings.epochs} epochs -> ${out}`);
    try {
      r = await log.timed(`distill ${m.name}`, () =>
        runDistill({
          teacherFeatures: teacherDir,
          studentFeatures: backboneDir,
          backbone: d.backbone,
          out,
          settings: d.settings,
          threads: cfg.threads,
          onNotice: o.onNotice,
          shouldStop: o.shouldStop,
        }),
      );
    } catch (err) {
      if (err instanceof FcprobeError && err.code !== 'INTERRUPTED')
        throw new FcprobeError(err.code, `While distilling ${m.name}: ${err.message}`, err.hint);
      throw err;
    }
  }
  return {
    backbone: d.backbone,
    backboneSha256: r.student.sha256,
    dir: out,
    key: r.key,
    settings: r.settings,
    rows: r.rows,
    headParameters: r.headParameters,
    steps: r.steps,
    finalLoss: r.epochLosses.at(-1) ?? NaN,
    fit: r.fit,
    reused,
  };
}

/** One probe per model, fitted on the ID training features and scored on every evaluation set. */
async function probeAll(plan: RunPlan, gemm: Gemm, log: StageLog): Promise<Probed> {
  const { cfg, train, evals } = plan;
  const accuracy: AccuracyMeasurement[] = [];
  const probes: ProbeSummary[] = [];
  const evaluations = new Map<string, EvalResult[]>();
  for (const { config: m } of plan.models) {
    log.stage(`probe ${m.name}: fit on ${train.config.name}, score ${evals.length} set(s)`);
    const r = await log.timed(`probe ${m.name}`, () =>
      runProbe({
        ...probeOptionsOf(
          cfg,
          featureDir(cfg.workDir, m, train.config),
          evals.map((e) => featureDir(cfg.workDir, m, e.config)),
          join(cfg.workDir, 'probes', m.name),
          evals.map((e) => e.scoreOver),
        ),
        gemm,
      }),
    );
    const details: Record<string, number | string> = {};
    for (const [k, v] of Object.entries(r.probe.convergence))
      if (typeof v === 'number' || typeof v === 'string') details[k] = v;
    const sw = r.probe.sweep;
    probes.push({
      model: m.name,
      C: r.probe.C ?? NaN,
      solver: r.probe.solver,
      details,
      sweep: sw ? { grid: sw.grid, nVal: sw.nVal, classes: r.probe.classes.length, atGridEdge: sw.atGridEdge } : null,
    });
    evaluations.set(m.name, r.evaluations);
    evals.forEach((e, i) => {
      const ev = r.evaluations[i];
      if (!ev) return;
      accuracy.push({
        model: m.name,
        set: e.config.name,
        n: ev.n,
        top1: ev.top1,
        top1Interval: accuracyInterval(ev.top1, ev.n),
        classes: ev.labelSpace.scoredClasses,
        top5: ev.labelSpace.scoredClasses > 5 ? ev.top5 : null,
        ...(ev.labelSpace.kind !== 'identity' ? { scoring: ev.labelSpace.description } : {}),
      });
    });
  }
  return { accuracy, probes, evaluations };
}

/**
 * Gap intervals, McNemar p and contamination from the two models' per-image correctness, paired by image:
 * refuses (MISMATCH) when the two feature sets of a set do not list the same images in the same order.
 */
async function measureStatistics(plan: RunPlan, probed: Probed, log: StageLog): Promise<Statistics> {
  const { cfg, evals } = plan;
  const t = probed.evaluations.get(cfg.teacher.name) ?? [];
  const bootstrap = cfg.bootstrap ?? DEFAULT_BOOTSTRAP;
  log.stage(`statistics: intervals${bootstrap > 0 ? `, ${bootstrap} paired bootstrap replicates` : ''}`);
  const all: Statistics = {
    gaps: [],
    contamination: [],
    statistics: statisticsInfo(bootstrap, cfg.probe.seed ?? SEED),
  };
  // Each student is paired with the teacher on its own (same seed: a student's numbers do not depend on the others).
  for (const student of cfg.students) {
    const st = probed.evaluations.get(student.name) ?? [];
    const sets: PairedSet[] = evals.flatMap((e, i) => {
      const te = t[i],
        se = st[i];
      if (!te || !se) return [];
      checkSameImages(
        loadFeatureSet(featureDir(cfg.workDir, cfg.teacher, e.config)),
        loadFeatureSet(featureDir(cfg.workDir, student, e.config)),
      );
      return [{ set: e.config.name, role: e.role as PairedSet['role'], teacher: te.correct, student: se.correct }];
    });
    const out = await log.timed(`statistics ${student.name}`, async () =>
      computeStatistics({
        teacher: cfg.teacher.name,
        student: student.name,
        sets,
        bootstrap,
        seed: cfg.probe.seed ?? SEED,
      }),
    );
    all.gaps.push(...out.gaps);
    all.contamination.push(...out.contamination);
    all.statistics = out.info;
  }
  return all;
}

/**
 * Each student's representation fit to the teacher on every set; activation asymmetry of each model on the training
 * set.
 */
async function diagnose(plan: RunPlan, gemm: Gemm, log: StageLog): Promise<Diagnostics> {
  const { cfg, train } = plan;
  const representationFit: RepresentationFitMeasurement[] = [];
  for (const student of cfg.students) {
    for (const s of plan.sets) {
      const label = `${student.name} / ${s.config.name}`;
      log.stage(`representation fit ${label}`);
      const fit = await log.timed(`fit ${label}`, () =>
        computeRepresentationFit(
          featureDir(cfg.workDir, cfg.teacher, s.config),
          featureDir(cfg.workDir, student, s.config),
          gemm,
        ),
      );
      representationFit.push({
        student: student.name,
        set: s.config.name,
        linearCka: fit.cka,
        linearCkaDebiased: fit.ckaDebiased,
        fit,
      });
    }
  }
  const asymmetry: AsymmetryMeasurement[] = plan.models.map(({ config: m }) => ({
    model: m.name,
    set: train.config.name,
    result: computeActivationAsymmetry(featureDir(cfg.workDir, m, train.config)),
  }));
  return { representationFit, asymmetry };
}

/** The results.json document (models and set sizes as the manifests recorded them). */
function assembleResults(
  plan: RunPlan,
  extracted: Extracted,
  distilled: Distilled,
  probed: Probed,
  statistics: Statistics,
  diagnostics: Diagnostics,
  timings: StageTiming[],
  suite: SuiteRecord | undefined,
): RunResults {
  const { cfg, train } = plan;
  const teacherEvals = probed.evaluations.get(cfg.teacher.name) ?? [];
  const extraction = (m: ModelConfig, s: SetConfig): ExtractResult => {
    const r = extracted.get(pairKey(m, s));
    // extractAll fills every pair or throws: a missing one is a bug here, not a user error.
    if (!r) throw new Error(`no extraction of ${m.name} / ${s.name}`);
    return r;
  };
  const modelEntries: ModelEntry[] = plan.models.map(({ config: m, role }) => {
    const man = extraction(m, train.config).manifest;
    const d = distilled.get(m.name);
    return {
      role,
      name: m.name,
      path: m.path,
      sha256: man.model.sha256,
      featureDim: man.featureDim,
      preset: man.preprocess.preset,
      preprocessing: describePreprocess(man.preprocess),
      output: man.model.outputName,
      pool: man.model.pool,
      ...(d ? { distill: d } : {}),
    };
  });
  const setEntries: SetEntry[] = plan.sets.map((s) => ({
    name: s.config.name,
    role: s.role,
    path: s.config.path,
    n: extraction(cfg.teacher, s.config).rows,
    // The files of each part, so the split can be checked and reproduced.
    ...(s.split ? { split: { ...s.split, files: s.listing.items.map((it) => it.file) } } : {}),
    ...setScoring(s, s === train ? undefined : teacherEvals[plan.evals.indexOf(s)]),
  }));
  return {
    format: 'fcprobe-results',
    formatVersion: 2,
    fcprobeVersion: FCPROBE_VERSION,
    createdAt: new Date().toISOString(),
    ...(cfg.title ? { title: cfg.title } : {}),
    config: JSON.parse(JSON.stringify(cfg)) as JsonValue,
    machine: describeMachine(plan.providers),
    models: modelEntries,
    sets: setEntries,
    ...(suite ? { suite } : {}),
    accuracy: probed.accuracy,
    ...statistics,
    probes: probed.probes,
    ...diagnostics,
    baselines: cfg.baselines,
    timings,
  };
}

/**
 * How a set is scored and what of it is not: protocol classes present of expected, and the images left out
 * (folders the layout leaves out, e.g. ObjectNet's unmapped ones, and classes the label space drops, from the
 * teacher's evaluation: every model is scored in the same label space).
 */
function setScoring(s: PlannedSet, ev: EvalResult | undefined): Pick<SetEntry, 'scoredOver' | 'classes' | 'leftOut'> {
  const entries: LeftOutEntry[] = [];
  for (const ig of s.listing.ignored)
    if (ig.images !== undefined && ig.images > 0) entries.push({ what: ig.file, reason: ig.reason, images: ig.images });
  const why = {
    outside: "not among the protocol's classes",
    unknown: 'class unknown to the probe',
    unmapped: 'class not mapped to a training class',
  };
  for (const d of ev?.labelSpace.dropped ?? [])
    if (d.images > 0) entries.push({ what: d.name, reason: why[d.reason], images: d.images });
  const out: Pick<SetEntry, 'scoredOver' | 'classes' | 'leftOut'> = {
    scoredOver: s.role === 'id-train' ? 'training' : s.scoreOver ? 'protocol' : 'present',
    leftOut: { images: entries.reduce((a, e) => a + e.images, 0), entries },
  };
  if (s.scoreOver) {
    const have = new Set(s.listing.classes);
    const missing = s.scoreOver.filter((c) => !have.has(c));
    out.classes = { present: s.scoreOver.length - missing.length, expected: s.scoreOver.length, missing };
  }
  return out;
}
