/**
 * The distillation head: a linear map or an MLP from the student backbone's features (Ds) to the teacher's (Dt),
 * PyTorch layout and nn.Linear initialization (math/mlp.ts), float32 parameters; and its ONNX export.
 */
import type { Activation } from '../math/activations.js';
import { Mlp, type MlpSpec } from '../math/mlp.js';
import type { Rng } from '../math/rng.js';
import type { Standardization } from '../math/standardize.js';
import { mlpToOnnx } from './mlpOnnx.js';
import { HEAD_ACTIVATIONS, HEAD_KINDS } from '../options.js';

export { HEAD_KINDS };
export type HeadKind = (typeof HEAD_KINDS)[number];
export { HEAD_ACTIVATIONS };
export type HeadActivation = (typeof HEAD_ACTIVATIONS)[number] & Activation;

export interface HeadSpec {
  kind: HeadKind;
  /** Hidden width (mlp only). */
  hidden: number;
  /** Linear maps (mlp only; >= 2: one hidden layer per extra map). */
  layers: number;
  activation: HeadActivation;
}

/** The MlpSpec of a head from Ds to Dt: a linear head is a one-map MLP (no activation). */
export function headMlpSpec(h: HeadSpec, ds: number, dt: number): MlpSpec {
  const linear = h.kind === 'linear';
  return {
    inDim: ds,
    hidden: linear ? dt : h.hidden,
    outDim: dt,
    layers: linear ? 1 : h.layers,
    activation: linear ? 'none' : h.activation,
    bias: true,
    freezeOutput: false,
  };
}

export function createHead(h: HeadSpec, ds: number, dt: number, rng: Rng): Mlp {
  return Mlp.create(headMlpSpec(h, ds, dt), rng);
}

/**
 * A copy of `net` whose output is in the teacher's raw feature space: when the head was trained on standardized
 * targets, y = std * z + mean is folded into the last layer (W' = diag(std) W, b' = std * b + mean), computed in
 * float64 and rounded once to float32. Without a standardization the copy has the same weights.
 */
export function foldTargetStandardization(net: Mlp, s: Standardization | null): Mlp {
  const out = net.clone();
  if (!s) return out;
  const L = out.layers[out.layers.length - 1]!;
  if (s.mean.length !== L.outDim) throw new RangeError(`foldTargetStandardization: ${s.mean.length} vs ${L.outDim}`);
  const bias = L.bias ?? new Float32Array(L.outDim);
  for (let o = 0; o < L.outDim; o++) {
    const sd = s.std[o]!;
    for (let j = 0; j < L.inDim; j++) L.weight[o * L.inDim + j] = sd * L.weight[o * L.inDim + j]!;
    bias[o] = sd * bias[o]! + s.mean[o]!;
  }
  L.bias = bias;
  return out;
}

/** head.onnx: input `backbone_features` float32 [N, Ds], output `features` float32 [N, Dt]. */
export function headToOnnx(net: Mlp, description: string): Uint8Array {
  return mlpToOnnx(net, {
    inputName: 'backbone_features',
    outputName: 'features',
    graphName: 'fcprobe_distill_head',
    docString: description,
  });
}
