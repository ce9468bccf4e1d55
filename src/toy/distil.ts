/**
 * Representation distillation of a demo student: full-batch AdamW on the MSE between the student's output and
 * the teacher's features, ID training images only (the paper's students fit the teacher's embedding with an
 * MSE loss). Each student trains in its own worker thread (distilWorker.ts) with a one-thread onnxruntime
 * GEMM, so two students use two cores; the arithmetic is the same as on the main thread, so the weights are too.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Gemm, Mat } from '../compute/gemm.js';
import type { Activation } from '../math/activations.js';
import type { DemoWorldSpec } from './demoWorld.js';
import { computeLoss } from '../math/losses.js';
import { Mlp, MlpWorkspace } from '../math/mlp.js';
import { Optimizer } from '../math/optimizers.js';
import { Rng } from '../math/rng.js';
import { writeFileAtomic } from '../io/atomic.js';
import { hashValue } from '../io/hash.js';
import { mlpToOnnx } from '../distill/mlpOnnx.js';
import { runWorkerTask } from '../io/workerTask.js';
import { DEMO_DEFAULTS } from '../options.js';

export interface StudentSpec {
  activation: Activation;
  hidden: number;
  iterations: number;
  lr: number;
  weightDecay: number;
  seed: number;
}

export const STUDENT_DEFAULTS: StudentSpec = {
  activation: DEMO_DEFAULTS.studentActivation,
  hidden: DEMO_DEFAULTS.hidden,
  iterations: DEMO_DEFAULTS.iterations,
  lr: DEMO_DEFAULTS.lr,
  weightDecay: 1e-3,
  seed: 7,
};

export interface StudentTraining {
  activation: Activation;
  modelPath: string;
  /** MSE to the teacher's features on the ID training images, at the start and the end. */
  initialLoss: number;
  finalLoss: number;
  seconds: number;
  cached: boolean;
}

/** Everything one student's training needs, as plain data (it crosses to a worker thread). */
export interface DistilJob {
  spec: StudentSpec;
  world: DemoWorldSpec;
  /** Training inputs [rows, cols] and the teacher's features [rows, world.teacherDim]. */
  x: Mat;
  target: Float32Array;
  modelPath: string;
}

export interface DistilProgress {
  iteration: number;
  total: number;
  loss: number;
}

/** Trains (or reuses, when the sidecar's key matches) one student and writes it as ONNX. */
export async function trainStudent(
  gemm: Gemm,
  job: DistilJob,
  onProgress?: (i: number, total: number, loss: number) => void,
): Promise<StudentTraining> {
  const { spec, world, x, target, modelPath } = job;
  const key = hashValue({ spec, world, v: 1 });
  const sidecar = `${modelPath}.json`;
  if (existsSync(modelPath) && existsSync(sidecar)) {
    const info = JSON.parse(readFileSync(sidecar, 'utf8')) as StudentTraining & { key: string };
    if (info.key === key) return { ...info, modelPath, cached: true };
  }
  const t0 = performance.now();
  const net = Mlp.create(
    {
      inDim: x.cols,
      hidden: spec.hidden,
      outDim: world.teacherDim,
      layers: 2,
      activation: spec.activation,
      bias: true,
      freezeOutput: false,
    },
    new Rng(spec.seed),
  );
  const ws = new MlpWorkspace(net, x.rows);
  const opt = new Optimizer('adamw', net.parameters(), { lr: spec.lr, weightDecay: spec.weightDecay });
  const grad = new Float32Array(x.rows * world.teacherDim);
  let initialLoss = NaN;
  let loss = NaN;
  for (let it = 0; it < spec.iterations; it++) {
    const out = await ws.forward(gemm, x);
    loss = computeLoss('mse', out.data, target, x.rows, out.cols, grad);
    if (it === 0) initialLoss = loss;
    await ws.backward(gemm, x, grad);
    opt.step();
    if (onProgress && (it % 50 === 0 || it === spec.iterations - 1)) onProgress(it + 1, spec.iterations, loss);
  }
  const finalOut = await ws.forward(gemm, x);
  const finalLoss = computeLoss('mse', finalOut.data, target, x.rows, finalOut.cols, null);
  const doc = `fcprobe demo student (${spec.activation}), distilled from the demo teacher on the ID training images.`;
  writeFileSync(
    modelPath,
    mlpToOnnx(net, {
      inputName: 'input',
      outputName: 'features',
      flattenFrom: { channels: 3, height: world.side, width: world.side },
      graphName: `fcprobe_demo_student_${spec.activation}`,
      docString: doc,
    }),
  );
  const result: StudentTraining = {
    activation: spec.activation,
    modelPath,
    initialLoss,
    finalLoss,
    seconds: (performance.now() - t0) / 1000,
    cached: false,
  };
  writeFileAtomic(sidecar, `${JSON.stringify({ ...result, key, spec }, null, 1)}\n`);
  return result;
}

/** trainStudent in a worker thread of its own. */
export function trainStudentInWorker(
  job: DistilJob,
  onProgress?: (i: number, total: number, loss: number) => void,
): Promise<StudentTraining> {
  return runWorkerTask<DistilProgress, StudentTraining>(
    new URL('./distilWorker.js', import.meta.url),
    job,
    'distillation',
    (m) => onProgress?.(m.iteration, m.total, m.loss),
  );
}
