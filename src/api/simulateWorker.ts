/**
 * Worker thread entry: one network of `fcprobe simulate --compare-linear`, so the ReLU network and its linear
 * control train side by side (one core each) instead of one after the other.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createOrtGemm } from '../compute/gemm.js';
import { runStructuredSimulation, type SimulationConfig, type SimulationRecord } from '../core/simulation.js';

export interface SimulateJob {
  config: SimulationConfig;
  /** onnxruntime intra-op threads; 0: onnxruntime's choice. */
  threads: number;
  progressEvery: number;
}

export type SimulateWorkerMessage =
  | { type: 'record'; record: SimulationRecord }
  | { type: 'progress'; done: number }
  | { type: 'done'; records: SimulationRecord[]; finalAsymmetry: Float32Array; seconds: number }
  | { type: 'error'; message: string };

if (!parentPort) throw new Error('simulateWorker.ts must run in a worker thread');
const port = parentPort;
const send = (m: SimulateWorkerMessage): void => port.postMessage(m);
const job = workerData as SimulateJob;
const gemm = await createOrtGemm(job.threads > 0 ? { threads: job.threads } : {});
try {
  const t0 = performance.now();
  const o = await runStructuredSimulation(gemm, job.config, {
    onRecord: (record) => send({ type: 'record', record }),
    onProgress: (done) => send({ type: 'progress', done }),
    progressEvery: job.progressEvery,
  });
  send({ type: 'done', records: o.records, finalAsymmetry: o.finalAsymmetry, seconds: (performance.now() - t0) / 1000 });
} catch (e) {
  send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
} finally {
  await gemm.dispose();
}
