/**
 * `Report`: the derived model every renderer reads (build.ts turns `RunResults`, experiment/types.ts, into it,
 * purely). Accuracies are fractions in [0, 1] everywhere; renderers show percent and gaps in percentage points.
 * A missing measurement is null, an undefined one NaN (JSON: null).
 */
import type { FitBand, LogitFit } from '../experiment/effectiveRobustness.js';
import type { StudentsSection } from './students.js';
import type {
  AsymmetryMeasurement,
  BaselinePoint,
  ContaminationMeasurement,
  Interval,
  JsonValue,
  MachineInfo,
  ModelEntry,
  ModelRole,
  ProbeSummary,
  RepresentationFit,
  SetEntry,
  SetRole,
  StageTiming,
  StatisticsInfo,
  SuiteSummary,
  AcrossSeeds,
  MissingSetEntry,
  Headline,
} from '../experiment/types.js';

/** The run-result types that the report modules (and their tests) take from here with the report's own. */
export type {
  AcrossSeeds,
  Headline,
  Interval,
  MissingSetEntry,
  ModelEntry,
  ModelRole,
  RunResults,
  SetEntry,
  SetRole,
} from '../experiment/types.js';

export interface AccuracyCell {
  n: number;
  top1: number;
  /** Clopper-Pearson 95% interval of top1. */
  top1Interval: Interval | null;
  /** Classes scored; chance level is 1 / classes. */
  classes: number;
  top5: number | null;
  scoring?: string;
}

export interface SetRow {
  set: string;
  role: SetRole;
  n: number;
  teacher: AccuracyCell | null;
  student: AccuracyCell | null;
  /** Teacher minus student, as fractions; null when either is missing. */
  gapTop1: number | null;
  /** Paired bootstrap interval of gapTop1 and the exact McNemar p; null when not measured. */
  gapInterval: Interval | null;
  mcnemarP: number | null;
  gapTop5: number | null;
  /** Every model on this set (teacher, students, references, in results order), each with its gap to the teacher. */
  models: SetModelCell[];
}

/** One model on one set: its accuracy and (students and references) the teacher minus it. */
export interface SetModelCell {
  model: string;
  role: ModelRole;
  cell: AccuracyCell | null;
  /** Teacher minus this model, as fractions; null for the teacher or when either is missing. */
  gapTop1: number | null;
  /** Paired bootstrap interval of gapTop1 and the exact McNemar p (students: results `gaps[]`); else null. */
  gapInterval: Interval | null;
  mcnemarP: number | null;
  gapTop5: number | null;
}

export interface PairSummary {
  teacher: number;
  student: number;
  /** teacher - student */
  gap: number;
  /**
   * With several seeds (`run --seeds`): the gap of this mean recomputed for each seed (the mean over the same
   * sets of each set's per-seed gap), with its mean and sample std. Absent with one seed.
   */
  gapAcrossSeeds?: AcrossSeeds;
}

export interface ErModelEntry {
  model: string;
  idAccuracy: number;
  oodAccuracy: number;
  /** beta(idAccuracy): what the baseline fit predicts. */
  predictedOod: number;
  /** oodAccuracy - predictedOod. */
  rho: number;
}

export interface ErEntry {
  label: string;
  against: string;
  points: BaselinePoint[];
  fit: LogitFit;
  /** Bootstrap band of the fit (baseline models resampled); null with too few points or no bootstrap. */
  band: FitBand | null;
  models: ErModelEntry[];
}

export type EffectiveRobustnessSection =
  | { status: 'computed'; entries: ErEntry[] }
  | { status: 'omitted'; note: string };

export interface FitSummary {
  /** Mean over the sets of the role (NaN-free means; null when no set has the measure). */
  cka: number | null;
  cosine: number | null;
  sets: string[];
}

export interface RepresentationFitSection {
  /** Every student's fit to the teacher per set, students in results order, sets in report order. */
  rows: { set: string; role: SetRole; student: string; fit: RepresentationFit }[];
  /** Means over the sets of a role, of the first student's rows (shown only when there is one student). */
  idTrain: FitSummary | null;
  idTest: FitSummary | null;
  ood: FitSummary | null;
}

