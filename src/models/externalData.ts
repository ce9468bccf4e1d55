/**
 * The external-data files an ONNX graph refers to (TensorProto.data_location = EXTERNAL, key "location"):
 * graphs over 2 GB keep their weights beside the .onnx file, and such a graph is useless without them.
 */
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import { FcprobeError } from '../errors.js';

const { onnx } = onnxProto;
type Tensor = onnxProto.onnx.ITensorProto;
type Graph = onnxProto.onnx.IGraphProto;

function tensorsOf(g: Graph | null | undefined, out: Tensor[]): void {
  if (!g) return;
  out.push(...(g.initializer ?? []));
  for (const n of g.node ?? [])
    for (const a of n.attribute ?? []) {
      if (a.t) out.push(a.t);
      out.push(...(a.tensors ?? []));
      tensorsOf(a.g, out);
      for (const sub of a.graphs ?? []) tensorsOf(sub, out);
    }
}

/**
 * Relative paths (from the .onnx file's folder, '/'-separated, sorted, distinct) of the graph's external-data
 * files. Throws BAD_MODEL when the file is not an ONNX model or a location could escape its folder.
 */
export function externalDataLocations(onnxPath: string, label = onnxPath): string[] {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(readFileSync(onnxPath));
  } catch (e) {
    throw new FcprobeError('BAD_MODEL', `${label} is not an ONNX model: ${(e as Error).message}`);
  }
  const tensors: Tensor[] = [];
  tensorsOf(model.graph, tensors);
  const found = new Set<string>();
  for (const t of tensors) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const loc = (t.externalData ?? []).find((kv) => kv.key === 'location')?.value;
    if (!loc)
      throw new FcprobeError('BAD_MODEL', `${label}: tensor ${t.name ?? '?'} is external but names no location.`);
    const rel = loc.split('\\').join('/');
    if (rel.startsWith('/') || /^[A-Za-z]:/.test(rel) || rel.split('/').some((s) => s === '..' || s === ''))
      throw new FcprobeError(
        'BAD_MODEL',
        `${label}: external data location "${loc}" is not a path inside the model's folder.`,
      );
    found.add(
      rel
        .split('/')
        .filter((s) => s !== '.')
        .join('/'),
    );
  }
  return [...found].sort();
}
