/**
 * The probe's files and the checks that keep features and probes from being mixed up:
 *   <probe-dir>/probe.json   ProbeFile below (classes, C, standardization, solver, convergence, provenance)
 *   <probe-dir>/weights.npy  float32 [K, D+1], row k = class k's weights on standardized features, then bias
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FcprobeError } from '../errors.js';
import type { FeatureSet } from '../features/manifest.js';
import type { FeatureOrigin } from '../features/origin.js';
import { ensureWritableDir, writeFileAtomic } from '../io/atomic.js';
import { readJsonObject } from '../io/json.js';
import { encodeNpy, parseNpyHeader, readNpy } from '../io/npy.js';
import { fromSystemError } from '../io/sysError.js';
import type { Standardization } from '../math/standardize.js';
import type { SolverName } from '../options.js';

export const PROBE_FILE = 'probe.json';
export const WEIGHTS_FILE = 'weights.npy';

/**
 * Reads features.npy into one Float32Array (the only copy a fit makes), block by block, and fails on NaN or
 * infinite values, naming the rows.
 *
 * @returns row-major float32 [set.rows, set.dim]: value (i, j) is at `i * set.dim + j`.
 * @throws FcprobeError BAD_FEATURES when a row holds NaN or an infinity (the first ten rows are named).
 */
export function readFeatureMatrix(set: FeatureSet, blockRows = 4096): Float32Array {
  const { rows, dim } = set;
  const x = new Float32Array(rows * dim);
  const reader = set.open();
  const bad = new BadRowCollector(set.dir);
  try {
    for (let start = 0; start < rows; start += blockRows) {
      const count = Math.min(blockRows, rows - start);
      const block = x.subarray(start * dim, (start + count) * dim);
      reader.readFloat32Rows(start, count, block);
      bad.scan(block, count, dim, start);
    }
  } finally {
    reader.close();
  }
  bad.throwIfAny(set);
  return x;
}

/** Collects rows with non-finite values while streaming. */
export class BadRowCollector {
  readonly rows: number[] = [];
  count = 0;
  constructor(private readonly dir: string) {}
  scan(block: Float32Array, rows: number, dim: number, firstRow: number): void {
    for (let i = 0; i < rows; i++) {
      const off = i * dim;
      for (let j = 0; j < dim; j++) {
        if (!Number.isFinite(block[off + j]!)) {
          this.count++;
          if (this.rows.length < 10) this.rows.push(firstRow + i);
          break;
        }
      }
    }
  }
  throwIfAny(set?: FeatureSet): void {
    if (this.count === 0) return;
    const named = this.rows
      .map((r) => {
        const f = set?.manifest.files[r];
        return f ? `${r} (${f})` : String(r);
      })
      .join(', ');
    throw new FcprobeError(
      'BAD_FEATURES',
      `${this.dir}/features.npy has NaN or infinite values in ${this.count} row${this.count > 1 ? 's' : ''}: ` +
        `${named}${this.count > 10 ? ', ...' : ''}.`,
      'Re-extract those images (a broken model output or a corrupt file), or remove them from the set.',
    );
  }
}

/** Labels of a set, checked against its class list. */
export function readCheckedLabels(set: FeatureSet): Int32Array {
  const labels = set.labels();
  const k = set.manifest.classes.length;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l < 0 || l >= k) {
      throw new FcprobeError(
        'BAD_FEATURES',
        `${set.dir}/labels.npy row ${i} has label ${l}, outside the manifest's ${k} classes.`,
      );
    }
  }
  return labels;
}

export type { SolverName };

export interface ConvergenceInfo {
  iterations: number;
  /** Function/gradient evaluations (lbfgs); optimizer steps (sgd). */
  evaluations: number;
  /** lbfgs: max |gradient| of the mean-form objective; sgd: L2 norm of the last batch gradient; ml: null. */
  finalGradNorm: number | null;
  /** lbfgs: mean CE + ||W||^2 / (2 C n) on the training rows (sklearn's C sum CE + ||W||^2/2 divided by C n). */
  objective: number | null;
  /** Mean cross-entropy on the training rows at the returned weights (sgd: mean over the last epoch). */
  meanTrainLoss: number | null;
  converged: boolean;
  reason: string;
}

