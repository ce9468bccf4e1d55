/**
 * Closing the inference worker while batches are in flight (an error elsewhere, Ctrl-C) must let those batches
 * finish first: releasing the session under a running batch, or terminating the worker inside onnxruntime,
 * loses the batch or aborts the process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EncoderWorker } from '../../src/extract/encoderWorker.js';
import { slowEncoder, tempDir, writeModel } from '../helpers/fixtures.js';

test('close() waits for every batch in flight, which all return their features', { timeout: 60_000 }, async () => {
  const size = 32,
    channels = 8,
    n = 2;
  const model = writeModel(join(tempDir('fcprobe-worker-'), 'slow.onnx'), slowEncoder(size, 6, channels));
  const worker = new EncoderWorker();
  await worker.init({ modelPath: model, providers: ['cpu'], threads: 1 });
  const runs = [0, 1, 2].map((k) =>
    worker.run(new Float32Array(n * 3 * size * size).fill(k), n, size, 'features', null),
  );
  await worker.close();
  const replies = await Promise.all(runs);
  for (const [k, r] of replies.entries()) {
    assert.equal(r.dim, channels);
    assert.equal(r.features.length, n * channels);
    assert.ok(r.features.every(Number.isFinite));
    if (k === 0)
      assert.ok(
        r.features.every((v) => v === 0),
        'a zero image through bias-free conv+ReLU gives zeros',
      );
  }
  assert.notDeepEqual(replies[1]!.features, replies[2]!.features);
  await worker.close(); // a second close is harmless
});
