/**
 * The probe's files and the checks that keep features and probes from being mixed up:
 *   <probe-dir>/probe.json   ProbeFile below (classes, C, standardization, solver, convergence, provenance)
 *   <probe-dir>/weights.npy  float32 [K, D+1], row k = class k's weights on standardized features, then bias
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FcprobeError } from '../errors.js';
import type { FeatureSet } from '../features/manifest.js';
import type { FeatureOrigin } from '../features/origin.js';
import { encodeNpy, readNpy } from '../io/npy.js';
import type { Standardization } from '../math/standardize.js';

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
      `${this.dir}/features.npy has NaN or infinite values in ${this.count} row${this.count > 1 ? 's' : ''}: ${named}${this.count > 10 ? ', ...' : ''}.`,
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

export type SolverName = 'lbfgs' | 'ml' | 'sgd';

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
    /** The chosen C is the smallest or largest of the grid: the optimum may lie outside it. */
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
  };
}

/** A probe in memory: its probe.json and weights. */
export interface LoadedProbe {
  file: ProbeFile;
  /** float32 [K, D+1], row-major: row c holds class c's D weights, then its bias (in standardized units when `standardization` is set). */
  weights: Float32Array;
  standardization: Standardization | null;
}

/**
 * Writes a probe directory: probe.json and weights.npy (float32 [K, D+1]).
 *
 * @throws Error from node:fs when `dir` cannot be written.
 */
export function saveProbe(dir: string, file: ProbeFile, weights: Float32Array): void {
  mkdirSync(dir, { recursive: true });
  const k = file.classes.length,
    d = file.featureDim;
  writeFileSync(join(dir, WEIGHTS_FILE), encodeNpy('<f4', [k, d + 1], weights));
  writeFileSync(join(dir, PROBE_FILE), `${JSON.stringify(file, null, 1)}\n`);
}

/**
 * Reads a probe directory written by `runProbe` or `saveProbe`, checking weights.npy's shape against
 * probe.json.
 *
 * @throws FcprobeError NOT_FOUND when `dir` has no probe.json; BAD_DATA when probe.json is not an fcprobe probe
 *   or does not agree with weights.npy; BAD_FEATURES when weights.npy is not a readable .npy file.
 */
export function loadProbe(dir: string): LoadedProbe {
  const p = join(dir, PROBE_FILE);
  if (!existsSync(p))
    throw new FcprobeError(
      'BAD_FEATURES',
      `${dir} is not a probe directory (no ${PROBE_FILE}).`,
      `Fit one with \`fcprobe probe --train <features> --out ${dir}\`.`,
    );
  let file: ProbeFile;
  try {
    file = JSON.parse(readFileSync(p, 'utf8')) as ProbeFile;
  } catch (e) {
    throw new FcprobeError('BAD_DATA', `${p} is not valid JSON: ${(e as Error).message}`);
  }
  if (file.format !== 'fcprobe-probe') throw new FcprobeError('BAD_DATA', `${p} is not an fcprobe probe file.`);
  const w = readNpy(join(dir, WEIGHTS_FILE));
  const k = file.classes.length,
    d = file.featureDim;
  if (w.dtype !== '<f4' || w.shape.length !== 2 || w.shape[0] !== k || w.shape[1] !== d + 1) {
    throw new FcprobeError(
      'BAD_DATA',
      `${dir}/${WEIGHTS_FILE} is ${w.dtype} ${JSON.stringify(w.shape)}; ${PROBE_FILE} needs float32 [${k}, ${d + 1}].`,
    );
  }
  const s = file.standardization;
  if (s && (s.mean.length !== d || s.std.length !== d))
    throw new FcprobeError('BAD_DATA', `${p}: standardization does not have ${d} entries.`);
  return {
    file,
    weights: w.data,
    standardization: s ? { mean: Float64Array.from(s.mean), std: Float64Array.from(s.std) } : null,
  };
}
