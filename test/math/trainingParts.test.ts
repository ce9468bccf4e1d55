import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACTIVATIONS, activate, backpropActivation, biasActivate, erf } from '../../src/math/activations.js';
import { computeLoss, signAccuracy } from '../../src/math/losses.js';
import { Optimizer } from '../../src/math/optimizers.js';
import { activationAsymmetry, meanWeightNorms } from '../../src/toy/weightNorms.js';
import { jsGemm } from '../../src/compute/gemm.js';

const close = (a: number, b: number, tol: number, what = ''): void =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);

test('erf and the activations at known values', () => {
  // erf values from tables (Abramowitz & Stegun 7.1).
  close(erf(0), 0, 1e-7);
  close(erf(0.5), 0.5204998778, 2e-7);
  close(erf(1), 0.8427007929, 2e-7);
  close(erf(-2), -0.995322265, 2e-7);
  close(activate('gelu', 1), 0.8413447461, 2e-7, 'gelu(1) = Phi(1)');
  close(activate('gelu', -1), -0.1586552539, 2e-7);
  close(activate('leaky-relu', -2), -0.2, 1e-12);
  close(activate('sigmoid', 0), 0.5, 1e-12);
  close(activate('tanh', 1), 0.761594156, 1e-9);
  assert.equal(activate('relu', -3), 0);
  assert.equal(activate('none', -3), -3);
});

test('biasActivate and backpropActivation agree with the scalar activation and its finite difference', () => {
  const rows = 3,
    cols = 4;
  const x = Float32Array.from([-2, -0.7, -0.1, 0.05, 0.3, 1.2, 2.5, -1.4, 0.8, -0.45, 1.9, 0.6]);
  const bias = Float32Array.from([0.1, -0.2, 0.05, 0]);
  for (const kind of ACTIVATIONS) {
    const pre = x.slice(),
      act = kind === 'none' ? pre : new Float32Array(x.length);
    biasActivate(kind, pre, act, bias, rows, cols);
    const grad = new Float32Array(x.length).fill(1).map((_, k) => 1 + k / 10);
    const upstream = grad.slice();
    const biasGrad = new Float64Array(cols);
    backpropActivation(kind, grad, pre, act, rows, cols, biasGrad);
    for (let k = 0; k < x.length; k++) {
      const z = x[k]! + bias[k % cols]!;
      close(act[k]!, activate(kind, z), 1e-6, `${kind}(${z})`);
      const h = 1e-5;
      const d = (activate(kind, z + h) - activate(kind, z - h)) / (2 * h);
      close(grad[k]!, upstream[k]! * d, 1e-4, `${kind}'(${z})`);
    }
    for (let j = 0; j < cols; j++)
      close(biasGrad[j]!, grad[j]! + grad[cols + j]! + grad[2 * cols + j]!, 1e-5, 'bias grad');
  }
});

test('losses: hand-computed values and gradients', () => {
  const f = Float32Array.from([2, -1, 0.5]),
    y = Float32Array.from([1, 1, -1]);
  const g = new Float32Array(3);
  const logistic = computeLoss('logistic', f, y, 3, 1, g);
  close(logistic, (Math.log(1 + Math.exp(-2)) + Math.log(1 + Math.exp(1)) + Math.log(1 + Math.exp(0.5))) / 3, 1e-12);
  close(g[1]!, -1 / (1 + Math.exp(-1)) / 3, 1e-7);
  // hinge: slacks 1-2<0, 1+1=2, 1+0.5=1.5
  close(computeLoss('hinge', f, y, 3, 1, g), 3.5 / 3, 1e-12);
  assert.deepEqual(Array.from(g), [0, -1 / 3, 1 / 3].map(Math.fround));
  // mse over all elements of a [2, 2] output
  const out = Float32Array.from([1, 2, 3, 4]),
    t = Float32Array.from([0, 2, 5, 4]);
  const gm = new Float32Array(4);
  close(computeLoss('mse', out, t, 2, 2, gm), (1 + 0 + 4 + 0) / 4, 1e-12);
  assert.deepEqual(Array.from(gm), [0.5, 0, -1, 0]);
  // no overflow for large margins
  close(computeLoss('logistic', Float32Array.of(-1000), Float32Array.of(1), 1, 1, null), 1000, 1e-9);
  assert.equal(signAccuracy(f, y, 3), 1 / 3);
  assert.throws(() => computeLoss('hinge', out, t, 2, 2, null), /one output/);
});

