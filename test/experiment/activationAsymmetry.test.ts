import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActivationAsymmetryAccumulator } from '../../src/experiment/activationAsymmetry.js';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

// 6 examples, 3 neurons, labels in a 4-class space whose class 3 has no example (so K = 3).
// Neuron 0: 1 everywhere -> class means (1, 1, 1): a = 1/3, s = 0.
// Neuron 1: class 0 {2, 4} mean 3, class 1 {0} mean 0, class 2 {1, 0, 2} mean 1
//   -> a = 3/4, s = (3/4 - 1/3) / (2/3) = 5/8.
// Neuron 2: always 0 -> dead.
const labels = [0, 0, 1, 2, 2, 2];
const neuron1 = [2, 4, 0, 1, 0, 2];
const block = new Float32Array(labels.flatMap((_, i) => [1, neuron1[i]!, 0]));

test('hand-computed asymmetry: even neuron 0, class-specific neuron 5/8, dead neuron counted apart', () => {
  const acc = new ActivationAsymmetryAccumulator(3, 4);
  acc.add(block, labels, 6);
  const r = acc.result();
  assert.equal(r.applicable, true);
  if (!r.applicable) return;
  assert.equal(r.classes, 3);
  assert.equal(r.examples, 6);
  assert.equal(r.deadNeurons, 1);
  close(r.raw.min, 1 / 3);
  close(r.raw.max, 3 / 4);
  close(r.normalized.min, 0);
  close(r.normalized.max, 5 / 8);
  close(r.normalized.median, 5 / 16);
  close(r.normalized.mean, 5 / 16);
  assert.deepEqual(r.thresholds, [0.1, 0.25, 0.5]);
  assert.deepEqual(r.shareAbove, [0.5, 0.5, 0.5]);
});

test('per-class means, not sums: duplicating one class does not change the result', () => {
  const acc = new ActivationAsymmetryAccumulator(3, 4);
  acc.add(block, labels, 6);
  acc.add(block.subarray(0, 6), labels.slice(0, 2), 2); // class 0 again, same values
  const r = acc.result();
  assert.ok(r.applicable);
  if (r.applicable) close(r.normalized.max, 5 / 8);
});

test('streaming in blocks gives the same result as one block', () => {
  const one = new ActivationAsymmetryAccumulator(3, 4);
  one.add(block, labels, 6);
  const split = new ActivationAsymmetryAccumulator(3, 4);
  split.add(block.subarray(0, 3 * 4), labels.slice(0, 4), 4);
  split.add(block.subarray(3 * 4), labels.slice(4), 2);
  assert.deepEqual(split.result(), one.result());
});

test('negative features: not applicable, with the reason', () => {
  const acc = new ActivationAsymmetryAccumulator(2, 2);
  acc.add(Float32Array.from([1, -0.5, 2, 1]), [0, 1], 2);
  const r = acc.result();
  assert.equal(r.applicable, false);
  if (!r.applicable) {
    assert.equal(r.minActivation, -0.5);
    assert.match(r.reason, /negative values/);
  }
});

test('a label outside the class space is a RangeError', () => {
  const acc = new ActivationAsymmetryAccumulator(1, 2);
  assert.throws(() => acc.add(Float32Array.from([1]), [2], 1), RangeError);
});
