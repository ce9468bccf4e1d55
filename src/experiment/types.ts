/**
 * `RunResults`: what `run` measured, stored as <work-dir>/results.json so that `fcprobe report` can re-render
 * without recomputing. Accuracies are fractions in [0, 1]; a missing measurement is null, an undefined one NaN.
 */
import type { PreprocessProvenance } from '../image/preprocessSpec.js';
import type { DistillSettings, FitEntry } from '../distill/distill.js';
import type { ActivationAsymmetryResult } from './activationAsymmetry.js';
import type { CosineSummary } from '../math/cosine.js';
import type { AccuracyPair } from './effectiveRobustness.js';
import type { Interval } from '../math/intervals.js';

export type { Interval };

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type SetRole = 'id-train' | 'id-test' | 'ood';
/** reference: a further model probed like the others, a point of the effective-robustness baseline. */
export type ModelRole = 'teacher' | 'student' | 'reference';

export interface ModelEntry {
  role: ModelRole;
  /** Display name, unique; accuracy and diagnostics refer to the model by it. */
  name: string;
  path: string;
  sha256: string;
  featureDim: number;
  preset?: string;
  /** The preprocessing that ran, in words: preset, resize, crop, interpolation, mean, std. */
  preprocessing?: string;
  /**
   * Where the preprocessing came from: `source` (flag, config, metadata, catalog, hub, default) and each field's
   * source. 'default' means nothing stated it and the preset was assumed (a report warning). Absent in results of
   * older fcprobe versions.
   */
  preprocess?: PreprocessProvenance;
  output?: string;
  pool?: string;
  /** A student distilled by the run (config `distill`): how, and distill.json's fit summary. */
  distill?: DistilledStudentEntry;
}

/** The distillation of a `distill` student, from its distill.json (docs/distill.md). */
export interface DistilledStudentEntry {
  backbone: string;
  backboneSha256: string;
  /** Where head.onnx, student.onnx and distill.json are. */
  dir: string;
  /** distill.json's key: settings and both feature sets. */
  key: string;
  settings: DistillSettings;
  /** ID training images the head was fitted on. */
  rows: number;
  headParameters: number;
  steps: number;
  /** Mean training loss of the last epoch. */
  finalLoss: number;
  /** The fit on the ID training set (MSE, cosine, linear CKA, with 95% intervals). */
  fit: FitEntry[];
  /** True when this run found the distillation finished and verified, and did not train. */
  reused: boolean;
}

/**
 * One set of a suite as `suiteRun` found it (the input of runExperiment's `suite`); results.json carries it in
 * `sets[]` (found or missing) rather than in this shape.
 */
export interface SuiteSetRecord {
  /** The suite's id of the set ("imagenet-r"). */
  id: string;
  title: string;
  role: 'train' | 'id' | 'ood';
  found: boolean;
  /** Its name in `sets[]` when found; null when missing. */
  set: string | null;
  /** Absolute folder when found. */
  path: string | null;
  /** Folders tried under the data root, in order (up to the one found). */
  foldersTried: string[];
  /** How it is scored in this run. */
  scoring: string;
  /** Class folders of its label space present, of those expected, and the missing ones; null when not found. */
  classes: { present: number; expected: number; missing: string[] } | null;
  notes: string[];
}

/** What `suiteRun` found under a data root: runExperiment's `suite` option. */
export interface SuiteRecord extends SuiteSummary {
  sets: SuiteSetRecord[];
}

/** results.json `suite` (with `run --suite`): the suite's name and data root; each set is in `sets[]`. */
export interface SuiteSummary {
  name: string;
  /** Absolute; every `foldersTried` of `sets[]` is relative to it. */
  dataRoot: string;
  /** --present-classes-only: sets scored over their folders present, not the protocol's label space. */
  presentClassesOnly: boolean;
}

/**
 * One number repeated over the seeds of `run --seeds` (split and probe redone per seed): the value of each seed,
 * their mean and their sample standard deviation (n - 1 in the denominator). The seed-to-seed spread of split
 * plus probe, not a confidence interval; the first seed's value is the measurement it sits beside.
 */
export interface AcrossSeeds {
  seeds: number[];
  /** Per seed, in `seeds` order (fractions, as the measurement). */
  values: number[];
  mean: number;
  /** Sample standard deviation (n - 1). */
  std: number;
}

/** Images of a set that are not scored, by cause. */
export interface LeftOutEntry {
  /** A folder (ObjectNet's unmapped classes) or a class name. */
  what: string;
  reason: string;
  images: number;
}

