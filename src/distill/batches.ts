/**
 * Paired mini-batches of (student backbone features, teacher features) streamed from two feature directories of
 * the same images, so memory is O(bufferRows x (Ds + Dt)) at any N.
 *
 * Shuffling is the probe's block shuffle (see probe/sgdProbe.ts): each epoch visits blocks of `bufferRows` rows
 * in a random order and the rows of each block in a random order; batches run across block boundaries, so an
 * epoch has exactly ceil(N / batch) steps, the last one partial (drop_last=False). When the whole set fits in
 * one block the shuffle is a full one. Epoch e draws from its own generator, seeded from (seed, e), so a run
 * resumed at epoch e visits the same rows in the same order as an uninterrupted one without saving any RNG state.
 */
import type { FeatureRowReader, FeatureSet } from '../features/manifest.js';
import { applyStandardization, type Standardization } from '../math/standardize.js';
import { Rng } from '../math/rng.js';

/** The generator of epoch `epoch` (0-based) of a run seeded with `seed`. */
export function epochRng(seed: number, epoch: number): Rng {
  // Distinct, well-mixed seeds per (seed, epoch): Rng's splitmix32 seeding spreads nearby integers.
  return new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
}

export interface PairedBatch {
  /** Student backbone features [rows, ds]. */
  x: Float32Array;
  /** Targets [rows, dt] (standardized when the stream was given a standardization). */
  t: Float32Array;
  rows: number;
}

export class PairedStream {
  readonly n: number;
  readonly ds: number;
  readonly dt: number;
  readonly bufferRows: number;
  private readonly blockX: Float32Array;
  private readonly blockT: Float32Array;
  private readonly batchX: Float32Array;
  private readonly batchT: Float32Array;
  private readonly readerX: FeatureRowReader;
  private readonly readerT: FeatureRowReader;
  private loaded = -1;

  /** Opens both feature files; the caller has checked that the sets hold the same images, and closes the stream. */
  constructor(
    student: FeatureSet,
    teacher: FeatureSet,
    readonly batchSize: number,
    bufferRows: number,
    private readonly targetStandardization: Standardization | null,
  ) {
    this.n = student.rows;
    this.ds = student.dim;
    this.dt = teacher.dim;
    this.bufferRows = Math.max(1, Math.min(bufferRows, this.n));
    this.blockX = new Float32Array(this.bufferRows * this.ds);
    this.blockT = new Float32Array(this.bufferRows * this.dt);
    this.batchX = new Float32Array(batchSize * this.ds);
    this.batchT = new Float32Array(batchSize * this.dt);
    this.readerX = student.open();
    try {
      this.readerT = teacher.open();
    } catch (e) {
      this.readerX.close();
      throw e;
    }
  }

  get stepsPerEpoch(): number {
    return Math.ceil(this.n / this.batchSize);
  }

  private load(b: number): number {
    const start = b * this.bufferRows;
    const count = Math.min(this.bufferRows, this.n - start);
    if (this.loaded !== b) {
      this.readerX.readFloat32Rows(start, count, this.blockX.subarray(0, count * this.ds));
      const t = this.blockT.subarray(0, count * this.dt);
      this.readerT.readFloat32Rows(start, count, t);
      if (this.targetStandardization) applyStandardization(t, count, this.targetStandardization);
      this.loaded = b;
    }
    return count;
  }

  /**
   * Calls `onBatch` for every batch of epoch `epoch` in shuffled order. The batch's arrays are reused: valid only
   * until `onBatch` returns. Stops early (returning false) when `onBatch` returns false.
   */
  async epoch(seed: number, epoch: number, onBatch: (b: PairedBatch) => Promise<boolean>): Promise<boolean> {
    const { ds, dt, batchX, batchT } = this;
    const rng = epochRng(seed, epoch);
    const nBlocks = Math.ceil(this.n / this.bufferRows);
    const order = rng.shuffle(Int32Array.from({ length: nBlocks }, (_, i) => i));
    let filled = 0;
    for (const b of order) {
      const count = this.load(b);
      const rows = rng.shuffle(Int32Array.from({ length: count }, (_, i) => i));
      for (const r of rows) {
        batchX.set(this.blockX.subarray(r * ds, r * ds + ds), filled * ds);
        batchT.set(this.blockT.subarray(r * dt, r * dt + dt), filled * dt);
        filled++;
        if (filled === this.batchSize) {
          if (!(await onBatch({ x: batchX, t: batchT, rows: filled }))) return false;
          filled = 0;
        }
      }
    }
    if (filled > 0) return onBatch({ x: batchX, t: batchT, rows: filled });
    return true;
  }

  close(): void {
    this.readerX.close();
    this.readerT.close();
  }
}
