/**
 * A batch whose float32 buffer cannot fit in 2 GiB is an option error (exit 2) in `bench` as in `extract`, with
 * the largest value that fits computed from the input size; bench used to exit 4 with "Invalid typed array
 * length" (the allocation's RangeError, taken for a model failure).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { CLI, linearEncoder, makeNoiseFolder, tempDir, writeModel } from '../helpers/fixtures.js';

it('bench --batch 100000 on a 64x64 model: exit 2 naming the largest batch that fits; extract agrees', async () => {
  const dir = tempDir('fcprobe-batchbuf-');
  const model = writeModel(join(dir, 'm.onnx'), linearEncoder([[1, 0, 0]], 64));
  await makeNoiseFolder(join(dir, 'data'), ['a', 'b'], 1, 64);
  // 2^31 bytes / (3 x 64 x 64 x 4 bytes per image) = 43690.67: 43690 images fit, 100000 do not.
  const fits = Math.floor(2 ** 31 / (3 * 64 * 64 * 4));
  const bench = spawnSync(
    process.execPath,
    [CLI, 'bench', '--model', model, '--data', join(dir, 'data'), '--batch', '100000', '--quick'],
    { encoding: 'utf8' },
  );
  assert.equal(bench.status, 2, bench.stderr);
  assert.match(bench.stderr, new RegExp(`Expected --batch to be at most ${fits} for the model's 64x64 input`));
  assert.doesNotMatch(bench.stderr, /Invalid typed array length/);
  const extract = spawnSync(
    process.execPath,
    [CLI, 'extract', '--model', model, '--data', join(dir, 'data'), '--out', join(dir, 'o'), '--batch', '100000'],
    { encoding: 'utf8' },
  );
  assert.equal(extract.status, 2, extract.stderr);
  assert.match(extract.stderr, /a batch of float32 images must fit in 2 GiB/);
});