/**
 * A set that was found and measured. `found` is true in every entry this version writes (every entry of a run
 * without a suite); results written before sets could be missing have no `found`, and readResults sets it.
 */
export interface SetEntry {
  found?: true;
  /** Display name, unique ("ImageNet-R"). */
  name: string;
  role: SetRole;
  path: string;
  /** Images in the set (as extracted). */
  n: number;
  /**
   * A part of the ID folder's split (--split): its seed, the held-out fraction, its files (relative to path),
   * and `folder`, the set name of the features it is a row selection of (`features/<model>/<folder>/`). With
   * several seeds (--seeds), `seeds` lists every seed's files; seed, files and this entry's numbers are the first's.
   */
  split?: {
    seed: number;
    fraction: number;
    files: string[];
    folder: string;
    seeds?: { seed: number; files: string[] }[];
  };
  /**
   * The label space it is scored in: 'protocol' (scoreOver: all classes of its benchmark, even those with no
   * folder), 'present' (the class folders present; also with --present-classes-only), or 'training' (the ID
   * training set). With a protocol space, `classes` counts the folders present of the expected.
   */
  scoredOver?: 'protocol' | 'present' | 'training';
  classes?: { present: number; expected: number; missing: string[] };
  /**
   * Images in the set's folder that are not scored and why (ObjectNet's unmapped folders, folders outside the
   * protocol's classes); `images` is their total.
   */
  leftOut?: { images: number; entries: LeftOutEntry[] };
  /** With `run --suite`: the suite's id of the set ("imagenet-r"). */
  suiteId?: string;
  /** With `run --suite`: the folders tried under the suite's data root, in order, the last one found. */
  foldersTried?: string[];
  /** With `run --suite`: how it is scored, in words. */
  scoring?: string;
  /** With `run --suite`: what was checked and anything unusual (partial download, another variant). */
  notes?: string[];
}

/**
 * A set of a suite (`run --suite`) that was not found under the data root: it has no features, no accuracy and
 * no row in any table, is left out of the OOD average, and compare counts it as a different set definition.
 */
export interface MissingSetEntry {
  found: false;
  /** The suite's display name ("ImageNet-A"); unique among all entries of `sets[]`. */
  name: string;
  /** The role it would have had (the ImageNet train set is never missing: the run needs it). */
  role: SetRole;
  suiteId: string;
  /** Every folder tried under the suite's data root (`suite.dataRoot`), in order. */
  foldersTried: string[];
  /** How it would have been scored, in words. */
  scoring: string;
  notes: string[];
}

/** An entry of results.json `sets[]`: a set measured, or (suite runs only) one missing. */
export type SetRecord = SetEntry | MissingSetEntry;

/** True for a set that was found and measured (entries without `found`, from older results, were). */
export function isFoundSet(s: SetRecord): s is SetEntry {
  return s.found !== false;
}

export interface AccuracyMeasurement {
  model: string;
  set: string;
  /** Images scored (may be fewer than the set's n, e.g. ObjectNet's unmapped folders). */
  n: number;
  top1: number;
  /** Exact two-sided 95% Clopper-Pearson interval of top1 (fractions); null when n = 0. */
  top1Interval: Interval | null;
  /** Classes the set is scored over (chance level is 1 / classes). */
  classes: number;
  /** null when not measured (e.g. 5 classes or fewer, where top-5 is trivially 1). */
  top5: number | null;
  /** How the probe's outputs were scored when not plainly, e.g. "masked to the 200 ImageNet-R classes". */
  scoring?: string;
  /** With several seeds: top1 of every seed (this entry is the first seed's). */
  acrossSeeds?: AcrossSeeds;
}

export interface ProbeSummary {
  model: string;
  /** Inverse regularization strength (scikit-learn's C) actually used. */
  C: number;
  solver: string;
  /** Free-form extra facts (iterations, sweep range, training accuracy). */
  details?: Record<string, number | string>;
  /**
   * Computed warnings about the fit (probe.json's `warnings`, e.g. top-1 at chance on its own training rows),
   * shown beside the model's numbers in the report; with several seeds, later seeds' are prefixed "seed N: ".
   */
  warnings?: string[];
  /** Settings fcprobe chose itself (probe.json's `decided`, e.g. a scaled warm-up), with where they came from. */
  decided?: { setting: string; value: number | string; from: string }[];
  /** The C sweep, when C was chosen on a held-out split; null otherwise. */
  sweep?: {
    grid: number[];
    /** Held-out images, and the classes they come from (the probe's classes). */
    nVal: number;
    classes: number;
    /** The chosen C is the smallest or largest of the grid and won outright (not by a tie). */
    atGridEdge: boolean;
    /**
     * Grid values sharing the best held-out top-1 (C is the smallest of them) and that top-1 (fraction);
     * absent in results written before ties were recorded.
     */
    tied?: number;
    valTop1?: number;
  } | null;
}

