/** merge: an output that is one of the inputs is refused; more shards than images still merge. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { extractFeatures } from '../../src/extract/extract.js';
import { mergeShards } from '../../src/extract/merge.js';
import { FcprobeError } from '../../src/errors.js';
import { scanImageFolder } from '../../src/dataset/listing.js';
import { linearEncoder, makeNoiseFolder, RAW_PIXELS_16, tempDir, writeModel } from '../helpers/fixtures.js';

const W = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];
const NORM = RAW_PIXELS_16;

describe('merge', () => {
  it('3 images in 5 shards: the empty shards are valid, and the merge equals the unsharded run', async () => {
    const dir = tempDir('fcprobe-merge-');
    await makeNoiseFolder(join(dir, 'data'), ['a', 'b'], 1, 20);
    await makeNoiseFolder(join(dir, 'data'), ['c'], 1, 20);
    const base = {
      modelPath: writeModel(join(dir, 'm.onnx'), linearEncoder(W, null)),
      listing: scanImageFolder(join(dir, 'data')),
      preprocess: NORM,
      batchSize: 2,
    };
    await extractFeatures({ ...base, outDir: join(dir, 'ref') });
    const shards: string[] = [];
    for (let i = 0; i < 5; i++) {
      const out = join(dir, `s${i}`);
      const r = await extractFeatures({ ...base, outDir: out, shard: { index: i, count: 5 } });
      assert.equal(r.status, 'extracted');
      shards.push(out);
    }
    assert.equal(JSON.parse(readFileSync(join(dir, 's0', 'manifest.json'), 'utf8')).rows, 0, 'shard 0 is empty');
    const m = mergeShards(shards, join(dir, 'merged'));
    assert.equal(m.rows, 3);
    for (const f of ['features.npy', 'labels.npy'])
      assert.ok(readFileSync(join(dir, 'ref', f)).equals(readFileSync(join(dir, 'merged', f))), f);

    // --force with an output that is one of the inputs: refused before anything is removed.
    assert.throws(
      () => mergeShards(shards, shards[1]!, true),
      (e: unknown) => e instanceof FcprobeError && e.exitCode === 2 && /is one of the shards/.test(e.message),
    );
    assert.ok(existsSync(join(shards[1]!, 'manifest.json')), 'the shard is untouched');
  });
});