/** A setting fcprobe chose itself, with the reason, as said back on the terminal. */
export interface ProbeDecision {
  /** The setting, by its option name (e.g. "warmup"). */
  setting: string;
  value: number | string;
  /** Where the value came from, as a sentence ("scaled from the default 500: ..."). */
  from: string;
}

/** Top-1 of the probe on the rows it was fitted on, against chance (src/probe/probe.ts trainingFit). */
export interface TrainFit {
  rows: number;
  top1: number;
  /** One-sided 99% lower bound of top1 (the low end of the 98% Clopper-Pearson interval). */
  top1Low: number;
  /** The largest class's share of the training rows: what predicting one class scores (1/K when balanced). */
  chance: number;
  /** top1Low <= chance: the fit is not distinguishable from a constant prediction on its own training rows. */
  nearChance: boolean;
}

/** probe.json: everything needed to apply the probe, and how it was made. */
export interface ProbeFile {
  format: 'fcprobe-probe';
  formatVersion: 1;
  fcprobeVersion: string;
  classes: string[];
  featureDim: number;
  solver: SolverName;
  recipe: 'paper' | null;
  /** lbfgs: the C used for the saved weights (chosen by the sweep when there was one). */
  C: number | null;
  standardization: { mean: number[]; std: number[] } | null;
  convergence: ConvergenceInfo;
  /** Solver settings as resolved (tol, maxIter / sgd schedule / ml options). */
  settings: Record<string, number | string | boolean | null>;
  sweep: null | {
    grid: number[];
    holdout: number;
    seed: number;
    nTrain: number;
    nVal: number;
    chosenC: number;
    /**
     * Grid values sharing the best held-out top-1; chosenC is the smallest of them (src/probe/sweep.ts). Absent
     * in probes saved before ties were recorded.
     */
    tied?: number;
    /** The chosen C is the smallest or largest of the grid and won outright: the optimum may lie outside it. */
    atGridEdge: boolean;
    points: { C: number; valTop1: number; valLoss: number; iterations: number; converged: boolean }[];
  };
  train: {
    dir: string;
    key: string;
    rows: number;
    origin: FeatureOrigin;
    /** Classes of the training manifest with no training row: not part of the probe. */
    droppedClasses: string[];
    /**
     * Fitted on `rows` of the folder's `of` rows only (a part of a seeded ID split); sha256: of the row indices
     * as little-endian int32 (features/rowSelection.ts selectionSha256).
     */
    selection?: { of: number; sha256: string };
  };
  /**
   * Settings fcprobe chose because the user did not state them and the default could not apply (issue 23):
   * which setting, the value used and where it came from. Absent or empty: none.
   */
  decided?: ProbeDecision[];
  /** The fitted probe scored on its own training rows (absent in probes saved by older fcprobe). */
  trainFit?: TrainFit;
  /** Computed warnings about the fit, shown beside its numbers (terminal, report). */
  warnings?: string[];
  /** sha256 of the whole weights.npy file, checked on load (absent in probes saved by older fcprobe). */
  weightsSha256?: string;
  /**
   * Hash of everything that determines this fit (probe.ts probeFitKey): the training features' key and checksums,
   * the rows, the settings, the seed. `run` reuses the probe only when it equals the request's. Absent in probes
   * saved by older fcprobe, or fitted on features whose manifest records no checksums: never reused.
   */
  fitKey?: string;
}

/** A probe in memory: its probe.json and weights. */
export interface LoadedProbe {
  file: ProbeFile;
  /**
   * float32 [K, D+1], row-major: row c holds class c's D weights, then its bias (in standardized units when
   * `standardization` is set).
   */
  weights: Float32Array;
  standardization: Standardization | null;
}

/**
 * Writes weights.npy, then probe.json (with the sha256 of weights.npy), each atomically: a crash leaves either
 * the previous probe or the new one, and a probe.json never describes weights it was not written with.
 * Throws BAD_FEATURES (exit 5) for non-finite weights, IO (exit 6) naming the file when it cannot be written.
 *
 * @throws FcprobeError BAD_FEATURES, IO.
 */
