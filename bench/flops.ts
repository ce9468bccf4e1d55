/**
 * Operation count of a graph, per image: walks the nodes in order, infers shapes for the ops our graphs use,
 * and counts 2 FLOPs per multiply-add in Conv, MatMul and Gemm. Elementwise ops, pooling, softmax and
 * normalization are left out (a few percent of a CNN or ViT); the count is what a GEMM-bound engine must do.
 */
import type { GraphSpec } from '../src/compute/onnxBuilder.js';

export interface FlopCount {
  /** FLOPs for one image (symbolic batch dimensions set to 1). */
  flops: number;
  /** FLOPs by op type. */
  byOp: Record<string, number>;
}

type Shape = number[];

function broadcast(a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1)
      throw new RangeError(`cannot broadcast [${a.join(', ')}] with [${b.join(', ')}]`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

function ints(v: unknown, fallback: number[]): number[] {
  return Array.isArray(v) ? v : fallback;
}

const SAME_SHAPE = new Set([
  'Relu',
  'Sigmoid',
  'Tanh',
  'Erf',
  'Gelu',
  'Identity',
  'Softmax',
  'LayerNormalization',
  'BatchNormalization',
  'Clip',
  'Sqrt',
  'Neg',
  'Exp',
]);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow']);

/** Counts FLOPs per image; throws on an op whose output shape it cannot work out. */
export function countFlops(spec: GraphSpec): FlopCount {
  const shapes = new Map<string, Shape>();
  const values = new Map<string, number[]>();
  for (const i of spec.inputs)
    shapes.set(
      i.name,
      i.shape.map((d) => (typeof d === 'number' ? d : 1)),
    );
  for (const t of spec.initializers) {
    shapes.set(t.name, t.dims);
    if (t.data instanceof BigInt64Array) values.set(t.name, Array.from(t.data, Number));
  }
  const byOp: Record<string, number> = {};
  let total = 0;
  const add = (op: string, f: number): void => {
    byOp[op] = (byOp[op] ?? 0) + f;
    total += f;
  };
  for (const n of spec.nodes) {
    const ins = n.inputs.map((name) => {
      const s = shapes.get(name);
      if (!s) throw new RangeError(`${n.op} node reads "${name}", whose shape is unknown`);
      return s;
    });
    const a = n.attrs ?? {};
    const x = ins[0]!;
    let out: Shape;
    if (n.op === 'Conv') {
      const w = ins[1]!;
      const k = w.slice(2);
      const strides = ints(
        a.strides,
        k.map(() => 1),
      );
      const dil = ints(
        a.dilations,
        k.map(() => 1),
      );
      const pads = ints(a.pads, new Array<number>(2 * k.length).fill(0));
      const spatial = k.map(
        (kk, i) => Math.floor((x[2 + i]! + pads[i]! + pads[i + k.length]! - dil[i]! * (kk - 1) - 1) / strides[i]!) + 1,
      );
      out = [x[0]!, w[0]!, ...spatial];
      // w is [Cout, Cin/group, k...]: one multiply-add per weight per output position.
      add('Conv', 2 * x[0]! * w.reduce((p, d) => p * d, 1) * spatial.reduce((p, d) => p * d, 1));
    } else if (n.op === 'MaxPool' || n.op === 'AveragePool') {
      const k = ints(a.kernel_shape, []);
      const strides = ints(
        a.strides,
        k.map(() => 1),
      );
      const pads = ints(a.pads, new Array<number>(2 * k.length).fill(0));
      out = [
        x[0]!,
        x[1]!,
        ...k.map((kk, i) => Math.floor((x[2 + i]! + pads[i]! + pads[i + k.length]! - kk) / strides[i]!) + 1),
      ];
    } else if (n.op === 'GlobalAveragePool') {
      out = [x[0]!, x[1]!, ...x.slice(2).map(() => 1)];
    } else if (n.op === 'Flatten') {
      const axis = typeof a.axis === 'number' ? a.axis : 1;
      out = [x.slice(0, axis).reduce((p, d) => p * d, 1), x.slice(axis).reduce((p, d) => p * d, 1)];
    } else if (n.op === 'MatMul') {
      const bm = ins[1]!;
      const m = x[x.length - 2]!,
        k = x[x.length - 1]!,
        nn = bm[bm.length - 1]!;
      if (bm[bm.length - 2] !== k)
        throw new RangeError(`MatMul inner dimensions differ: [${x.join(', ')}] x [${bm.join(', ')}]`);
      const batch = broadcast(x.slice(0, -2), bm.slice(0, -2));
      out = [...batch, m, nn];
      add('MatMul', 2 * batch.reduce((p, d) => p * d, 1) * m * k * nn);
    } else if (n.op === 'Gemm') {
      const bm = ins[1]!;
      const m = a.transA ? x[1]! : x[0]!,
        k = a.transA ? x[0]! : x[1]!;
      const nn = a.transB ? bm[0]! : bm[1]!;
      out = [m, nn];
      add('Gemm', 2 * m * k * nn);
    } else if (SAME_SHAPE.has(n.op)) {
      out = x;
    } else if (BINARY.has(n.op)) {
      out = broadcast(x, ins[1]!);
    } else if (n.op === 'Reshape') {
      const target = values.get(n.inputs[1]!);
      if (!target) throw new RangeError('Reshape needs its shape as an int64 initializer');
      const t = target.map((d, i) => (d === 0 ? x[i]! : d));
      const known = t.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
      out = t.map((d) => (d === -1 ? x.reduce((p, q) => p * q, 1) / known : d));
    } else if (n.op === 'Transpose') {
      const perm = ints(
        a.perm,
        x.map((_, i) => x.length - 1 - i),
      );
      out = perm.map((p) => x[p]!);
    } else if (n.op === 'Gather') {
      const axis = ((typeof a.axis === 'number' ? a.axis : 0) + x.length) % x.length;
      out = [...x.slice(0, axis), ...ins[1]!, ...x.slice(axis + 1)];
    } else if (n.op === 'Concat') {
      const axis = ((a.axis as number) + x.length) % x.length;
      out = x.map((d, i) => (i === axis ? ins.reduce((p, s) => p + s[i]!, 0) : d));
    } else {
      throw new RangeError(`countFlops: no shape rule for ${n.op}`);
    }
    for (const o of n.outputs) shapes.set(o, out);
  }
  return { flops: total, byOp };
}
