/**
 * Failures a user can meet end as one clear error with the documented code, found as early as possible: a full
 * disk (ENOSPC, via /dev/full), a model with two inputs or a fixed batch of 1, a --crop too large to allocate,
 * NaN feature rows (counted; an error under --strict).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildOnnxModel } from '../../src/compute/onnxBuilder.js';
import { scanImageFolder } from '../../src/dataset/listing.js';
import { FcprobeError } from '../../src/errors.js';
import { extractFeatures, type ExtractOptions } from '../../src/extract/extract.js';
import { FeatureWriter } from '../../src/features/writer.js';
import { linearEncoder, makeSolidFolder, tempDir, writeModel } from '../helpers/fixtures.js';

const NORM = {
  preset: 'torchvision',
  mean: [0.5, 0.5, 0.5],
  std: [1, 1, 1],
  resize: 16,
  crop: 16,
} as ExtractOptions['preprocess'];

const is = (code: string, exit: number, pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof FcprobeError, `an FcprobeError, not ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.equal(e.exitCode, exit);
  assert.match(e.message, pattern);
  return true;
};

/** features = Log(GlobalAveragePool(Conv1x1(W, x))): NaN where the normalized red mean is negative. */
function logEncoder(inputs: 1 | 2, batch: number | 'N'): Uint8Array {
  return buildOnnxModel({
    inputs: [
      { name: 'input', type: 'float32', shape: [batch, 3, 'H', 'W'] },
      ...(inputs === 2 ? [{ name: 'mask', type: 'float32' as const, shape: [batch, 1] }] : []),
    ],
    outputs: [{ name: 'features', type: 'float32', shape: [batch, 1] }],
    nodes: [
      { op: 'Conv', inputs: ['input', 'W'], outputs: ['c'] },
      { op: 'GlobalAveragePool', inputs: ['c'], outputs: ['g'] },
      { op: 'Flatten', inputs: ['g'], outputs: ['f'] },
      { op: 'Log', inputs: ['f'], outputs: inputs === 2 ? ['l'] : ['features'] },
      ...(inputs === 2 ? [{ op: 'Mul', inputs: ['l', 'mask'], outputs: ['features'] }] : []),
    ],
    initializers: [{ name: 'W', dims: [1, 3, 1, 1], data: Float32Array.from([1, 0, 0]) }],
  });
}

describe('clear errors', () => {
  it('ENOSPC while writing features: IO (exit 6) "Disk full" naming the file', {
    skip: !existsSync('/dev/full') && 'no /dev/full',
  }, () => {
    const out = tempDir('fcprobe-enospc-');
    mkdirSync(join(out, '.partial'));
    symlinkSync('/dev/full', join(out, '.partial', 'labels.npy'));
    assert.throws(
      () => new FeatureWriter(out, 'k', null),
      is('IO', 6, /Disk full while writing .*\.partial\/labels\.npy \(ENOSPC\)/),
    );
  });

  it('model preflight: two inputs, or a fixed batch of 1 without --batch 1, before any decoding', async () => {
    const dir = tempDir('fcprobe-preflight-');
    await makeSolidFolder(join(dir, 'data'), { a: [[255, 0, 0]], b: [[0, 0, 0]] });
    const listing = scanImageFolder(join(dir, 'data'));
    const base = { listing, preprocess: NORM, outDir: join(dir, 'out') };
    await assert.rejects(
      extractFeatures({ ...base, modelPath: writeModel(join(dir, 'two.onnx'), logEncoder(2, 'N')) }),
      is('BAD_MODEL', 4, /has 2 inputs \(input, mask\)/),
    );
    const fixed = writeModel(join(dir, 'b1.onnx'), logEncoder(1, 1));
    await assert.rejects(
      extractFeatures({ ...base, modelPath: fixed, batchSize: 4 }),
      (e: unknown) =>
        is('BAD_MODEL', 4, /fixed batch size of 1, and --batch is 4/)(e) &&
        /--batch 1/.test((e as FcprobeError).hint ?? ''),
    );
    const r = await extractFeatures({ ...base, modelPath: fixed, batchSize: 1 });
    assert.equal(r.rows, 2);
  });

  it('--crop 100000: a clear option error (exit 2), not a RangeError', async () => {
    const dir = tempDir('fcprobe-crop-');
    await makeSolidFolder(join(dir, 'data'), { a: [[255, 0, 0]] });
    await assert.rejects(
      extractFeatures({
        listing: scanImageFolder(join(dir, 'data')),
        modelPath: writeModel(join(dir, 'm.onnx'), linearEncoder([[1, 0, 0]], null)),
        preprocess: { ...NORM, resize: 100000, crop: 100000 },
        outDir: join(dir, 'out'),
      }),
      is('BAD_OPTION', 2, /Expected --crop to be at most \d+ with --batch 32/),
    );
  });

  it('NaN feature rows are counted in the manifest with a warning, and fail under --strict', async () => {
    const dir = tempDir('fcprobe-nan-');
    // Red 0 -> normalized -0.5 -> log(-0.5) = NaN; red 255 -> log(0.5).
    await makeSolidFolder(join(dir, 'data'), {
      a: [
        [255, 0, 0],
        [0, 0, 0],
      ],
      b: [[255, 9, 9]],
    });
    const base = {
      listing: scanImageFolder(join(dir, 'data')),
      modelPath: writeModel(join(dir, 'log.onnx'), logEncoder(1, 'N')),
      preprocess: NORM,
    };
    const notices: string[] = [];
    const r = await extractFeatures({ ...base, outDir: join(dir, 'out'), onNotice: (m) => notices.push(m) });
    assert.equal(r.manifest.nonFiniteRows, 1);
    assert.ok(
      notices.some((n) => /Warning: 1 feature row holds NaN or infinite values: 1 \(a\/img_001\.png\)/.test(n)),
      notices.join(' | '),
    );
    await assert.rejects(
      extractFeatures({ ...base, outDir: join(dir, 'strict'), strict: true }),
      is('BAD_FEATURES', 5, /1 feature row holds NaN or infinite values: 1 \(a\/img_001\.png\)/),
    );
  });
});
