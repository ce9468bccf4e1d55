/**
 * The streamed mini-batch solver (`--solver sgd`, `--recipe paper`): features are read from features.npy in
 * blocks of at most `bufferRows` rows, so memory is O(bufferRows * D + K * D) whatever N is.
 *
 * Shuffling: each epoch visits the blocks in a seeded random order and the rows of each block in a seeded
 * random order (a block shuffle, as streaming loaders do); batches run across block boundaries so that an
 * epoch has exactly ceil(N / batch) steps, the last one partial (PyTorch's drop_last=False). When the whole
 * set fits in one block it is read once and the shuffle is a full one. The next block of the order is read
 * ahead (asynchronously) while the current one trains; the read-ahead consumes no randomness, so the
 * result depends on bufferRows and the seed only, as before.
 */
import type { Gemm } from '../compute/gemm.js';
import { Rng } from '../math/rng.js';
import { SoftmaxSgdTrainer, type SgdStepInfo } from './sgdTrainer.js';
import { applyStandardization, StandardizationAccumulator, type Standardization } from '../math/standardize.js';
import type { FeatureSet } from '../features/manifest.js';
import { BadRowCollector } from './probeFiles.js';

export interface SgdSettings {
  lr: number;
  epochs: number;
  batchSize: number;
  weightDecay: number;
  warmupSteps: number;
  /** Global gradient-norm clip; null: none. */
  clipNorm: number | null;
  /** Rows held in memory at once (the shuffle buffer). */
  bufferRows: number;
  seed: number;
}

export interface SgdFitResult {
  theta: Float64Array;
  steps: number;
  lastGradNorm: number;
  /** Mean batch loss over the last epoch (before each update). */
  lastEpochLoss: number;
}

/** One streamed pass: NaN/Inf check (always) and the standardization statistics (when asked). */
export function scanFeatures(set: FeatureSet, standardize: boolean, blockRows: number): Standardization | null {
  const { rows, dim } = set;
  const acc = standardize ? new StandardizationAccumulator(dim) : null;
  const bad = new BadRowCollector(set.dir);
  const buf = new Float32Array(Math.min(blockRows, rows) * dim);
  const reader = set.open();
  try {
    for (let start = 0; start < rows; start += blockRows) {
      const count = Math.min(blockRows, rows - start);
      const block = buf.subarray(0, count * dim);
      reader.readFloat32Rows(start, count, block);
      bad.scan(block, count, dim, start);
      acc?.add(block, count);
    }
  } finally {
    reader.close();
  }
  bad.throwIfAny(set);
  return acc ? acc.finish() : null;
}

/**
 * Trains a K-way softmax probe on `set` with labels already mapped to [0, k). Calls `onStep` after every
 * optimizer step.
 */
export async function fitSgdStreamed(
  gemm: Gemm,
  set: FeatureSet,
  labels: Int32Array,
  k: number,
  standardization: Standardization | null,
  s: SgdSettings,
  onStep?: (info: SgdStepInfo, totalSteps: number, epoch: number) => void,
): Promise<SgdFitResult> {
  const n = set.rows,
    d = set.dim;
  const bufferRows = Math.max(1, Math.min(s.bufferRows, n));
  const nBlocks = Math.ceil(n / bufferRows);
  const stepsPerEpoch = Math.ceil(n / s.batchSize);
  const totalSteps = s.epochs * stepsPerEpoch;
  const rng = new Rng(s.seed);
  const trainer = new SoftmaxSgdTrainer(
    gemm,
    k,
    d,
    s.batchSize,
    { lr: s.lr, weightDecay: s.weightDecay, warmupSteps: s.warmupSteps, totalSteps, clipNorm: s.clipNorm },
    rng,
  );
  // Two block buffers: the steps run on one while libuv's thread pool reads the next block of the epoch's
  // order into the other (read-ahead), so disk time hides behind compute. Memory: 2 blocks + 1 batch.
  const bufs = [new Float32Array(bufferRows * d), new Float32Array(nBlocks > 1 ? bufferRows * d : 0)];
  const held = [-1, -1];
  const pending: Array<Promise<void> | null> = [null, null];
  const batchX = new Float32Array(s.batchSize * d);
  const rowBytes = 4 * d;
  const asBytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const blockBytes = bufs.map(asBytes);
  const batchBytes = asBytes(batchX);
  const batchY = new Int32Array(s.batchSize);
  const reader = set.open();
  let lastGradNorm = NaN;
  let epochLoss = 0,
    epochSteps = 0,
    lastEpochLoss = NaN;
  const rowsOf = (b: number): number => Math.min(bufferRows, n - b * bufferRows);
  const fetch = (slot: number, b: number): void => {
    const count = rowsOf(b);
    const dst = bufs[slot]!.subarray(0, count * d);
    held[slot] = b;
    const p = reader.readFloat32RowsAsync(b * bufferRows, count, dst).then(() => {
      if (standardization) applyStandardization(dst, count, standardization);
    });
    // Awaited before use; marked handled so that a failed read-ahead of a block never used is not fatal.
    p.catch(() => {});
    pending[slot] = p;
  };
  const slotOf = (b: number): number => (held[0] === b ? 0 : held[1] === b ? 1 : -1);
  try {
    for (let epoch = 0; epoch < s.epochs; epoch++) {
      epochLoss = 0;
      epochSteps = 0;
      const order = rng.shuffle(Int32Array.from({ length: nBlocks }, (_, i) => i));
      let filled = 0;
      const flush = async (): Promise<void> => {
        const info = await trainer.step(batchX, batchY, filled);
        lastGradNorm = info.gradNorm;
        epochLoss += info.loss;
        epochSteps++;
        onStep?.(info, totalSteps, epoch);
        filled = 0;
      };
      for (let i = 0; i < nBlocks; i++) {
        const b = order[i]!;
        let slot = slotOf(b);
        if (slot < 0) {
          // Either slot may be reused (the previous block's rows were copied into batches already); prefer the
          // one not holding the previous block, which a later epoch may want first.
          slot = nBlocks === 1 || held[0] === order[i - 1] ? (nBlocks === 1 ? 0 : 1) : 0;
          await pending[slot];
          fetch(slot, b);
        }
        await pending[slot];
        const next = order[i + 1];
        if (next !== undefined && slotOf(next) < 0) {
          await pending[1 - slot];
          fetch(1 - slot, next);
        }
        const block = blockBytes[slot]!;
        const count = rowsOf(b);
        const start = b * bufferRows;
        const rows = rng.shuffle(Int32Array.from({ length: count }, (_, r) => r));
        for (const r of rows) {
          // Buffer#copy: a memcpy that allocates nothing (a subarray per row made the steps' garbage).
          block.copy(batchBytes, filled * rowBytes, r * rowBytes, (r + 1) * rowBytes);
          batchY[filled] = labels[start + r]!;
          filled++;
          if (filled === s.batchSize) await flush();
        }
      }
      if (filled > 0) await flush();
      lastEpochLoss = epochLoss / epochSteps;
    }
  } finally {
    // No read may still be writing when the descriptor closes.
    await Promise.allSettled(pending.filter((p) => p !== null));
    reader.close();
  }
  return { theta: trainer.theta, steps: trainer.steps, lastGradNorm, lastEpochLoss };
}
