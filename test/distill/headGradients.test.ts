import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsGemm } from '../../src/compute/gemm.js';
import { createHead, type HeadSpec } from '../../src/distill/head.js';
import { activate } from '../../src/math/activations.js';
import { computeLoss, cosineDistanceLoss } from '../../src/math/losses.js';
import { type Mlp, MlpWorkspace } from '../../src/math/mlp.js';
import { Rng } from '../../src/math/rng.js';

/** Float64 forward pass and loss straight from the definitions (no Gemm, no workspace). */
function referenceLoss(net: Mlp, x: Float32Array, t: Float32Array, rows: number, loss: 'mse' | 'cosine'): number {
  let h: Float64Array = Float64Array.from(x);
  net.layers.forEach((L, l) => {
    const out = new Float64Array(rows * L.outDim);
    for (let i = 0; i < rows; i++)
      for (let o = 0; o < L.outDim; o++) {
        let s = L.bias![o]!;
        for (let k = 0; k < L.inDim; k++) s += h[i * L.inDim + k]! * L.weight[o * L.inDim + k]!;
        out[i * L.outDim + o] = l < net.layers.length - 1 ? activate(net.spec.activation, s) : s;
      }
    h = out;
  });
  const d = net.spec.outDim;
  let total = 0;
  for (let i = 0; i < rows; i++) {
    let ff = 0,
      tt = 0,
      ft = 0;
    for (let k = 0; k < d; k++) {
      const f = h[i * d + k]!,
        g = t[i * d + k]!;
      if (loss === 'mse') total += (f - g) ** 2 / d;
      ff += f * f;
      tt += g * g;
      ft += f * g;
    }
    if (loss === 'cosine') total += 1 - ft / (Math.sqrt(ff) * Math.sqrt(tt));
  }
  return total / rows;
}

for (const [name, spec] of [
  ['linear', { kind: 'linear', hidden: 1, layers: 1, activation: 'none' }],
  ['relu mlp', { kind: 'mlp', hidden: 7, layers: 2, activation: 'relu' }],
  ['gelu mlp (3 maps)', { kind: 'mlp', hidden: 6, layers: 3, activation: 'gelu' }],
] as [string, HeadSpec][]) {
  for (const loss of ['mse', 'cosine'] as const) {
    test(`head gradients match central differences: ${name}, ${loss} loss`, async () => {
      const rows = 9,
        ds = 5,
        dt = 4;
      const rng = new Rng(21);
      const net = createHead(spec, ds, dt, rng);
      const x = new Float32Array(rows * ds).map(() => rng.normal());
      const t = new Float32Array(rows * dt).map(() => rng.normal());
      const ws = new MlpWorkspace(net, rows);
      const X = { data: x, rows, cols: ds };
      const out = await ws.forward(jsGemm, X);
      const grad = new Float32Array(rows * dt);
      const l32 =
        loss === 'mse'
          ? computeLoss('mse', out.data, t, rows, dt, grad)
          : cosineDistanceLoss(out.data, t, rows, dt, grad);
      assert.ok(Math.abs(l32 - referenceLoss(net, x, t, rows, loss)) < 1e-5);
      await ws.backward(jsGemm, X, grad);
      const h = 1e-3;
      let checked = 0;
      for (const p of net.parameters()) {
        for (let i = 0; i < p.data.length; i += 3) {
          const v = p.data[i]!;
          p.data[i] = v + h;
          const up = referenceLoss(net, x, t, rows, loss);
          p.data[i] = v - h;
          const down = referenceLoss(net, x, t, rows, loss);
          p.data[i] = v;
          // The step is rounded to float32 with the parameter: divide by the step actually taken.
          const step = Math.fround(v + h) - Math.fround(v - h);
          const numeric = (up - down) / step;
          assert.ok(
            Math.abs(numeric - p.grad[i]!) <= 2e-3 * Math.max(1e-2, Math.abs(numeric)),
            `${p.name}[${i}]: analytic ${p.grad[i]} vs numeric ${numeric}`,
          );
          checked++;
        }
      }
      assert.ok(checked > 5);
    });
  }
}
