/**
 * The decode pool writes each image into its slot of a shared batch buffer, exactly as decodeToChw would, and
 * close() waits for the decodes in flight instead of stopping workers inside sharp.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { decodeToChw } from '../../src/image/decode.js';
import { DecodePool, ImageDecodeError, sharedBatchBuffer } from '../../src/extract/decodePool.js';
import type { PreprocessSpec } from '../../src/image/preprocessSpec.js';
import { tempDir, writeNoiseImage } from '../helpers/fixtures.js';

const spec: PreprocessSpec = {
  preset: 'torchvision',
  resize: 36,
  crop: 32,
  interpolation: 'bilinear',
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  borderCrop: 0,
  autoOrient: false,
};

test('close() right after queueing decodes lets all of them land in their slots and refuses new ones', {
  timeout: 60_000,
}, async () => {
  const dir = tempDir('fcprobe-decodepool-');
  const files = await Promise.all(
    [0, 1, 2, 3, 4, 5].map(async (k) => {
      const f = join(dir, `img${k}.png`);
      await writeNoiseImage(f, 100 + k, 60, 48);
      return f;
    }),
  );
  const slot = 3 * spec.crop * spec.crop;
  const batch = sharedBatchBuffer(slot * files.length);
  const pool = new DecodePool(2);
  const decodes = files.map((f, k) => pool.decodeInto(f, spec, batch, k * slot));
  const bad = pool.decodeInto(join(dir, 'missing.png'), spec, batch, 0);
  const closing = pool.close();
  await assert.rejects(
    pool.decodeInto(files[0]!, spec, batch, 0),
    /decode pool is closed/,
    'nothing starts once close() has begun',
  );
  await closing;
  await Promise.all(decodes);
  await assert.rejects(bad, (e) => e instanceof ImageDecodeError);
  for (const [k, f] of files.entries()) {
    assert.deepEqual(batch.subarray(k * slot, (k + 1) * slot), await decodeToChw(f, spec), `slot ${k}`);
  }
});
