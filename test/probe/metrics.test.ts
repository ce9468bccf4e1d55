import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsAccumulator } from '../../src/probe/metrics.js';

test('metrics: top-1, top-5, per-class accuracy and loss on hand-made scores', () => {
  const E = 7;
  // Row 0: class 3 best -> correct (label 3). Row 1: label 0 ranks 6th (five larger) -> miss for top-5.
  // Row 2: label 6 ranks 2nd -> top-5 hit only. Row 3: not scored (label -1).
  const scores = Float32Array.from([
    0, 0, 0, 5, 0, 0, 0, 0, 1, 2, 3, 4, 5, -1, 1, 0, 0, 0, 0, 0, 0.5, 9, 9, 9, 9, 9, 9, 9,
  ]);
  const labels = Int32Array.from([3, 0, 6, -1]);
  const acc = new MetricsAccumulator(E, 5);
  acc.add(scores.subarray(0, 14), 2, labels.subarray(0, 2));
  acc.add(scores.subarray(14), 2, labels.subarray(2));
  const m = acc.result();
  assert.equal(m.n, 3);
  assert.equal(m.top1, 1 / 3);
  assert.equal(m.top5, 2 / 3);
  assert.deepEqual(m.perClassAccuracy, [0, null, null, 1, null, null, 0]);
  assert.deepEqual(m.perClassCount, [1, 0, 0, 1, 0, 0, 1]);
  assert.equal(m.meanPerClassAccuracy, 1 / 3);
  const ce = (row: number[], y: number): number => Math.log(row.reduce((a, v) => a + Math.exp(v), 0)) - row[y]!;
  const expected = (ce([0, 0, 0, 5, 0, 0, 0], 3) + ce([0, 1, 2, 3, 4, 5, -1], 0) + ce([1, 0, 0, 0, 0, 0, 0.5], 6)) / 3;
  assert.ok(Math.abs(m.meanLoss - expected) < 1e-9, `${m.meanLoss} vs ${expected}`);
});

test('metrics: ties go to the lower class index, consistently for top-1 and the prediction', () => {
  const acc = new MetricsAccumulator(3, 1);
  const pred = new Int32Array(2);
  const conf = new Float32Array(2);
  acc.add(Float32Array.from([2, 2, 0, 1, 1, 1]), 2, Int32Array.from([1, 0]), pred, conf);
  assert.deepEqual(Array.from(pred), [0, 0]);
  assert.equal(acc.result().top1, 0.5);
  assert.ok(Math.abs(conf[1]! - 1 / 3) < 1e-7);
});
