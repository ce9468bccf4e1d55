/**
 * onnxruntime session options and decode concurrency for extraction, in one place so that the benchmark's
 * model-only ceiling runs the encoder exactly as the extraction worker does.
 */
import { cpus } from 'node:os';
import ort from 'onnxruntime-node';
import type { ProviderName } from './protocol.js';

/**
 * Intra-op threads do not spin while waiting for work: between batches (and whenever inference waits for
 * decoding) spinning threads burn the cores the decode workers need. Interleaved A/B on 2 cores
 * (bench/NOTES.md): decode-bound extraction 467 -> 559 img/s; ResNet-50-shaped extraction and the model-only
 * ceiling unchanged (within 2%).
 */
export function sessionOptions(provider: ProviderName, threads: number | null): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    // Errors reach the user as exceptions, reworded (providers.ts); onnxruntime's own warning lines (nodes
    // placed on the CPU, a provider that fell back) are noise on a terminal, even more so with -q.
    logSeverityLevel: 3,
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
  };
}

/**
 * Images decoded at once when the user does not say: 4 per decode worker (one worker per core, at least 2), so
 * each worker has files queued while the main thread is busy committing a batch (fsync). On 2 cores, 8 in
 * flight gave +11% end to end over 2 in a decode-bound run (bench/NOTES.md).
 */
export function defaultDecodeConcurrency(): number {
  return 4 * Math.max(2, cpus().length);
}

/** Decode worker threads for a decode concurrency: one per image in flight, at most one per core (at least 2). */
export function decodeWorkers(concurrency: number): number {
  return Math.max(1, Math.min(concurrency, Math.max(2, cpus().length)));
}

/**
 * onnxruntime's process-wide logger (the one that prints "[E:onnxruntime:onnxruntime-node, provider_bridge_ort.cc
 * ...] Failed to load library" when a GPU provider is missing) shows fatal messages only. It takes effect at the
 * first session of the process, so every thread that creates sessions calls this first. Failures are not lost:
 * session creation throws, and the caller reports why.
 */
export function quietOnnxruntimeLogging(): void {
  ort.env.logLevel = 'fatal';
}
