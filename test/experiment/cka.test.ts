import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinearCkaAccumulator, linearCka } from '../../src/experiment/cka.js';
import { createOrtGemm, jsGemm, type Mat } from '../../src/compute/gemm.js';
import { Rng } from '../../src/math/rng.js';

/** The O(N^2) definition: centred Gram matrices K = H X X^T H, L = H Y Y^T H; CKA = <K,L> / (|K| |L|). */
function directCka(x: Mat, y: Mat): number {
  const n = x.rows;
  const gram = (m: Mat): Float64Array => {
    const g = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < m.cols; k++) s += m.data[i * m.cols + k]! * m.data[j * m.cols + k]!;
        g[i * n + j] = s;
      }
    // H G H: subtract row means and column means, add the grand mean.
    const row = new Float64Array(n),
      col = new Float64Array(n);
    let all = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        row[i]! += g[i * n + j]! / n;
        col[j]! += g[i * n + j]! / n;
        all += g[i * n + j]! / (n * n);
      }
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g[i * n + j] = g[i * n + j]! - row[i]! - col[j]! + all;
    return g;
  };
  const K = gram(x),
    L = gram(y);
  let kl = 0,
    kk = 0,
    ll = 0;
  for (let i = 0; i < n * n; i++) {
    kl += K[i]! * L[i]!;
    kk += K[i]! * K[i]!;
    ll += L[i]! * L[i]!;
  }
  return kl / Math.sqrt(kk * ll);
}

function randomMat(rng: Rng, rows: number, cols: number, offset = 0, scale = 1): Mat {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = offset + scale * rng.normal();
  return { data, rows, cols };
}

/** Random orthogonal d x d matrix (Gram-Schmidt on Gaussian columns), float64. */
function randomOrthogonal(rng: Rng, d: number): Float64Array {
  const q = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    const v = new Float64Array(d).map(() => rng.normal());
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += v[i]! * q[i * d + k]!;
      for (let i = 0; i < d; i++) v[i]! -= dot * q[i * d + k]!;
    }
    const norm = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
    for (let i = 0; i < d; i++) q[i * d + j] = v[i]! / norm;
  }
  return q;
}

/** x Q * scale + shift (shift added to every row), in float32. */
function transform(x: Mat, q: Float64Array, scale: number, shift: number): Mat {
  const d = x.cols;
  const out = new Float32Array(x.rows * d);
  for (let i = 0; i < x.rows; i++)
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += x.data[i * d + k]! * q[k * d + j]!;
      out[i * d + j] = s * scale + shift;
    }
  return { data: out, rows: x.rows, cols: d };
}

test('CKA of a matrix with itself is 1', async () => {
  const x = randomMat(new Rng(1), 40, 6, 2);
  const r = await linearCka(x, x, jsGemm);
  assert.ok(Math.abs(r.cka - 1) < 1e-9, `got ${r.cka}`);
});

test('CKA of a hand-computed 3x1 vs 3x2 case is 5 / (2 sqrt 10), offsets removed by centring', async () => {
  // Centred: x = (-1, 0, 1); Y columns (-1, 0, 1) and (0, 1, -1). Xc^T Yc = (2, -1), squared norm 5;
  // Xc^T Xc = 2; Yc^T Yc = [[2, -1], [-1, 2]] with Frobenius norm sqrt(10).
  const x: Mat = { data: Float32Array.from([4, 5, 6]), rows: 3, cols: 1 };
  const y: Mat = { data: Float32Array.from([2, -2, 3, -1, 4, -3]), rows: 3, cols: 2 };
  const r = await linearCka(x, y, jsGemm);
  assert.ok(Math.abs(r.cka - 5 / (2 * Math.sqrt(10))) < 1e-12, `got ${r.cka}`);
  assert.ok(Math.abs(r.crossSquared - 5) < 1e-12);
  assert.ok(Math.abs(r.normXX - 2) < 1e-12);
  assert.ok(Math.abs(r.normYY - Math.sqrt(10)) < 1e-12);
  assert.ok(Math.abs(directCka(x, y) - r.cka) < 1e-12);
});

