/**
 * Streams extracted rows into a feature directory, durably and resumably.
 *
 * While running, everything lives in <out>/.partial/: features.npy and labels.npy grow batch by batch, and
 * progress.json records how many items and rows are committed (written after the rows are fsync'ed). Batches
 * are committed together once `commitEverySeconds` have passed (an fsync per batch cost ~6 ms of the main
 * thread's time each, ~9% of a decode-bound run); a killed run loses what was appended since the last commit,
 * which the next run truncates away and redoes. Only when all items
 * are done are the arrays' headers patched and the files renamed into <out>; manifest.json comes last, so a
 * directory with a manifest is always complete.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FcprobeError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { FEATURES_FILE, LABELS_FILE, MANIFEST_FILE, type FeatureManifest, type SkippedFile } from './manifest.js';
import { NpyRowWriter } from '../io/npy.js';

const PARTIAL_DIR = '.partial';
const PROGRESS_FILE = 'progress.json';

export interface Progress {
  key: string;
  /** Items (files) of the listing handled so far, decoded or skipped. */
  itemsDone: number;
  rows: number;
  dim: number | null;
  skipped: SkippedFile[];
  /** Seconds spent in earlier (interrupted) runs, so the manifest's timing covers the whole extraction. */
  seconds: number;
}

export type OutputState =
  | { kind: 'done'; manifest: FeatureManifest }
  | { kind: 'stale'; manifest: FeatureManifest }
  | { kind: 'fresh' }
  | { kind: 'resume'; progress: Progress }
  | { kind: 'stale-partial'; progress: Progress };

export function readOutputState(outDir: string, key: string): OutputState {
  const mPath = join(outDir, MANIFEST_FILE);
  if (existsSync(mPath)) {
    const manifest = JSON.parse(readFileSync(mPath, 'utf8')) as FeatureManifest;
    return manifest.key === key ? { kind: 'done', manifest } : { kind: 'stale', manifest };
  }
  const pPath = join(outDir, PARTIAL_DIR, PROGRESS_FILE);
  if (existsSync(pPath)) {
    let progress: Progress;
    try {
      progress = JSON.parse(readFileSync(pPath, 'utf8')) as Progress;
    } catch {
      return { kind: 'fresh' };
    }
    return progress.key === key ? { kind: 'resume', progress } : { kind: 'stale-partial', progress };
  }
  return { kind: 'fresh' };
}

/** Removes a finished or partial extraction: manifest first, so nothing half-removed looks complete. */
export function clearOutput(outDir: string): void {
  rmSync(join(outDir, MANIFEST_FILE), { force: true });
  rmSync(join(outDir, FEATURES_FILE), { force: true });
  rmSync(join(outDir, LABELS_FILE), { force: true });
  rmSync(join(outDir, PARTIAL_DIR), { recursive: true, force: true });
}

export class FeatureWriter {
  private features: NpyRowWriter | null = null;
  private labels: NpyRowWriter;
  private readonly partial: string;
  /** Appended so far; progress.json on disk holds the last committed copy. */
  readonly progress: Progress;
  private lastCommit = performance.now();
  private uncommitted = false;

  /** commitEverySeconds: 0 commits every batch. */
  constructor(
    readonly outDir: string,
    key: string,
    resumeFrom: Progress | null,
    private readonly commitEverySeconds = 0,
  ) {
    this.partial = join(outDir, PARTIAL_DIR);
    mkdirSync(this.partial, { recursive: true });
    // Progress without its labels file cannot be trusted (removed by hand?): start over.
    const resuming = resumeFrom !== null && existsSync(join(this.partial, LABELS_FILE));
    this.progress = resuming
      ? { ...resumeFrom, skipped: [...resumeFrom.skipped] }
      : { key, itemsDone: 0, rows: 0, dim: null, skipped: [], seconds: 0 };
    this.labels = new NpyRowWriter(join(this.partial, LABELS_FILE), '<i8', [], this.progress.rows, !resuming);
    if (this.progress.dim !== null && resuming) {
      this.features = new NpyRowWriter(
        join(this.partial, FEATURES_FILE),
        '<f4',
        [this.progress.dim],
        this.progress.rows,
        !existsSync(join(this.partial, FEATURES_FILE)),
      );
    }
  }

  /** Appends one batch; commits everything appended when the commit interval has passed. */
  addBatch(
    features: Float32Array,
    dim: number,
    labels: Int32Array,
    itemsHandled: number,
    skipped: SkippedFile[],
    seconds: number,
  ): void {
    const n = labels.length;
    if (n > 0) {
      if (this.features === null) {
        this.progress.dim = dim;
        this.features = new NpyRowWriter(join(this.partial, FEATURES_FILE), '<f4', [dim], 0, true);
      } else if (dim !== this.progress.dim) {
        throw new FcprobeError(
          'BAD_MODEL',
          `The model's output size changed between batches (${this.progress.dim} then ${dim}).`,
        );
      }
      this.features.append(features.subarray(0, n * dim), n);
      this.labels.append(
        BigInt64Array.from(labels, (v) => BigInt(v)),
        n,
      );
    }
    this.progress.rows += n;
    this.progress.itemsDone += itemsHandled;
    this.progress.skipped.push(...skipped);
    this.progress.seconds = seconds;
    this.uncommitted = true;
    if (performance.now() - this.lastCommit >= this.commitEverySeconds * 1000) this.commit();
  }

  /** Makes every appended batch durable: after this returns, a crash cannot lose them. */
  commit(): void {
    if (!this.uncommitted) return;
    this.features?.sync();
    this.labels.sync();
    writeFileAtomic(join(this.partial, PROGRESS_FILE), JSON.stringify(this.progress));
    this.lastCommit = performance.now();
    this.uncommitted = false;
  }

  /** Publishes the finished arrays and then the manifest. */
  finish(manifest: FeatureManifest): void {
    if (this.features === null)
      throw new FcprobeError(
        'BAD_DATA',
        'No image could be decoded: nothing to write.',
        'See the skipped files listed above.',
      );
    this.features.finish();
    this.labels.finish();
    renameSync(join(this.partial, FEATURES_FILE), join(this.outDir, FEATURES_FILE));
    renameSync(join(this.partial, LABELS_FILE), join(this.outDir, LABELS_FILE));
    writeFileAtomic(join(this.outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
    rmSync(this.partial, { recursive: true, force: true });
  }

  close(): void {
    this.features?.close();
    this.labels.close();
  }
}
