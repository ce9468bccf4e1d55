import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrtGemm } from '../../src/compute/gemm.js';
import { createSoftmaxGrad } from '../../src/compute/softmaxGrad.js';
import { Rng } from '../../src/math/rng.js';

const EPS32 = 2 ** -23;

/** The gradient of the mean cross-entropy written out from its definition, in float64. */
function float64Gradient(
  x: Float32Array,
  y: Int32Array,
  rows: number,
  w: Float32Array,
  b: Float32Array,
  k: number,
  d: number,
): { gw: Float64Array; gb: Float64Array; logProb: Float64Array } {
  const gw = new Float64Array(k * d),
    gb = new Float64Array(k),
    logProb = new Float64Array(rows * k);
  for (let i = 0; i < rows; i++) {
    const z = new Float64Array(k);
    for (let c = 0; c < k; c++) {
      let s = b[c]!;
      for (let j = 0; j < d; j++) s += x[i * d + j]! * w[c * d + j]!;
      z[c] = s;
    }
    const lse = Math.log(z.reduce((acc, v) => acc + Math.exp(v), 0));
    for (let c = 0; c < k; c++) {
      logProb[i * k + c] = z[c]! - lse;
      const r = (Math.exp(z[c]! - lse) - (c === y[i] ? 1 : 0)) / rows;
      gb[c]! += r;
      for (let j = 0; j < d; j++) gw[c * d + j]! += r * x[i * d + j]!;
    }
  }
  return { gw, gb, logProb };
}

test('softmaxGrad: fused graph = float64 gradient and row losses within float32 rounding', async () => {
  const k = 7,
    d = 13,
    maxBatch = 8;
  const rng = new Rng(3);
  const x = Float32Array.from({ length: maxBatch * d }, () => 2 * rng.normal());
  const w = Float32Array.from({ length: k * d }, () => 0.5 * rng.normal());
  const b = Float32Array.from({ length: k }, () => rng.normal());
  const y = Int32Array.from([0, 6, 3, 3, 1, 5, 2, 4]);
  const g = await createSoftmaxGrad(k, d, maxBatch, { threads: 1 });
  try {
    for (const rows of [maxBatch, 5, 1]) {
      const onehot = new Float32Array(maxBatch * k);
      for (let i = 0; i < rows; i++) onehot[i * k + y[i]!] = 1;
      const out = { gw: new Float32Array(k * d), gb: new Float32Array(k), rowLoss: new Float32Array(maxBatch) };
      out.rowLoss.fill(123); // rows beyond the batch must stay as they were
      await g.run({ x, w, b, onehot, ...out }, rows);
      const ref = float64Gradient(x, y, rows, w, b, k, d);
      // Logits reach |z| ~ 20 here; float32 rounding of z and of log-sum-exp gives errors of a few eps32 * |z|.
      for (let i = 0; i < rows; i++) {
        const want = -ref.logProb[i * k + y[i]!]!;
        assert.ok(Math.abs(out.rowLoss[i]! - want) <= 64 * EPS32 * (1 + Math.abs(want)), `rowLoss[${i}]`);
      }
      assert.ok(
        out.rowLoss.subarray(rows).every((v) => v === 123),
        'rows past the batch were written',
      );
      // Each residual has an absolute error ~ eps32 (probabilities in float32); the products sum rows of them.
      let xMax = 0;
      for (const v of x) xMax = Math.max(xMax, Math.abs(v));
      const tolW = 64 * EPS32 * xMax;
      for (let i = 0; i < k * d; i++) assert.ok(Math.abs(out.gw[i]! - ref.gw[i]!) <= tolW, `gw[${i}] rows ${rows}`);
      for (let c = 0; c < k; c++) assert.ok(Math.abs(out.gb[c]! - ref.gb[c]!) <= 64 * EPS32, `gb[${c}]`);
      // Not vacuous: the gradient is far from zero.
      assert.ok(ref.gw.some((v) => Math.abs(v) > 0.1));
    }
    const buf = {
      x,
      w,
      b,
      onehot: new Float32Array(maxBatch * k),
      gw: new Float32Array(k * d),
      gb: new Float32Array(k),
      rowLoss: new Float32Array(maxBatch),
    };
    await assert.rejects(g.run(buf, 0), RangeError);
    await assert.rejects(g.run(buf, maxBatch + 1), RangeError);
    await assert.rejects(g.run({ ...buf, gw: new Float32Array(k * d - 1) }, 2), /gw holds/);
  } finally {
    await g.dispose();
  }
});

test('softmaxGrad: onnxruntime Gemm hands out one session per shape; jsGemm has none', async () => {
  const gemm = await createOrtGemm({ threads: 1 });
  try {
    assert.ok(gemm.softmaxGrad);
    const a = await gemm.softmaxGrad(3, 4, 2);
    assert.equal(await gemm.softmaxGrad(3, 4, 2), a);
    assert.notEqual(await gemm.softmaxGrad(3, 5, 2), a);
    await assert.rejects(gemm.softmaxGrad(0, 4, 2), RangeError);
  } finally {
    await gemm.dispose();
  }
  const { jsGemm } = await import('../../src/compute/gemm.js');
  assert.equal(jsGemm.softmaxGrad, undefined);
});
