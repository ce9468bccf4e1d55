import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minimizeLbfgs } from '../../src/math/lbfgs.js';

test('lbfgs: Rosenbrock reaches (1, 1) from (-1.2, 1)', async () => {
  const r = await minimizeLbfgs(
    async (x, g) => {
      const a = x[0]!,
        b = x[1]!;
      g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
      g[1] = 200 * (b - a * a);
      return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
    },
    Float64Array.from([-1.2, 1]),
    { gtol: 1e-9, ftol: 0 },
  );
  assert.equal(r.reason, 'gtol');
  assert.ok(Math.abs(r.x[0]! - 1) < 1e-6 && Math.abs(r.x[1]! - 1) < 1e-6, `got ${r.x[0]}, ${r.x[1]}`);
  assert.ok(r.iterations < 100, `${r.iterations} iterations`);
});

test('lbfgs: a conditioned-1e2 quadratic reaches the closed-form minimizer (scipy L-BFGS-B: 92 steps)', async () => {
  const n = 50;
  const diag = Float64Array.from({ length: n }, (_, i) => 10 ** (-1 + (2 * i) / (n - 1)));
  const b = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1));
  const r = await minimizeLbfgs(
    async (x, g) => {
      let f = 0;
      for (let i = 0; i < n; i++) {
        g[i] = diag[i]! * x[i]! - b[i]!;
        f += 0.5 * diag[i]! * x[i]! ** 2 - b[i]! * x[i]!;
      }
      return f;
    },
    new Float64Array(n),
    { gtol: 1e-7, ftol: 0, maxIter: 5000 },
  );
  assert.equal(r.reason, 'gtol', `max|g| ${r.gradMaxAbs} after ${r.iterations}`);
  assert.ok(r.iterations < 200, `${r.iterations} iterations`);
  for (let i = 0; i < n; i++)
    assert.ok(Math.abs(r.x[i]! - b[i]! / diag[i]!) < 1e-5 * Math.max(1, Math.abs(b[i]! / diag[i]!)), `x[${i}]`);
});

test('lbfgs: the same problem gives the same bytes twice, and maxIter stops with reason max-iter', async () => {
  const fn = async (x: Float64Array, g: Float64Array): Promise<number> => {
    let f = 0;
    for (let i = 0; i < x.length; i++) {
      const t = x[i]! - i;
      f += Math.cosh(t);
      g[i] = Math.sinh(t);
    }
    return f;
  };
  const a = await minimizeLbfgs(fn, new Float64Array(8), { gtol: 1e-12, ftol: 0 });
  const b = await minimizeLbfgs(fn, new Float64Array(8), { gtol: 1e-12, ftol: 0 });
  assert.deepEqual(Buffer.from(a.x.buffer), Buffer.from(b.x.buffer));
  const c = await minimizeLbfgs(fn, new Float64Array(8), { gtol: 1e-12, ftol: 0, maxIter: 2 });
  assert.equal(c.reason, 'max-iter');
  assert.equal(c.iterations, 2);
  assert.equal(c.converged, false);
});
