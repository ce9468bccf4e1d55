/**
 * The training loop of the synthetic experiment (toy.py's main): full-batch training of an MLP on the
 * structured-feature data, recording every `every` iterations the ID and OOD loss and accuracy, the core and
 * background weight norms (the paper's "feature correlation"), and the activation asymmetry.
 *
 * Record at iteration t = the state after t updates, every quantity measured on that same state (t = 0: the
 * initialization). toy.py logs, at its 0-based step i, the loss before update i and the rest after it, so its
 * first point is one update later than ours; over 20,000 updates that difference is invisible.
 */
import type { Gemm, Mat } from '../compute/gemm.js';
import type { Activation } from '../math/activations.js';
import { activationAsymmetry, meanWeightNorms } from './weightNorms.js';
import { computeLoss, signAccuracy, type LossKind } from '../math/losses.js';
import { Mlp, MlpWorkspace, type MlpInput } from '../math/mlp.js';
import { Optimizer, type OptimizerKind } from '../math/optimizers.js';
import { Rng } from '../math/rng.js';
import { generateStructuredData, type StructuredData, type StructuredDataSpec } from './structuredData.js';

export interface SimulationConfig {
  data: StructuredDataSpec;
  hidden: number;
  /** Linear maps in the MLP (>= 2 so that there is a hidden layer to measure). */
  layers: number;
  activation: Activation;
  bias: boolean;
  freezeOutput: boolean;
  loss: LossKind;
  optimizer: OptimizerKind;
  lr: number;
  weightDecay: number;
  momentum: number;
  iterations: number;
  every: number;
  seed: number;
  /** Use x = z T in the first layer (exact; 3x fewer multiply-adds). false: multiply the dense 256-d input. */
  lowRank: boolean;
}

export interface SimulationRecord {
  iteration: number;
  idLoss: number;
  oodLoss: number;
  idAccuracy: number;
  oodAccuracy: number;
  /**
   * Mean over first-layer neurons of the L2 norm of the neuron's weights along the core / the background
   * directions (||C[j, core]||, C = W1 T^T): the paper's "feature correlation", named here by what it is.
   */
  coreWeightNorm: number;
  backgroundWeightNorm: number;
  /** Mean over neurons of the majority-class share of |activation| mass (ID set), in [0.5, 1]. */
  asymmetry: number;
}

export interface SimulationOutcome {
  records: SimulationRecord[];
  /** Per-neuron asymmetry at the last record (NaN for neurons with no activation). */
  finalAsymmetry: Float32Array;
  model: Mlp;
  data: StructuredData;
}

export interface SimulationHooks {
  /** Called after each record. */
  onRecord?: (r: SimulationRecord) => void;
  /** Called every `progressEvery` iterations with the number of updates done. */
  onProgress?: (done: number) => void;
  progressEvery?: number;
}

/** Iterations at which a record is taken: 0, every, 2 every, ..., and the last one. */
export function recordIterations(iterations: number, every: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < iterations; t += every) out.push(t);
  out.push(iterations);
  return out;
}

/**
 * Runs one simulation. The same seed gives the same initialization and data whatever the activation, loss
 * or optimizer (the network is initialized first, then the data drawn, as toy.py does), so a ReLU run and
 * a linear run with one seed differ only by the activation.
 */
export async function runStructuredSimulation(
  gemm: Gemm,
  config: SimulationConfig,
  hooks: SimulationHooks = {},
): Promise<SimulationOutcome> {
  const { data: dataSpec, iterations, every } = config;
  if (config.layers < 2) throw new RangeError('runStructuredSimulation: needs at least 2 layers (one hidden layer)');
  const rng = new Rng(config.seed);
  const net = Mlp.create(
    {
      inDim: dataSpec.inputDim,
      hidden: config.hidden,
      outDim: 1,
      layers: config.layers,
      activation: config.activation,
      bias: config.bias,
      freezeOutput: config.freezeOutput,
    },
    rng,
  );
  const data = generateStructuredData(dataSpec, rng);
  const n = dataSpec.n;
  const latent = data.transform.rows;
  const inputId: MlpInput = config.lowRank ? { left: data.latentId, right: data.transform } : data.id;
  const inputOod: MlpInput = config.lowRank ? { left: data.latentOod, right: data.transform } : data.ood;
  const ws = new MlpWorkspace(net, n, config.lowRank ? latent : 0);
  const opt = new Optimizer(config.optimizer, net.parameters(), {
    lr: config.lr,
    weightDecay: config.weightDecay,
    momentum: config.momentum,
  });
  const dOut = new Float32Array(n);
  const normScratch = new Float32Array(config.hidden * latent);
  const finalAsymmetry = new Float32Array(config.hidden);
  const records: SimulationRecord[] = [];
  const first = net.layers[0]!;
  const w1: Mat = { data: first.weight, rows: first.outDim, cols: first.inDim };
  const progressEvery = hooks.progressEvery ?? 100;

  for (let t = 0; t <= iterations; t++) {
    const isRecord = t % every === 0 || t === iterations;
    const out = await ws.forward(gemm, inputId);
    const idLoss = computeLoss(config.loss, out.data, data.labels, n, 1, dOut);
    let partial: Omit<SimulationRecord, 'oodLoss' | 'oodAccuracy'> | null = null;
    if (isRecord) {
      const norms = await meanWeightNorms(gemm, w1, data.transform, dataSpec.coreDim, normScratch);
      partial = {
        iteration: t,
        idLoss,
        idAccuracy: signAccuracy(out.data, data.labels, n),
        coreWeightNorm: norms.core,
        backgroundWeightNorm: norms.background,
        asymmetry: activationAsymmetry(ws.hiddenActivations(0), n, config.hidden, data.labels, finalAsymmetry),
      };
    }
    if (t < iterations) await ws.backward(gemm, inputId, dOut);
    if (partial) {
      // After backward: the OOD pass reuses the workspace, the gradients already sit in the layers.
      const o = await ws.forward(gemm, inputOod);
      const rec: SimulationRecord = {
        ...partial,
        oodLoss: computeLoss(config.loss, o.data, data.labels, n, 1, null),
        oodAccuracy: signAccuracy(o.data, data.labels, n),
      };
      records.push(rec);
      hooks.onRecord?.(rec);
    }
    if (t === iterations) break;
    opt.step();
    if (hooks.onProgress && (t + 1) % progressEvery === 0) hooks.onProgress(t + 1);
  }
  return { records, finalAsymmetry, model: net, data };
}
