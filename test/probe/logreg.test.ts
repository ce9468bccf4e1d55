import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOrtGemm, jsGemm } from '../../src/compute/gemm.js';
import { computeLogits, fitSoftmaxRegression, SoftmaxObjective, thetaToWeights } from '../../src/probe/logreg.js';
import { MetricsAccumulator } from '../../src/probe/metrics.js';
import { Rng } from '../../src/math/rng.js';
import { gaussianClasses } from '../helpers/featureDir.js';

/** Independent float64 reference: mean CE + ||W||^2 / (2 C n) and its gradient, theta [k, d+1]. */
function reference(
  x: Float32Array,
  y: Int32Array,
  n: number,
  d: number,
  k: number,
  C: number,
  theta: Float64Array,
): { f: number; g: Float64Array } {
  const g = new Float64Array(k * (d + 1));
  let f = 0;
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: k }, (_, c) => {
      let s = theta[c * (d + 1) + d]!;
      for (let j = 0; j < d; j++) s += theta[c * (d + 1) + j]! * x[i * d + j]!;
      return s;
    });
    const mx = Math.max(...z);
    const lse = mx + Math.log(z.reduce((a, v) => a + Math.exp(v - mx), 0));
    f += lse - z[y[i]!]!;
    for (let c = 0; c < k; c++) {
      const r = (Math.exp(z[c]! - lse) - (c === y[i] ? 1 : 0)) / n;
      for (let j = 0; j < d; j++) g[c * (d + 1) + j]! += r * x[i * d + j]!;
      g[c * (d + 1) + d]! += r;
    }
  }
  f /= n;
  for (let c = 0; c < k; c++)
    for (let j = 0; j < d; j++) {
      const w = theta[c * (d + 1) + j]!;
      f += (w * w) / (2 * C * n);
      g[c * (d + 1) + j]! += w / (C * n);
    }
  return { f, g };
}

test('logreg: objective and gradient equal the float64 reference (blocked evaluation, random theta)', async () => {
  const means = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
    [1, 1, 1],
  ];
  const { x, labels, d } = gaussianClasses(means, 37, 5);
  const rng = new Rng(9);
  const theta = Float64Array.from({ length: 4 * (d + 1) }, () => rng.normal());
  const ref = reference(x, labels, 37, d, 4, 0.3, theta);
  const obj = new SoftmaxObjective(jsGemm, { x, n: 37, d, labels, k: 4 }, 0.3, 10); // 4 blocks
  const g = new Float64Array(theta.length);
  const f = await obj.evaluate(theta, g);
  assert.ok(Math.abs(f - ref.f) < 1e-6 * Math.abs(ref.f), `f ${f} vs ${ref.f}`);
  for (let i = 0; i < g.length; i++) assert.ok(Math.abs(g[i]! - ref.g[i]!) < 1e-6, `g[${i}] ${g[i]} vs ${ref.g[i]}`);
});

/** Damped Newton on the binary problem (w, b) with penalty (lambda/2)||w||^2, written out in full. */
function newtonBinary(x: Float32Array, t: Int32Array, n: number, d: number, lambda: number): Float64Array {
  const p = d + 1;
  const w = new Float64Array(p);
  for (let it = 0; it < 100; it++) {
    const g = new Float64Array(p);
    const H = Array.from({ length: p }, () => new Float64Array(p));
    for (let i = 0; i < n; i++) {
      const xi = [...Array.from(x.subarray(i * d, i * d + d)), 1];
      const z = xi.reduce((a, v, j) => a + v * w[j]!, 0);
      const s = 1 / (1 + Math.exp(-z));
      for (let a = 0; a < p; a++) {
        g[a]! += ((s - t[i]!) * xi[a]!) / n;
        for (let b = 0; b < p; b++) H[a]![b]! += (s * (1 - s) * xi[a]! * xi[b]!) / n;
      }
    }
    for (let a = 0; a < d; a++) {
      g[a]! += lambda * w[a]!;
      H[a]![a]! += lambda;
    }
    // Solve H step = g by Gaussian elimination with partial pivoting.
    const A = H.map((row, i) => [...row, g[i]!]);
    for (let c = 0; c < p; c++) {
      let piv = c;
      for (let r = c + 1; r < p; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[piv]![c]!)) piv = r;
      [A[c], A[piv]] = [A[piv]!, A[c]!];
      for (let r = c + 1; r < p; r++) {
        const m = A[r]![c]! / A[c]![c]!;
        for (let j = c; j <= p; j++) A[r]![j]! -= m * A[c]![j]!;
      }
    }
    const step = new Float64Array(p);
    for (let r = p - 1; r >= 0; r--) {
      let s = A[r]![p]!;
      for (let j = r + 1; j < p; j++) s -= A[r]![j]! * step[j]!;
      step[r] = s / A[r]![r]!;
    }
    for (let a = 0; a < p; a++) w[a]! -= step[a]!;
    if (Math.max(...Array.from(step, Math.abs)) < 1e-13) break;
  }
  return w;
}

