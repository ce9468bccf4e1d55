/**
 * Exports a trained `Mlp` as an ONNX graph (Gemm per layer, the activation between them), so a student
 * trained in TypeScript runs anywhere an encoder runs: `fcprobe extract` reads it like any other model.
 *
 * Input float32 [N, inDim] under the caller's name, output float32 [N, outDim]. For image inputs, either
 * `flattenFrom` declares an NCHW input that a Flatten node turns into [N, C*H*W] (row-major, as
 * torch.flatten(x, 1)), or `prefix` supplies arbitrary nodes that end in a [N, inDim] tensor.
 */
import type { Activation } from '../math/activations.js';
import { LEAKY_SLOPE } from '../math/activations.js';
import type { Mlp } from '../math/mlp.js';
import { buildOnnxModel, type Dim, type Initializer, type NodeSpec, type ValueInfo } from '../compute/onnxBuilder.js';

export interface MlpOnnxOptions {
  /** Graph input name (default 'input'). */
  inputName?: string;
  /** Graph output name (default 'output'). */
  outputName?: string;
  /** Batch dimension (default the symbol 'N'). */
  batch?: Dim;
  /** Accept [N, channels, height, width] and flatten it; channels * height * width must equal inDim. */
  flattenFrom?: { channels: number; height: number; width: number };
  /**
   * Caller-made front: the graph input is `prefix.input`, `prefix.nodes` run first and produce
   * `prefix.output` ([N, inDim]), which feeds the MLP. Mutually exclusive with flattenFrom.
   */
  prefix?: { input: ValueInfo; nodes: NodeSpec[]; initializers: Initializer[]; output: string };
  graphName?: string;
  docString?: string;
}

function activationNodes(kind: Activation, x: string, y: string, tag: string, inits: Initializer[]): NodeSpec[] {
  switch (kind) {
    case 'relu':
      return [{ op: 'Relu', inputs: [x], outputs: [y] }];
    case 'leaky-relu':
      return [{ op: 'LeakyRelu', inputs: [x], outputs: [y], attrs: { alpha: { float: LEAKY_SLOPE } } }];
    case 'sigmoid':
      return [{ op: 'Sigmoid', inputs: [x], outputs: [y] }];
    case 'tanh':
      return [{ op: 'Tanh', inputs: [x], outputs: [y] }];
    case 'none':
      return [{ op: 'Identity', inputs: [x], outputs: [y] }];
    case 'gelu': {
      // Opset 17 has no Gelu op: 0.5 x (1 + erf(x / sqrt 2)), PyTorch's exact form.
      const c = `${tag}_gelu_`;
      inits.push({ name: `${c}rsqrt2`, dims: [], data: Float32Array.of(Math.SQRT1_2) });
      inits.push({ name: `${c}one`, dims: [], data: Float32Array.of(1) });
      inits.push({ name: `${c}half`, dims: [], data: Float32Array.of(0.5) });
      return [
        { op: 'Mul', inputs: [x, `${c}rsqrt2`], outputs: [`${c}s`] },
        { op: 'Erf', inputs: [`${c}s`], outputs: [`${c}e`] },
        { op: 'Add', inputs: [`${c}e`, `${c}one`], outputs: [`${c}p`] },
        { op: 'Mul', inputs: [x, `${c}p`], outputs: [`${c}xp`] },
        { op: 'Mul', inputs: [`${c}xp`, `${c}half`], outputs: [y] },
      ];
    }
  }
}

/** The ONNX bytes of `net` (weights copied; later training does not change the exported model). */
export function mlpToOnnx(net: Mlp, options: MlpOnnxOptions = {}): Uint8Array {
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'output';
  const batch = options.batch ?? 'N';
  const { inDim, outDim } = net.spec;
  if (options.flattenFrom && options.prefix) throw new RangeError('mlpToOnnx: give flattenFrom or prefix, not both');
  const nodes: NodeSpec[] = [];
  const inits: Initializer[] = [];
  let graphInput: ValueInfo = { name: inputName, type: 'float32', shape: [batch, inDim] };
  let x = inputName;
  if (options.flattenFrom) {
    const { channels, height, width } = options.flattenFrom;
    if (channels * height * width !== inDim) {
      throw new RangeError(
        `mlpToOnnx: flattenFrom ${channels}x${height}x${width} = ${channels * height * width} values, ` +
          `the MLP takes ${inDim}`,
      );
    }
    graphInput = { name: inputName, type: 'float32', shape: [batch, channels, height, width] };
    nodes.push({ op: 'Flatten', inputs: [inputName], outputs: ['mlp_flat'], attrs: { axis: 1 } });
    x = 'mlp_flat';
  } else if (options.prefix) {
    graphInput = options.prefix.input;
    nodes.push(...options.prefix.nodes);
    inits.push(...options.prefix.initializers);
    x = options.prefix.output;
  }
  const last = net.layers.length - 1;
  net.layers.forEach((L, l) => {
    const w = `fc${l}_weight`;
    inits.push({ name: w, dims: [L.outDim, L.inDim], data: L.weight.slice() });
    const ins = [x, w];
    if (L.bias) {
      inits.push({ name: `fc${l}_bias`, dims: [L.outDim], data: L.bias.slice() });
      ins.push(`fc${l}_bias`);
    }
    const y = l === last ? outputName : `fc${l}_out`;
    nodes.push({ op: 'Gemm', inputs: ins, outputs: [y], attrs: { transB: 1 } });
    if (l < last) {
      const a = `act${l}_out`;
      nodes.push(...activationNodes(net.spec.activation, y, a, `act${l}`, inits));
      x = a;
    }
  });
  return buildOnnxModel({
    name: options.graphName ?? 'fcprobe_mlp',
    docString:
      options.docString ??
      `fcprobe MLP: ${net.spec.layers} layers, ${inDim} -> ${net.spec.hidden} -> ${outDim}, ${net.spec.activation}`,
    inputs: [graphInput],
    outputs: [{ name: outputName, type: 'float32', shape: [batch, outDim] }],
    nodes,
    initializers: inits,
  });
}
