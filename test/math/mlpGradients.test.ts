import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsGemm, type Mat } from '../../src/compute/gemm.js';
import { ACTIVATIONS, activate, type Activation } from '../../src/math/activations.js';
import { computeLoss, softplus, type LossKind } from '../../src/math/losses.js';
import { Mlp, MlpWorkspace, type MlpSpec } from '../../src/math/mlp.js';
import { Rng } from '../../src/math/rng.js';

/** Independent float64 forward pass straight from the definition (no Gemm, no workspace). */
function referenceForward(net: Mlp, x: Float64Array, rows: number): Float64Array {
  let h = x;
  net.layers.forEach((L, l) => {
    const out = new Float64Array(rows * L.outDim);
    for (let i = 0; i < rows; i++) {
      for (let o = 0; o < L.outDim; o++) {
        let s = L.bias ? L.bias[o]! : 0;
        for (let k = 0; k < L.inDim; k++) s += h[i * L.inDim + k]! * L.weight[o * L.inDim + k]!;
        out[i * L.outDim + o] = l < net.layers.length - 1 ? activate(net.spec.activation, s) : s;
      }
    }
    h = out;
  });
  return h;
}

function referenceLoss(kind: LossKind, f: Float64Array, t: Float64Array): number {
  let s = 0;
  for (let i = 0; i < f.length; i++) {
    if (kind === 'logistic') s += softplus(-t[i]! * f[i]!);
    else if (kind === 'hinge') s += Math.max(0, 1 - t[i]! * f[i]!);
    else s += (f[i]! - t[i]!) ** 2;
  }
  return s / f.length;
}

function setup(spec: MlpSpec, rows: number, seed: number) {
  const rng = new Rng(seed);
  const net = Mlp.create(spec, rng);
  const x = new Float32Array(rows * spec.inDim).map(() => rng.normal());
  const targetLen = spec.outDim === 1 ? rows : rows * spec.outDim;
  const target = new Float32Array(targetLen).map((_, i) => (spec.outDim === 1 ? (i % 2 ? 1 : -1) : rng.normal()));
  return { net, x, target };
}

/** Analytic gradients (float32 path) vs central differences of the float64 reference. */
async function checkGradients(activation: Activation, loss: LossKind, opts: Partial<MlpSpec> = {}): Promise<void> {
  const spec: MlpSpec = {
    inDim: 5,
    hidden: 6,
    outDim: loss === 'mse' ? 3 : 1,
    layers: 2,
    activation,
    bias: true,
    freezeOutput: false,
    ...opts,
  };
  const rows = 7;
  const { net, x, target } = setup(spec, rows, 11);
  const ws = new MlpWorkspace(net, rows);
  const X: Mat = { data: x, rows, cols: spec.inDim };
  const out = await ws.forward(jsGemm, X);
  const dOut = new Float32Array(rows * spec.outDim);
  const loss32 = computeLoss(loss, out.data, target, rows, spec.outDim, dOut);
  await ws.backward(jsGemm, X, dOut);
  const x64 = Float64Array.from(x),
    t64 = Float64Array.from(target);
  const lossAt = (): number => referenceLoss(loss, referenceForward(net, x64, rows), t64);
  assert.ok(
    Math.abs(lossAt() - loss32) < 1e-5 * (1 + Math.abs(loss32)),
    `${activation}/${loss}: loss ${loss32} vs reference ${lossAt()}`,
  );
  const eps = 1e-3;
  let checked = 0;
  for (const p of net.parameters()) {
    for (let i = 0; i < p.data.length; i++) {
      const orig = p.data[i]!;
      p.data[i] = orig + eps;
      const up = lossAt();
      p.data[i] = orig - eps;
      const down = lossAt();
      p.data[i] = orig;
      // float32 parameters: the actual step is the rounded difference, not 2 eps.
      const h = Math.fround(orig + eps) - Math.fround(orig - eps);
      const fd = (up - down) / h;
      const g = p.grad[i]!;
      assert.ok(
        Math.abs(g - fd) <= 2e-4 + 2e-3 * Math.abs(fd),
        `${activation}/${loss} ${p.name}[${i}]: backprop ${g} vs finite difference ${fd}`,
      );
      checked++;
    }
  }
  assert.ok(checked >= 18, `only ${checked} gradients checked`);
}

for (const activation of ACTIVATIONS) {
  for (const loss of ['logistic', 'hinge', 'mse'] as const) {
    test(`MLP gradients match finite differences: ${activation}, ${loss}`, async () => {
      await checkGradients(activation, loss);
    });
  }
}

test('MLP gradients: three layers, no bias', async () => {
  await checkGradients('tanh', 'mse', { layers: 3, bias: false });
  await checkGradients('relu', 'logistic', { layers: 3, bias: false });
});

test('MLP gradients: a single linear layer', async () => {
  await checkGradients('relu', 'mse', { layers: 1 });
});

