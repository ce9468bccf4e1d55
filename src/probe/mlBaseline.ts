/**
 * The npm package ml-logistic-regression as a baseline solver (`--solver ml`): one-vs-all logistic
 * regressions fitted by plain gradient ascent on float64 ml-matrix arrays, no penalty, no intercept.
 * fcprobe appends a constant-1 column so that the package can learn intercepts, and converts its classifiers
 * into the common [K, D+1] weight format: the package predicts argmin_k sigmoid(x . w_k) (class k was
 * trained against target 0), so logit_k = -x . w_k gives the same argmax.
 */
import { createRequire } from 'node:module';
import { PROBE_DEFAULTS } from '../options.js';
import type { Matrix as MatrixType } from 'ml-matrix';

export interface MlOptions {
  /** Gradient steps per one-vs-all classifier (package default 50000). */
  numSteps: number;
  /** Step size (package default 5e-4); the package's gradient is a sum over rows, not a mean. */
  learningRate: number;
}

export const ML_DEFAULTS: MlOptions = { numSteps: PROBE_DEFAULTS.mlSteps, learningRate: PROBE_DEFAULTS.mlLearningRate };

interface MlTwoClass {
  weights: MatrixType;
}
export interface MlModel {
  numberClasses: number;
  classifiers: MlTwoClass[];
  train(x: MatrixType, y: MatrixType): void;
  predict(x: MatrixType): number[];
}
interface MlCtor {
  new (options: { numSteps: number; learningRate: number }): MlModel;
}
interface MatrixModule {
  Matrix: typeof MatrixType;
}

// The package is CommonJS without types; load it and ml-matrix through require so that both see the same
// ml-matrix copy (the ESM build of ml-matrix is a different class).
const require = createRequire(import.meta.url);
const LogisticRegression = require('ml-logistic-regression') as MlCtor;
const { Matrix } = require('ml-matrix') as MatrixModule;

/** The design matrix the package is trained on: x [n, d] plus a constant-1 column. */
export function mlDesignMatrix(x: Float32Array, n: number, d: number): MatrixType {
  const m = new Matrix(n, d + 1);
  for (let i = 0; i < n; i++) {
    const row = new Array<number>(d + 1);
    for (let j = 0; j < d; j++) row[j] = x[i * d + j]!;
    row[d] = 1;
    m.setRow(i, row);
  }
  return m;
}

export function createMlModel(o: MlOptions): MlModel {
  return new LogisticRegression({ numSteps: o.numSteps, learningRate: o.learningRate });
}

/** Labels must be 0..k-1 with every class present (the package counts classes from the labels). */
export function fitMlLogisticRegression(
  x: Float32Array,
  n: number,
  d: number,
  labels: Int32Array,
  k: number,
  o: MlOptions,
): { weights: Float32Array; model: MlModel } {
  const model = createMlModel(o);
  model.train(mlDesignMatrix(x, n, d), Matrix.columnVector(Array.from(labels)));
  if (model.numberClasses !== k)
    throw new RangeError(`ml-logistic-regression saw ${model.numberClasses} classes, expected ${k}`);
  return { weights: mlModelToWeights(model, d), model };
}

export function mlModelToWeights(model: MlModel, d: number): Float32Array {
  const k = model.numberClasses;
  const w = new Float32Array(k * (d + 1));
  for (let c = 0; c < k; c++) {
    const wc = model.classifiers[c]!.weights;
    for (let j = 0; j <= d; j++) w[c * (d + 1) + j] = -wc.get(0, j);
  }
  return w;
}
