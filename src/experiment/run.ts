/**
 * `run`: the whole experiment. Validate everything first (config, folders, class spaces, both models), then
 * extract every (model, set) pair into the work directory (cached and resumable), fit one probe per model on
 * the ID training features, score every set, compute the diagnostics, and write results + report.
 */
import { buildHeadline } from './headline.js';
import { meanAndSampleStd } from '../math/spread.js';
import { rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createOrtGemm, type Gemm } from '../compute/gemm.js';
import { buildLabelSpace } from '../probe/labelSpace.js';
import { FcprobeError } from '../errors.js';
import { readClassFile, type DatasetListing } from '../dataset/listing.js';
import { listDataset, parseLayout } from '../dataset/layouts.js';
import { protocolClasses, selectPerClass, splitListing } from '../dataset/suite.js';
import { isTarData, listTarShards } from '../dataset/tarListing.js';
import { mergeFoundShards } from './plan.js';
import type {
  AcrossSeeds,
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
  MissingSetEntry,
  SetRecord,
  SuiteRecord,
  StudentContrast,
} from './types.js';
import { FCPROBE_VERSION } from '../version.js';
import { ensureWritableDir } from '../io/atomic.js';
import { acquireLock } from '../features/lock.js';
import { computeActivationAsymmetry, computeRepresentationFit } from './diagnostics.js';
import {
  accuracyInterval,
  computeStatistics,
  computeStudentContrast,
  computeClassGaps,
  type ContrastInput,
  DEFAULT_BOOTSTRAP,
  type PairedSet,
  statisticsInfo,
} from './statistics.js';
import { checkSameImages, type FeatureSet, loadFeatureSet } from '../features/manifest.js';
import { selectRows } from '../features/rowSelection.js';
import type { EvalResult } from '../probe/evaluate.js';
import { extractFeatures, type ExtractProgress, type ExtractResult } from '../extract/extract.js';
import { inspectModel } from '../extract/modelCheck.js';
import { writeSetPredictions } from './predictions.js';
import {
  describePreprocess,
  PREPROCESS_FIELDS,
  type PreprocessLayer,
  type PreprocessOverrides,
  type PreprocessProvenance,
} from '../image/preprocessSpec.js';
import { runProbe, type ProbeOptions } from '../probe/probe.js';
import { describeMachine, writeResults } from './results.js';
import { type DistillResult, finishedDistill, runDistill } from '../distill/distill.js';
import { computeHeadFeatures } from '../distill/headFeatures.js';
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

/** A folder extracted into `<workDir>/features/<model>/<config.name>/` (all of its listing). */
interface PlannedFolder {
  config: SetConfig;
  listing: DatasetListing;
}

interface PlannedSet {
  /** Its name in results.json ("<name>-train" for a part of the split). */
  config: SetConfig;
  role: SetRole;
  /** Its images (a part of the split: that part's). */
  listing: DatasetListing;
  /** The folder whose features it reads: its own, or for a part of the split the whole ID folder. */
  folder: PlannedFolder;
  /** A part of the ID folder's split: its rows of the folder's features are those of `listing`'s files. */
  split?: { seed: number; fraction: number };
  /** Protocol scoring: the classes it is scored over whatever folders are present (config scoreOver). */
  scoreOver: string[] | null;
}

/** One repetition of split and probe: the seed (null without a split: probe.seed applies), its sets. */
interface SeedPlan {
  seed: number | null;
  train: PlannedSet;
  /** The ID test part (with a split) first, then the test and OOD sets. */
  evals: PlannedSet[];
}

const SEED = 0;

/** Evaluation sets keep their own class lists: the probe maps them to training classes by name. */
async function listSet(s: SetConfig, warn: (message: string) => void): Promise<DatasetListing> {
  const classes = s.classes ? readClassFile(s.classes) : undefined;
  let listing = isTarData(s.path)
    ? await listTarShards(s.path, { ...(classes ? { classes } : {}), onWarning: warn })
    : listDataset(s.path, {
        ...(s.layout ? { layout: parseLayout(s.layout, `layout of set "${s.name}"`) } : {}),
        ...(classes ? { classes } : {}),
      });
  if (s.perClass) listing = selectPerClass(listing, s.perClass, SEED);
  if (s.borderCrop !== undefined) listing = { ...listing, borderCrop: s.borderCrop };
  return listing;
}

/** Where a (model, folder) pair's features are written when no identical extraction exists (see extractPair). */
function featureDir(workDir: string, model: ModelConfig, set: SetConfig): string {
  return join(workDir, 'features', model.name, set.name);
}

/**
 * The directory holding a planned set's features (a split part's: the whole ID folder's): where extractAll found
 * or wrote them, which is another model's folder when that one holds the very same features (extractPair).
 */
function setDir(plan: RunPlan, model: ModelConfig, s: PlannedSet): string {
  return (
    plan.pairs.get(pairKey(model, s.folder.config))?.outDir ?? featureDir(plan.cfg.workDir, model, s.folder.config)
  );
}

