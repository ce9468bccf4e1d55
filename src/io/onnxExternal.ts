/**
 * The external-data files an ONNX model references (initializers stored outside the .onnx file, e.g.
 * model.onnx.data): their content determines the model's outputs as much as the .onnx file's, so they are part
 * of the feature cache key.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

type Tensor = InstanceType<typeof onnx.TensorProto>;
type Graph = InstanceType<typeof onnx.GraphProto>;

function fromTensor(t: Tensor | null | undefined, out: Set<string>): void {
  for (const e of t?.externalData ?? []) if (e.key === 'location' && e.value) out.add(e.value);
}

function fromGraph(g: Graph | null | undefined, out: Set<string>): void {
  if (!g) return;
  for (const t of g.initializer ?? []) fromTensor(t as Tensor, out);
  for (const s of g.sparseInitializer ?? []) {
    fromTensor(s.values as Tensor, out);
    fromTensor(s.indices as Tensor, out);
  }
  for (const n of g.node ?? []) {
    for (const a of n.attribute ?? []) {
      fromTensor(a.t as Tensor, out);
      for (const t of a.tensors ?? []) fromTensor(t as Tensor, out);
      fromGraph(a.g as Graph, out);
      for (const sg of a.graphs ?? []) fromGraph(sg as Graph, out);
    }
  }
}

/**
 * The `location` of every tensor stored as external data in the model (initializers, sparse initializers,
 * Constant values, subgraphs), sorted and without duplicates; paths are relative to the model's folder.
 * Throws protobufjs's error on bytes that are not an ONNX model.
 */
export function externalDataLocations(model: Uint8Array): string[] {
  const m = onnx.ModelProto.decode(model);
  const out = new Set<string>();
  fromGraph(m.graph as Graph, out);
  for (const f of m.functions ?? [])
    for (const n of f.node ?? []) for (const a of n.attribute ?? []) fromTensor(a.t as Tensor, out);
  return [...out].sort();
}
