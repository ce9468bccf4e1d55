import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW, clipGradNorm, cosineLr } from '../../src/math/adamw.js';

test('adamw: two steps match the PyTorch update written out by hand', () => {
  const p = Float64Array.from([1, -2]);
  const opt = new AdamW(2, { weightDecay: 0.1 });
  const lr = 0.01,
    b1 = 0.9,
    b2 = 0.999,
    eps = 1e-8;
  const g1 = [0.5, -1],
    g2 = [0.1, 0.3];
  const ref = [1, -2],
    m = [0, 0],
    v = [0, 0];
  for (const [t, g] of [
    [1, g1],
    [2, g2],
  ] as const) {
    for (let i = 0; i < 2; i++) {
      ref[i] = ref[i]! * (1 - lr * 0.1);
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
      const mh = m[i]! / (1 - b1 ** t),
        vh = v[i]! / (1 - b2 ** t);
      ref[i] = ref[i]! - (lr * mh) / (Math.sqrt(vh) + eps);
    }
    opt.step(p, Float64Array.from(g), lr);
  }
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(p[i]! - ref[i]!) < 1e-12, `param ${i}: ${p[i]} vs ${ref[i]}`);
});

test('adamw: cosine schedule with warmup (wise-ft cosine_lr)', () => {
  assert.equal(cosineLr(1e-3, 500, 1500, 0), 1e-3 / 500);
  assert.equal(cosineLr(1e-3, 500, 1500, 499), 1e-3);
  assert.equal(cosineLr(1e-3, 500, 1500, 500), 1e-3);
  assert.ok(Math.abs(cosineLr(1e-3, 500, 1500, 1000) - 0.5e-3) < 1e-15);
  assert.ok(cosineLr(1e-3, 500, 1500, 1499) < 1e-8);
  assert.equal(cosineLr(1e-3, 0, 10, 0), 1e-3);
});

test('adamw: global-norm clipping scales only when the norm exceeds the limit', () => {
  const g = Float64Array.from([3, 4]);
  assert.equal(clipGradNorm(g, 1), 5);
  assert.ok(Math.abs(Math.hypot(g[0]!, g[1]!) - 1) < 1e-6);
  assert.ok(Math.abs(g[0]! / g[1]! - 0.75) < 1e-12);
  const h = Float64Array.from([0.3, 0.4]);
  clipGradNorm(h, 1);
  assert.deepEqual(Array.from(h), [0.3, 0.4]);
});
