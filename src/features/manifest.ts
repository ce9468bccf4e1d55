/**
 * The on-disk contract between `extract` and everything downstream (probe, run, report):
 *   <dir>/features.npy  float32 [N, D]
 *   <dir>/labels.npy    int64 [N], indices into manifest.classes
 *   <dir>/manifest.json FeatureManifest below
 * Row i of both arrays is the image manifest.files[i] (relative to manifest.dataRoot).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FcprobeError } from '../errors.js';
import { type JsonKind, readJsonObject } from '../io/json.js';
import { NpyReader, readLabels } from '../io/npy.js';
import type { PreprocessProvenance, PreprocessSpec } from '../image/preprocessSpec.js';
import type { PoolName } from '../options.js';

export interface ModelInfo {
  path: string;
  sha256: string;
  inputName: string;
  inputShape: (number | string)[];
  inputType: 'float32' | 'float16';
  outputName: string;
  outputShape: (number | string)[];
  pool: 'none' | PoolName;
  featureDim: number;
  /** External-data files of the model and their sha256 (absent in manifests of older fcprobe versions). */
  external?: { location: string; sha256: string }[];
}

export interface SkippedFile {
  file: string;
  reason: string;
  /** For a folder left out whole (ObjectNet's unmapped classes): the images in it. */
  images?: number;
}

/** Size and sha256 of an array file's data bytes (everything after its 128-byte .npy header). */
export interface ArrayChecksum {
  dataBytes: number;
  sha256: string;
}

export interface FeatureManifest {
  format: 'fcprobe-features';
  formatVersion: 1;
  fcprobeVersion: string;
  /** Hash of everything that determines the bytes of features.npy (model, preprocessing, file list). */
  key: string;
  model: ModelInfo;
  preprocess: PreprocessSpec;
  /**
   * Where each preprocessing value came from (flag, config, metadata, catalog, hub, default); not part of the key:
   * the same values from another source give the same bytes. Absent in manifests of older fcprobe versions.
   */
  preprocessSource?: PreprocessProvenance;
  executionProvider: string;
  dataRoot: string;
  classes: string[];
  /**
   * Label-space map for OOD sets scored by a probe trained on other classes: classMap[i] lists the training
   * class names that this set's class i stands for (ObjectNet's "chair" -> three ImageNet wnids). null means
   * each class maps to the training class of the same name (ImageNet-R/A: a 200-class subset).
   */
  classMap: string[][] | null;
  /** Relative paths of the images, in row order. */
  files: string[];
  skipped: SkippedFile[];
  /** Entries of the dataset folder that are not images of a scored class (other files, unmapped folders). */
  ignored: SkippedFile[];
  /** Hash of the full (unsharded) file list and labels, so shards of one listing can be recognized. */
  listHash: string;
  /**
   * Hash of the images of the full listing: each file's size and modification time ('stat'), or their bytes
   * ('content', extract --verify-content). Absent in manifests of older fcprobe versions.
   */
  images?: { hash: string; by: 'stat' | 'content' };
  /** Set when this directory holds slice `index` (0-based) of `count`: items [start, end) of the full list. */
  shard: { index: number; count: number; start: number; end: number; totalItems: number } | null;
  rows: number;
  featureDim: number;
  timing: { seconds: number; imagesPerSecond: number };
  createdAt: string;
  /** Rows with a NaN or infinite value (absent in manifests written before fcprobe counted them). */
  nonFiniteRows?: number;
  /**
   * Data-byte size and sha256 of features.npy and labels.npy, checked before a finished directory is reused
   * (absent in manifests written before fcprobe recorded them: those are checked by size only).
   */
  checksums?: { features: ArrayChecksum; labels: ArrayChecksum };
  /**
   * Features computed from other stored features instead of by running `model` on the images: a distilled
   * student's as head(backbone features) (distill/headFeatures.ts), with what they were computed from. Absent
   * for features `extract` wrote.
   */
  derived?: {
    from: 'head';
    backbone: { dir: string; key: string; featuresSha256: string | null };
    head: { path: string; sha256: string };
  };
}

/** How manifest.json is read (io/json.ts): a garbled one is BAD_FEATURES (exit 5), named with its format. */
export const manifestKind: JsonKind = {
  kind: 'feature manifest',
  format: 'fcprobe-features',
  formatVersion: 1,
  code: 'BAD_FEATURES',
  hint: 'Extract the folder again (extract --force replaces it).',
};

