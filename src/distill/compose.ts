/**
 * student.onnx: the student backbone and the distillation head in one ONNX graph (backbone image input ->
 * backbone feature tensor -> head -> `features`), so `extract` and `run` use the distilled student like any
 * encoder. The backbone's preprocessing travels as metadata_props key `fcprobe.preprocess` (JSON of the preset
 * fields), since the composed model is only right with the preprocessing its backbone features were made with.
 */
import onnxProto from 'onnx-proto';
import { FcprobeError } from '../errors.js';
import type { PreprocessSpec } from '../image/preprocessSpec.js';

const { onnx } = onnxProto;

export const PREPROCESS_METADATA_KEY = 'fcprobe.preprocess';
/** The backbone's feature tensor is renamed to this inside the composed graph (the head's output takes its name). */
const BACKBONE_TENSOR = 'fcprobe_backbone_features';
const HEAD_PREFIX = 'fcprobe_head/';

export interface ComposeOptions {
  /** Name of the backbone output whose features the head was trained on (the student manifest's outputName). */
  featureOutput: string;
  preprocess: PreprocessSpec;
  /**
   * The backbone features' preprocessing was assumed (source 'default'): recorded as `"assumed": true` so that a
   * later extract of the student still says so, instead of taking the guess for the model's own statement.
   */
  preprocessAssumed?: boolean;
  /** Name of the composed graph's output (default 'features'). */
  outputName?: string;
  docString?: string;
}

/**
 * Composes `backbone` (ONNX bytes) and `head` (head.onnx bytes: input `backbone_features`, output `features`).
 * The backbone's other outputs (logits) and the nodes only they need are dropped. Throws BAD_MODEL when the
 * backbone is unreadable, lacks `featureOutput`, or its feature width differs from the head's input.
 */
export function composeStudent(backbone: Uint8Array, head: Uint8Array, o: ComposeOptions): Uint8Array {
  let bb: onnxProto.onnx.ModelProto;
  try {
    bb = onnx.ModelProto.decode(backbone);
  } catch (e) {
    throw new FcprobeError('BAD_MODEL', `The backbone is not a readable ONNX model: ${(e as Error).message}`);
  }
  const hd = onnx.ModelProto.decode(head);
  // protobufjs decodes repeated fields to arrays (never null), so the decoded graphs are full GraphProtos.
  const g = bb.graph as onnxProto.onnx.GraphProto | null;
  const hg = hd.graph as onnxProto.onnx.GraphProto | null;
  if (!g || !hg) throw new FcprobeError('BAD_MODEL', 'The backbone ONNX model has no graph.');
  const outName = o.outputName ?? 'features';
  const featOut = g.output.find((v) => v.name === o.featureOutput);
  if (!featOut) {
    throw new FcprobeError(
      'BAD_MODEL',
      `The backbone has no output "${o.featureOutput}" (outputs: ${g.output.map((v) => v.name).join(', ')}).`,
      'Give the backbone that produced --student-features.',
    );
  }
  const headIn = hg.input[0]!;
  const headInDim = headIn.type?.tensorType?.shape?.dim?.[1]?.dimValue;
  const featDims = featOut.type?.tensorType?.shape?.dim ?? [];
  const lastDim = featDims[featDims.length - 1]?.dimValue;
  if (featDims.length !== 2 || (lastDim !== undefined && lastDim !== null && Number(lastDim) !== Number(headInDim))) {
    throw new FcprobeError(
      'BAD_MODEL',
      `The backbone's "${o.featureOutput}" output is [${featDims.map((d) => d.dimValue ?? d.dimParam).join(', ')}]; ` +
        `the head takes [N, ${Number(headInDim)}].`,
      'Compose only backbones whose feature output is [N, D] (no pooling by extract) with a head trained on their ' +
        'features.',
    );
  }
  const rename = (name: string): string => (name === o.featureOutput ? BACKBONE_TENSOR : name);
  for (const n of g.node as onnxProto.onnx.NodeProto[]) {
    n.input = n.input.map(rename);
    n.output = n.output.map(rename);
  }
  for (const v of g.valueInfo) v.name = rename(v.name ?? '');
  // Keep only the nodes the feature tensor needs (reverse reachability): the logits branch goes.
  const needed = new Set([BACKBONE_TENSOR]);
  const keep: boolean[] = new Array(g.node.length).fill(false);
  for (let i = g.node.length - 1; i >= 0; i--) {
    const n = g.node[i] as onnxProto.onnx.NodeProto;
    if (n.output.some((t) => needed.has(t))) {
      keep[i] = true;
      for (const t of n.input) if (t) needed.add(t);
    }
  }
  g.node = g.node.filter((_, i) => keep[i]);
  g.initializer = g.initializer.filter((t) => needed.has(t.name ?? ''));
  g.valueInfo = g.valueInfo.filter((v) => needed.has(v.name ?? ''));
  // Head: prefix its names so they cannot clash with the backbone's; its input becomes the backbone tensor.
  const headName = (name: string): string =>
    name === headIn.name ? BACKBONE_TENSOR : name === 'features' ? outName : `${HEAD_PREFIX}${name}`;
  for (const n of hg.node as onnxProto.onnx.NodeProto[]) {
    g.node.push(
      onnx.NodeProto.create({
        ...n,
        name: `${HEAD_PREFIX}${n.name ?? ''}`,
        input: n.input.map(headName),
        output: n.output.map(headName),
      }),
    );
  }
  for (const t of hg.initializer) g.initializer.push(onnx.TensorProto.create({ ...t, name: headName(t.name ?? '') }));
  const headOut = hg.output[0]!;
  const batchDim = featDims[0] ?? { dimParam: 'N' };
  g.output = [
    onnx.ValueInfoProto.create({
      name: outName,
      type: {
        tensorType: {
          elemType: headOut.type?.tensorType?.elemType ?? 1,
          shape: { dim: [batchDim, headOut.type?.tensorType?.shape?.dim?.[1] ?? { dimParam: 'D' }] },
        },
      },
    }),
  ];
  g.name = `${g.name ?? 'backbone'}+fcprobe_distill_head`;
  // The head's operators keep their meaning from opset 9 on (Erf appears at 9, Gemm broadcasts its bias from 7);
  // the backbone's opset is kept, since raising it would change some of the backbone's own operators.
  const def = bb.opsetImport.find((x) => !x.domain);
  if (!def || Number(def.version) < 9)
    throw new FcprobeError(
      'BAD_MODEL',
      `The backbone uses ONNX opset ${def ? Number(def.version) : 'none'}; composing needs opset 9 or later.`,
      'Re-export the backbone with a newer opset.',
    );
  bb.metadataProps = [
    ...bb.metadataProps.filter((p) => p.key !== PREPROCESS_METADATA_KEY),
    {
      key: PREPROCESS_METADATA_KEY,
      value: JSON.stringify({ ...o.preprocess, ...(o.preprocessAssumed ? { assumed: true } : {}) }),
    },
  ];
  if (o.docString) bb.docString = o.docString;
  return onnx.ModelProto.encode(bb).finish();
}

/** The preprocessing stored in a composed student's metadata, or null when the model carries none. */
export function readPreprocessMetadata(model: Uint8Array): PreprocessSpec | null {
  const m = onnx.ModelProto.decode(model);
  const p = m.metadataProps.find((x) => x.key === PREPROCESS_METADATA_KEY);
  if (!p?.value) return null;
  const { assumed: _, ...spec } = JSON.parse(p.value) as PreprocessSpec & { assumed?: boolean };
  return spec;
}
