import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrtGemm, jsGemm, type Gemm } from '../../src/compute/gemm.js';
import { Rng } from '../../src/math/rng.js';
import { SoftmaxSgdTrainer, type SgdSchedule } from '../../src/probe/sgdTrainer.js';
import { ReferenceSgdTrainer } from '../helpers/referenceSgdTrainer.js';

const EPS32 = 2 ** -23;

function problem(n: number, d: number, k: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const mu = Float64Array.from({ length: k * d }, () => rng.normal());
  const x = new Float32Array(n * d),
    y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(k);
    y[i] = c;
    for (let j = 0; j < d; j++) x[i * d + j] = mu[c * d + j]! + 2 * rng.normal();
  }
  return { x, y };
}

/** Steps both trainers over the same batches (some partial, clipping active on some) and compares. */
async function followsFloat64(gemm: Gemm, gradient: 'fused' | 'gemm'): Promise<void> {
  const n = 96,
    d = 48,
    k = 7,
    batch = 32,
    steps = 24;
  const { x, y } = problem(n, d, k, 11);
  const sched: SgdSchedule = { lr: 1e-2, weightDecay: 0.1, warmupSteps: 4, totalSteps: steps, clipNorm: 1 };
  const ref = new ReferenceSgdTrainer(jsGemm, k, d, batch, sched, new Rng(5));
  const fast = new SoftmaxSgdTrainer(gemm, k, d, batch, sched, new Rng(5));
  assert.equal(fast.backend, 'wasm');
  assert.equal(fast.gradient, gradient);
  // Same initial draw, rounded once to float32.
  const t0 = fast.theta;
  for (let i = 0; i < t0.length; i++) assert.equal(t0[i], Math.fround(ref.theta[i]!));
  let clipped = 0;
  for (let s = 0; s < steps; s++) {
    const rows = s % 3 === 2 ? 17 : batch; // partial batches too
    const start = (s * batch) % n;
    const xs = x.subarray(start * d, (start + rows) * d);
    const ys = y.subarray(start, start + rows);
    const a = await ref.step(xs, ys, rows);
    const b = await fast.step(xs, ys, rows);
    if (a.gradNorm > 1) clipped++;
    assert.ok(Math.abs(a.loss - b.loss) <= 1e-4 * a.loss, `step ${s}: loss ${b.loss} vs ${a.loss}`);
    assert.ok(Math.abs(a.gradNorm - b.gradNorm) <= 1e-4 * a.gradNorm, `step ${s}: norm ${b.gradNorm} vs ${a.gradNorm}`);
  }
  assert.ok(clipped > 0 && clipped < steps, `clipping should be active on some steps (${clipped})`);
  // Tolerance from float32 epsilon: each step rounds every parameter and moment a few times (relative EPS32,
  // at most ~8 roundings), on a parameter of size |p| plus an update of size <= ~3 lr (Adam's |m/sqrt(v)|);
  // errors add up over the steps. Measured maximum: ~60x below this bound, with the float64 softmax and with
  // the fused float32 one alike.
  const ta = ref.theta,
    tb = fast.theta;
  let maxAbs = 0;
  for (const v of ta) maxAbs = Math.max(maxAbs, Math.abs(v));
  const tol = steps * 8 * EPS32 * (maxAbs + 3 * sched.lr);
  let worst = 0;
  for (let i = 0; i < ta.length; i++) worst = Math.max(worst, Math.abs(ta[i]! - tb[i]!));
  assert.ok(worst <= tol, `max |diff| ${worst} > ${tol}`);
  assert.ok(worst > 0, 'float32 state should differ from float64 in the last bits (else the test is vacuous)');
}

test('sgd trainer: float32 WebAssembly step follows the float64 trainer within float32 rounding', async () => {
  await followsFloat64(jsGemm, 'gemm');
});

test('sgd trainer: the fused onnxruntime gradient follows the float64 trainer within float32 rounding', async () => {
  const gemm = await createOrtGemm({ threads: 1 });
  try {
    await followsFloat64(gemm, 'fused');
  } finally {
    await gemm.dispose();
  }
});

test('sgd trainer: a label outside 0..k-1 is refused and leaves no trace in the next step', async () => {
  const d = 6,
    k = 4;
  const { x, y } = problem(8, d, k, 4);
  const sched: SgdSchedule = { lr: 1e-2, weightDecay: 0, warmupSteps: 0, totalSteps: 4, clipNorm: null };
  const gemm = await createOrtGemm({ threads: 1 });
  try {
    const a = new SoftmaxSgdTrainer(gemm, k, d, 8, sched, new Rng(1));
    const b = new SoftmaxSgdTrainer(gemm, k, d, 8, sched, new Rng(1));
    const bad = Int32Array.from(y);
    bad[5] = k;
    await assert.rejects(a.step(x, bad, 8), /label 4 of row 5/);
    assert.equal(a.steps, 0);
    await a.step(x, y, 8);
    await b.step(x, y, 8);
    assert.deepEqual(a.theta, b.theta);
  } finally {
    await gemm.dispose();
  }
});

test('sgd trainer: the WebAssembly and TypeScript-reference steps give identical parameters', async () => {
  const n = 64,
    d = 33,
    k = 5;
  const { x, y } = problem(n, d, k, 2);
  const sched: SgdSchedule = { lr: 5e-3, weightDecay: 0.01, warmupSteps: 2, totalSteps: 10, clipNorm: 0.5 };
  const a = new SoftmaxSgdTrainer(jsGemm, k, d, 16, sched, new Rng(9));
  const b = new SoftmaxSgdTrainer(jsGemm, k, d, 16, sched, new Rng(9), { reference: true });
  assert.equal(b.backend, 'js');
  for (let s = 0; s < 10; s++) {
    const start = (s * 16) % n;
    await a.step(x.subarray(start * d), y.subarray(start), 16);
    await b.step(x.subarray(start * d), y.subarray(start), 16);
  }
  assert.deepEqual(a.theta, b.theta);
  await assert.rejects(a.step(x, y, 17), RangeError);
});