/** A distilled student's backbone as a model of its own (`<name>.backbone`, its features in the work dir). */
function backboneOf(m: ModelConfig): ModelConfig {
  if (!m.distill) throw new Error(`${m.name} is not distilled`);
  return { ...m, name: backboneModelName(m.name), path: m.distill.backbone, distill: undefined };
}

function extractOptionsOf(m: ModelConfig, cfg: RunConfig, plan?: RunPlan): Parameters<typeof inspectModel>[0] {
  return {
    modelPath: m.path,
    // A distilled student's preprocessing is its backbone's; its one output is the head's `features`.
    outputName: m.distill ? 'features' : m.output,
    pool: m.distill ? undefined : m.pool,
    providers: cfg.providers,
    threads: cfg.threads,
    preprocessLayers: plan?.preprocessLayers.get(m.name) ?? preprocessLayersOf(m, configFieldName, m.name),
    modelName: m.name,
  };
}

/** The lines preprocessNotices writes: said once per model by the model checks, not again per set. */
function isPreprocessNotice(msg: string): boolean {
  return (
    msg.startsWith('preprocessing of ') ||
    msg.startsWith('warning: no preprocessing stated for ') ||
    msg.includes(': stated preprocessing replaced: ')
  );
}

/**
 * A model's stated preprocessing as layers: the fields a flag gave (source 'flag'), the config file's (source
 * 'config'), and a pulled model's catalog / hub layers. `nameOf` tells a flag's field from a file's.
 */
function preprocessLayersOf(m: ModelConfig, nameOf: FieldNamer, field: string): PreprocessLayer[] {
  const flag: PreprocessOverrides = {};
  const config: PreprocessOverrides = {};
  for (const k of PREPROCESS_FIELDS) {
    const v = m[k as keyof ModelConfig];
    if (v === undefined) continue;
    Object.assign(nameOf(`${field}.${k}`).startsWith('--') ? flag : config, { [k]: v });
  }
  return [{ source: 'flag', values: flag }, { source: 'config', values: config }, ...(m.preprocessLayers ?? [])];
}

function probeOptionsOf(
  cfg: RunConfig,
  train: string,
  evalDirs: string[],
  out: string,
  evalScoreOver: (string[] | null)[],
  seed: number | null,
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
    seed: seed ?? p.seed,
    ...(p.weightDecay !== undefined ? { sgd: { weightDecay: p.weightDecay } } : {}),
    threads: cfg.threads,
    // A finished probe of the same fit key (features' key and checksums, settings, seed) is read back, verified,
    // instead of fitted again: a rerun with nothing changed fits nothing.
    reuse: true,
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
  /** Folders to extract for every model: the ID training folder (whole, also with a split), tests, OOD sets. */
  folders: PlannedFolder[];
  /** One per seed (one without a split); the first seed's sets are train, evals and sets. */
  seeds: SeedPlan[];
  train: PlannedSet;
  evals: PlannedSet[];
  /** train, then evals. */
  sets: PlannedSet[];
  /** Row indices of a split part in a model's features, by model and part (see rowsOf). */
  rowCache: Map<string, Int32Array>;
  /** Each extracted (model, folder) pair, by pairKey; its outDir is its own folder or a shared one (extractPair). */
  pairs: Extracted;
  /** The feature output's element type of each model (a distilled student: its backbone's), by model name. */
  outputTypes: Map<string, string>;
  /** Execution providers the model checks ended up on. */
  providers: string[];
  /** Each model's (and distilled student's backbone's) stated preprocessing, by model name. */
  preprocessLayers: Map<string, PreprocessLayer[]>;
  /** What the model checks resolved, by planned model name (a distilled student: its backbone's). */
  preprocess: Map<string, PreprocessProvenance>;
}

/** Stage headlines and the time each stage takes. */
interface StageLog {
  stage: (message: string) => void;
  /** Warnings: said even where stage lines are not (the run's onNotice). */
  warn: (message: string) => void;
  timed: <T>(name: string, f: () => Promise<T>) => Promise<T>;
  /** A synchronous stage that started at `t0` (performance.now()) and has just ended. */
  record: (name: string, t0: number) => void;
  timings: StageTiming[];
}

function stageLog(
  onStage: ((message: string) => void) | undefined,
  onNotice: ((message: string) => void) | undefined,
): StageLog {
  const timings: StageTiming[] = [];
  const record = (name: string, t0: number): void => {
    const peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
    timings.push({ stage: name, seconds: (performance.now() - t0) / 1000, peakRssMiB });
  };
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      record(name, t0);
    }
  };
  return { stage: onStage ?? (() => {}), warn: onNotice ?? onStage ?? (() => {}), timed, record, timings };
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
  /** Per seed after the first (plan.seeds[1..]), the same map for that seed's sets. */
  laterSeeds: Map<string, EvalResult[]>[];
}