export function saveProbe(dir: string, file: ProbeFile, weights: Float32Array): void {
  for (let i = 0; i < weights.length; i++)
    if (!Number.isFinite(weights[i]!))
      throw new FcprobeError('BAD_FEATURES', `The fitted probe has a non-finite weight (index ${i}): not saved.`);
  ensureWritableDir(dir);
  const k = file.classes.length,
    d = file.featureDim;
  const bytes = encodeNpy('<f4', [k, d + 1], weights);
  const withSum: ProbeFile = { ...file, weightsSha256: createHash('sha256').update(bytes).digest('hex') };
  for (const [name, data] of [
    [WEIGHTS_FILE, bytes],
    [PROBE_FILE, `${JSON.stringify(withSum, null, 1)}\n`],
  ] as const) {
    try {
      writeFileAtomic(join(dir, name), data);
    } catch (e) {
      throw fromSystemError(e, join(dir, name), 'writing');
    }
  }
}

/**
 * Reads a saved probe. Throws NOT_FOUND when `dir` has no probe.json; BAD_FEATURES (exit 5) when probe.json is
 * garbled, null or of another format, weights.npy is missing, of the wrong shape, differs from the sha256
 * recorded in probe.json, or holds NaN or infinite values.
 *
 * @throws FcprobeError NOT_FOUND, BAD_FEATURES, IO.
 */
export function loadProbe(dir: string): LoadedProbe {
  const p = join(dir, PROBE_FILE);
  if (!existsSync(p))
    throw new FcprobeError(
      'BAD_FEATURES',
      `${dir} is not a probe directory (no ${PROBE_FILE}).`,
      `Fit one with \`fcprobe probe --train <features> --out ${dir}\`.`,
    );
  const refit = 'Fit the probe again (fcprobe probe --train ... --out <dir>).';
  const file = readJsonObject(p, {
    kind: 'probe file',
    format: 'fcprobe-probe',
    formatVersion: 1,
    code: 'BAD_FEATURES',
    hint: refit,
  }) as unknown as ProbeFile;
  const k = Array.isArray(file.classes) ? file.classes.length : -1,
    d = file.featureDim;
  if (k < 1 || !Number.isInteger(d) || d < 1)
    throw new FcprobeError('BAD_FEATURES', `${p}: "classes" or "featureDim" is missing or invalid.`, refit);
  const wPath = join(dir, WEIGHTS_FILE);
  let bytes: Buffer;
  try {
    bytes = readFileSync(wPath);
  } catch (e) {
    const err = fromSystemError(e, wPath, 'reading');
    if (err instanceof FcprobeError && err.code === 'NOT_FOUND')
      throw new FcprobeError('BAD_FEATURES', `${dir} has ${PROBE_FILE} but no ${WEIGHTS_FILE}.`, refit);
    throw err;
  }
  if (file.weightsSha256 !== undefined && createHash('sha256').update(bytes).digest('hex') !== file.weightsSha256)
    throw new FcprobeError(
      'BAD_FEATURES',
      `${wPath} does not match the sha256 recorded in ${PROBE_FILE}: it was changed or damaged after saving.`,
      refit,
    );
  parseNpyHeader(bytes, wPath);
  const w = readNpy(wPath);
  if (w.dtype !== '<f4' || w.shape.length !== 2 || w.shape[0] !== k || w.shape[1] !== d + 1) {
    throw new FcprobeError(
      'BAD_FEATURES',
      `${wPath} is ${w.dtype} ${JSON.stringify(w.shape)}; ${PROBE_FILE} needs float32 [${k}, ${d + 1}].`,
      refit,
    );
  }
  const bad = w.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new FcprobeError(
      'BAD_FEATURES',
      `${wPath} holds a NaN or infinite weight (class ${Math.floor(bad / (d + 1))}, column ${bad % (d + 1)}).`,
      refit,
    );
  const s = file.standardization;
  if (s && (!Array.isArray(s.mean) || !Array.isArray(s.std) || s.mean.length !== d || s.std.length !== d))
    throw new FcprobeError('BAD_FEATURES', `${p}: standardization does not have ${d} entries.`, refit);
  if (s && [...s.mean, ...s.std].some((v) => typeof v !== 'number' || !Number.isFinite(v)))
    throw new FcprobeError('BAD_FEATURES', `${p}: standardization holds a non-finite value.`, refit);
  return {
    file,
    weights: w.data,
    standardization: s ? { mean: Float64Array.from(s.mean), std: Float64Array.from(s.std) } : null,
  };
}
