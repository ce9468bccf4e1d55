/**
 * extractFeatures' `sharedFrom`: a finished folder of the very same extraction (same model bytes, output,
 * pooling, preprocessing, listing and images: the same key), wherever it sits and whatever model name its folder
 * carries, is returned instead of extracting again; a folder of another preprocessing or one whose arrays no
 * longer match their manifest is not.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scanImageFolder } from '../../src/dataset/listing.js';
import { extractFeatures } from '../../src/extract/extract.js';
import { linearEncoder, makeNoiseFolder, tempDir, writeModel } from '../helpers/fixtures.js';

const W = [
  [1, 0, 0],
  [0, 1, 0],
  [0.5, -1, 2],
];
const PRE = { preset: 'torchvision' as const, resize: 16, crop: 16 };

describe('extract sharedFrom', () => {
  it('shares a folder of the same key only; never by name, never one that fails its checksums', async () => {
    const dir = tempDir();
    await makeNoiseFolder(join(dir, 'imgs'), ['a', 'b'], 5, 20);
    const listing = scanImageFolder(join(dir, 'imgs'));
    writeModel(join(dir, 'm.onnx'), linearEncoder(W, null));
    // The same bytes under another file name: the key is the file's sha256, not its path.
    copyFileSync(join(dir, 'm.onnx'), join(dir, 'copy.onnx'));
    const first = await extractFeatures({
      modelPath: join(dir, 'm.onnx'),
      listing,
      outDir: join(dir, 'f', 'student', 'train'),
      preprocess: PRE,
    });
    assert.equal(first.status, 'extracted');
    const featuresBytes = readFileSync(join(first.outDir, 'features.npy'));

    const own = join(dir, 'f', 'other.backbone', 'train');
    const shared = await extractFeatures({
      modelPath: join(dir, 'copy.onnx'),
      listing,
      outDir: own,
      preprocess: PRE,
      sharedFrom: [join(dir, 'f', 'missing'), first.outDir],
    });
    assert.equal(shared.status, 'shared');
    assert.equal(shared.outDir, first.outDir);
    assert.equal(shared.manifest.key, first.manifest.key);
    assert.ok(!existsSync(own), 'nothing is written for shared features (the lock folder is removed)');

    // Another crop: another key, so the folder is not shared even though it is offered.
    const cropped = await extractFeatures({
      modelPath: join(dir, 'copy.onnx'),
      listing,
      outDir: own,
      preprocess: { ...PRE, crop: 14 },
      sharedFrom: [first.outDir],
    });
    assert.equal(cropped.status, 'extracted');
    assert.equal(cropped.outDir, own);
    assert.notEqual(cropped.manifest.key, first.manifest.key);

    // The offered folder's features no longer match its manifest's checksum: extracted anew, not shared.
    const damaged = Buffer.from(featuresBytes);
    damaged[damaged.length - 1]! ^= 0x01;
    writeFileSync(join(first.outDir, 'features.npy'), damaged);
    const again = await extractFeatures({
      modelPath: join(dir, 'copy.onnx'),
      listing,
      outDir: join(dir, 'f', 'third', 'train'),
      preprocess: PRE,
      sharedFrom: [first.outDir],
    });
    assert.equal(again.status, 'extracted');
    assert.equal(again.outDir, join(dir, 'f', 'third', 'train'));
    assert.ok(readFileSync(join(again.outDir, 'features.npy')).equals(featuresBytes));
  });
});
