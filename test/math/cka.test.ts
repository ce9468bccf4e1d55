import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LinearCkaAccumulator, linearCka } from '../../src/math/cka.js';
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

/**
 * The debiased estimator straight from its definition (Song et al. 2012), on raw (uncentred) Gram matrices:
 * K~ = X X^T with a zero diagonal, HSIC_u = [tr(K~L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3)).
 */
function directDebiasedCka(x: Mat, y: Mat): number {
  const n = x.rows;
  const gram = (m: Mat): Float64Array => {
    const g = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        let s = 0;
        for (let k = 0; k < m.cols; k++) s += m.data[i * m.cols + k]! * m.data[j * m.cols + k]!;
        g[i * n + j] = s;
      }
    return g;
  };
  const hsic = (K: Float64Array, L: Float64Array): number => {
    let tr = 0,
      sumK = 0,
      sumL = 0,
      kl1 = 0;
    const rowK = new Float64Array(n),
      rowL = new Float64Array(n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        tr += K[i * n + j]! * L[j * n + i]!;
        sumK += K[i * n + j]!;
        sumL += L[i * n + j]!;
        rowK[i]! += K[i * n + j]!;
        rowL[i]! += L[i * n + j]!;
      }
    // 1' K L 1 = sum_j (K 1)_j (L 1)_j for symmetric K.
    for (let j = 0; j < n; j++) kl1 += rowK[j]! * rowL[j]!;
    return (tr + (sumK * sumL) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * kl1) / (n * (n - 3));
  };
  const K = gram(x),
    L = gram(y);
  return hsic(K, L) / Math.sqrt(hsic(K, K) * hsic(L, L));
}

test('streamed debiased CKA equals the direct N x N unbiased-HSIC formula, any block split and offset', async () => {
  const rng = new Rng(21);
  const x = randomMat(rng, 47, 6, 3);
  const y = randomMat(rng, 47, 5, -2, 1.5);
  for (let i = 0; i < 47; i++) y.data[i * 5 + 1]! += 1.5 * x.data[i * 6 + 2]! - x.data[i * 6]!;
  const direct = directDebiasedCka(x, y);
  assert.ok(direct > 0.05 && direct < 0.9, `direct ${direct} should be informative`);
  for (const block of [1, 5, 47]) {
    const r = await linearCka(x, y, jsGemm, block);
    assert.ok(Math.abs(r.ckaDebiased - direct) < 1e-6, `block ${block}: ${r.ckaDebiased} vs ${direct}`);
    assert.ok(r.ckaDebiased < r.cka, 'the debiased estimate removes a positive bias here');
  }
  // The streamed value works in shifted coordinates; the estimator is translation invariant.
  const moved = await linearCka({ ...x, data: x.data.map((v) => v + 40) }, y, jsGemm, 10);
  assert.ok(Math.abs(moved.ckaDebiased - direct) < 1e-5, `${moved.ckaDebiased} vs ${direct}`);
});

test('debiased CKA stays near 0 on independent features where the biased one reads ~0.2 at n = 32', async () => {
  const rng = new Rng(5);
  let biased = 0,
    debiased = 0;
  const trials = 40;
  for (let t = 0; t < trials; t++) {
    const x = randomMat(rng, 32, 16);
    const y = randomMat(rng, 32, 16);
    const r = await linearCka(x, y, jsGemm);
    biased += r.cka / trials;
    debiased += r.ckaDebiased / trials;
    if (t === 0) assert.ok(Math.abs(r.ckaDebiased - directDebiasedCka(x, y)) < 1e-6);
  }
  assert.ok(biased > 0.15 && biased < 0.5, `biased mean ${biased}`);
  assert.ok(Math.abs(debiased) < 0.03, `debiased mean ${debiased}`);
});

test('debiased CKA is NaN below 4 rows (the estimator divides by n - 3)', async () => {
  const rng = new Rng(2);
  const r = await linearCka(randomMat(rng, 3, 2), randomMat(rng, 3, 2), jsGemm);
  assert.ok(Number.isNaN(r.ckaDebiased));
});
