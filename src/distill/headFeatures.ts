/**
 * A distilled student's features without running its backbone again: student.onnx is backbone -> head, so on a
 * set whose backbone features are already extracted, its features are head(backbone features). `run` computes
 * them this way (the head alone through onnxruntime on the stored float32 rows) instead of extracting the
 * composed student.onnx over every image: on the CIFAR-10 example that was 2 x 100,000 backbone inferences
 * (5.7 of 22 CPU minutes) for features whose backbone part was already on disk. They agree with student.onnx's
 * own features to float tolerance (test/distill/headFeatures.test.ts states the difference).
 *
 * The manifest is student.onnx's as `extract` would write it (model, preprocessing, file list: the backbone
 * features'), plus `derived`: the backbone features' key and sha256 and head.onnx's sha256. Its key hashes those
 * and student.onnx's sha256, so a changed head, backbone or backbone features is never answered from the cache.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createOrtMatrixModel } from '../compute/ortMatrixModel.js';
import { FcprobeError } from '../errors.js';
import { acquireLock } from '../features/lock.js';
import { type FeatureManifest, loadFeatureSet } from '../features/manifest.js';
import { clearOutput, FeatureWriter, readOutputState, verifyFinished } from '../features/writer.js';
import { ensureWritableDir } from '../io/atomic.js';
import { hashValue } from '../io/hash.js';
import { FCPROBE_VERSION } from '../version.js';

export interface HeadFeaturesOptions {
  /** Finished backbone features of the set (verified by the caller: run has just extracted or checked them). */
  backboneDir: string;
  /** head.onnx (input [N, Ds], output [N, Dt]) and the sha256 distill.json recorded for it. */
  headPath: string;
  headSha256: string;
  /** The composed student.onnx the manifest names as the model, and its sha256 (distill.json's). */
  studentPath: string;
  studentSha256: string;
  outDir: string;
  threads?: number | undefined;
  /** Rows per head call (default 4096). */
  blockRows?: number | undefined;
}

export interface HeadFeaturesResult {
  /** 'already-done': outDir held these very features (key and checksums verified); nothing was computed. */
  status: 'computed' | 'already-done';
  outDir: string;
  manifest: FeatureManifest;
  seconds: number;
}

/** The cache key of head(backbone features): backbone features (key and bytes), head and student files. */
export function headFeaturesKey(backbone: FeatureManifest, headSha256: string, studentSha256: string): string {
  return hashValue({
    v: 1,
    derived: 'head',
    backboneKey: backbone.key,
    backboneFeatures: backbone.checksums?.features.sha256 ?? null,
    head: headSha256,
    student: studentSha256,
  });
}

/**
 * Writes head(backbone features) into `outDir` (features.npy, labels.npy, manifest.json, through FeatureWriter:
 * manifest last), or returns the finished folder of the same key after checking its arrays' checksums.
 *
 * @throws FcprobeError BAD_FEATURES when the backbone features are not a finished folder; BAD_MODEL when head.onnx
 *   differs from `headSha256` or does not take the backbone features' width; IO when outDir cannot be written.
 */
export async function computeHeadFeatures(o: HeadFeaturesOptions): Promise<HeadFeaturesResult> {
  const started = performance.now();
  const outDir = resolve(o.outDir);
  const backbone = loadFeatureSet(resolve(o.backboneDir));
  const bm = backbone.manifest;
  const key = headFeaturesKey(bm, o.headSha256, o.studentSha256);
  ensureWritableDir(outDir);
  const lock = acquireLock(outDir, 'run');
  let writer: FeatureWriter | null = null;
  try {
    const state = readOutputState(outDir, key);
    if (state.kind === 'done' && verifyFinished(outDir, state.manifest, true) === null)
      return { status: 'already-done', outDir, manifest: state.manifest, seconds: 0 };
    const headBytes = readFileSync(o.headPath);
    if (createHash('sha256').update(headBytes).digest('hex') !== o.headSha256)
      throw new FcprobeError(
        'BAD_MODEL',
        `${o.headPath} is not the head its distill.json records (sha256 differs): it changed after distillation.`,
        'Rerun: the distillation is redone when its files do not match.',
      );
    const head = await createOrtMatrixModel(headBytes, o.threads);
    try {
      if (head.inDim !== backbone.dim)
        throw new FcprobeError(
          'BAD_MODEL',
          `${o.headPath} takes ${head.inDim}-d features; ${backbone.dir} holds ${backbone.dim}-d ones.`,
        );
      clearOutput(outDir);
      const w = new FeatureWriter(outDir, key, null);
      writer = w;
      const labels = backbone.labels();
      const block = Math.max(1, Math.min(o.blockRows ?? 4096, backbone.rows));
      const x = new Float32Array(block * backbone.dim);
      const reader = backbone.open();
      try {
        for (let s = 0; s < backbone.rows; s += block) {
          const rows = Math.min(block, backbone.rows - s);
          reader.readFloat32Rows(s, rows, x.subarray(0, rows * backbone.dim));
          const y = await head.run(x, rows);
          const skipped = s === 0 ? bm.skipped : [];
          const seconds = (performance.now() - started) / 1000;
          w.addBatch(y, head.outDim, labels.subarray(s, s + rows), rows + skipped.length, skipped, seconds);
        }
      } finally {
        reader.close();
      }
      const seconds = (performance.now() - started) / 1000;
      const manifest: FeatureManifest = {
        format: 'fcprobe-features',
        formatVersion: 1,
        fcprobeVersion: FCPROBE_VERSION,
        key,
        // What `extract` records for student.onnx: the backbone's input, the head's `features` output.
        model: {
          path: o.studentPath,
          sha256: o.studentSha256,
          inputName: bm.model.inputName,
          inputShape: bm.model.inputShape,
          inputType: bm.model.inputType,
          outputName: 'features',
          outputShape: [bm.model.outputShape[0] ?? 'N', head.outDim],
          pool: 'none',
          featureDim: head.outDim,
          external: [],
        },
        preprocess: bm.preprocess,
        ...(bm.preprocessSource ? { preprocessSource: bm.preprocessSource } : {}),
        executionProvider: 'cpu',
        dataRoot: bm.dataRoot,
        classes: bm.classes,
        classMap: bm.classMap,
        files: bm.files,
        skipped: bm.skipped,
        ignored: bm.ignored,
        listHash: bm.listHash,
        ...(bm.images ? { images: bm.images } : {}),
        shard: bm.shard,
        rows: backbone.rows,
        featureDim: head.outDim,
        timing: { seconds, imagesPerSecond: seconds > 0 ? backbone.rows / seconds : 0 },
        createdAt: new Date().toISOString(),
        derived: {
          from: 'head',
          backbone: { dir: backbone.dir, key: bm.key, featuresSha256: bm.checksums?.features.sha256 ?? null },
          head: { path: resolve(o.headPath), sha256: o.headSha256 },
        },
      };
      const published = w.finish(manifest);
      writer = null;
      return { status: 'computed', outDir, manifest: published, seconds };
    } finally {
      await head.dispose();
    }
  } finally {
    (writer as FeatureWriter | null)?.close();
    lock.release();
  }
}
