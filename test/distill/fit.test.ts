import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsGemm } from '../../src/compute/gemm.js';
import { jackknifeCkaInterval } from '../../src/distill/fit.js';
import { linearCka } from '../../src/math/cka.js';
import { Rng } from '../../src/math/rng.js';

test('the CKA jackknife interval is cka +- 1.96 se over leave-one-out CKAs computed in feature space', async () => {
  const n = 14,
    d = 5;
  const rng = new Rng(4);
  const x = new Float32Array(n * d).map(() => rng.normal());
  const y = x.map((v, i) => v * (1 + (i % d)) + 0.8 * rng.normal());
  const full = (await linearCka({ data: x, rows: n, cols: d }, { data: y, rows: n, cols: d }, jsGemm)).cka;
  // Independent: the streamed feature-space estimator on each subset without one row.
  const loo: number[] = [];
  for (let leave = 0; leave < n; leave++) {
    const keep = (a: Float32Array): Float32Array =>
      Float32Array.from({ length: (n - 1) * d }, (_, k) => {
        const r = Math.floor(k / d);
        return a[(r < leave ? r : r + 1) * d + (k % d)]!;
      });
    const m = { rows: n - 1, cols: d };
    loo.push((await linearCka({ data: keep(x), ...m }, { data: keep(y), ...m }, jsGemm)).cka);
  }
  const mean = loo.reduce((a, b) => a + b, 0) / n;
  const se = Math.sqrt(((n - 1) / n) * loo.reduce((a, v) => a + (v - mean) ** 2, 0));
  const iv = await jackknifeCkaInterval(jsGemm, x, y, n, d, full);
  assert.ok(iv);
  assert.ok(Math.abs(iv.low - (full - 1.96 * se)) < 1e-6, `${iv.low} vs ${full - 1.96 * se}`);
  assert.ok(Math.abs(iv.high - (full + 1.96 * se)) < 1e-6);
  assert.ok(iv.low < full && full < iv.high && se > 0);
});
