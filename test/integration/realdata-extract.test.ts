/**
 * On the real pretrained encoders of ../shared/realdata (skipped where that folder is absent): the classifier
 * head of each model must recognize PACS photos of dogs as ImageNet dog breeds. That only holds when the
 * decoding, resizing, cropping and normalization match what the models were trained with.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { extractFeatures } from '../../src/extract/extract.js';
import { scanImageFolder } from '../../src/dataset/listing.js';
import { readFloat32Matrix, readLabels } from '../../src/io/npy.js';
import { tempDir } from '../helpers/fixtures.js';

const REAL = new URL('../../../../shared/realdata/', import.meta.url).pathname;
const available = existsSync(join(REAL, 'models', 'mobilenet_v2_1.0_224_int8.onnx'));
if (!available) console.log(`# realdata not found at ${REAL}: skipping real-model integration tests`);

// ImageNet-1k indices 151..268 are dog breeds; the models' logits have a background class at index 0.
const isDog = (logitIndex: number): boolean => logitIndex - 1 >= 151 && logitIndex - 1 <= 268;

describe('real encoders on PACS photos', { skip: !available && 'shared/realdata is absent' }, () => {
  for (const [model, size, minDogShare] of [
    ['mobilenet_v2_1.0_224_int8.onnx', 224, 0.7],
    ['mobilenet_v1_0.25_128_int8.onnx', 128, 0.5],
  ] as const) {
    it(`${model}: dog photos are classified as dog breeds`, async () => {
      const out = tempDir();
      const listing = scanImageFolder(join(REAL, 'pacs-mini', 'photo'));
      await extractFeatures({
        modelPath: join(REAL, 'models', model),
        listing,
        outDir: out,
        outputName: 'logits',
        preprocess: { preset: 'inception' },
      });
      const logits = readFloat32Matrix(join(out, 'features.npy'));
      const labels = readLabels(join(out, 'labels.npy'));
      assert.equal(logits.cols, 1001);
      const dogClass = listing.classes.indexOf('dog');
      let dogs = 0;
      let hits = 0;
      for (let i = 0; i < logits.rows; i++) {
        if (labels[i] !== dogClass) continue;
        dogs++;
        const row = logits.data.subarray(i * 1001, (i + 1) * 1001);
        let best = 0;
        for (let j = 1; j < 1001; j++) if (row[j]! > row[best]!) best = j;
        if (isDog(best)) hits++;
      }
      assert.equal(dogs, 10);
      assert.ok(hits / dogs >= minDogShare, `${hits}/${dogs} dog photos predicted as dog breeds (crop ${size})`);
    });
  }
});
