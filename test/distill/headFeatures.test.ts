/**
 * computeHeadFeatures: a distilled student's features as head.onnx applied to the stored backbone features equal
 * the composed student.onnx's features extracted from the images (float tolerance; measured bit for bit here and
 * on the CIFAR-10 slice's two ResNet-20 heads, max |diff| 0 over 700 x 64 values each), its manifest is the one
 * extract writes for student.onnx plus what the features were computed from, a rerun is answered from the
 * verified cache, and a changed head, changed backbone features or damaged output is never.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scanImageFolder } from '../../src/dataset/listing.js';
import { DISTILL_DEFAULTS, type DistillResult, runDistill } from '../../src/distill/distill.js';
import { computeHeadFeatures, type HeadFeaturesOptions } from '../../src/distill/headFeatures.js';
import { FcprobeError } from '../../src/errors.js';
import { extractFeatures } from '../../src/extract/extract.js';
import { readNpy } from '../../src/io/npy.js';
import { linearEncoder, makeNoiseFolder, slowEncoder, tempDir, writeModel } from '../helpers/fixtures.js';

const PRE = { resize: 16, crop: 16 };

/** Teacher and backbone features on `train`, a distilled ReLU MLP head, and the backbone's features on `other`. */
async function setup(seed: number): Promise<{ dir: string; d: DistillResult; opts: HeadFeaturesOptions }> {
  const dir = tempDir();
  await makeNoiseFolder(join(dir, 'train'), ['a', 'b'], 12, 16);
  await makeNoiseFolder(join(dir, 'other'), ['a', 'b'], 6, 24);
  writeModel(join(dir, 't.onnx'), slowEncoder(16, 1, 5));
  const W = Array.from({ length: 6 }, (_, k) => [Math.sin(k + 1), Math.cos(2 * k), 0.3 * k - 1]);
  writeModel(join(dir, 'bb.onnx'), linearEncoder(W, null, { extraOutput: true }));
  const ex = (model: string, set: string, out: string) =>
    extractFeatures({
      modelPath: join(dir, model),
      listing: scanImageFolder(join(dir, set)),
      outDir: join(dir, out),
      preprocess: PRE,
      outputName: 'features',
    });
  await ex('t.onnx', 'train', 't-train');
  await ex('bb.onnx', 'train', 'b-train');
  await ex('bb.onnx', 'other', 'b-other');
  const d = await runDistill({
    teacherFeatures: join(dir, 't-train'),
    studentFeatures: join(dir, 'b-train'),
    backbone: join(dir, 'bb.onnx'),
    out: join(dir, 'd'),
    settings: {
      ...DISTILL_DEFAULTS,
      head: { kind: 'mlp', hidden: 16, layers: 2, activation: 'relu' },
      epochs: 2,
      batchSize: 8,
      seed,
    },
  });
  const opts: HeadFeaturesOptions = {
    backboneDir: join(dir, 'b-other'),
    headPath: join(dir, 'd', 'head.onnx'),
    headSha256: d.outputs.headSha256,
    studentPath: join(dir, 'd', 'student.onnx'),
    studentSha256: d.outputs.studentSha256!,
    outDir: join(dir, 'h-other'),
    blockRows: 5,
  };
  return { dir, d, opts };
}

