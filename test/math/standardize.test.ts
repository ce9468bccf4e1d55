import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/math/rng.js';
import {
  applyStandardization,
  computeStandardization,
  invertStandardization,
  StandardizationAccumulator,
} from '../../src/math/standardize.js';

function data(n: number, d: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = 1000 * j + (j + 1) * rng.normal();
  return x;
}

test('standardize: columns get mean 0 and population std 1; a constant column maps to 0', () => {
  const n = 500,
    d = 4;
  const x = data(n, d, 1);
  for (let i = 0; i < n; i++) x[i * d + 3] = 7.25;
  const s = computeStandardization(x, n, d);
  assert.equal(s.std[3], 1);
  assert.equal(s.mean[3], 7.25);
  applyStandardization(x, n, s);
  for (let j = 0; j < d; j++) {
    let m = 0,
      q = 0;
    for (let i = 0; i < n; i++) m += x[i * d + j]!;
    m /= n;
    for (let i = 0; i < n; i++) q += (x[i * d + j]! - m) ** 2;
    const sd = Math.sqrt(q / n);
    assert.ok(Math.abs(m) < 1e-4, `mean of column ${j}: ${m}`);
    if (j < 3) assert.ok(Math.abs(sd - 1) < 1e-4, `std of column ${j}: ${sd}`);
    else assert.equal(sd, 0);
  }
});

test('standardize: statistics agree with a two-pass float64 reference even with a large mean', () => {
  const n = 300,
    d = 3;
  const x = data(n, d, 2);
  const s = computeStandardization(x, n, d);
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += x[i * d + j]!;
    m /= n;
    let q = 0;
    for (let i = 0; i < n; i++) q += (x[i * d + j]! - m) ** 2;
    assert.ok(Math.abs(s.mean[j]! - m) < 1e-9 * Math.max(1, Math.abs(m)));
    assert.ok(Math.abs(s.std[j]! - Math.sqrt(q / n)) < 1e-9 * Math.sqrt(q / n) + 1e-12);
  }
});

test('standardize: round trip restores the features; block-wise statistics equal the one-shot bytes', () => {
  const n = 257,
    d = 5;
  const x = data(n, d, 3);
  const orig = Float32Array.from(x);
  const s = computeStandardization(x, n, d);
  const acc = new StandardizationAccumulator(d);
  for (let start = 0; start < n; start += 50) {
    const rows = Math.min(50, n - start);
    acc.add(x.subarray(start * d, (start + rows) * d), rows);
  }
  const s2 = acc.finish();
  assert.deepEqual(Buffer.from(s2.mean.buffer), Buffer.from(s.mean.buffer));
  assert.deepEqual(Buffer.from(s2.std.buffer), Buffer.from(s.std.buffer));
  applyStandardization(x, n, s);
  invertStandardization(x, n, s);
  for (let i = 0; i < x.length; i++)
    assert.ok(Math.abs(x[i]! - orig[i]!) <= 1e-6 * Math.max(1, Math.abs(orig[i]!)), `element ${i}`);
});