test('CKA is invariant to orthogonal transforms, isotropic scaling and translation', async () => {
  const rng = new Rng(7);
  const x = randomMat(rng, 60, 5);
  const y = randomMat(rng, 60, 3);
  for (let i = 0; i < y.data.length; i++) y.data[i]! += 0.8 * x.data[Math.floor(i / 3) * 5 + (i % 3)]!;
  const base = (await linearCka(x, y, jsGemm)).cka;
  assert.ok(base > 0.2 && base < 0.95, `base CKA ${base} should be informative`);
  const xt = transform(x, randomOrthogonal(rng, 5), 3.7, -2);
  const moved = (await linearCka(xt, y, jsGemm)).cka;
  assert.ok(Math.abs(moved - base) < 1e-5, `${moved} vs ${base}`);
  const self = (await linearCka(x, xt, jsGemm)).cka;
  assert.ok(Math.abs(self - 1) < 1e-5, `CKA(X, XQ*s) = ${self}`);
  // A non-isotropic scaling does change it: the invariance above is not vacuous.
  const aniso: Mat = { data: x.data.map((v, i) => (i % 5 === 0 ? v * 10 : v)), rows: 60, cols: 5 };
  assert.ok(Math.abs((await linearCka(aniso, y, jsGemm)).cka - base) > 1e-3);
});

test('streamed CKA equals the direct N x N formula, for any block split', async () => {
  const rng = new Rng(3);
  const x = randomMat(rng, 53, 7, 1.5);
  const y = randomMat(rng, 53, 4, -0.5, 2);
  for (let i = 0; i < 53; i++) y.data[i * 4]! += x.data[i * 7]! * 2 + x.data[i * 7 + 1]!;
  const direct = directCka(x, y);
  for (const block of [1, 8, 53, 100]) {
    const r = await linearCka(x, y, jsGemm, block);
    assert.ok(Math.abs(r.cka - direct) < 1e-6, `block ${block}: ${r.cka} vs ${direct}`);
  }
  // Uneven blocks through the accumulator directly.
  const acc = new LinearCkaAccumulator(7, 4, jsGemm);
  for (const [s, e] of [
    [0, 5],
    [5, 6],
    [6, 40],
    [40, 53],
  ] as const) {
    await acc.add(x.data.subarray(s * 7, e * 7), y.data.subarray(s * 4, e * 4), e - s);
  }
  assert.equal(acc.rows, 53);
  assert.ok(Math.abs(acc.result().cka - direct) < 1e-6);
});

test('onnxruntime Gemm gives the direct value, also with a large common offset (float32 cancellation)', async () => {
  const gemm = await createOrtGemm({ threads: 1 });
  try {
    const rng = new Rng(11);
    const x = randomMat(rng, 300, 24, 500, 1);
    const y = randomMat(rng, 300, 16, 1000, 0.5);
    for (let i = 0; i < 300; i++) for (let j = 0; j < 16; j++) y.data[i * 16 + j]! += 0.5 * (x.data[i * 24 + j]! - 500);
    const direct = directCka({ ...x, data: x.data.map((v) => v - 500) }, { ...y, data: y.data.map((v) => v - 1000) });
    const r = await linearCka(x, y, gemm, 64);
    assert.ok(Math.abs(r.cka - direct) < 1e-4, `${r.cka} vs ${direct}`);
  } finally {
    await gemm.dispose();
  }
});

test('CKA is NaN when one side has no variance', async () => {
  const x: Mat = { data: new Float32Array(12).fill(3), rows: 4, cols: 3 };
  const y = randomMat(new Rng(5), 4, 2);
  assert.ok(Number.isNaN((await linearCka(x, y, jsGemm)).cka));
});
