import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsGemm } from '../../src/compute/gemm.js';
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

test('sgd trainer: float32 WebAssembly step follows the float64 trainer within float32 rounding', async () => {
  const n = 96,
    d = 48,
    k = 7,
    batch = 32,
    steps = 24;
  const { x, y } = problem(n, d, k, 11);
  const sched: SgdSchedule = { lr: 1e-2, weightDecay: 0.1, warmupSteps: 4, totalSteps: steps, clipNorm: 1 };
  const ref = new ReferenceSgdTrainer(jsGemm, k, d, batch, sched, new Rng(5));
  const fast = new SoftmaxSgdTrainer(jsGemm, k, d, batch, sched, new Rng(5));
  assert.equal(fast.backend, 'wasm');
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
  // errors add up over the steps. Measured maximum: ~60x below this bound.
  const ta = ref.theta,
    tb = fast.theta;
  let maxAbs = 0;
  for (const v of ta) maxAbs = Math.max(maxAbs, Math.abs(v));
  const tol = steps * 8 * EPS32 * (maxAbs + 3 * sched.lr);
  let worst = 0;
  for (let i = 0; i < ta.length; i++) worst = Math.max(worst, Math.abs(ta[i]! - tb[i]!));
  assert.ok(worst <= tol, `max |diff| ${worst} > ${tol}`);
  assert.ok(worst > 0, 'float32 state should differ from float64 in the last bits (else the test is vacuous)');
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
