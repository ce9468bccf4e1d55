import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateStructuredData, randomOrthonormalRows } from '../../src/toy/structuredData.js';
import { Rng } from '../../src/math/rng.js';

const spec = { n: 101, coreDim: 5, bgDim: 4, inputDim: 20, coreMode: 'nonlinear' as const };

test('orthonormal transform: T T^T = I', () => {
  const t = randomOrthonormalRows(9, 20, new Rng(1));
  for (let i = 0; i < 9; i++)
    for (let k = 0; k < 9; k++) {
      let dot = 0;
      for (let j = 0; j < 20; j++) dot += t.data[i * 20 + j]! * t.data[k * 20 + j]!;
      assert.ok(Math.abs(dot - (i === k ? 1 : 0)) < 1e-6, `row ${i} . row ${k} = ${dot}`);
    }
  assert.throws(() => randomOrthonormalRows(21, 20, new Rng(1)), /do not fit/);
});

test('shapes, labels and class balance', () => {
  const d = generateStructuredData(spec, new Rng(2));
  assert.equal(d.transform.rows, 9);
  assert.equal(d.transform.cols, 20);
  for (const m of [d.id, d.ood]) {
    assert.equal(m.rows, 101);
    assert.equal(m.cols, 20);
    assert.equal(m.data.length, 101 * 20);
  }
  for (const m of [d.latentId, d.latentOod]) {
    assert.equal(m.rows, 101);
    assert.equal(m.cols, 9);
  }
  // toy.py: N_pos = n // 2 first, then N_neg = n - N_pos.
  assert.equal(d.labels.filter((y) => y === 1).length, 50);
  assert.equal(d.labels.filter((y) => y === -1).length, 51);
  assert.ok(d.labels.slice(0, 50).every((y) => y === 1));
});

test('inputs are z T, and the OOD shift lives in the background coordinates only', () => {
  const d = generateStructuredData(spec, new Rng(3));
  const { n, coreDim: c, inputDim } = spec;
  const latent = d.transform.rows;
  for (let i = 0; i < n; i++) {
    // Project both inputs back: z = x T^T (T has orthonormal rows).
    for (let k = 0; k < latent; k++) {
      let pi = 0,
        po = 0;
      for (let j = 0; j < inputDim; j++) {
        pi += d.id.data[i * inputDim + j]! * d.transform.data[k * inputDim + j]!;
        po += d.ood.data[i * inputDim + j]! * d.transform.data[k * inputDim + j]!;
      }
      assert.ok(Math.abs(pi - d.latentId.data[i * latent + k]!) < 1e-5);
      if (k < c) assert.ok(Math.abs(po - pi) < 1e-5, `core coordinate ${k} of row ${i} moved by ${po - pi}`);
      else {
        assert.ok(pi >= 0 && pi <= 1 + 1e-6, `ID background ${pi} outside [0, 1]`);
        assert.ok(po <= 1e-6 && po >= -1 - 1e-6, `OOD background ${po} outside [-1, 0]`);
      }
    }
  }
});

test('nonlinear core: radius 1 for the positive class, 2 for the negative class', () => {
  const d = generateStructuredData(spec, new Rng(4));
  const latent = 9;
  for (let i = 0; i < spec.n; i++) {
    let s = 0;
    for (let k = 0; k < spec.coreDim; k++) s += d.latentId.data[i * latent + k]! ** 2;
    assert.ok(Math.abs(Math.sqrt(s) - (d.labels[i] === 1 ? 1 : 2)) < 1e-5);
  }
});

test('linear core: [0,1]^d for the positive class, its negation for the negative class', () => {
  const d = generateStructuredData({ ...spec, coreMode: 'linear' }, new Rng(5));
  const latent = 9;
  let meanPos = 0;
  for (let i = 0; i < spec.n; i++)
    for (let k = 0; k < spec.coreDim; k++) {
      const v = d.latentId.data[i * latent + k]!;
      if (d.labels[i] === 1) {
        assert.ok(v >= 0 && v < 1);
        meanPos += v;
      } else assert.ok(v <= 0 && v > -1);
    }
  meanPos /= 50 * spec.coreDim;
  assert.ok(Math.abs(meanPos - 0.5) < 0.1, `mean of U[0,1] core features ${meanPos}`);
});

test('the same seed gives the same data', () => {
  const a = generateStructuredData(spec, new Rng(7)),
    b = generateStructuredData(spec, new Rng(7));
  assert.deepEqual(a.id.data, b.id.data);
  assert.deepEqual(a.ood.data, b.ood.data);
  const c = generateStructuredData(spec, new Rng(8));
  assert.notDeepEqual(a.id.data, c.id.data);
});