type Statistics = Pick<RunResults, 'gaps' | 'contamination' | 'statistics' | 'studentContrasts' | 'classGaps'>;

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
  const log = stageLog(o.onStage, o.onNotice);
  const plan = await planRun(o.config, log, o.nameOf ?? configFieldName);
  const distilled: Distilled = new Map();
  const extracted = await extractAll(plan, o, log, distilled);
  const gemm: Gemm = await createOrtGemm(plan.cfg.threads ? { threads: plan.cfg.threads } : {});
  try {
    const probed = await probeAll(plan, gemm, log);
    const diagnostics = await diagnose(plan, gemm, log);
    const statistics = await measureStatistics(plan, probed, log);
    writePredictions(plan, probed, log);
    const results = assembleResults(plan, extracted, distilled, probed, statistics, diagnostics, log.timings, o.suite);
    writeResults(plan.cfg.workDir, results);
    return { results, workDir: plan.cfg.workDir };
  } finally {
    await gemm.dispose();
  }
}

/**
 * `<workDir>/predictions/<set>.csv` for every evaluation set, every model (with several seeds: the first seed's,
 * the one the headline tables show per set). Written before results.json, so that results.json never names
 * predictions that are not there.
 */
function writePredictions(plan: RunPlan, probed: Probed, log: StageLog): void {
  for (const [k, e] of plan.evals.entries()) {
    const files = featuresOf(plan, plan.cfg.teacher, e).manifest.files;
    const models = plan.models.flatMap(({ config }) => {
      const evaluation = probed.evaluations.get(config.name)?.[k];
      if (!evaluation) return [];
      // A row belongs to an image only if the model's rows list the same images (students are checked by the
      // statistics already; a reference could have skipped another undecodable file).
      const own = featuresOf(plan, config, e).manifest.files;
      if (own.length !== files.length || own.some((f, i) => f !== files[i])) {
        log.warn(`warning: ${config.name} scored other images of ${e.config.name}; left out of its predictions file`);
        return [];
      }
      return [{ name: config.name, evaluation }];
    });
    const first = models[0]?.evaluation;
    if (!first) continue;
    log.stage(`predictions ${e.config.name}`);
    const t0 = performance.now();
    writeSetPredictions(plan.cfg.workDir, {
      set: e.config.name,
      files,
      classes: first.perClass.map((c) => c.class),
      models,
    });
    log.record(`predictions ${e.config.name}`, t0);
  }
}

/** Validates everything before long work: paths, listings, class spaces, both models. */
async function planRun(cfg: RunConfig, log: StageLog, nameOf: FieldNamer): Promise<RunPlan> {
  checkConfigPaths(cfg, nameOf);
  const { idFolder, parts } = await planTrain(cfg, log);
  // --present-classes-only: every set over its folders present (today's behaviour before protocol scoring).
  const scoreOver = (s: SetConfig): string[] | null =>
    s.scoreOver && !cfg.presentClassesOnly ? protocolClasses(s.scoreOver) : null;
  const others: PlannedSet[] = [];
  const folders: PlannedFolder[] = [idFolder];
  for (const [s, role] of [
    ...cfg.test.map((t) => [t, 'id-test'] as const),
    ...cfg.ood.map((o) => [o, 'ood'] as const),
  ]) {
    const folder = { config: s, listing: await listSet(s, log.stage) };
    folders.push(folder);
    others.push({ config: s, role, listing: folder.listing, folder, scoreOver: scoreOver(s) });
  }
  const seeds: SeedPlan[] = parts
    ? parts.map((p) => ({ seed: p.train.split!.seed, train: p.train, evals: [p.test, ...others] }))
    : [
        {
          seed: null,
          train: { config: cfg.train, role: 'id-train', listing: idFolder.listing, folder: idFolder, scoreOver: null },
          evals: others,
        },
      ];
  const { train, evals } = seeds[0]!;
  if (seeds.length > 1)
    for (const d of cfg.students.filter((m) => m.distill))
      throw new FcprobeError(
        nameOf('seeds').startsWith('--') ? 'BAD_OPTION' : 'BAD_CONFIG',
        `Student "${d.name}" is distilled by the run, and ${nameOf('seeds')} would need one distillation per seed.`,
        'Run once per seed (--split with --seed <n>), or distil the student first (fcprobe distill).',
      );
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
  const preprocessLayers = new Map<string, PreprocessLayer[]>();
  const preprocess = new Map<string, PreprocessProvenance>();
  const outputTypes = new Map<string, string>();
  for (const { config, field } of models) {
    // A distilled student does not exist yet: its backbone is checked with the student's preprocessing fields.
    const m = config.distill ? backboneOf(config) : config;
    const layers = preprocessLayersOf(m, nameOf, field);
    preprocessLayers.set(m.name, layers);
    if (config.distill) preprocessLayers.set(config.name, layers);
    log.stage(`check model ${m.name}: ${m.path}`);
    try {
      const check = await inspectModel({
        ...extractOptionsOf(m, cfg),
        preprocessLayers: layers,
        onNotice: (msg) => (msg.startsWith('warning:') ? log.warn(msg) : log.stage(msg)),
      });
      providers.push(check.provider);
      preprocess.set(config.name, check.preprocessProvenance);
      outputTypes.set(config.name, check.outputType);
    } catch (err) {
      if (err instanceof FcprobeError) throw inTermsOf(err, field, nameOf);
      throw err;
    }
  }
  return {
    cfg,
    models,
    folders,
    seeds,
    train,
    evals,
    sets: [train, ...evals],
    rowCache: new Map(),
    pairs: new Map(),
    outputTypes,
    providers: [...new Set(providers)],
    preprocessLayers,
    preprocess,
  };
}

