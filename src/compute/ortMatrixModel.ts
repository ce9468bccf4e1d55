/**
 * An ONNX model from one float32 matrix to another ([N, inDim] -> [N, outDim]) run by onnxruntime in this
 * thread: a distillation head applied to stored backbone features (distill/headFeatures.ts), with the CPU session
 * options of the solvers (ortSession.ts).
 */
import ort from 'onnxruntime-node';
import { cpuSessionOptions } from './ortSession.js';

export interface MatrixModel {
  readonly inDim: number;
  readonly outDim: number;
  /** float32 [rows, outDim] = model(x), x float32 [rows, inDim] row-major; a new array per call. */
  run(x: Float32Array, rows: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/**
 * Opens `model` (ONNX bytes with one float32 input [N, inDim] and one float32 output [N, outDim], both widths
 * static). Throws a plain Error when the model does not have that form (the caller knows what the file is).
 */
export async function createOrtMatrixModel(model: Uint8Array, threads?: number): Promise<MatrixModel> {
  const session = await ort.InferenceSession.create(model, cpuSessionOptions(threads));
  const width = (m: readonly ort.InferenceSession.ValueMetadata[], what: string): [string, number] => {
    const v = m[0];
    const d = v?.isTensor ? v.shape[1] : undefined;
    if (m.length !== 1 || !v?.isTensor || v.type !== 'float32' || v.shape.length !== 2 || typeof d !== 'number') {
      void session.release();
      throw new Error(`the model's ${what} is not one float32 [N, D] tensor of static D`);
    }
    return [v.name, d];
  };
  const [inName, inDim] = width(session.inputMetadata, 'input');
  const [outName, outDim] = width(session.outputMetadata, 'output');
  return {
    inDim,
    outDim,
    async run(x, rows) {
      if (x.length < rows * inDim) throw new RangeError(`run: ${x.length} values for ${rows} x ${inDim}`);
      const r = await session.run({ [inName]: new ort.Tensor('float32', x.subarray(0, rows * inDim), [rows, inDim]) });
      const y = r[outName]?.data;
      if (!(y instanceof Float32Array) || y.length !== rows * outDim)
        throw new Error(`onnxruntime returned no float32 [${rows}, ${outDim}] output`);
      return y;
    },
    dispose: () => session.release(),
  };
}
