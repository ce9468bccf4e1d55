/**
 * The origin check shared by extract, merge and probe: which fields differ, how they are described, and the
 * one error shape. Expectations are written out by hand from the two origins of each case.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FcprobeError } from '../../src/errors.js';
import type { FeatureManifest } from '../../src/features/manifest.js';
import {
  checkOrigin,
  checkSameRepresentation,
  compareOrigin,
  describeOriginMismatch,
  featureOrigin,
  originOf,
  type Origin,
} from '../../src/features/origin.js';

const ALL = ['model', 'output', 'pool', 'inputType', 'featureDim', 'preprocess', 'listing', 'shard'] as const;

const base: Origin = {
  modelSha256: 'a'.repeat(64),
  modelPath: 'teacher.onnx',
  outputName: 'features',
  pool: 'none',
  inputType: 'float32',
  featureDim: 512,
  preprocess: {
    preset: 'clip',
    resize: 224,
    crop: 224,
    interpolation: 'bicubic',
    mean: [0.5, 0.5, 0.5],
    std: [0.25, 0.25, 0.25],
    borderCrop: 0,
    autoOrient: true,
  },
  listHash: '0123456789abcdef',
  shard: null,
};

describe('compareOrigin', () => {
  it('finds nothing between equal origins, and nothing on fields it is not asked about', () => {
    assert.deepEqual(compareOrigin(base, { ...base }, ALL), []);
    const other: Origin = { ...base, modelSha256: 'b'.repeat(64), pool: 'mean' };
    assert.deepEqual(compareOrigin(base, other, ['output', 'featureDim']), []);
    assert.deepEqual(compareOrigin(base, other, []), []);
  });

  it('lists each differing field once, in the order asked, first side first', () => {
    const other: Origin = {
      ...base,
      modelSha256: 'b'.repeat(64),
      modelPath: 'student.onnx',
      pool: 'mean',
      featureDim: 768,
      listHash: 'fedcba9876543210',
      shard: { index: 1, count: 3, start: 3, end: 6, totalItems: 9 },
    };
    assert.deepEqual(compareOrigin(base, other, ['shard', 'pool', 'model', 'featureDim', 'listing', 'output']), [
      { field: 'shard', label: 'shard', description: 'shard none vs 1/3' },
      { field: 'pool', label: 'pooling', description: 'pooling none vs mean' },
      {
        field: 'model',
        label: 'model',
        description: 'model.sha256 aaaaaaaaaaaa (teacher.onnx) vs bbbbbbbbbbbb (student.onnx)',
      },
      { field: 'featureDim', label: 'feature dimension', description: 'feature dimension 512 vs 768' },
      {
        field: 'listing',
        label: 'file list',
        description: 'file list 0123456789ab vs fedcba987654 (different folder contents or classes)',
      },
    ]);
  });

  it('compares the model by sha256 only: the same file at another path is the same model', () => {
    assert.deepEqual(compareOrigin(base, { ...base, modelPath: 'copy/of/teacher.onnx' }, ['model']), []);
  });

  it('names every differing preprocessing key in one entry, including arrays', () => {
    const other: Origin = { ...base, preprocess: { ...base.preprocess, crop: 288, std: [0.25, 0.25, 0.5] } };
    assert.deepEqual(compareOrigin(base, other, ['preprocess']), [
      {
        field: 'preprocess',
        label: 'preprocessing',
        description: 'preprocess.crop 224 vs 288; preprocess.std [0.25,0.25,0.25] vs [0.25,0.25,0.5]',
      },
    ]);
  });

  it('compares preprocessing over the keys either side has (a key on one side only differs)', () => {
    const { borderCrop: _drop, ...rest } = base.preprocess;
    assert.deepEqual(compareOrigin(base, { ...base, preprocess: rest }, ['preprocess']), [
      { field: 'preprocess', label: 'preprocessing', description: 'preprocess.borderCrop 0 vs undefined' },
    ]);
  });

  it('tells shards of one count apart by index, and equal shards as equal', () => {
    const s = (index: number): Origin['shard'] => ({ index, count: 2, start: index, end: index + 1, totalItems: 2 });
    assert.deepEqual(compareOrigin({ ...base, shard: s(0) }, { ...base, shard: s(0) }, ['shard']), []);
    assert.equal(
      compareOrigin({ ...base, shard: s(0) }, { ...base, shard: s(1) }, ['shard'])[0]?.description,
      'shard 0/2 vs 1/2',
    );
  });
});

describe('the origin error', () => {
  it('has one shape: subject, the labels, then the descriptions', () => {
    const diffs = compareOrigin(base, { ...base, outputName: 'logits', inputType: 'float16' }, ALL);
    assert.equal(
      describeOriginMismatch('out/ holds features made with a different', diffs),
      'out/ holds features made with a different output, input type: model output "features" vs "logits"; input type ' +
        'float32 vs float16.',
    );
  });

  it('checkOrigin throws MISMATCH with that message and the hint, and passes equal origins', () => {
    const ctx = { subject: 'b/ was extracted with another', hint: 'Use the same model.' };
    checkOrigin(base, { ...base }, ALL, ctx);
    assert.throws(
      () => checkOrigin(base, { ...base, featureDim: 3 }, ALL, ctx),
      (e: unknown) =>
        e instanceof FcprobeError &&
        e.code === 'MISMATCH' &&
        e.message === 'b/ was extracted with another feature dimension: feature dimension 512 vs 3.' &&
        e.hint === 'Use the same model.',
    );
  });
});

describe('origins of a manifest', () => {
  const manifest = {
    model: {
      path: 'teacher.onnx',
      sha256: base.modelSha256,
      inputName: 'pixels',
      inputShape: [1, 3, 224, 224],
      inputType: 'float32',
      outputName: 'features',
      outputShape: [1, 512],
      pool: 'none',
      featureDim: 512,
    },
    preprocess: { ...base.preprocess, borderCrop: 2 },
    featureDim: 512,
    listHash: base.listHash,
    shard: null,
  } as unknown as FeatureManifest;

  it('originOf reads every field of the manifest', () => {
    assert.deepEqual(originOf(manifest), { ...base, preprocess: { ...base.preprocess, borderCrop: 2 } });
  });

  it('featureOrigin keeps the representation only: borderCrop and the preset name do not count', () => {
    const o = featureOrigin(manifest);
    assert.deepEqual(Object.keys(o.preprocess).sort(), [
      'autoOrient',
      'crop',
      'interpolation',
      'mean',
      'resize',
      'std',
    ]);
    const objectnet = featureOrigin({
      ...manifest,
      preprocess: { ...manifest.preprocess, borderCrop: 0, preset: 'custom' },
    } as FeatureManifest);
    checkSameRepresentation(o, 'train', objectnet, 'objectnet');
    const wider = featureOrigin({ ...manifest, featureDim: 768 } as FeatureManifest);
    assert.throws(
      () => checkSameRepresentation(o, 'train', wider, 'wide'),
      (e: unknown) =>
        e instanceof FcprobeError &&
        e.code === 'MISMATCH' &&
        /wide and train .*feature dimension 512 vs 768\./.test(e.message),
    );
  });
});