describe('computeHeadFeatures', () => {
  it("equals student.onnx's features on the same images, with the manifest extract writes", async () => {
    const { dir, opts } = await setup(1);
    const h = await computeHeadFeatures(opts);
    assert.equal(h.status, 'computed');
    const composed = await extractFeatures({
      modelPath: opts.studentPath,
      listing: scanImageFolder(join(dir, 'other')),
      outDir: join(dir, 's-other'),
      preprocess: PRE,
    });
    const a = readNpy(join(dir, 'h-other', 'features.npy'));
    const b = readNpy(join(dir, 's-other', 'features.npy'));
    assert.deepEqual(a.shape, b.shape);
    assert.deepEqual(a.shape, [12, 5]);
    let maxDiff = 0,
      maxAbs = 0;
    for (let i = 0; i < b.data.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(Number(a.data[i]) - Number(b.data[i])));
      maxAbs = Math.max(maxAbs, Math.abs(Number(b.data[i])));
    }
    assert.ok(maxAbs > 0.1, 'the head gives non-trivial features');
    assert.ok(maxDiff <= 1e-6 * maxAbs, `max |diff| ${maxDiff} of values up to ${maxAbs}`);
    assert.ok(
      readFileSync(join(dir, 'h-other', 'labels.npy')).equals(readFileSync(join(dir, 's-other', 'labels.npy'))),
    );
    const m = composed.manifest;
    // preprocessSource differs by design: student.onnx's extraction reads the values from its metadata, the head
    // features keep where the backbone features' values came from (here: assumed defaults), which is what they
    // were made with. The values themselves (preprocess) are compared.
    const { derived, key, createdAt: _c, timing: _t, checksums, nonFiniteRows, preprocessSource, ...rest } = h.manifest;
    const {
      key: _k,
      createdAt: _c2,
      timing: _t2,
      checksums: _s,
      nonFiniteRows: nf,
      preprocessSource: _p,
      ...extracted
    } = m;
    assert.deepEqual(rest, extracted);
    assert.equal(preprocessSource?.source, 'default');
    assert.equal(nonFiniteRows, nf);
    assert.equal(checksums?.labels.sha256, m.checksums?.labels.sha256);
    const bb = JSON.parse(readFileSync(join(dir, 'b-other', 'manifest.json'), 'utf8'));
    assert.deepEqual(derived, {
      from: 'head',
      backbone: { dir: join(dir, 'b-other'), key: bb.key, featuresSha256: bb.checksums.features.sha256 },
      head: { path: opts.headPath, sha256: opts.headSha256 },
    });
    assert.notEqual(key, m.key);
  });

  it('reuses only verified features of the same head and backbone features; reruns are byte-identical', async () => {
    const { dir, opts } = await setup(2);
    const first = await computeHeadFeatures(opts);
    const bytes = readFileSync(join(opts.outDir, 'features.npy'));
    assert.equal((await computeHeadFeatures(opts)).status, 'already-done');
    // Into another folder from scratch: the same bytes.
    const fresh = await computeHeadFeatures({ ...opts, outDir: join(dir, 'h2'), blockRows: 4096 });
    assert.equal(fresh.status, 'computed');
    assert.ok(readFileSync(join(dir, 'h2', 'features.npy')).equals(bytes));
    assert.equal(fresh.manifest.key, first.manifest.key);

    // Damaged output: recomputed, same bytes again.
    const damaged = Buffer.from(bytes);
    damaged[damaged.length - 2]! ^= 0x10;
    writeFileSync(join(opts.outDir, 'features.npy'), damaged);
    assert.equal((await computeHeadFeatures(opts)).status, 'computed');
    assert.ok(readFileSync(join(opts.outDir, 'features.npy')).equals(bytes));

    // Another head (another seed): another key, recomputed.
    const other = await setup(3);
    const swapped = await computeHeadFeatures({
      ...opts,
      headPath: other.opts.headPath,
      headSha256: other.opts.headSha256,
      studentSha256: other.opts.studentSha256,
    });
    assert.equal(swapped.status, 'computed');
    assert.notEqual(swapped.manifest.key, first.manifest.key);
    assert.ok(!readFileSync(join(opts.outDir, 'features.npy')).equals(bytes));

    // Backbone features of other images (the training set's): another key.
    const train = await computeHeadFeatures({ ...opts, backboneDir: join(dir, 'b-train') });
    assert.equal(train.status, 'computed');
    assert.equal(train.manifest.rows, 24);

    // A head file that is not the one distill.json recorded is refused.
    await assert.rejects(
      computeHeadFeatures({ ...opts, outDir: join(dir, 'h3'), headPath: other.opts.headPath }),
      (e: unknown) => e instanceof FcprobeError && e.code === 'BAD_MODEL' && /sha256 differs/.test(e.message),
    );
  });
});
