/**
 * `RunResults`: what `run` measured, stored as <work-dir>/results.json so that `fcprobe report` can re-render
 * without recomputing. Accuracies are fractions in [0, 1]; a missing measurement is null, an undefined one NaN.
 */
import type { ActivationAsymmetryResult } from './activationAsymmetry.js';
import type { CosineSummary } from '../math/cosine.js';
import type { AccuracyPair } from './effectiveRobustness.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type SetRole = 'id-train' | 'id-test' | 'ood';
export type ModelRole = 'teacher' | 'student';

export interface ModelEntry {
  role: ModelRole;
  /** Display name, unique; accuracy and diagnostics refer to the model by it. */
  name: string;
  path: string;
  sha256: string;
  featureDim: number;
  preset?: string;
  output?: string;
  pool?: string;
}

export interface SetEntry {
  /** Display name, unique ("ImageNet-R"). */
  name: string;
  role: SetRole;
  path: string;
  /** Images in the set (as extracted). */
  n: number;
}

export interface AccuracyMeasurement {
  model: string;
  set: string;
  /** Images scored (may be fewer than the set's n, e.g. ObjectNet's unmapped folders). */
  n: number;
  top1: number;
  /** null when not measured (e.g. 5 classes or fewer, where top-5 is trivially 1). */
  top5: number | null;
  /** How the probe's outputs were scored when not plainly, e.g. "masked to the 200 ImageNet-R classes". */
  scoring?: string;
}

export interface ProbeSummary {
  model: string;
  /** Inverse regularization strength (scikit-learn's C) actually used. */
  C: number;
  solver: string;
  /** Free-form extra facts (iterations, sweep range, training accuracy). */
  details?: Record<string, number | string>;
}

export interface RepresentationFit {
  /** Images compared (rows of both feature sets). */
  n: number;
  teacherDim: number;
  studentDim: number;
  /** Linear CKA in [0, 1]; NaN when one side has no variance. */
  cka: number;
  /** Per-image cosine between teacher and student features; null when the dimensions differ. */
  cosine: CosineSummary | null;
  /** Why a measure is missing or partial. */
  notes: string[];
}

export interface RepresentationFitMeasurement {
  set: string;
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
}

/** What `run` measured; <work-dir>/results.json. */
export interface RunResults {
  format: 'fcprobe-results';
  formatVersion: 1;
  fcprobeVersion: string;
  createdAt: string;
  title?: string;
  /** The resolved config, echoed into report.json. */
  config: JsonValue;
  machine: MachineInfo;
  models: ModelEntry[];
  sets: SetEntry[];
  accuracy: AccuracyMeasurement[];
  probes: ProbeSummary[];
  representationFit: RepresentationFitMeasurement[];
  asymmetry: AsymmetryMeasurement[];
  /** Effective-robustness baselines from the config; null or empty: that section is left out. */
  baselines: ErBaselineInput[] | null;
  timings: StageTiming[];
}
