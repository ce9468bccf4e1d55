/**
 * `node providerProbeEntry.js <model.onnx> <provider>`: loads the model on one execution provider in a process
 * of its own and says whether it worked, as one JSON line on stdout. WebGPU's graphics library (Dawn) writes
 * warnings and stack traces straight to file descriptor 2, which no onnxruntime option silences and a Node
 * process cannot redirect for itself; run here, that output lands in a pipe the parent discards.
 */
import ort from 'onnxruntime-node';
import type { ProviderName } from './protocol.js';
import { explainProviderError } from './providers.js';
import { quietOnnxruntimeLogging, sessionOptions } from './sessionOptions.js';

const [modelPath, provider] = process.argv.slice(2) as [string, ProviderName];
quietOnnxruntimeLogging();
try {
  const session = await ort.InferenceSession.create(modelPath, sessionOptions(provider, 1));
  await session.release();
  process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
} catch (e) {
  process.stdout.write(
    `${JSON.stringify({ ok: false, reason: explainProviderError(provider, (e as Error).message) })}\n`,
  );
}