test('SGD with momentum: two steps by hand (torch.optim.SGD, coupled weight decay)', () => {
  const p = Float32Array.of(1),
    g = Float32Array.of(0.5);
  const opt = new Optimizer('sgd', [{ name: 'p', data: p, grad: g }], { lr: 0.1, weightDecay: 0.01, momentum: 0.9 });
  opt.step(); // g' = 0.5 + 0.01 = 0.51; buf = 0.51; p = 1 - 0.051
  close(p[0]!, 0.949, 1e-7);
  opt.step(); // g' = 0.5 + 0.00949; buf = 0.9*0.51 + 0.50949 = 0.96849; p = 0.949 - 0.096849
  close(p[0]!, 0.949 - 0.096849, 1e-6);
});

test('Adam vs AdamW: the first step is lr sign(g); decay coupled vs decoupled', () => {
  for (const kind of ['adam', 'adamw'] as const) {
    const p = Float32Array.of(2, -3),
      g = Float32Array.of(0.4, -0.01);
    const opt = new Optimizer(kind, [{ name: 'p', data: p, grad: g }], { lr: 0.01, weightDecay: 0.1 });
    opt.step();
    if (kind === 'adamw') {
      // p (1 - lr wd) - lr g / (|g| + eps)
      close(p[0]!, 2 * (1 - 0.001) - 0.01, 1e-6);
      close(p[1]!, -3 * (1 - 0.001) + 0.01, 1e-6);
    } else {
      // g' = g + wd p: 0.6 and -0.31, both keep their sign -> p - lr sign(g')
      close(p[0]!, 2 - 0.01, 1e-6);
      close(p[1]!, -3 + 0.01, 1e-6);
    }
    // second step with the same raw gradient: m_hat = g', v_hat = g'^2 for a constant gradient
    const before = p[0]!;
    opt.step();
    const expectedDecay = kind === 'adamw' ? before * (1 - 0.001) : before;
    close(
      p[0]!,
      expectedDecay - 0.01 * (kind === 'adamw' ? 1 : mHatOverSqrtVHat(0.4 + 0.1 * 2, 0.4 + 0.1 * before)),
      1e-5,
      kind,
    );
  }
});

/** Adam's second-step ratio m_hat / sqrt(v_hat) for gradients a then b (beta 0.9, 0.999). */
function mHatOverSqrtVHat(a: number, b: number): number {
  const m = (0.9 * 0.1 * a + 0.1 * b) / (1 - 0.81);
  const v = (0.999 * 0.001 * a * a + 0.001 * b * b) / (1 - 0.999 ** 2);
  return m / Math.sqrt(v);
}

test('weight norms: neuron norms in core and background coordinates, by hand', async () => {
  // T = first two coordinate axes of R^3 (core = axis 0, background = axis 1).
  const T = { data: Float32Array.from([1, 0, 0, 0, 1, 0]), rows: 2, cols: 3 };
  // neuron 0: (3, 4, 7) -> core |3|, background |4|; neuron 1: (0, -2, 5) -> 0 and 2.
  const W = { data: Float32Array.from([3, 4, 7, 0, -2, 5]), rows: 2, cols: 3 };
  const c = await meanWeightNorms(jsGemm, W, T, 1);
  close(c.core, 1.5, 1e-6);
  close(c.background, 3, 1e-6);
});

test('activation asymmetry: majority-class share of |activation| mass', () => {
  // labels +1, +1, -1, -1; neuron 0 fires only for +1 (share 1), neuron 1 equally (0.5), neuron 2 never (NaN),
  // neuron 3: class means |.| 1 vs 3 -> 0.75.
  const act = Float32Array.from([1, 2, 0, -1, 3, 2, 0, 1, 0, 2, 0, 3, 0, 2, 0, -3]);
  const out = new Float32Array(4);
  const mean = activationAsymmetry(act, 4, 4, Float32Array.from([1, 1, -1, -1]), out);
  assert.equal(out[0], 1);
  assert.equal(out[1], 0.5);
  assert.ok(Number.isNaN(out[2]));
  assert.equal(out[3], 0.75);
  close(mean, 0.75, 1e-7);
});