test('logreg: separable two-class problem: gradient ~ 0 at the solution, agrees with a Newton solver', async () => {
  // Separable classes: the L2 term alone keeps the optimum finite.
  const { x, labels, d } = gaussianClasses(
    [
      [-2, -1, 0.5],
      [2, 1, -0.5],
    ],
    80,
    11,
    0.4,
  );
  const n = 80,
    C = 0.5;
  const fit = await fitSoftmaxRegression(jsGemm, { x, n, d, labels, k: 2 }, { C, tol: 1e-9, ftol: 0, maxIter: 2000 });
  assert.ok(fit.converged, fit.reason);
  const ref = reference(x, labels, n, d, 2, C, fit.theta);
  const gmax = Math.max(...Array.from(ref.g, Math.abs));
  assert.ok(
    gmax < 1e-7,
    `reference gradient at the solution: ${gmax} (${fit.reason} after ${fit.iterations} iterations)`,
  );
  // Two-class softmax = binary logistic regression on w = w1 - w0 with lambda = 1 / (2 C n): at the optimum
  // w1 = -w0 (the penalty splits w evenly), and the biases sum to zero (they start at zero and their
  // gradients always sum to zero).
  const nb = newtonBinary(x, labels, n, d, 1 / (2 * C * n));
  const t = fit.theta;
  for (let j = 0; j <= d; j++) {
    const diff = t[d + 1 + j]! - t[j]!;
    assert.ok(
      Math.abs(diff - nb[j]!) < 1e-5 * Math.max(1, Math.abs(nb[j]!)),
      `coordinate ${j}: ${diff} vs Newton ${nb[j]}`,
    );
    assert.ok(Math.abs(t[d + 1 + j]! + t[j]!) < 1e-6, `symmetry at ${j}`);
  }
  assert.ok(Math.hypot(nb[0]!, nb[1]!, nb[2]!) > 1, 'the problem is not degenerate');
});

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 erf, |error| < 1.5e-7). */
function phi(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

test('logreg: Gaussian mixture reaches the Bayes accuracy Phi(||mu||) within sampling error', async () => {
  // N(+mu, I) vs N(-mu, I), equal priors: the Bayes rule is linear with accuracy Phi(||mu||) = Phi(1).
  const mu = [0.6, -0.48, 0, 0.64];
  const bayes = phi(1);
  const train = gaussianClasses([mu, mu.map((v) => -v)], 4000, 21);
  const test_ = gaussianClasses([mu, mu.map((v) => -v)], 20000, 22);
  const gemm = await createOrtGemm();
  try {
    const fit = await fitSoftmaxRegression(
      gemm,
      { x: train.x, n: 4000, d: 4, labels: train.labels, k: 2 },
      { C: 1, tol: 1e-7, maxIter: 500 },
    );
    const w = thetaToWeights(fit.theta);
    const logits = new Float32Array(20000 * 2);
    await computeLogits(gemm, w, 2, 4, test_.x, 20000, logits);
    const acc = new MetricsAccumulator(2, 1);
    acc.add(logits, 20000, test_.labels);
    const top1 = acc.result().top1;
    // Test-set sampling sd ~ 0.26 points; estimation error with d = 4, n = 4000 is ~0.1 points.
    assert.ok(Math.abs(top1 - bayes) < 0.01, `accuracy ${top1} vs Bayes ${bayes}`);
  } finally {
    await gemm.dispose();
  }
});

test('logreg: permuting rows and renaming classes permutes the solution and keeps the predictions', async () => {
  const means = [
    [2, 0, 0, 0],
    [0, 2, 0, 0],
    [0, 0, 2, 0],
    [0, 0, 0, 2],
  ];
  const { x, labels, d } = gaussianClasses(means, 200, 31);
  const n = 200,
    k = 4;
  const rowPerm = new Rng(5).shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const classPerm = [2, 0, 3, 1]; // class c becomes classPerm[c]
  const x2 = new Float32Array(n * d);
  const y2 = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    x2.set(x.subarray(rowPerm[i]! * d, rowPerm[i]! * d + d), i * d);
    y2[i] = classPerm[labels[rowPerm[i]!]!]!;
  }
  const gemm = await createOrtGemm();
  try {
    const opts = { C: 1, tol: 1e-8, maxIter: 1000 };
    const a = await fitSoftmaxRegression(gemm, { x, n, d, labels, k }, opts);
    const b = await fitSoftmaxRegression(gemm, { x: x2, n, d, labels: y2, k }, opts);
    for (let c = 0; c < k; c++)
      for (let j = 0; j <= d; j++) {
        const va = a.theta[c * (d + 1) + j]!,
          vb = b.theta[classPerm[c]! * (d + 1) + j]!;
        assert.ok(Math.abs(va - vb) < 1e-4 * Math.max(1, Math.abs(va)), `class ${c} coef ${j}: ${va} vs ${vb}`);
      }
    const la = new Float32Array(n * k),
      lb = new Float32Array(n * k);
    await computeLogits(gemm, thetaToWeights(a.theta), k, d, x, n, la);
    await computeLogits(gemm, thetaToWeights(b.theta), k, d, x, n, lb);
    const pa = new Int32Array(n),
      pb = new Int32Array(n);
    new MetricsAccumulator(k, 1).add(la, n, labels, pa);
    new MetricsAccumulator(k, 1).add(lb, n, labels, pb);
    for (let i = 0; i < n; i++) assert.equal(classPerm[pa[i]!], pb[i], `row ${i}`);
  } finally {
    await gemm.dispose();
  }
});

test('logreg: a fit is deterministic (same bytes twice)', async () => {
  const { x, labels, d } = gaussianClasses(
    [
      [1, 0],
      [0, 1],
      [-1, -1],
    ],
    90,
    41,
  );
  const gemm = await createOrtGemm();
  try {
    const a = await fitSoftmaxRegression(gemm, { x, n: 90, d, labels, k: 3 }, { C: 2, tol: 1e-7, maxIter: 500 });
    const b = await fitSoftmaxRegression(gemm, { x, n: 90, d, labels, k: 3 }, { C: 2, tol: 1e-7, maxIter: 500 });
    assert.deepEqual(Buffer.from(a.theta.buffer), Buffer.from(b.theta.buffer));
    assert.equal(a.iterations, b.iterations);
  } finally {
    await gemm.dispose();
  }
});
