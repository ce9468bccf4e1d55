import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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

const world = createDemoWorld({
  classes: 4,
  coreDim: 8,
  backgroundDim: 8,
  side: 6,
  coreRadius: 1.5,
  coreNoise: 0.5,
  teacherDim: 10,
  seed: 3,
});
const z = 16;

describe('demo world', () => {
  it('mixes latents with an orthonormal map (T T^T = I)', () => {
    const T = world.mixing;
    for (let a = 0; a < T.rows; a++) {
      for (let b = 0; b < T.rows; b++) {
        let dot = 0;
        for (let j = 0; j < T.cols; j++) dot += T.data[a * T.cols + j]! * T.data[b * T.cols + j]!;
        assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-5, `row ${a} . row ${b} = ${dot}`);
      }
    }
  });

  it('balances classes and shifts only the background in OOD sets', () => {
    const set = { ...DEMO_SETS[0]!, perClass: 50 };
    const id = sampleDemoSet(world, set, 11);
    const ood = sampleDemoSet(world, { ...set, background: { lo: -1, hi: 0 } }, 11);
    assert.equal(id.n, 200);
    for (let k = 0; k < 4; k++) assert.equal(id.labels.filter((l) => l === k).length, 50);
    for (let i = 0; i < id.n; i++) {
      for (let j = 0; j < 8; j++) assert.equal(ood.latent[i * z + j], id.latent[i * z + j], 'same core');
      for (let j = 8; j < 16; j++) {
        assert.ok(id.latent[i * z + j]! >= 0 && id.latent[i * z + j]! <= 1);
        assert.ok(ood.latent[i * z + j]! >= -1 && ood.latent[i * z + j]! <= 0);
      }
    }
  });

  it('renders without clipping; the teacher on the encoder input equals ReLU(A core + b) up to rounding', () => {
    const s = sampleDemoSet(world, { ...DEMO_SETS[0]!, perClass: 5 }, 5);
    const off = latentToOffsets(world, s);
    const scale = pixelScale([off]);
    const d = 3 * 36;
    const { weight, bias } = teacherWeights(world, scale);
    const v = new Float32Array(d);
    for (let i = 0; i < s.n; i++) {
      const img = offsetsToImage(off, i, 6, scale);
      imageToInput(img, 6, v, 0);
      for (let o = 0; o < 10; o++) {
        let pre = bias[o]!;
        for (let j = 0; j < d; j++) pre += weight[o * d + j]! * v[j]!;
        let exact = world.teacherB[o]!;
        for (let j = 0; j < 8; j++) exact += world.teacherA[o * 8 + j]! * s.latent[i * z + j]!;
        // Pixel rounding moves each input by at most 0.5 grey level.
        assert.ok(Math.abs(Math.max(0, pre) - Math.max(0, exact)) < 0.05, `image ${i} unit ${o}: ${pre} vs ${exact}`);
      }
    }
    // Pixels of the most extreme image reach but never pass the 0..255 range.
    let extreme = 0;
    for (let i = 0; i < off.length; i++) extreme = Math.max(extreme, Math.abs(off[i]!) * scale);
    assert.ok(Math.abs(extreme - 127) < 1e-9);
  });
});
