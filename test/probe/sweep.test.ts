import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsGemm } from '../../src/compute/gemm.js';
import { FcprobeError } from '../../src/errors.js';
import { Rng } from '../../src/math/rng.js';
import { logGrid, permuteRows, stratifiedSplit, sweepC } from '../../src/probe/sweep.js';
import { gaussianClasses } from '../helpers/featureDir.js';

test('sweep: logGrid matches numpy.logspace', () => {
  assert.deepEqual(logGrid(1e-3, 1e2, 6), [0.001, 0.01, 0.1, 1, 10, 100]);
  const g = logGrid(1, 100, 5);
  assert.ok(Math.abs(g[1]! - Math.sqrt(10)) < 1e-11);
});

test('sweep: the stratified split holds out round(f * count) per class, is seeded, and is a permutation', () => {
  const labels = Int32Array.from([...Array(10).fill(0), ...Array(5).fill(1), ...Array(2).fill(2)]);
  const a = stratifiedSplit(labels, 3, 0.2, new Rng(1));
  const b = stratifiedSplit(labels, 3, 0.2, new Rng(1));
  assert.deepEqual(a, b);
  assert.deepEqual(
    [...a.order].sort((p, q) => p - q),
    Array.from({ length: 17 }, (_, i) => i),
  );
  const val = Array.from(a.order.subarray(a.nTrain), (i) => labels[i]!);
  assert.deepEqual(
    [0, 1, 2].map((c) => val.filter((l) => l === c).length),
    [2, 1, 1],
  );
  const c = stratifiedSplit(labels, 3, 0.2, new Rng(2));
  assert.notDeepEqual(Array.from(c.order), Array.from(a.order));
});

test('sweep: a class with a single example is an error naming it', () => {
  assert.throws(
    () => stratifiedSplit(Int32Array.from([0, 0, 1, 2, 2]), 3, 0.2, new Rng(0), ['ant', 'bee', 'cat']),
    (e: unknown) => e instanceof FcprobeError && /"bee"/.test(e.message) && /--C/.test(e.hint ?? ''),
  );
});

test('sweep: permuteRows moves rows and labels together (one row of scratch)', () => {
  const d = 3,
    n = 6;
  const x = Float32Array.from({ length: n * d }, (_, i) => i);
  const labels = Int32Array.from([10, 11, 12, 13, 14, 15]);
  const order = Int32Array.from([3, 0, 4, 1, 5, 2]);
  permuteRows(x, d, labels, order);
  assert.deepEqual(Array.from(labels), [13, 10, 14, 11, 15, 12]);
  for (let i = 0; i < n; i++)
    assert.deepEqual(
      Array.from(x.subarray(i * d, i * d + d)),
      [0, 1, 2].map((j) => order[i]! * d + j),
    );
});

test('sweep: picks the best held-out top-1, ties to the smallest C, and reports every grid point', async () => {
  // 5 informative dims + 40 noise dims, few rows: tiny C underfits, huge C overfits.
  const means = [
    [1, 0, 0, 0, 0],
    [0, 1, 0, 0, 0],
    [0, 0, 1, 0, 0],
  ].map((m) => [...m, ...Array(40).fill(0)]);
  const { x, labels, d } = gaussianClasses(means, 150, 3, 0.7);
  const r = await sweepC(
    jsGemm,
    { x, n: 150, d, labels, k: 3 },
    { grid: [1e-4, 1e-2, 1, 100], holdout: 0.3, rng: new Rng(0), tol: 1e-7, maxIter: 500 },
  );
  assert.equal(r.points.length, 4);
  assert.equal(r.nTrain + r.nVal, 150);
  assert.equal(r.nVal, 45);
  const best = r.points.find((p) => p.C === r.bestC)!;
  for (const p of r.points) assert.ok(best.valTop1 >= p.valTop1);
  // The tie rule, from the points: of the values sharing the best top-1, the smallest C (here 1e-4 and 1e-2
  // both classify 30 of the 45 rows; the lower loss of 1e-2 no longer decides).
  const top = r.points.filter((p) => p.valTop1 === best.valTop1).map((p) => p.C);
  assert.equal(r.tied, top.length);
  assert.equal(r.bestC, Math.min(...top));
  assert.ok(r.tied >= 2, 'this split ties');
});
