import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { countFlops } from '../../bench/flops.js';
import { resnet50Spec, tinySpec, vitB16Spec } from '../../bench/models.js';
import { buildOnnxModel, type GraphSpec } from '../../src/compute/onnxBuilder.js';

const f32 = (n: number): Float32Array => new Float32Array(n).fill(0.01);

function smallGraph(batch: number | string): GraphSpec {
  return {
    inputs: [{ name: 'x', type: 'float32', shape: [batch, 3, 8, 8] }],
    outputs: [{ name: 'y', type: 'float32', shape: [batch, 1, 7] }],
    nodes: [
      { op: 'Conv', inputs: ['x', 'w1'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      { op: 'Conv', inputs: ['r1', 'w2'], outputs: ['c2'], attrs: { pads: [1, 1, 1, 1], strides: [2, 2], group: 2 } },
      { op: 'GlobalAveragePool', inputs: ['c2'], outputs: ['g'] },
      { op: 'Flatten', inputs: ['g'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'wg'], outputs: ['h'] },
      { op: 'Reshape', inputs: ['h', 'shape'], outputs: ['h3'] },
      { op: 'MatMul', inputs: ['h3', 'wm'], outputs: ['y'] },
    ],
    initializers: [
      { name: 'w1', dims: [4, 3, 3, 3], data: f32(108) },
      { name: 'w2', dims: [6, 2, 3, 3], data: f32(108) },
      { name: 'wg', dims: [6, 5], data: f32(30) },
      { name: 'shape', dims: [3], data: BigInt64Array.from([0n, 1n, 5n]) },
      { name: 'wm', dims: [5, 7], data: f32(35) },
    ],
  };
}

test('countFlops: hand-computed small graph (padded conv, strided grouped conv, Gemm, batched MatMul)', () => {
  // conv1: 4 out x 3 in x 3x3 kernel x 8x8 positions = 6912 MACs; conv2 (2 groups of 2 in): 6 x 2 x 9 x 4x4 = 1728;
  // Gemm 6 -> 5: 30; MatMul [1,5] x [5,7]: 35. Two FLOPs per multiply-add.
  const r = countFlops(smallGraph('N'));
  assert.equal(r.flops, 2 * (6912 + 1728 + 30 + 35));
  assert.deepEqual(r.byOp, { Conv: 2 * (6912 + 1728), Gemm: 60, MatMul: 70 });
  // A fixed batch of 3 is counted as given (per call, not per image).
  assert.equal(countFlops(smallGraph(3)).flops, 3 * 2 * (6912 + 1728 + 30 + 35));
});

test('countFlops: inferred shapes agree with onnxruntime on the small graph', async () => {
  const s = await ort.InferenceSession.create(buildOnnxModel(smallGraph('N')));
  const out = await s.run({ x: new ort.Tensor('float32', f32(2 * 3 * 64), [2, 3, 8, 8]) });
  assert.deepEqual(out.y!.dims, [2, 1, 7]);
  await s.release();
});

test('countFlops: unknown ops are refused rather than silently skipped', () => {
  const g = smallGraph('N');
  g.nodes.splice(1, 0, { op: 'Resize', inputs: ['c1'], outputs: ['c1b'] });
  g.nodes[2]!.inputs = ['c1b'];
  assert.throws(() => countFlops(g), /no shape rule for Resize/);
});

test('benchmark graphs have the published operation counts of ResNet-50 and ViT-B/16', () => {
  // torchvision model docs: resnet50 4.09 GFLOPS, vit_b_16 17.56 GFLOPS (multiply-adds, incl. the 1000-class
  // head: 2.05 M and 0.77 M MACs, which our headless graphs lack).
  const r50 = countFlops(resnet50Spec({ weights: false })).flops / 2;
  assert.ok(Math.abs(r50 - (4.09e9 - 2.05e6)) / 4.09e9 < 0.005, `ResNet-50 MACs ${r50}`);
  const vit = countFlops(vitB16Spec({ weights: false }));
  assert.ok(Math.abs(vit.flops / 2 - (17.56e9 - 0.77e6)) / 17.56e9 < 0.005, `ViT-B/16 MACs ${vit.flops / 2}`);
  assert.equal(vit.byOp.Conv, 2 * 768 * 3 * 16 * 16 * 196);
});

test('the tiny benchmark graph runs and gives the declared [N, 64] features', async () => {
  const s = await ort.InferenceSession.create(buildOnnxModel(tinySpec()));
  const out = await s.run({ input: new ort.Tensor('float32', f32(2 * 3 * 224 * 224), [2, 3, 224, 224]) });
  assert.deepEqual(out.features!.dims, [2, 64]);
  assert.ok(Array.from(out.features!.data as Float32Array).every(Number.isFinite));
  await s.release();
});
