import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  baselineProblem,
  effectiveRobustness,
  fitLogitLinear,
  logit,
  predictOod,
  sigmoid,
} from '../../src/experiment/effectiveRobustness.js';

const s = (z: number): number => 1 / (1 + Math.exp(-z));
const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

test('logit and sigmoid are inverse, sigmoid is stable for large |z|', () => {
  for (const p of [0.01, 0.3, 0.5, 0.9, 0.999]) close(sigmoid(logit(p)), p, 1e-12);
  close(logit(0.8), Math.log(4), 1e-12);
  assert.equal(sigmoid(-800), 0);
  assert.equal(sigmoid(800), 1);
});

test('hand-computed example: fit, prediction and effective robustness', () => {
  // Baseline points chosen with logit(ID) = 0, 1, 2 and logit(OOD) = -1, -0.3, 0.
  // OLS by hand: mean x 1, mean y -13/30; Sxx = 2, Sxy = 17/30 + 13/30 = 1
  //   -> slope 1/2, intercept -13/30 - 1/2 = -14/15.
  // Residuals -1/15, 2/15, -1/15: SSE = 6/225; SYY = 474/900; R^2 = 1 - 24/474 = 450/474.
  const points = [
    { id: s(0), ood: s(-1) },
    { id: s(1), ood: s(-0.3) },
    { id: s(2), ood: s(0) },
  ];
  const fit = fitLogitLinear(points);
  close(fit.slope, 0.5);
  close(fit.intercept, -14 / 15);
  close(fit.r2, 450 / 474);
  assert.equal(fit.n, 3);
  // A model with 80% ID: logit 0.8 = ln 4, predicted logit = ln 2 - 14/15, so beta = 1 / (1 + e^(14/15) / 2).
  const beta = 1 / (1 + Math.exp(14 / 15) / 2);
  close(predictOod(fit, 0.8), beta);
  close(beta, 0.44024, 1e-5);
  // With 50% OOD it is 5.98 pp above the baseline trend.
  close(effectiveRobustness(fit, 0.8, 0.5), 0.5 - beta);
  close(effectiveRobustness(fit, 0.8, 0.5), 0.05976, 1e-5);
  // A baseline model on the line has zero effective robustness; the points off it have their residuals.
  close(effectiveRobustness(fit, s(1), s(-0.3 - 2 / 15)), 0, 1e-12);
});

test('baseline problems are reported, not fitted', () => {
  assert.match(baselineProblem([{ id: 0.7, ood: 0.4 }]) ?? '', /at least 2/);
  assert.match(
    baselineProblem([
      { id: 76.1, ood: 0.4 },
      { id: 0.5, ood: 0.3 },
    ]) ?? '',
    /percentages must be divided by 100/,
  );
  assert.match(
    baselineProblem([
      { id: 1, ood: 0.4 },
      { id: 0.5, ood: 0.3 },
    ]) ?? '',
    /strictly between 0 and 1/,
  );
  assert.match(
    baselineProblem([
      { id: 0.5, ood: 0.4 },
      { id: 0.5, ood: 0.3 },
    ]) ?? '',
    /same ID accuracy/,
  );
  assert.equal(
    baselineProblem([
      { id: 0.6, ood: 0.4 },
      { id: 0.5, ood: 0.3 },
    ]),
    null,
  );
  assert.throws(() => fitLogitLinear([{ id: 0.5, ood: 0.4 }]), RangeError);
});