test('frozen output layer: +-1/m weights, no gradient tensors, hidden gradients still correct', async () => {
  await checkGradients('relu', 'hinge', { freezeOutput: true });
  const net = Mlp.create(
    { inDim: 3, hidden: 5, outDim: 1, layers: 2, activation: 'relu', bias: true, freezeOutput: true },
    new Rng(1),
  );
  assert.deepEqual(Array.from(net.layers[1]!.weight), [0.2, 0.2, -0.2, -0.2, -0.2].map(Math.fround));
  assert.deepEqual(
    net.parameters().map((p) => p.name),
    ['fc0.weight', 'fc0.bias'],
  );
});

test('initialization follows nn.Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and bias', () => {
  const net = Mlp.create(
    { inDim: 256, hidden: 256, outDim: 1, layers: 2, activation: 'relu', bias: true, freezeOutput: false },
    new Rng(3),
  );
  const w = net.layers[0]!.weight;
  const bound = 1 / 16;
  let max = 0,
    sq = 0;
  for (const v of w) {
    max = Math.max(max, Math.abs(v));
    sq += v * v;
  }
  assert.ok(max <= bound && max > 0.99 * bound);
  // Variance of U(-a, a) is a^2 / 3.
  assert.ok(Math.abs(sq / w.length - bound ** 2 / 3) < (0.02 * bound ** 2) / 3);
  const b = net.layers[0]!.bias!;
  assert.ok(b.every((v) => Math.abs(v) <= bound));
});

for (const activation of ACTIVATIONS) {
  for (const [layers, freezeOutput] of [
    [2, false],
    [2, true],
    [3, false],
  ] as const) {
    const frozen = freezeOutput ? ', frozen output' : '';
    test(`low-rank x = L R: same outputs, gradients as dense: ${activation}, ${layers} layers${frozen}`, async () => {
      // Two layers with one output take the single-output shortcut in backward; three layers the general path.
      const rng = new Rng(5);
      const rows = 9,
        r = 3,
        inDim = 8;
      const spec: MlpSpec = { inDim, hidden: 6, outDim: 1, layers, activation, bias: true, freezeOutput };
      const net = Mlp.create(spec, rng);
      const left: Mat = { data: new Float32Array(rows * r).map(() => rng.normal()), rows, cols: r };
      const right: Mat = { data: new Float32Array(r * inDim).map(() => rng.normal()), rows: r, cols: inDim };
      const dense: Mat = { data: new Float32Array(rows * inDim), rows, cols: inDim };
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < inDim; j++) {
          let s = 0;
          for (let k = 0; k < r; k++) s += left.data[i * r + k]! * right.data[k * inDim + j]!;
          dense.data[i * inDim + j] = s;
        }
      const dOut = new Float32Array(rows).map(() => rng.normal());
      const wsA = new MlpWorkspace(net, rows),
        wsB = new MlpWorkspace(net, rows, r);
      const grads = (): number[][] =>
        net.layers.flatMap((L) => [Array.from(L.gradWeight), Array.from(L.gradBias ?? [])]);
      const outA = Array.from((await wsA.forward(jsGemm, dense)).data);
      await wsA.backward(jsGemm, dense, dOut);
      const gradA = grads();
      for (const L of net.layers) {
        L.gradWeight.fill(NaN);
        L.gradBias?.fill(NaN);
      }
      const outB = Array.from((await wsB.forward(jsGemm, { left, right })).data);
      await wsB.backward(jsGemm, { left, right }, dOut);
      const gradB = grads();
      outA.forEach((v, i) => {
        assert.ok(Math.abs(v - outB[i]!) < 1e-5, `output ${i}: ${v} vs ${outB[i]}`);
      });
      net.layers.forEach((L, l) => {
        if (L.trainable) return;
        assert.ok(gradB[2 * l]!.every(Number.isNaN), 'a frozen layer gets no gradient');
      });
      gradA.forEach((g, t) => {
        if (!net.layers[t >> 1]!.trainable) return;
        g.forEach((v, i) => {
          assert.ok(
            Math.abs(v - gradB[t]![i]!) < 1e-4 * (1 + Math.abs(v)),
            `tensor ${t} grad ${i}: ${v} vs ${gradB[t]![i]}`,
          );
        });
      });
    });
  }
}

test('workspace rejects batches and inputs that do not fit', async () => {
  const net = Mlp.create(
    { inDim: 4, hidden: 3, outDim: 1, layers: 2, activation: 'relu', bias: true, freezeOutput: false },
    new Rng(1),
  );
  const ws = new MlpWorkspace(net, 2);
  await assert.rejects(ws.forward(jsGemm, { data: new Float32Array(12), rows: 3, cols: 4 }), /sized for 2/);
  await assert.rejects(ws.forward(jsGemm, { data: new Float32Array(10), rows: 2, cols: 5 }), /expected 4/);
});