/**
 * The ID training folder (extracted whole), and with `split` its parts per seed: "<name>-train" and
 * "<name>-test", row selections of that one folder's features (so several seeds extract it once, and a run
 * without the split shares its features). Seeds: `seeds`, or [probe.seed ?? 0].
 * @throws FcprobeError BAD_DATA when the split leaves a part empty.
 */
async function planTrain(
  cfg: RunConfig,
  log: StageLog,
): Promise<{ idFolder: PlannedFolder; parts: { train: PlannedSet; test: PlannedSet }[] | null }> {
  const listing = await listSet(cfg.train, log.stage);
  const idFolder: PlannedFolder = { config: cfg.train, listing };
  if (cfg.split === undefined) return { idFolder, parts: null };
  const fraction = cfg.split;
  const seeds = cfg.seeds ?? [cfg.probe.seed ?? 0];
  const part = (which: 'train' | 'test'): SetConfig => ({ ...cfg.train, name: `${cfg.train.name}-${which}` });
  const parts = seeds.map((seed) => {
    const p = splitListing(listing, fraction, seed);
    if (p.train.items.length === 0 || p.test.items.length === 0)
      throw new FcprobeError(
        'BAD_DATA',
        `Splitting ${cfg.train.path} (${listing.items.length} images) with ${fraction} leaves no ` +
          `${p.test.items.length === 0 ? 'test' : 'training'} image.`,
        'Every class needs at least two images for a split.',
      );
    const of = (which: 'train' | 'test', l: DatasetListing): PlannedSet => ({
      config: part(which),
      role: which === 'train' ? 'id-train' : 'id-test',
      listing: l,
      folder: idFolder,
      split: { seed, fraction },
      scoreOver: null,
    });
    return { train: of('train', p.train), test: of('test', p.test) };
  });
  return { idFolder, parts };
}

/**
 * The rows of a split part in the model's features of the whole folder (those of the part's files that were
 * extracted, ascending); null for a set read whole. Cached per model and part.
 */
function rowsOf(plan: RunPlan, m: ModelConfig, s: PlannedSet): Int32Array | null {
  if (!s.split) return null;
  const key = `${m.name}\u0000${s.config.name}\u0000${s.split.seed}`;
  const hit = plan.rowCache.get(key);
  if (hit) return hit;
  const files = loadFeatureSet(setDir(plan, m, s)).manifest.files;
  const index = new Map(files.map((f, i) => [f, i]));
  const rows: number[] = [];
  for (const it of s.listing.items) {
    const r = index.get(it.file);
    if (r !== undefined) rows.push(r);
  }
  const out = Int32Array.from(rows).sort();
  plan.rowCache.set(key, out);
  return out;
}

/** A planned set's features for a model: the folder's, or a split part's rows of it. */
function featuresOf(plan: RunPlan, m: ModelConfig, s: PlannedSet): FeatureSet {
  const whole = loadFeatureSet(setDir(plan, m, s));
  const rows = rowsOf(plan, m, s);
  return rows ? selectRows(whole, rows) : whole;
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
    if (m.distill) {
      const d = await distillStudent(plan, m, o, log);
      distilled.set(m.name, d.entry);
      for (const f of plan.folders)
        extracted.set(pairKey(m, f.config), await studentPair(plan, m, f, d.result, o, log));
    } else for (const f of plan.folders) extracted.set(pairKey(m, f.config), await extractPair(plan, m, f, o, log));
  }
  return extracted;
}

/**
 * A distilled student's features on one folder: head(backbone features) (distill/headFeatures.ts), the backbone
 * extracted on the folder first (or shared with an identical extraction: the backbone is often a student of its
 * own). Where the head cannot be applied to stored features exactly as student.onnx applies it (a float16 or
 * pooled backbone output, external weights), the composed student.onnx is extracted instead.
 */
