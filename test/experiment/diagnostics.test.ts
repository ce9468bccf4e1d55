import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeActivationAsymmetry, computeRepresentationFit } from '../../src/experiment/diagnostics.js';
import { jsGemm } from '../../src/compute/gemm.js';
import { Rng } from '../../src/math/rng.js';
import { FcprobeError } from '../../src/errors.js';
import type { FeatureManifest } from '../../src/features/manifest.js';
import { encodeNpy } from '../../src/io/npy.js';

function writeFeatureDir(
  dir: string,
  data: Float32Array,
  dim: number,
  labels: number[],
  files: string[],
  classes: string[],
): string {
  mkdirSync(dir, { recursive: true });
  const rows = labels.length;
  writeFileSync(join(dir, 'features.npy'), encodeNpy('<f4', [rows, dim], data));
  writeFileSync(
    join(dir, 'labels.npy'),
    encodeNpy(
      '<i8',
      [rows],
      BigInt64Array.from(labels, (l) => BigInt(l)),
    ),
  );
  // Partial: the fields the diagnostics read are required, the rest of the contract may grow without breaking this.
  const manifest: Partial<FeatureManifest> &
    Pick<FeatureManifest, 'format' | 'rows' | 'featureDim' | 'files' | 'classes'> = {
    format: 'fcprobe-features',
    formatVersion: 1,
    fcprobeVersion: '0.0.0-test',
    key: 'k',
    model: {
      path: 'm.onnx',
      sha256: '0'.repeat(64),
      inputName: 'x',
      inputShape: [1, 3, 8, 8],
      inputType: 'float32',
      outputName: 'y',
      outputShape: [1, dim],
      pool: 'none',
      featureDim: dim,
    },
    preprocess: {
      preset: 'test',
      resize: 8,
      crop: 8,
      interpolation: 'bilinear',
      mean: [0, 0, 0],
      std: [1, 1, 1],
      borderCrop: 0,
      autoOrient: false,
    },
    executionProvider: 'cpu',
    dataRoot: '/data',
    classes,
    classMap: null,
    files,
    skipped: [],
    listHash: 'h',
    shard: null,
    rows,
    featureDim: dim,
    timing: { seconds: 1, imagesPerSecond: rows },
    createdAt: '2024-01-01T00:00:00Z',
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

/** Direct CKA through the feature-space formula in float64 (independent of the streaming code). */
function referenceCka(x: Float32Array, y: Float32Array, n: number, dx: number, dy: number): number {
  const centre = (m: Float32Array, d: number): Float64Array => {
    const out = Float64Array.from(m);
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += out[i * d + j]!;
      for (let i = 0; i < n; i++) out[i * d + j]! -= s / n;
    }
    return out;
  };
  const a = centre(x, dx),
    b = centre(y, dy);
  const cross = (p: Float64Array, dp: number, q: Float64Array, dq: number): number => {
    let total = 0;
    for (let i = 0; i < dp; i++)
      for (let j = 0; j < dq; j++) {
        let s = 0;
        for (let r = 0; r < n; r++) s += p[r * dp + i]! * q[r * dq + j]!;
        total += s * s;
      }
    return total;
  };
  return cross(a, dx, b, dy) / Math.sqrt(cross(a, dx, a, dx) * cross(b, dy, b, dy));
}

const N = 150,
  D = 6;
const rng = new Rng(21);
const files = Array.from({ length: N }, (_, i) => `c${i % 3}/img${i}.jpg`);
const labels = Array.from({ length: N }, (_, i) => i % 3);
const teacher = new Float32Array(N * D).map(() => Math.max(0, rng.normal()));
const student = teacher.map((v) => Math.max(0, 0.8 * v + 0.5 * rng.normal()));
const narrow = new Float32Array(N * 4).map((_, k) => teacher[Math.floor(k / 4) * D + (k % 4)]! + 0.3 * rng.normal());

test('representation fit: streamed CKA and cosine match direct computations', async () => {
  const root = mkdtempSync(join(tmpdir(), 'fcprobe-diag-'));
  const t = writeFeatureDir(join(root, 't'), teacher, D, labels, files, ['a', 'b', 'c']);
  const s = writeFeatureDir(join(root, 's'), student, D, labels, files, ['a', 'b', 'c']);
  const fit = await computeRepresentationFit(t, s, jsGemm, { blockRows: 32 });
  assert.equal(fit.n, N);
  assert.equal(fit.teacherDim, D);
  assert.ok(Math.abs(fit.cka - referenceCka(teacher, student, N, D, D)) < 1e-6);
  let sum = 0,
    used = 0;
  for (let i = 0; i < N; i++) {
    let xy = 0,
      xx = 0,
      yy = 0;
    for (let j = 0; j < D; j++) {
      const a = teacher[i * D + j]!,
        b = student[i * D + j]!;
      xy += a * b;
      xx += a * a;
      yy += b * b;
    }
    if (xx > 0 && yy > 0) {
      sum += xy / Math.sqrt(xx * yy);
      used++;
    }
  }
  assert.ok(fit.cosine);
  assert.equal(fit.cosine.n + fit.cosine.zeroRows, N);
  assert.equal(fit.cosine.n, used);
  assert.ok(Math.abs(fit.cosine.mean - sum / used) < 1e-9);
  assert.ok(fit.cosine.p10 <= fit.cosine.median && fit.cosine.median <= fit.cosine.p90);
});

test('representation fit with different dimensions: CKA only, and a note', async () => {
  const root = mkdtempSync(join(tmpdir(), 'fcprobe-diag-'));
  const t = writeFeatureDir(join(root, 't'), teacher, D, labels, files, ['a', 'b', 'c']);
  const s = writeFeatureDir(join(root, 's'), narrow, 4, labels, files, ['a', 'b', 'c']);
  const fit = await computeRepresentationFit(t, s, jsGemm, { blockRows: 40 });
  assert.equal(fit.cosine, null);
  assert.match(fit.notes.join(' '), /dimensions differ \(6 vs 4\)/);
  assert.ok(Math.abs(fit.cka - referenceCka(teacher, narrow, N, D, 4)) < 1e-6);
});

test('representation fit refuses directories that list different images or another order', async () => {
  const root = mkdtempSync(join(tmpdir(), 'fcprobe-diag-'));
  const t = writeFeatureDir(join(root, 't'), teacher, D, labels, files, ['a', 'b', 'c']);
  const swapped = [...files];
  [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
  const s1 = writeFeatureDir(join(root, 's1'), student, D, labels, swapped, ['a', 'b', 'c']);
  await assert.rejects(
    computeRepresentationFit(t, s1, jsGemm),
    (e: unknown) =>
      e instanceof FcprobeError &&
      e.code === 'MISMATCH' &&
      /different order \(first difference at row 3/.test(e.message),
  );
  const other = files.map((f, i) => (i === 7 ? 'c1/other.jpg' : f));
  const s2 = writeFeatureDir(join(root, 's2'), student, D, labels, other, ['a', 'b', 'c']);
  await assert.rejects(
    computeRepresentationFit(t, s2, jsGemm),
    (e: unknown) => e instanceof FcprobeError && /list different images \(row 7/.test(e.message),
  );
  const s3 = writeFeatureDir(
    join(root, 's3'),
    student.subarray(0, 10 * D),
    D,
    labels.slice(0, 10),
    files.slice(0, 10),
    ['a', 'b', 'c'],
  );
  await assert.rejects(computeRepresentationFit(t, s3, jsGemm), /different numbers of images \(150 vs 10\)/);
});

test('activation asymmetry from a feature directory equals the per-class-mean definition', () => {
  const root = mkdtempSync(join(tmpdir(), 'fcprobe-diag-'));
  // Four classes in the label space, class 3 without examples: K = 3.
  const dir = writeFeatureDir(join(root, 't'), teacher, D, labels, files, ['a', 'b', 'c', 'd']);
  const r = computeActivationAsymmetry(dir, { blockRows: 17 });
  assert.equal(r.applicable, true);
  if (!r.applicable) return;
  assert.equal(r.classes, 3);
  const expected: number[] = [];
  for (let j = 0; j < D; j++) {
    const means = [0, 1, 2].map((c) => {
      const rows = labels.map((l, i) => (l === c ? i : -1)).filter((i) => i >= 0);
      return rows.reduce((a, i) => a + teacher[i * D + j]!, 0) / rows.length;
    });
    const a = Math.max(...means) / means.reduce((x, y) => x + y, 0);
    expected.push((a - 1 / 3) / (2 / 3));
  }
  expected.sort((a, b) => a - b);
  assert.ok(Math.abs(r.normalized.min - expected[0]!) < 1e-9);
  assert.ok(Math.abs(r.normalized.max - expected[D - 1]!) < 1e-9);
  assert.ok(Math.abs(r.normalized.mean - expected.reduce((a, b) => a + b, 0) / D) < 1e-9);
});

test('activation asymmetry of signed features is reported as not applicable', () => {
  const root = mkdtempSync(join(tmpdir(), 'fcprobe-diag-'));
  const signed = teacher.map((v, i) => (i === 5 ? -1 : v));
  const r = computeActivationAsymmetry(writeFeatureDir(join(root, 't'), signed, D, labels, files, ['a', 'b', 'c']));
  assert.equal(r.applicable, false);
});