/** Streamed row access to a feature set's float32 rows (an NpyReader, or a row selection's gathering reader). */
export interface FeatureRowReader {
  readonly rows: number;
  readonly rowLength: number;
  /** float32 rows [start, start+count), into `out` if given. */
  readFloat32Rows(start: number, count: number, out?: Float32Array): Float32Array;
  /** The same into `out`, asynchronously; `out` must not be touched until the promise settles. */
  readFloat32RowsAsync(start: number, count: number, out: Float32Array): Promise<void>;
  close(): void;
}

/** An opened feature directory: see {@link loadFeatureSet}. */
export interface FeatureSet {
  dir: string;
  manifest: FeatureManifest;
  rows: number;
  dim: number;
  /** Opens features.npy for streamed row access; caller closes it. */
  open(): FeatureRowReader;
  labels(): Int32Array;
}

export const FEATURES_FILE = 'features.npy';
export const LABELS_FILE = 'labels.npy';
export const MANIFEST_FILE = 'manifest.json';

/**
 * Opens a finished feature directory (written by `extractFeatures` or `mergeShards`) after checking that its
 * parts agree: the manifest's format, and features.npy's shape against the manifest's rows and featureDim.
 * Nothing large is read; `open()` streams rows, `labels()` reads labels.npy (and checks its length).
 *
 * @throws FcprobeError NOT_FOUND when `dir` has no manifest.json (not extracted, or unfinished); BAD_FEATURES
 *   when the manifest is not valid, features.npy is not a readable .npy file or disagrees with the manifest.
 *   (A manifest whose features.npy was deleted still fails with node:fs's ENOENT error.)
 */
export function loadFeatureSet(dir: string): FeatureSet {
  const mPath = join(dir, MANIFEST_FILE);
  if (!existsSync(mPath)) {
    throw new FcprobeError(
      'BAD_FEATURES',
      `${dir} is not a finished feature directory (no ${MANIFEST_FILE}).`,
      `Create it with \`fcprobe extract --model <m.onnx> --data <folder> --out ${dir}\`.`,
    );
  }
  const manifest = readJsonObject(mPath, manifestKind) as unknown as FeatureManifest;
  const fPath = join(dir, FEATURES_FILE);
  if (!existsSync(fPath))
    throw new FcprobeError(
      'BAD_FEATURES',
      `${dir} has a manifest but no ${FEATURES_FILE}: the feature directory is incomplete.`,
      'Extract it again (extract --force replaces it).',
    );
  const r = new NpyReader(join(dir, FEATURES_FILE));
  const rows = r.rows;
  const dim = r.rowLength;
  r.close();
  if (rows !== manifest.rows || dim !== manifest.featureDim) {
    throw new FcprobeError(
      'BAD_FEATURES',
      `${dir}: features.npy is [${rows}, ${dim}] but the manifest says [${manifest.rows}, ${manifest.featureDim}].`,
    );
  }
  return {
    dir,
    manifest,
    rows,
    dim,
    open: () => new NpyReader(join(dir, FEATURES_FILE)),
    labels: () => {
      const l = readLabels(join(dir, LABELS_FILE));
      if (l.length !== rows)
        throw new FcprobeError('BAD_FEATURES', `${dir}: labels.npy has ${l.length} rows, features.npy ${rows}.`);
      return l;
    },
  };
}

/**
 * Throws MISMATCH unless the two directories hold the same images (manifest file lists) in the same row order:
 * row-wise comparison (fit diagnostics, distillation) is meaningless otherwise. `roles` name the two in the message.
 */
export function checkSameImages(t: FeatureSet, s: FeatureSet, roles: [string, string] = ['teacher', 'student']): void {
  const tf = t.manifest.files,
    sf = s.manifest.files;
  const where = `${t.dir} (${roles[0]}) and ${s.dir} (${roles[1]})`;
  if (t.rows !== s.rows || tf.length !== sf.length) {
    throw new FcprobeError(
      'MISMATCH',
      `${where} hold different numbers of images (${t.rows} vs ${s.rows}).`,
      'Extract both models from the same folder with the same options (skipped images differ if one extraction ' +
        'failed on some files).',
    );
  }
  for (let i = 0; i < tf.length; i++) {
    if (tf[i] !== sf[i]) {
      const tset = new Set(tf);
      const sameSet = tset.size === tf.length && sf.every((f) => tset.has(f));
      throw new FcprobeError(
        'MISMATCH',
        sameSet
          ? `${where} hold the same images in a different order (first difference at row ${i}: ` +
              `${JSON.stringify(tf[i])} vs ${JSON.stringify(sf[i])}).`
          : `${where} list different images (row ${i}: ${JSON.stringify(tf[i])} vs ${JSON.stringify(sf[i])}).`,
        'Extract both models from the same folder; features are compared row by row.',
      );
    }
  }
}