async function studentPair(
  plan: RunPlan,
  m: ModelConfig,
  f: PlannedFolder,
  r: DistillResult,
  o: RunOptions,
  log: StageLog,
): Promise<ExtractResult> {
  const k = pairKey(m, f.config);
  const done = plan.pairs.get(k);
  if (done) return done;
  const out = distillDir(plan.cfg.workDir, m.name);
  const student = r.outputs.student;
  if (student === null || r.outputs.studentSha256 === null || plan.outputTypes.get(m.name) !== 'float32')
    return extractPair(plan, m, f, o, log);
  const b = await extractPair(plan, backboneOf(m), f, o, log);
  if (b.manifest.model.pool !== 'none' || (b.manifest.model.external ?? []).length > 0)
    return extractPair(plan, m, f, o, log);
  const label = `${m.name} / ${f.config.name}`;
  log.stage(`features ${label}: the head on ${b.outDir}`);
  const h = await log.timed(`head ${label}`, () =>
    computeHeadFeatures({
      backboneDir: b.outDir,
      headPath: resolve(out, r.outputs.head),
      headSha256: r.outputs.headSha256,
      studentPath: resolve(out, student),
      studentSha256: r.outputs.studentSha256!,
      outDir: featureDir(plan.cfg.workDir, m, f.config),
      threads: plan.cfg.threads,
    }),
  );
  if (h.status === 'already-done') log.stage(`  cached: ${h.manifest.rows} x ${h.manifest.featureDim}`);
  const result: ExtractResult = {
    status: h.status === 'computed' ? 'extracted' : 'already-done',
    outDir: h.outDir,
    manifest: h.manifest,
    provider: h.manifest.executionProvider,
    rows: h.manifest.rows,
    skipped: h.manifest.skipped,
    seconds: h.seconds,
  };
  plan.pairs.set(k, result);
  return result;
}

async function extractPair(
  plan: RunPlan,
  m: ModelConfig,
  s: PlannedFolder,
  o: RunOptions,
  log: StageLog,
): Promise<ExtractResult> {
  const { cfg } = plan;
  const done = plan.pairs.get(pairKey(m, s.config));
  if (done) return done;
  const resumeHint = 'Rerun the same command: finished extractions are reused and an interrupted one resumes.';
  const report = o.onExtractProgress;
  const label = `${m.name} / ${s.config.name}`;
  log.stage(`extract ${label} (${s.listing.items.length} images)`);
  // Folders this run already holds for the same listing: one of them may be this very extraction (a distilled
  // student's backbone is often also a student of its own). extractFeatures compares keys, never names.
  const sharedFrom = [...plan.pairs].filter(([k]) => k.endsWith(`\u0000${s.config.name}`)).map(([, r]) => r.outDir);
  try {
    // Shards written by the jobs of `run --plan` (a cluster array) become this pair's features.
    const merged = mergeFoundShards(featureDir(cfg.workDir, m, s.config));
    if (merged) log.stage(`  merged ${merged} shard(s) of the cluster plan into ${label}`);
    const r = await log.timed(`extract ${label}`, () =>
      extractFeatures({
        ...extractOptionsOf(m, cfg, plan),
        // The model checks said the preprocessing once per model; the extractions of each set do not repeat it.
        onNotice: (msg) => (isPreprocessNotice(msg) ? undefined : o.onNotice?.(msg)),
        listing: s.listing,
        outDir: featureDir(cfg.workDir, m, s.config),
        batchSize: cfg.batchSize,
        onStale: 'replace',
        sharedFrom,
        onProgress: report && ((p: ExtractProgress) => report(label, p)),
        shouldStop: o.shouldStop,
      }),
    );
    if (r.status === 'already-done') log.stage(`  cached: ${r.rows} x ${r.manifest.featureDim}`);
    if (r.status === 'shared') {
      log.stage(`  the same features as ${r.outDir} (same key): shared`);
      removeIfEmpty(join(cfg.workDir, 'features', m.name));
    }
    plan.pairs.set(pairKey(m, s.config), r);
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

/** A model's feature folder that extraction created and left empty (all its sets shared): not left behind. */
function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // holds other sets' features, or is gone: left as it is
  }
}

/** Distillation records by student name. */
type Distilled = Map<string, DistilledStudentEntry>;

/**
 * A `distill` student: extracts its backbone on the ID training set (as model `<name>.backbone`, or shares an
 * identical extraction of the run: extractPair), then distils the head on those features and the teacher's into
 * `<workDir>/distill/<name>/`, or reuses a finished distillation of the same key (settings and both feature sets;
 * its files' SHA-256 verified). An interrupted distillation resumes from its epoch checkpoint. The student's
 * features on every folder then come from studentPair, keyed by head.onnx's and student.onnx's SHA-256, so new
 * settings recompute them.
 */
