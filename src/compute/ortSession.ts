/**
 * The session options of every onnxruntime session the solvers create (Gemm, the fused step gradient) and the
 * benchmarks that measure them, written once.
 */
import type ort from 'onnxruntime-node';

/**
 * CPU execution, all graph optimizations, `threads` intra-op threads (undefined or 0: onnxruntime's choice, one
 * per core). Threads sleep between runs: each session has its own pool, and by default its threads spin after
 * a run waiting for the next; with two sessions called in turn and JavaScript between them, an idle pool's
 * spinning threads took the cores from the busy one (on 2 cores the step's products ran at about half their
 * rate, bench/RESULTS.md "spinning"). Sleeping threads cost a wake-up (~µs) per run instead.
 */
export function cpuSessionOptions(threads?: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}
