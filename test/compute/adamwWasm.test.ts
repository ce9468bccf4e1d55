import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adamwWasmAvailable, FusedAdamW } from '../../src/compute/adamwWasm.js';
import { AdamW, clipGradNorm } from '../../src/math/adamw.js';
import { Rng } from '../../src/math/rng.js';

const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

// Heavy-tailed values over many magnitudes (and exact zeros), so that rounding differences would show.
function fill(rng: Rng, a: Float32Array, scale: number): void {
  for (let i = 0; i < a.length; i++) a[i] = i % 17 === 0 ? 0 : rng.normal() * scale * Math.exp(3 * rng.normal());
}

test('adamw wasm: the SIMD kernels equal the float32 TypeScript reference bit for bit', () => {
  assert.ok(adamwWasmAvailable(), 'dist/src/compute/adamw.wasm should load (npm run build compiles it)');
  for (const size of [1, 7, 1001, 4096]) {
    const opts = { lr: 3e-3, weightDecay: 0.1 };
    const a = new FusedAdamW(size, opts);
    const b = new FusedAdamW(size, { ...opts, reference: true });
    assert.equal(a.backend, 'wasm');
    assert.equal(b.backend, 'js');
    const rng = new Rng(size);
    fill(rng, a.params, 0.05);
    b.params.set(a.params);
    for (let t = 0; t < 6; t++) {
      fill(rng, a.grad, 0.01);
      b.grad.set(a.grad);
      // Clipping active on some steps (limit below the norm), inactive on others.
      const clip = t % 2 === 0 ? 1e-3 : null;
      const na = a.step(1e-3 * (t + 1), clip);
      const nb = b.step(1e-3 * (t + 1), clip);
      assert.equal(na, nb, `size ${size} step ${t}: gradient norms differ`);
      assert.ok(bytes(a.params).equals(bytes(b.params)), `size ${size} step ${t}: parameters differ`);
    }
  }
});

test('adamw wasm: one step matches float64 AdamW within float32 rounding, including clipping', () => {
  const size = 999;
  const rng = new Rng(3);
  const p64 = new Float64Array(size);
  const opt64 = new AdamW(size, { weightDecay: 0.05 });
  const f = new FusedAdamW(size, { weightDecay: 0.05 });
  for (let i = 0; i < size; i++) p64[i] = f.params[i] = Math.fround(rng.normal());
  for (let t = 0; t < 3; t++) {
    const g64 = new Float64Array(size);
    for (let i = 0; i < size; i++) g64[i] = f.grad[i] = Math.fround(rng.normal());
    const n64 = clipGradNorm(g64, 5);
    opt64.step(p64, g64, 1e-2);
    const n32 = f.step(1e-2, 5);
    assert.ok(Math.abs(n64 - n32) <= 1e-12 * n64, `norm ${n32} vs ${n64}`);
    // Each element: |p| ~ 3 at most, update ~ lr; float32 rounding of a handful of operations per step.
    for (let i = 0; i < size; i++) {
      const tol = 8 * 2 ** -24 * (Math.abs(p64[i]!) + 1e-2) * (t + 1);
      assert.ok(Math.abs(f.params[i]! - p64[i]!) <= tol, `step ${t} param ${i}: ${f.params[i]} vs ${p64[i]}`);
    }
  }
});

test('adamw wasm: zero gradient on padding keeps the padded tail at zero and size is checked', () => {
  assert.throws(() => new FusedAdamW(0), RangeError);
  const f = new FusedAdamW(5);
  f.params.fill(1);
  f.grad.fill(1);
  f.step(0.1, null);
  const tail = new Float32Array(f.params.buffer, f.params.byteOffset + 5 * 4, 3);
  assert.deepEqual(Array.from(tail), [0, 0, 0]);
});