/** Teacher minus student top-1 on the same images of one set. */
export interface GapMeasurement {
  teacher: string;
  student: string;
  set: string;
  /** Images scored for both. */
  n: number;
  /** Teacher top-1 minus student top-1 (fractions). */
  top1Gap: number;
  /** Paired bootstrap percentile 95% interval of top1Gap; null with --bootstrap 0. */
  interval: Interval | null;
  /** Exact two-sided McNemar p-value on the discordant images. */
  mcnemarP: number;
  /** Discordant images: only the teacher right, only the student right. */
  onlyTeacher: number;
  onlyStudent: number;
  /**
   * Error consistency (Cohen's kappa of the two models' per-image correctness) with a bootstrap 95% interval
   * (null with --bootstrap 0); absent in results of older fcprobe versions.
   */
  errorConsistency?: { observed: number; expected: number; kappa: number; interval: Interval | null };
  /** With several seeds: top1Gap of every seed (this entry is the first seed's). */
  acrossSeeds?: AcrossSeeds;
}

/** Feature contamination: (teacher - student on the OOD average) - (teacher - student on the ID test mean). */
export interface ContaminationMeasurement {
  teacher: string;
  student: string;
  estimate: number;
  /** Bootstrap percentile 95% interval (images resampled within each set independently); null with --bootstrap 0. */
  interval: Interval | null;
  /** The mean gap over the ID test sets and over the OOD sets, with intervals from the same bootstrap. */
  idGap?: EstimateWithInterval;
  oodGap?: EstimateWithInterval;
  idSets: string[];
  oodSets: string[];
  /** With several seeds: the estimate of every seed (this entry is the first seed's). */
  acrossSeeds?: AcrossSeeds;
}

/** An estimate with its paired-bootstrap 95% interval (null with --bootstrap 0). */
export interface EstimateWithInterval {
  estimate: number;
  interval: Interval | null;
}

/**
 * Two students compared on the same images (results.json `studentContrasts`, one per pair in config order). All
 * differences are first minus second, in gap terms: positive means the first student is further from the teacher.
 */
export interface StudentContrast {
  first: string;
  second: string;
  perSet: {
    set: string;
    role: Exclude<SetRole, 'id-train'>;
    n: number;
    /** first's gap minus second's gap = second's top-1 minus first's top-1 (fractions). */
    gapDifference: number;
    interval: Interval | null;
    /** Exact McNemar p between the two students. */
    mcnemarP: number;
    /** Images only the first student gets right, only the second. */
    onlyFirst: number;
    onlySecond: number;
  }[];
  /** Difference of the OOD-average gaps; null without an OOD set. */
  oodGapDifference: EstimateWithInterval | null;
  /** Difference of the contamination estimates; null without both an ID test and an OOD set. */
  contaminationDifference: EstimateWithInterval | null;
}

/** Per-class accuracies of teacher and one student on one set, ranked by the gap (results.json `classGaps`). */
export interface ClassGapMeasurement {
  teacher: string;
  student: string;
  set: string;
  /** Sorted by gap, largest first; classes without a scored image left out. */
  classes: {
    class: string;
    n: number;
    teacherTop1: number;
    teacherInterval: Interval;
    studentTop1: number;
    studentInterval: Interval;
    /** teacherTop1 - studentTop1 (fractions). */
    gap: number;
  }[];
}

/** One headlined number: its value, its interval and where both come from. */
export interface HeadlineFigure {
  /** Fractions (gaps and contamination: teacher minus student, as fractions). */
  value: number;
  /** 95% interval: t over seeds with several seeds, else the run's paired bootstrap; null when not measured. */
  interval: Interval | null;
  /** With several seeds: their sample standard deviation (n - 1); else null. */
  std: number | null;
  /** With several seeds: the value of each seed, in `Headline.seeds` order; else null. */
  values: number[] | null;
  /** Where the figure comes from, in words. */
  from: string;
}