async function distillStudent(
  plan: RunPlan,
  m: ModelConfig,
  o: RunOptions,
  log: StageLog,
): Promise<{ entry: DistilledStudentEntry; result: DistillResult }> {
  const { cfg } = plan;
  // With a split (one seed: planRun refuses several), the head is fitted on the training part only, extracted
  // as a folder of its own: distillation reads whole feature folders and keys its cache by them.
  const train: PlannedFolder = plan.train.split
    ? { config: plan.train.config, listing: plan.train.listing }
    : plan.train.folder;
  const d = m.distill!;
  const bb = backboneOf(m);
  const teacherDir = (await extractPair(plan, cfg.teacher, train, o, log)).outDir;
  const backboneDir = (await extractPair(plan, bb, train, o, log)).outDir;
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
  const entry: DistilledStudentEntry = {
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
  return { entry, result: r };
}

/** The sample standard deviation (n - 1) of `values` and their mean, with the seeds they came from. */
function acrossSeeds(seeds: number[], values: number[]): AcrossSeeds {
  return { seeds, values, ...meanAndSampleStd(values) };
}

/**
 * One probe per model and seed, fitted on the seed's ID training rows and scored on its ID test rows and
 * every other set; the first seed's numbers are the run's, with the spread over all seeds (acrossSeeds) beside
 * each accuracy. Probes go to probes/<model>/, or probes/<model>/seed-<s>/ with several seeds.
 */
async function probeAll(plan: RunPlan, gemm: Gemm, log: StageLog): Promise<Probed> {
  const { cfg } = plan;
  const accuracy: AccuracyMeasurement[] = [];
  const probes: ProbeSummary[] = [];
  const evaluations = new Map<string, EvalResult[]>();
  const laterSeeds = plan.seeds.slice(1).map(() => new Map<string, EvalResult[]>());
  const many = plan.seeds.length > 1;
  for (const { config: m } of plan.models) {
    const perSeed: EvalResult[][] = [];
    for (const [k, { seed, train, evals }] of plan.seeds.entries()) {
      const out = join(cfg.workDir, 'probes', m.name, ...(many ? [`seed-${seed}`] : []));
      log.stage(
        `probe ${m.name}${many ? ` (seed ${seed})` : ''}: fit on ${train.config.name}, score ${evals.length} set(s)`,
      );
      const trainRows = rowsOf(plan, m, train);
      const r = await log.timed(`probe ${m.name}${many ? ` seed ${seed}` : ''}`, () =>
        runProbe({
          ...probeOptionsOf(
            cfg,
            setDir(plan, m, train),
            evals.map((e) => setDir(plan, m, e)),
            out,
            evals.map((e) => e.scoreOver),
            seed,
          ),
          ...(trainRows ? { trainRows } : {}),
          evalRows: evals.map((e) => rowsOf(plan, m, e)),
          gemm,
        }),
      );
      if (r.reused) log.stage(`  cached: ${r.probeDir} (same features, settings and seed; verified)`);
      perSeed.push(r.evaluations);
      if (k > 0) {
        laterSeeds[k - 1]!.set(m.name, r.evaluations);
        // Later seeds' probes are not summarized, but a fit at chance in any of them is still said.
        const first = probes.find((p) => p.model === m.name);
        const more = (r.probe.warnings ?? []).map((w) => `seed ${seed}: ${w}`);
        if (first && more.length > 0) first.warnings = [...(first.warnings ?? []), ...more];
        continue;
      }
      const details: Record<string, number | string> = {};
      for (const [key, v] of Object.entries(r.probe.convergence))
        if (typeof v === 'number' || typeof v === 'string') details[key] = v;
      if (r.probe.trainFit) details.trainTop1 = r.probe.trainFit.top1;
      const sw = r.probe.sweep;
      probes.push({
        model: m.name,
        C: r.probe.C ?? NaN,
        solver: r.probe.solver,
        details,
        ...(r.probe.warnings?.length
          ? { warnings: r.probe.warnings.map((w) => (many ? `seed ${seed}: ${w}` : w)) }
          : {}),
        ...(r.probe.decided?.length ? { decided: r.probe.decided } : {}),
        sweep: sw
          ? {
              grid: sw.grid,
              nVal: sw.nVal,
              classes: r.probe.classes.length,
              atGridEdge: sw.atGridEdge,
              tied: sw.tied ?? 1,
              valTop1: sw.points.find((q) => q.C === sw.chosenC)?.valTop1 ?? NaN,
            }
          : null,
      });
      evaluations.set(m.name, r.evaluations);
    }
    const seeds = plan.seeds.map((p) => p.seed ?? 0);
    plan.evals.forEach((e, i) => {
      const ev = perSeed[0]?.[i];
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
        ...(many
          ? {
              acrossSeeds: acrossSeeds(
                seeds,
                perSeed.map((p) => p[i]?.top1 ?? NaN),
              ),
            }
          : {}),
      });
    });
  }
  return { accuracy, probes, evaluations, laterSeeds };
}

/**
 * Gap intervals, McNemar p and contamination from the two models' per-image correctness, paired by image:
 * refuses (MISMATCH) when the two feature sets of a set do not list the same images in the same order. With
 * several seeds: the first seed's, its bootstrap seeded by it, and each gap and contamination estimate of
 * every seed (no bootstrap) as acrossSeeds.
 */
