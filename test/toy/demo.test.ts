import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { teacherOnnx } from '../../src/toy/demo.js';
import { extractFeatures } from '../../src/extract/extract.js';
import {
  createDemoWorld,
  DEMO_SETS,
  imageToInput,
  latentToOffsets,
  offsetsToImage,
  pixelScale,
  sampleDemoSet,
  teacherWeights,
} from '../../src/toy/demoWorld.js';
import { scanImageFolder } from '../../src/dataset/listing.js';
import { readFloat32Matrix } from '../../src/io/npy.js';
import { tempDir, writeModel } from '../helpers/fixtures.js';

describe('demo teacher through the real pipeline', () => {
  it('PNG -> extract (inception preset, no resampling) -> teacher ONNX equals the TypeScript teacher', async () => {
    const world = createDemoWorld({
      classes: 3,
      coreDim: 8,
      backgroundDim: 8,
      side: 16,
      coreRadius: 1.5,
      coreNoise: 0.5,
      teacherDim: 12,
      seed: 9,
    });
    const dir = tempDir();
    const s = sampleDemoSet(world, { ...DEMO_SETS[0]!, perClass: 3 }, 1);
    const off = latentToOffsets(world, s);
    const scale = pixelScale([off]);
    const inputs = new Float32Array(s.n * 768);
    for (let i = 0; i < s.n; i++) {
      const img = offsetsToImage(off, i, 16, scale);
      imageToInput(img, 16, inputs, i * 768);
      const cls = world.className(s.labels[i]!);
      mkdirSync(join(dir, 'data', cls), { recursive: true });
      await sharp(Buffer.from(img), { raw: { width: 16, height: 16, channels: 3 } })
        .png()
        .toFile(join(dir, 'data', cls, `${i}.png`));
    }
    const model = writeModel(join(dir, 't.onnx'), teacherOnnx(world, scale));
    await extractFeatures({
      modelPath: model,
      listing: scanImageFolder(join(dir, 'data')),
      outDir: join(dir, 'out'),
      preprocess: { preset: 'inception', resize: 16, crop: 16 },
    });
    const f = readFloat32Matrix(join(dir, 'out', 'features.npy'));
    const { weight, bias } = teacherWeights(world, scale);
    assert.equal(f.rows, 9);
    assert.equal(f.cols, 12);
    for (let i = 0; i < 9; i++) {
      for (let o = 0; o < 12; o++) {
        let pre = bias[o]!;
        for (let j = 0; j < 768; j++) pre += weight[o * 768 + j]! * inputs[i * 768 + j]!;
        assert.ok(Math.abs(f.data[i * 12 + o]! - Math.max(0, pre)) < 1e-4, `row ${i} unit ${o}`);
      }
    }
  });
});
