import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FcprobeError } from '../../src/errors.js';
import { buildLabelSpace, describeLabelSpace, poolLogits } from '../../src/probe/labelSpace.js';
import { MetricsAccumulator } from '../../src/probe/metrics.js';

const TRAIN = ['ant', 'bee', 'cat', 'dog', 'eel', 'fox'];

test('labelSpace: same classes in the same order is the identity (plain argmax)', () => {
  const s = buildLabelSpace(TRAIN, TRAIN, null);
  assert.equal(s.kind, 'identity');
  assert.deepEqual(Array.from(s.fromEval), [0, 1, 2, 3, 4, 5]);
  const logits = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const out = new Float32Array(6);
  poolLogits(logits, 1, 6, s, out);
  assert.deepEqual(Array.from(out), [1, 2, 3, 4, 5, 6]);
});

test('labelSpace: a class subset masks the other logits (hand-computed example)', () => {
  // The eval set has only cat and ant (in that order). Row 0: the global argmax is fox (9), but among
  // {cat, ant} cat (2) wins. Row 1: ant (5) beats cat (-1) though dog (7) is larger than both.
  const s = buildLabelSpace(TRAIN, ['cat', 'ant'], null);
  assert.equal(s.kind, 'subset');
  assert.deepEqual(s.classes, ['cat', 'ant']);
  assert.deepEqual(
    s.members.map((m) => Array.from(m)),
    [[2], [0]],
  );
  const logits = Float32Array.from([1, 0, 2, 3, 4, 9, 5, 6, -1, 7, 0, 0]);
  const scores = new Float32Array(4);
  poolLogits(logits, 2, 6, s, scores);
  assert.deepEqual(Array.from(scores), [2, 1, -1, 5]);
  const acc = new MetricsAccumulator(2, 5);
  const pred = new Int32Array(2);
  acc.add(scores, 2, Int32Array.from([0, 0]), pred);
  assert.deepEqual(Array.from(pred), [0, 1]);
  const m = acc.result();
  assert.equal(m.top1, 0.5);
  assert.equal(m.top5, 1); // top-min(5, 2) = top-2
  assert.equal(m.topK, 2);
  // Loss: row 0 -log softmax([2,1])[0] = log(1+e^-1); row 1 -log softmax([-1,5])[0] = log(1+e^6).
  const expected = (Math.log(1 + Math.exp(-1)) + Math.log(1 + Math.exp(6))) / 2;
  assert.ok(Math.abs(m.meanLoss - expected) < 1e-9);
  assert.match(describeLabelSpace(s), /restricted to this set's 2 of the probe's 6 classes/);
});

test('labelSpace: classMap pools the max over mapped logits (ObjectNet style)', () => {
  // "seat" stands for cat+dog+eel, "bug" for ant+bee; "car" maps to nothing and is not scored.
  const s = buildLabelSpace(TRAIN, ['seat', 'car', 'bug'], [['cat', 'dog', 'eel'], [], ['ant', 'bee']]);
  assert.equal(s.kind, 'mapped');
  assert.deepEqual(s.classes, ['seat', 'bug']);
  assert.deepEqual(Array.from(s.fromEval), [0, -1, 1]);
  assert.deepEqual(s.dropped, [{ evalIndex: 1, name: 'car', reason: 'unmapped' }]);
  const logits = Float32Array.from([0, 1, 0.5, 3, 2, 100, 4, 0, 3.9, -2, 3, 0]);
  const scores = new Float32Array(4);
  poolLogits(logits, 2, 6, s, scores);
  assert.deepEqual(Array.from(scores), [3, 1, Math.fround(3.9), 4]);
});

test('labelSpace: an unknown evaluation class is an error naming it; --ignore-unknown drops it', () => {
  assert.throws(
    () => buildLabelSpace(TRAIN, ['cat', 'gnu'], null),
    (e: unknown) =>
      e instanceof FcprobeError &&
      e.code === 'MISMATCH' &&
      /"gnu"/.test(e.message) &&
      /--ignore-unknown/.test(e.hint ?? ''),
  );
  assert.throws(() => buildLabelSpace(TRAIN, ['seat'], [['cat', 'sofa']]), /seat -> sofa/);
  const s = buildLabelSpace(TRAIN, ['cat', 'gnu'], null, { ignoreUnknown: true });
  assert.deepEqual(s.classes, ['cat']);
  assert.deepEqual(Array.from(s.fromEval), [0, -1]);
  assert.deepEqual(s.dropped, [{ evalIndex: 1, name: 'gnu', reason: 'unknown' }]);
  // Partly known mapping: the unknown name is dropped, the class kept with its known members.
  const m = buildLabelSpace(TRAIN, ['seat'], [['cat', 'sofa']], { ignoreUnknown: true });
  assert.deepEqual(
    m.members.map((x) => Array.from(x)),
    [[2]],
  );
  assert.throws(() => buildLabelSpace(TRAIN, ['gnu'], null, { ignoreUnknown: true }), /nothing can be scored/);
});

test('labelSpace: a reordered full class list is scored by name, not position', () => {
  const s = buildLabelSpace(['a', 'b', 'c'], ['c', 'a', 'b'], null);
  assert.equal(s.kind, 'subset');
  const scores = new Float32Array(3);
  poolLogits(Float32Array.from([10, 20, 30]), 1, 3, s, scores);
  assert.deepEqual(Array.from(scores), [30, 10, 20]);
});
