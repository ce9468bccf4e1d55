/**
 * Inference worker: owns the onnxruntime session. onnxruntime-node's run() blocks the thread it is called on,
 * so it lives here, letting the main thread decode the next batch meanwhile.
 */
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { float32ToHalfArray, halfToFloat32Array } from './float16.js';
import { poolOutput } from './pool.js';
import type { InitRequest, ProviderName, TensorMeta, WorkerReply, WorkerRequest } from './protocol.js';
import { explainProviderError } from './providers.js';
import { quietOnnxruntimeLogging, sessionOptions } from './sessionOptions.js';
import type { PoolName } from '../options.js';

if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;
quietOnnxruntimeLogging();

let session: ort.InferenceSession | null = null;
let inputName = '';
let inputType = 'float32';

function reply(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

function meta(list: readonly ort.InferenceSession.ValueMetadata[]): TensorMeta[] {
  return list.map((m) =>
    m.isTensor
      ? { name: m.name, type: String(m.type), shape: [...m.shape] }
      : { name: m.name, type: 'non-tensor', shape: [] },
  );
}

async function createSession(req: InitRequest): Promise<void> {
  const failures: { provider: ProviderName; reason: string }[] = [];
  for (const provider of req.providers) {
    const options = sessionOptions(provider, req.threads);
    try {
      session = await ort.InferenceSession.create(req.modelPath, options);
      const inputs = meta(session.inputMetadata);
      const outputs = meta(session.outputMetadata);
      inputName = inputs[0]?.name ?? '';
      inputType = inputs[0]?.type ?? 'float32';
      reply({ type: 'ready', provider, providerFailures: failures, inputs, outputs });
      return;
    } catch (e) {
      failures.push({ provider, reason: explainProviderError(provider, (e as Error).message) });
    }
  }
  const last = failures[failures.length - 1];
  const modelProblem = failures.every((f) =>
    /protobuf|Load model|model_path|No such file|INVALID_GRAPH|INVALID_PROTOBUF|NO_SUCHFILE/i.test(f.reason),
  );
  reply({
    type: 'error',
    id: null,
    code: modelProblem ? 'BAD_MODEL' : 'PROVIDER_UNAVAILABLE',
    message: modelProblem
      ? `Cannot load model ${req.modelPath}: ${last?.reason ?? 'unknown error'}`
      : `No requested execution provider could load the model: ` +
        `${failures.map((f) => `${f.provider}: ${f.reason}`).join('; ')}`,
  });
}

// onnxruntime-node refuses tensors on a SharedArrayBuffer ("Invalid argument"): a shared batch is copied into
// this buffer, reused from batch to batch.
let staging = new Float32Array(0);

function unshared(data: Float32Array): Float32Array {
  if (!(data.buffer instanceof SharedArrayBuffer)) return data;
  if (staging.length < data.length) staging = new Float32Array(data.length);
  staging.set(data);
  return staging.subarray(0, data.length);
}

async function runBatch(
  id: number,
  data: Float32Array,
  n: number,
  size: number,
  outputName: string,
  pool: PoolName | null,
): Promise<void> {
  if (!session) throw new Error('run before init');
  const dims = [n, 3, size, size];
  const input =
    inputType === 'float16'
      ? new ort.Tensor('float16', float32ToHalfArray(data), dims)
      : new ort.Tensor('float32', unshared(data), dims);
  const out = await session.run({ [inputName]: input }, [outputName]);
  const t = out[outputName];
  if (!t) throw new Error(`model produced no output "${outputName}"`);
  const raw = t.type === 'float16' ? halfToFloat32Array(t.data as Uint16Array) : (t.data as Float32Array);
  if (t.type !== 'float32' && t.type !== 'float16')
    throw new Error(`output "${outputName}" is ${t.type}, expected float32 or float16`);
  const pooled = poolOutput(raw, t.dims, pool);
  // Copy into an exact-size buffer we own, so the transfer moves only this batch's features.
  const features = new Float32Array(pooled.data.length);
  features.set(pooled.data);
  reply({ type: 'result', id, features, dim: pooled.dim }, [features.buffer as ArrayBuffer]);
}

port.on('message', (msg: WorkerRequest) => {
  const work = async (): Promise<void> => {
    if (msg.type === 'init') await createSession(msg);
    else if (msg.type === 'run') await runBatch(msg.id, msg.data, msg.n, msg.size, msg.outputName, msg.pool);
    else if (msg.type === 'close') {
      await session?.release();
      port.close();
    }
  };
  work().catch((e: unknown) => {
    reply({ type: 'error', id: msg.type === 'run' ? msg.id : null, code: 'BAD_MODEL', message: (e as Error).message });
  });
});