async function measureStatistics(plan: RunPlan, probed: Probed, log: StageLog): Promise<Statistics> {
  const { cfg } = plan;
  const bootstrap = cfg.bootstrap ?? DEFAULT_BOOTSTRAP;
  const firstSeed = plan.seeds[0]!.seed ?? cfg.probe.seed ?? SEED;
  log.stage(`statistics: intervals${bootstrap > 0 ? `, ${bootstrap} paired bootstrap replicates` : ''}`);
  const all: Statistics = { gaps: [], contamination: [], statistics: statisticsInfo(bootstrap, firstSeed) };
  const pairedSets = (evals: PlannedSet[], evaluations: Map<string, EvalResult[]>, student: ModelConfig) => {
    const t = evaluations.get(cfg.teacher.name) ?? [];
    const st = evaluations.get(student.name) ?? [];
    return evals.flatMap((e, i): PairedSet[] => {
      const te = t[i],
        se = st[i];
      if (!te || !se) return [];
      checkSameImages(featuresOf(plan, cfg.teacher, e), featuresOf(plan, student, e));
      return [{ set: e.config.name, role: e.role as PairedSet['role'], teacher: te.correct, student: se.correct }];
    });
  };
  // Each student is paired with the teacher on its own (same seed: a student's numbers do not depend on the others).
  for (const student of cfg.students) {
    const sets = pairedSets(plan.evals, probed.evaluations, student);
    const out = await log.timed(`statistics ${student.name}`, async () =>
      computeStatistics({ teacher: cfg.teacher.name, student: student.name, sets, bootstrap, seed: firstSeed }),
    );
    if (plan.seeds.length > 1) {
      const later = plan.seeds.slice(1).map((p, k) =>
        computeStatistics({
          teacher: cfg.teacher.name,
          student: student.name,
          sets: pairedSets(p.evals, probed.laterSeeds[k]!, student),
          bootstrap: 0,
          seed: p.seed ?? SEED,
        }),
      );
      const seeds = plan.seeds.map((p) => p.seed ?? SEED);
      out.gaps.forEach((g, i) => {
        g.acrossSeeds = acrossSeeds(seeds, [g.top1Gap, ...later.map((l) => l.gaps[i]?.top1Gap ?? NaN)]);
      });
      out.contamination.forEach((c, i) => {
        c.acrossSeeds = acrossSeeds(seeds, [c.estimate, ...later.map((l) => l.contamination[i]?.estimate ?? NaN)]);
      });
    }
    all.gaps.push(...out.gaps);
    all.contamination.push(...out.contamination);
    all.statistics = out.info;
  }
  // "Which student is more contaminated?" is answered on the same images, not from two separate intervals.
  const contrasts: StudentContrast[] = [];
  const evals = probed.evaluations;
  for (let i = 0; i < cfg.students.length; i++)
    for (let j = i + 1; j < cfg.students.length; j++) {
      const a = cfg.students[i]!,
        b = cfg.students[j]!;
      const sets = plan.evals.flatMap((e, k): ContrastInput['sets'] => {
        const ea = evals.get(a.name)?.[k],
          eb = evals.get(b.name)?.[k];
        if (!ea || !eb) return [];
        checkSameImages(featuresOf(plan, a, e), featuresOf(plan, b, e));
        return [{ set: e.config.name, role: e.role as PairedSet['role'], first: ea.correct, second: eb.correct }];
      });
      contrasts.push(computeStudentContrast({ first: a.name, second: b.name, sets, bootstrap, seed: firstSeed }));
    }
  if (contrasts.length > 0) all.studentContrasts = contrasts;
  // Which classes carry each gap: exact counts per class from the same per-image vectors.
  const teacherEvals = evals.get(cfg.teacher.name) ?? [];
  all.classGaps = cfg.students.flatMap((student) =>
    plan.evals.flatMap((e, k) => {
      const te = teacherEvals[k],
        se = evals.get(student.name)?.[k];
      if (!te || !se) return [];
      return [
        computeClassGaps({
          teacher: cfg.teacher.name,
          student: student.name,
          set: e.config.name,
          classes: te.perClass.map((c) => c.class),
          labels: te.rowLabels,
          teacherCorrect: te.correct,
          studentCorrect: se.correct,
        }),
      ];
    }),
  );
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
        computeRepresentationFit(featuresOf(plan, cfg.teacher, s), featuresOf(plan, student, s), gemm),
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
    result: computeActivationAsymmetry(featuresOf(plan, m, train)),
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
    const man = extraction(m, train.folder.config).manifest;
    const d = distilled.get(m.name);
    const provenance = plan.preprocess.get(m.name) ?? man.preprocessSource;
    return {
      role,
      name: m.name,
      path: m.path,
      sha256: man.model.sha256,
      featureDim: man.featureDim,
      preset: man.preprocess.preset,
      preprocessing: describePreprocess(man.preprocess),
      ...(provenance ? { preprocess: provenance } : {}),
      output: man.model.outputName,
      pool: man.model.pool,
      ...(d ? { distill: d } : {}),
    };
  });
  const files = (s: PlannedSet): string[] => s.listing.items.map((it) => it.file);
  // The same part (train or test) of every seed, for the split's record.
  const partOfSeeds = (s: PlannedSet): { seed: number; files: string[] }[] =>
    plan.seeds.map((p) => {
      const part = s.role === 'id-train' ? p.train : p.evals[0]!;
      return { seed: p.seed ?? SEED, files: files(part) };
    });
  const setEntries: SetEntry[] = plan.sets.map((s) => ({
    name: s.config.name,
    role: s.role,
    path: s.config.path,
    n: rowsOf(plan, cfg.teacher, s)?.length ?? extraction(cfg.teacher, s.folder.config).rows,
    // The files of each part, so the split can be checked and reproduced.
    ...(s.split
      ? {
          split: {
            ...s.split,
            files: files(s),
            folder: s.folder.config.name,
            ...(plan.seeds.length > 1 ? { seeds: partOfSeeds(s) } : {}),
          },
        }
      : {}),
    ...setScoring(s, s === train ? undefined : teacherEvals[plan.evals.indexOf(s)]),
  }));
  const sets: SetRecord[] = suite ? withSuite(setEntries, suite) : setEntries.map((e) => ({ found: true, ...e }));
  // The report's student is the first; its headline says what the report's cards and tables show.
  const student = plan.models.find((m) => m.role === 'student')?.config.name;
  const contamination = statistics.contamination.find((c) => c.student === student) ?? null;
  const namesOf = (role: SetEntry['role']): string[] => setEntries.filter((e) => e.role === role).map((e) => e.name);
  const headline = student
    ? buildHeadline({
        teacher: cfg.teacher.name,
        student,
        idSets: contamination?.idSets ?? namesOf('id-test'),
        oodSets: contamination?.oodSets ?? namesOf('ood'),
        gaps: statistics.gaps,
        contamination,
        statistics: statistics.statistics,
      })
    : undefined;
  return {
    format: 'fcprobe-results',
    formatVersion: 2,
    fcprobeVersion: FCPROBE_VERSION,
    createdAt: new Date().toISOString(),
    ...(cfg.title ? { title: cfg.title } : {}),
    // The config as given: a pulled model's catalog / hub layers are in each model's `preprocess` instead.
    config: JSON.parse(JSON.stringify(cfg, (k, v: unknown) => (k === 'preprocessLayers' ? undefined : v))) as JsonValue,
    machine: describeMachine(plan.providers),
    models: modelEntries,
    sets,
    ...(suite
      ? { suite: { name: suite.name, dataRoot: suite.dataRoot, presentClassesOnly: suite.presentClassesOnly } }
      : {}),
    accuracy: probed.accuracy,
    ...statistics,
    probes: probed.probes,
    ...diagnostics,
    ...(headline ? { headline } : {}),
    baselines: cfg.baselines,
    timings,
  };
}