export interface AsymmetrySection {
  definition: string;
  perModel: AsymmetryMeasurement[];
}

/** One row of the all-models table: a model's top-1 on every evaluation set and its means and gaps. */
export interface AllModelsRow {
  model: string;
  role: ModelRole;
  /** Top-1 per evaluation set, in `AllModelsSection.sets` order; null when not measured. */
  top1: (number | null)[];
  /** The Clopper-Pearson 95% interval of each `top1` (the charts' error bars); null when not measured. */
  top1Interval: (Interval | null)[];
  /** Students: the teacher minus this student per evaluation set (results `gaps[]`), with its paired-bootstrap
   * interval; null for other models and sets not measured. */
  gapTop1: (number | null)[];
  gapInterval: (Interval | null)[];
  /** Mean top-1 over the ID test sets; null when a set is not measured. */
  id: number | null;
  /** Mean top-1 over the OOD sets; null when there are none or a set is not measured. */
  oodAverage: number | null;
  /** Teacher minus this model (null for the teacher). */
  gapId: number | null;
  gapOod: number | null;
  /** Students only: mean linear CKA to the teacher over the ID test / OOD sets. */
  ckaIdTest: number | null;
  ckaOod: number | null;
}

export interface AllModelsSection {
  /** Evaluation sets (ID test, then OOD), the columns of `top1`. */
  sets: string[];
  roles: SetRole[];
  /** Teacher, students, references. */
  rows: AllModelsRow[];
}

/** Numbers repeated over the seeds of `run --seeds`: the first seed's value and the spread over all. */
export interface AcrossSeedsSection {
  seeds: number[];
  rows: { measure: string; kind: 'accuracy' | 'gap' | 'contamination'; value: number; across: AcrossSeeds }[];
}

/** What every renderer reads. */
export interface Report {
  format: 'fcprobe-report';
  formatVersion: 1;
  title: string;
  fcprobeVersion: string;
  createdAt: string;
  machine: MachineInfo;
  config: JsonValue;
  /** Teacher, students, references. */
  models: ModelEntry[];
  teacher: string;
  /** The student of the detailed teacher-vs-student sections (the first one). */
  student: string;
  /** Every student, in config order. */
  students: string[];
  /** The sets measured (results' `sets[]` entries found), ID train, ID test, then OOD. */
  sets: SetEntry[];
  /** With `run --suite`: the suite's sets not found (shown once, in the Missing sets table). */
  missingSets: MissingSetEntry[];
  /** With `run --suite`: its name, data root and --present-classes-only. */
  suite: SuiteSummary | null;
  perSet: SetRow[];
  summary: {
    idSets: string[];
    oodSets: string[];
    /** Mean top-1 over the ID test sets. */
    id: PairSummary;
    /** Mean top-1 over the OOD sets; null when there are none. */
    oodAverage: PairSummary | null;
    /** OOD-average gap minus ID gap, with its bootstrap interval; null without an ID test and an OOD set. */
    contamination: ContaminationMeasurement | null;
  };
  statistics: StatisticsInfo;
  /**
   * What is headlined: with several seeds every accuracy, gap and contamination of the report is the mean over
   * seeds with a t-interval over them (figures of one seed only are labelled "seed N"); else the run's own.
   */
  headline: Headline;
  /** Computed cautions about what the numbers allow one to conclude. */
  warnings: string[];
  /** Every model on every evaluation set (the "all students" table and chart). */
  allModels: AllModelsSection;
  effectiveRobustness: EffectiveRobustnessSection;
  representationFit: RepresentationFitSection;
  asymmetry: AsymmetrySection;
  probes: ProbeSummary[];
  timings: StageTiming[];
  /** With several seeds (`run --seeds`): every accuracy, gap and contamination over the seeds; else null. */
  acrossSeeds: AcrossSeedsSection | null;
  /** Footnotes: scoring notes, missing measurements. */
  notes: string[];
  /** Every student alike: headline rows, best/worst, contrasts, error consistency, per-class gaps. */
  perStudent: StudentsSection;
}
