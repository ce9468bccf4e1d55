/**
 * Diagnostics over extracted feature directories (features.npy + labels.npy + manifest.json): how well the
 * student's representation fits the teacher's on one set (linear CKA, per-image cosine), and how
 * class-asymmetric a model's neurons are on the ID training set. Both stream features.npy in row blocks.
 */
import type { Gemm } from '../compute/gemm.js';
import { LinearCkaAccumulator } from '../math/cka.js';
import { CosineAccumulator } from '../math/cosine.js';
import { ActivationAsymmetryAccumulator, type ActivationAsymmetryResult } from './activationAsymmetry.js';
import { FcprobeError } from '../errors.js';
import { checkSameImages, type FeatureSet, loadFeatureSet } from '../features/manifest.js';
import type { RepresentationFit } from './types.js';

export type { RepresentationFit };

export interface DiagnosticsOptions {
  /** Rows per streamed block; default chosen so one block of both sets is ~64 MiB of float32. */
  blockRows?: number;
}

function defaultBlockRows(dims: number): number {
  return Math.max(256, Math.min(16384, Math.floor((64 * 1024 * 1024) / (4 * Math.max(1, dims)))));
}

/** A feature directory, or an opened set (a row selection: a part of the ID split). */
function opened(f: string | FeatureSet): FeatureSet {
  return typeof f === 'string' ? loadFeatureSet(f) : f;
}

/**
 * Linear CKA (and, when the dimensions match, per-image cosine) between teacher and student features of one
 * set, each a feature directory or an opened set.
 */
export async function computeRepresentationFit(
  teacher: string | FeatureSet,
  student: string | FeatureSet,
  gemm: Gemm,
  options: DiagnosticsOptions = {},
): Promise<RepresentationFit> {
  const t = opened(teacher);
  const s = opened(student);
  checkSameImages(t, s);
  if (t.rows === 0) throw new FcprobeError('BAD_FEATURES', `${t.dir} holds no images.`);
  const notes: string[] = [];
  const cka = new LinearCkaAccumulator(t.dim, s.dim, gemm);
  const cos = t.dim === s.dim ? new CosineAccumulator(t.dim) : null;
  if (!cos) notes.push(`Feature dimensions differ (${t.dim} vs ${s.dim}): no per-image cosine`);
  const blockRows = options.blockRows ?? defaultBlockRows(t.dim + s.dim);
  const tr = t.open(),
    sr = s.open();
  try {
    const bufT = new Float32Array(blockRows * t.dim),
      bufS = new Float32Array(blockRows * s.dim);
    for (let start = 0; start < t.rows; start += blockRows) {
      const rows = Math.min(blockRows, t.rows - start);
      const xb = tr.readFloat32Rows(start, rows, bufT.subarray(0, rows * t.dim));
      const yb = sr.readFloat32Rows(start, rows, bufS.subarray(0, rows * s.dim));
      await cka.add(xb, yb, rows);
      cos?.add(xb, yb, rows);
    }
  } finally {
    tr.close();
    sr.close();
  }
  const r = cka.result();
  if (Number.isNaN(r.cka)) notes.push('One feature set has no variance: CKA undefined');
  const cosine = cos ? cos.result() : null;
  if (cosine && cosine.zeroRows > 0)
    notes.push(`${cosine.zeroRows} image(s) with an all-zero feature vector left out of the cosine`);
  return { n: t.rows, teacherDim: t.dim, studentDim: s.dim, cka: r.cka, ckaDebiased: r.ckaDebiased, cosine, notes };
}

/**
 * Activation asymmetry of one model's features (a directory or an opened set) on (normally) the ID training
 * set; see activationAsymmetry.ts.
 */
export function computeActivationAsymmetry(
  features: string | FeatureSet,
  options: DiagnosticsOptions = {},
): ActivationAsymmetryResult {
  const f = opened(features);
  const labels = f.labels();
  const acc = new ActivationAsymmetryAccumulator(f.dim, Math.max(1, f.manifest.classes.length));
  const blockRows = options.blockRows ?? defaultBlockRows(f.dim);
  const r = f.open();
  try {
    const buf = new Float32Array(blockRows * f.dim);
    for (let start = 0; start < f.rows; start += blockRows) {
      const rows = Math.min(blockRows, f.rows - start);
      const block = r.readFloat32Rows(start, rows, buf.subarray(0, rows * f.dim));
      try {
        acc.add(block, labels.subarray(start, start + rows), rows);
      } catch (e) {
        if (e instanceof RangeError) {
          throw new FcprobeError(
            'BAD_FEATURES',
            `${f.dir}: ${e.message.replace(/^[^:]*: /, '')} (manifest lists ` +
              `${f.manifest.classes.length} classes).`,
          );
        }
        throw e;
      }
    }
  } finally {
    r.close();
  }
  return acc.result();
}