/**
 * How a set is scored and what of it is not: protocol classes present of expected, and the images left out.
 * For an evaluation set these are the teacher's evaluation's (every model is scored in the same label space),
 * so results.json and the probe's metrics.json agree; the training set, never evaluated, counts its listing's
 * left-out folders (none for a part of a split: the folder's belong to no part, as in evaluateProbe).
 */
function setScoring(s: PlannedSet, ev: EvalResult | undefined): Pick<SetEntry, 'scoredOver' | 'classes' | 'leftOut'> {
  const entries: LeftOutEntry[] = ev
    ? ev.leftOutBy.map((e) => ({ ...e }))
    : s.split
      ? []
      : s.listing.ignored.flatMap((ig) =>
          ig.images !== undefined && ig.images > 0 ? [{ what: ig.file, reason: ig.reason, images: ig.images }] : [],
        );
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

const SUITE_ROLE: Record<SuiteRecord['sets'][number]['role'], SetRole> = {
  train: 'id-train',
  id: 'id-test',
  ood: 'ood',
};

/**
 * sets[] of a suite run: every set of the suite in the suite's order, found (the measured entry with the suite's
 * id, folders tried, scoring and notes, and the suite's class count where the scoring gives none: ImageNet
 * train's 1000, ObjectNet's 113 mapped folders, any set with --present-classes-only) or missing.
 */
function withSuite(measured: SetEntry[], suite: SuiteRecord): SetRecord[] {
  const byName = new Map(measured.map((e) => [e.name, e]));
  const out: SetRecord[] = [];
  for (const x of suite.sets) {
    if (!x.found) {
      const missing: MissingSetEntry = {
        found: false,
        name: x.title,
        role: SUITE_ROLE[x.role],
        suiteId: x.id,
        foldersTried: x.foldersTried,
        scoring: x.scoring,
        notes: x.notes,
      };
      out.push(missing);
      continue;
    }
    const e = x.set !== null ? byName.get(x.set) : undefined;
    if (!e) continue;
    byName.delete(e.name);
    out.push({
      found: true,
      ...e,
      ...(e.classes === undefined && x.classes ? { classes: x.classes } : {}),
      suiteId: x.id,
      foldersTried: x.foldersTried,
      scoring: x.scoring,
      notes: x.notes,
    });
  }
  // A set the config holds beside the suite's (none today): kept, after the suite's.
  for (const e of byName.values()) out.push({ found: true, ...e });
  return out;
}