/** results.json's `headline` (built by experiment/headline.ts): which figures the report headlines and from what. */
export interface Headline {
  /** 'mean-over-seeds' with several seeds, else 'single-run'. */
  basis: 'mean-over-seeds' | 'single-run';
  seeds: number[];
  level: number;
  /** How the headline intervals are computed. */
  interval: 't-over-seeds' | 'paired-bootstrap-percentile' | null;
  teacher: string;
  student: string;
  /** OOD-average gap minus ID gap; null without an ID test set and an OOD set. */
  contamination: HeadlineFigure | null;
  /** Teacher minus student top-1, mean over the ID test sets / over the OOD sets; null without such sets. */
  idGap: HeadlineFigure | null;
  oodGap: HeadlineFigure | null;
  /** The rule in one sentence, shown by the report. */
  note: string;
}

/** How the intervals were computed. */
export interface StatisticsInfo {
  /** Confidence level of every interval (0.95). */
  level: number;
  accuracyInterval: 'clopper-pearson';
  gapInterval: 'paired-bootstrap-percentile' | null;
  gapTest: 'mcnemar-exact';
  /** Bootstrap replicates (0: none). */
  bootstrap: number;
  seed: number;
}

export interface RepresentationFit {
  /** Images compared (rows of both feature sets). */
  n: number;
  teacherDim: number;
  studentDim: number;
  /** Linear CKA in [0, 1]; NaN when one side has no variance. */
  cka: number;
  /** Debiased linear CKA (unbiased HSIC); NaN when n < 4 or a side has no variance. */
  ckaDebiased: number;
  /** Per-image cosine between teacher and student features; null when the dimensions differ. */
  cosine: CosineSummary | null;
  /** Why a measure is missing or partial. */
  notes: string[];
}

export interface RepresentationFitMeasurement {
  /** The student compared with the teacher (absent only in results written before several students). */
  student?: string;
  set: string;
  /** Linear CKA (biased HSIC estimator), as fit.cka. */
  linearCka: number;
  /** Linear CKA from the unbiased HSIC estimator (Song et al. 2012): near 0 for independent features at any n. */
  linearCkaDebiased: number;
  fit: RepresentationFit;
}

export interface AsymmetryMeasurement {
  model: string;
  /** The set it was computed on (normally the ID training set). */
  set: string;
  result: ActivationAsymmetryResult;
}

export interface BaselinePoint extends AccuracyPair {
  /** Reference model's name, for the report. */
  name?: string;
}

export interface ErBaselineInput {
  /** 'ood-average' or the name of one OOD set: which OOD accuracy the points' `ood` values are. */
  against: string;
  /** Shown in the report, e.g. "ImageNet models (Taori et al., 2020, Table 4)". */
  label?: string;
  points: BaselinePoint[];
}

export interface MachineInfo {
  platform: string;
  arch: string;
  cpuModel: string;
  cpus: number;
  memoryGiB: number;
  node: string;
  executionProviders: string[];
}

export interface StageTiming {
  stage: string;
  seconds: number;
  /**
   * The process's peak resident memory so far when the stage ended (MiB, process.resourceUsage().maxRSS, worker
   * threads included): the stage where it rises is the one that set the peak. Absent in older results.
   */
  peakRssMiB?: number;
}

/** What `run` measured; <work-dir>/results.json. */
export interface RunResults {
  format: 'fcprobe-results';
  formatVersion: 2;
  fcprobeVersion: string;
  createdAt: string;
  title?: string;
  /** The resolved config, echoed into report.json. */
  config: JsonValue;
  machine: MachineInfo;
  models: ModelEntry[];
  /** Every set: those measured, and with `run --suite` also the suite's sets not found (`found: false`). */
  sets: SetRecord[];
  /** With `run --suite`: its name, data root and --present-classes-only. */
  suite?: SuiteSummary;
  accuracy: AccuracyMeasurement[];
  /** One per (student, evaluation set). */
  gaps: GapMeasurement[];
  /** One per student, when there is an ID test set and an OOD set. */
  contamination: ContaminationMeasurement[];
  /** One per pair of students (run with two or more); absent in results of older fcprobe versions. */
  studentContrasts?: StudentContrast[];
  /** One per (student, evaluation set): per-class gaps (first seed); absent in results of older versions. */
  classGaps?: ClassGapMeasurement[];
  statistics: StatisticsInfo;
  probes: ProbeSummary[];
  representationFit: RepresentationFitMeasurement[];
  asymmetry: AsymmetryMeasurement[];
  /**
   * Which figures are headlined and from what (the report's student): with several seeds the means over seeds
   * with t-intervals over them, else the run's own (experiment/headline.ts). Absent in results written before.
   */
  headline?: Headline;
  /** Effective-robustness baselines from the config; null or empty: that section is left out. */
  baselines: ErBaselineInput[] | null;
  timings: StageTiming[];
}
