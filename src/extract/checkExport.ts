/**
 * `fcprobe check-export`: fcprobe's features for a few images against a reference computed in PyTorch
 * (models/export/*.py write both the ONNX file and the reference), so an export is proven before any number
 * made with it is trusted. Preprocessing is bit-exact with torchvision (docs/preprocessing.md), so what is
 * left is the export itself plus float32 round-off.
 */
import { PREPROCESS_FIELDS, type PreprocessProvenance, type PreprocessSpec } from '../image/preprocessSpec.js';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FcprobeError } from '../errors.js';
import { compareNames, isImageFile, type DatasetListing } from '../dataset/listing.js';
import { NpyReader, readNpy } from '../io/npy.js';
import { extractFeatures } from './extract.js';
import type { ExtractOptions } from './options.js';
import { CHECK_EXPORT_DEFAULTS } from '../options.js';
import { withExportScripts } from '../models/catalog.js';

/** Pass thresholds (every image must meet both); see docs/models.md for why these values. */
export { CHECK_EXPORT_DEFAULTS };

export interface ImageParity {
  file: string;
  cosine: number;
  maxAbsDiff: number;
  /** maxAbsDiff / max |reference| over the row. */
  relDiff: number;
  pass: boolean;
}

export interface ExportCheck {
  images: ImageParity[];
  pass: boolean;
  minCosine: number;
  maxAbsDiff: number;
  maxRelDiff: number;
  featureDim: number;
  thresholds: { minCosine: number; maxRelDiff: number };
  /** The preprocessing that ran and where each value came from (a failure with source 'default' is often it). */
  preprocess: PreprocessSpec;
  preprocessSource: PreprocessProvenance;
}

/**
 * Per-row cosine and max abs difference of `a` against reference `ref` (both [rows, dim], row-major).
 * A zero row against a zero row has cosine 1; a zero row against a non-zero one, 0.
 */
export function compareRows(
  a: ArrayLike<number>,
  ref: ArrayLike<number>,
  rows: number,
  dim: number,
): { cosine: number; maxAbsDiff: number; relDiff: number }[] {
  const out: { cosine: number; maxAbsDiff: number; relDiff: number }[] = [];
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    let maxDiff = 0;
    let maxRef = 0;
    for (let j = r * dim; j < (r + 1) * dim; j++) {
      const x = a[j]!;
      const y = ref[j]!;
      dot += x * y;
      na += x * x;
      nb += y * y;
      maxDiff = Math.max(maxDiff, Math.abs(x - y));
      maxRef = Math.max(maxRef, Math.abs(y));
    }
    const cosine = na === 0 && nb === 0 ? 1 : na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
    out.push({
      cosine,
      maxAbsDiff: maxDiff,
      relDiff: maxRef === 0 ? (maxDiff === 0 ? 0 : Infinity) : maxDiff / maxRef,
    });
  }
  return out;
}

/** Image files under `dir` (recursive), relative, in byte order: the order the export scripts use. */
export function listReferenceImages(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.name.startsWith('.')) continue;
    if (e.isDirectory()) out.push(...listReferenceImages(dir, rel));
    else if (isImageFile(e.name)) out.push(rel);
  }
  return out.sort(compareNames);
}

function unknownProvenance(): PreprocessProvenance {
  const fields = Object.fromEntries(PREPROCESS_FIELDS.map((k) => [k, 'default'])) as PreprocessProvenance['fields'];
  return { source: 'default', fields, setAside: [], overridden: [] };
}

export interface CheckExportOptions
  extends Pick<
    ExtractOptions,
    'preprocess' | 'preprocessLayers' | 'modelName' | 'outputName' | 'pool' | 'providers' | 'threads' | 'onNotice'
  > {
  modelPath: string;
  dataDir: string;
  referencePath: string;
  minCosine?: number | undefined;
  maxRelDiff?: number | undefined;
}

/**
 * Extracts features for the images of `dataDir` (sorted relative paths) into a temporary folder and compares
 * them with the reference .npy ([images, dim], float32 or float64). Throws BAD_DATA when there are no images,
 * BAD_FEATURES when the reference's shape does not match, and extract's errors.
 */
export async function checkExport(opts: CheckExportOptions): Promise<ExportCheck> {
  const thresholds = {
    minCosine: opts.minCosine ?? CHECK_EXPORT_DEFAULTS.minCosine,
    maxRelDiff: opts.maxRelDiff ?? CHECK_EXPORT_DEFAULTS.maxRelDiff,
  };
  const root = resolve(opts.dataDir);
  const files = listReferenceImages(root);
  if (files.length === 0) throw new FcprobeError('BAD_DATA', `No images found in ${opts.dataDir}.`);
  const ref = readNpy(opts.referencePath);
  if (ref.dtype !== '<f4' && ref.dtype !== '<f8')
    throw new FcprobeError('BAD_FEATURES', `${opts.referencePath} holds ${ref.dtype}, expected float32 or float64.`);
  const [rows, dim] = ref.shape;
  if (ref.shape.length !== 2 || rows !== files.length || dim === undefined)
    throw new FcprobeError(
      'BAD_FEATURES',
      `${opts.referencePath} is [${ref.shape.join(', ')}], expected [${files.length}, D]: one row per image of ` +
        `${opts.dataDir}, in sorted path order.`,
      withExportScripts(
        'Write the reference with the same images (models/export/*.py --images <folder> --reference <file.npy>).',
      ),
    );
  const listing: DatasetListing = {
    root,
    layout: 'folder',
    classes: ['images'],
    classMap: null,
    items: files.map((file) => ({ file, label: 0 })),
    ignored: [],
    borderCrop: 0,
  };
  const tmp = mkdtempSync(join(tmpdir(), 'fcprobe-check-export-'));
  try {
    const r = await extractFeatures({
      modelPath: opts.modelPath,
      listing,
      outDir: tmp,
      preprocess: opts.preprocess,
      preprocessLayers: opts.preprocessLayers,
      modelName: opts.modelName,
      outputName: opts.outputName,
      pool: opts.pool,
      providers: opts.providers,
      threads: opts.threads,
      strict: true,
      commitEverySeconds: 0,
      onNotice: opts.onNotice,
    });
    if (r.manifest.featureDim !== dim)
      throw new FcprobeError(
        'MISMATCH',
        `The model gives ${r.manifest.featureDim} features per image (output ${r.manifest.model.outputName}), ` +
          `the reference ${dim}.`,
        'Check --output and --pool: the reference must come from the same output.',
      );
    const reader = new NpyReader(join(tmp, 'features.npy'));
    let got: Float32Array;
    try {
      const bytes = reader.readRowBytes(0, reader.rows);
      got = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    } finally {
      reader.close();
    }
    const per = compareRows(got, ref.data, files.length, dim);
    const images = per.map((p, i) => ({
      file: files[i]!,
      ...p,
      pass: p.cosine >= thresholds.minCosine && p.relDiff <= thresholds.maxRelDiff,
    }));
    return {
      images,
      pass: images.every((i) => i.pass),
      minCosine: Math.min(...images.map((i) => i.cosine)),
      maxAbsDiff: Math.max(...images.map((i) => i.maxAbsDiff)),
      maxRelDiff: Math.max(...images.map((i) => i.relDiff)),
      featureDim: dim,
      thresholds,
      preprocess: r.manifest.preprocess,
      // extractFeatures always records it; the fallback only satisfies the optional field of old manifests.
      preprocessSource: r.manifest.preprocessSource ?? unknownProvenance(),
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
