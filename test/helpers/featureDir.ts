/** Feature directories written directly (no extraction): features.npy, labels.npy and a FeatureManifest. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FeatureManifest, ModelInfo } from '../../src/features/manifest.js';
import type { PreprocessSpec } from '../../src/image/preprocessSpec.js';
import { encodeNpy } from '../../src/io/npy.js';
import { Rng } from '../../src/math/rng.js';

export interface FeatureDirSpec {
  x: Float32Array;
  d: number;
  labels: ArrayLike<number>;
  classes: string[];
  classMap?: string[][] | null;
  model?: Partial<ModelInfo>;
  preprocess?: Partial<PreprocessSpec>;
  files?: string[];
}

/** The manifest writeFeatureDir writes, for callers that write features.npy and labels.npy themselves. */
export function featureManifest(s: Omit<FeatureDirSpec, 'x'>): FeatureManifest {
  const n = s.labels.length;
  const model: ModelInfo = {
    path: 'encoder.onnx',
    sha256: 'a'.repeat(64),
    inputName: 'input',
    inputShape: ['N', 3, 224, 224],
    inputType: 'float32',
    outputName: 'features',
    outputShape: ['N', s.d],
    pool: 'none',
    featureDim: s.d,
    ...s.model,
  };
  const preprocess: PreprocessSpec = {
    preset: 'torchvision',
    resize: 256,
    crop: 224,
    interpolation: 'bilinear',
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    borderCrop: 0,
    autoOrient: false,
    ...s.preprocess,
  };
  const files = s.files ?? Array.from({ length: n }, (_, i) => `${s.classes[s.labels[i]!]}/img_${i}.png`);
  return {
    format: 'fcprobe-features',
    formatVersion: 1,
    fcprobeVersion: '0.0.0-test',
    key: `test-${n}-${s.d}`,
    model,
    preprocess,
    executionProvider: 'cpu',
    dataRoot: '/nonexistent',
    classes: s.classes,
    classMap: s.classMap ?? null,
    files,
    skipped: [],
    ignored: [],
    listHash: `list-${n}`,
    shard: null,
    rows: n,
    featureDim: s.d,
    timing: { seconds: 0, imagesPerSecond: 0 },
    createdAt: '2024-01-01T00:00:00.000Z',
  };
}

export function writeFeatureDir(dir: string, s: FeatureDirSpec): string {
  mkdirSync(dir, { recursive: true });
  const n = s.labels.length;
  if (s.x.length !== n * s.d) throw new RangeError(`x has ${s.x.length} values, expected ${n} x ${s.d}`);
  writeFileSync(join(dir, 'features.npy'), encodeNpy('<f4', [n, s.d], s.x));
  writeFileSync(
    join(dir, 'labels.npy'),
    encodeNpy(
      '<i8',
      [n],
      BigInt64Array.from(Array.from(s.labels), (v) => BigInt(v)),
    ),
  );
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(featureManifest(s), null, 1));
  return dir;
}

/**
 * Gaussian classes: class c has mean means[c] (length d), unit-variance noise times `noise`; rows cycle through
 * the classes (row i has class i % k) so every class is represented.
 */
export function gaussianClasses(
  means: number[][],
  n: number,
  seed: number,
  noise = 1,
): { x: Float32Array; labels: Int32Array; d: number } {
  const rng = new Rng(seed);
  const k = means.length,
    d = means[0]!.length;
  const x = new Float32Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    labels[i] = c;
    for (let j = 0; j < d; j++) x[i * d + j] = means[c]![j]! + noise * rng.normal();
  }
  return { x, labels, d };
}
