/**
 * Worker thread entry: one network of `fcprobe simulate --compare-linear`, so the ReLU network and its linear
 * control train side by side (one core each) instead of one after the other.
 */
import { workerData } from 'node:worker_threads';
import { createOrtGemm } from '../compute/gemm.js';
import { runStructuredSimulation, type SimulationConfig, type SimulationRecord } from './simulation.js';
import { serveWorkerTask } from '../io/workerTask.js';

export interface SimulateJob {
  config: SimulationConfig;
  /** onnxruntime intra-op threads; 0: onnxruntime's choice. */
  threads: number;
  progressEvery: number;
}

export type SimulateProgress = { type: 'record'; record: SimulationRecord } | { type: 'progress'; done: number };

export interface SimulateRunOutcome {
  records: SimulationRecord[];
  finalAsymmetry: Float32Array;
  seconds: number;
}

const job = workerData as SimulateJob;
await serveWorkerTask<SimulateProgress, SimulateRunOutcome>(async (send) => {
  const gemm = await createOrtGemm(job.threads > 0 ? { threads: job.threads } : {});
  try {
    const t0 = performance.now();
    const o = await runStructuredSimulation(gemm, job.config, {
      onRecord: (record) => send({ type: 'record', record }),
      onProgress: (done) => send({ type: 'progress', done }),
      progressEvery: job.progressEvery,
    });
    return { records: o.records, finalAsymmetry: o.finalAsymmetry, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await gemm.dispose();
  }
});
