/**
 * Streams extracted rows into a feature directory, durably, resumably and verifiably.
 *
 * While running, everything lives in <out>/.partial/: features.npy and labels.npy grow batch by batch, and
 * progress.json records how many items and rows are committed and the sha256 of the committed data bytes of
 * both files (written after the rows are fsync'ed). Batches are committed together once `commitEverySeconds`
 * have passed (an fsync per batch cost ~6 ms of the main thread's time each, ~9% of a decode-bound run); a
 * killed run loses what was appended since the last commit, which the next run truncates away and redoes.
 *
 * Nothing on disk is trusted on resume: verifyPartial re-reads the committed rows of both files and compares
 * their length and checksums with progress.json; a short, missing or altered file means starting over, never
 * padding. When all items are done the arrays' headers are patched, the files renamed into <out>, and
 * manifest.json (with the size and sha256 of both arrays) comes last: a directory with a manifest is complete,
 * and verifyFinished checks that it still is before anyone answers "already extracted".
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FcprobeError } from '../errors.js';
import { ensureWritableDir, removeDeadTempFiles, syncDir, writeFileAtomic } from '../io/atomic.js';
import { readJsonObject } from '../io/json.js';
import { NPY_HEADER_BYTES, NpyRowWriter } from '../io/npy.js';
import { fromSystemError } from '../io/sysError.js';
import {
  type ArrayChecksum,
  FEATURES_FILE,
  type FeatureManifest,
  LABELS_FILE,
  MANIFEST_FILE,
  manifestKind,
  type SkippedFile,
} from './manifest.js';

export const PARTIAL_DIR = '.partial';
export const PROGRESS_FILE = 'progress.json';
const PROGRESS_VERSION = 2;

export interface Progress {
  formatVersion: typeof PROGRESS_VERSION;
  key: string;
  /** Items (files) of the listing handled so far, decoded or skipped. */
  itemsDone: number;
  rows: number;
  dim: number | null;
  skipped: SkippedFile[];
  /** Seconds spent in earlier (interrupted) runs, so the manifest's timing covers the whole extraction. */
  seconds: number;
  /** sha256 of the committed data bytes (after the 128-byte header) of .partial/features.npy and labels.npy. */
  featuresSha256: string;
  labelsSha256: string;
  /** Rows holding a NaN or an infinite value, and the first few of them (row indices). */
  nonFinite: { rows: number; first: number[] };
}

export type OutputState =
  | { kind: 'done'; manifest: FeatureManifest }
  | { kind: 'stale'; manifest: FeatureManifest }
  /** manifest.json is there but unreadable: only --force (which clears the folder) continues. */
  | { kind: 'corrupt'; error: FcprobeError }
  | { kind: 'fresh' }
  | { kind: 'resume'; progress: Progress }
  | { kind: 'stale-partial'; reason: string };

const EMPTY_SHA256 = createHash('sha256').digest('hex');

/** What is in `outDir` for this key. Never throws for a garbled file: it reports it. */
export function readOutputState(outDir: string, key: string): OutputState {
  const mPath = join(outDir, MANIFEST_FILE);
  if (existsSync(mPath)) {
    try {
      const manifest = readJsonObject(mPath, manifestKind) as unknown as FeatureManifest;
      return manifest.key === key ? { kind: 'done', manifest } : { kind: 'stale', manifest };
    } catch (e) {
      if (e instanceof FcprobeError) return { kind: 'corrupt', error: e };
      throw e;
    }
  }
  const pPath = join(outDir, PARTIAL_DIR, PROGRESS_FILE);
  if (existsSync(pPath)) {
    let progress: Progress;
    try {
      progress = readJsonObject(pPath, {
        kind: 'progress record',
        formatVersion: PROGRESS_VERSION,
        code: 'BAD_FEATURES',
      }) as unknown as Progress;
    } catch (e) {
      if (e instanceof FcprobeError) return { kind: 'stale-partial', reason: e.message };
      throw e;
    }
    return progress.key === key
      ? { kind: 'resume', progress }
      : { kind: 'stale-partial', reason: 'it was made from other inputs' };
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

/**
 * Feeds bytes [NPY_HEADER_BYTES, NPY_HEADER_BYTES + bytes) of `path` into `hash`, or returns why it cannot
 * (missing or shorter file). Streams in 8 MiB pieces.
 */
function hashDataBytes(path: string, bytes: number, hash: Hash): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it is missing' : `it cannot be read (${String(e)})`;
  }
  try {
    const size = fstatSync(fd).size;
    if (size < NPY_HEADER_BYTES + bytes)
      return `it is ${size} bytes, shorter than the ${NPY_HEADER_BYTES + bytes} its rows need`;
    const buf = Buffer.allocUnsafe(Math.min(8 << 20, Math.max(bytes, 1)));
    let done = 0;
    while (done < bytes) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, bytes - done), NPY_HEADER_BYTES + done);
      if (n === 0) return 'it ended early';
      hash.update(buf.subarray(0, n));
      done += n;
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

/** A verified resume point: the progress record and the running checksums of what is already on disk. */
export interface ResumePoint {
  progress: Progress;
  featuresHash: Hash;
  labelsHash: Hash;
}

/**
 * Checks the partial files of `outDir` against their progress record: both files at least as long as the
 * committed rows, and the sha256 of those rows equal to the recorded ones. Returns the resume point, or the
 * reason (in words) why the partial extraction cannot be trusted. Reads every committed row once.
 */
export function verifyPartial(outDir: string, progress: Progress): ResumePoint | { reason: string } {
  const p = progress;
  const okInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
  if (
    !okInt(p.rows) ||
    !okInt(p.itemsDone) ||
    p.rows > p.itemsDone ||
    !(p.dim === null || (okInt(p.dim) && p.dim > 0)) ||
    (p.dim === null && p.rows > 0) ||
    !Array.isArray(p.skipped) ||
    typeof p.featuresSha256 !== 'string' ||
    typeof p.labelsSha256 !== 'string'
  )
    return { reason: 'its progress record is inconsistent' };
  const partial = join(outDir, PARTIAL_DIR);
  const labelsHash = createHash('sha256');
  const why = hashDataBytes(join(partial, LABELS_FILE), p.rows * 8, labelsHash);
  if (why !== null) return { reason: `${PARTIAL_DIR}/${LABELS_FILE}: ${why}` };
  if (labelsHash.copy().digest('hex') !== p.labelsSha256)
    return { reason: `${PARTIAL_DIR}/${LABELS_FILE} does not match the checksum of its committed rows` };
  const featuresHash = createHash('sha256');
  if (p.dim !== null) {
    const whyF = hashDataBytes(join(partial, FEATURES_FILE), p.rows * p.dim * 4, featuresHash);
    if (whyF !== null) return { reason: `${PARTIAL_DIR}/${FEATURES_FILE}: ${whyF}` };
  }
  if (featuresHash.copy().digest('hex') !== p.featuresSha256)
    return { reason: `${PARTIAL_DIR}/${FEATURES_FILE} does not match the checksum of its committed rows` };
  return { progress: p, featuresHash, labelsHash };
}

/**
 * Checks a finished directory against its manifest: both arrays exactly as long as the manifest's rows need,
 * and (when the manifest records them, and `content` is true) their sha256. Returns null when it holds, else
 * the reason in words. Manifests written before checksums existed are checked by size only.
 */
export function verifyFinished(outDir: string, m: FeatureManifest, content = true): string | null {
  const want: [string, number, ArrayChecksum | undefined][] = [
    [FEATURES_FILE, m.rows * m.featureDim * 4, m.checksums?.features],
    [LABELS_FILE, m.rows * 8, m.checksums?.labels],
  ];
  for (const [name, bytes, sum] of want) {
    const h = createHash('sha256');
    let fd: number;
    try {
      fd = openSync(join(outDir, name), 'r');
    } catch {
      return `${name} is missing`;
    }
    let size: number;
    try {
      size = fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
    if (size !== NPY_HEADER_BYTES + bytes)
      return `${name} is ${size} bytes, the manifest's ${m.rows} rows need ${NPY_HEADER_BYTES + bytes}`;
    if (sum && content) {
      const why = hashDataBytes(join(outDir, name), bytes, h);
      if (why !== null) return `${name}: ${why}`;
      if (h.digest('hex') !== sum.sha256) return `${name} does not match the sha256 recorded in the manifest`;
    }
  }
  return null;
}

function asBytes(v: ArrayBufferView): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export class FeatureWriter {
  private features: NpyRowWriter | null = null;
  private labels: NpyRowWriter;
  private readonly partial: string;
  private readonly featuresHash: Hash;
  private readonly labelsHash: Hash;
  /** Appended so far; progress.json on disk holds the last committed copy. */
  readonly progress: Progress;
  private lastCommit = performance.now();
  private uncommitted = false;

  /**
   * resumeFrom: a point verified by verifyPartial (null starts over). commitEverySeconds: 0 commits every batch.
   * Throws IO (exit 6) naming the path when the partial folder cannot be created or written.
   */
  constructor(
    readonly outDir: string,
    key: string,
    resumeFrom: ResumePoint | null,
    private readonly commitEverySeconds = 0,
  ) {
    this.partial = join(outDir, PARTIAL_DIR);
    ensureWritableDir(this.partial);
    removeDeadTempFiles(outDir);
    removeDeadTempFiles(this.partial);
    const resuming = resumeFrom !== null;
    const r = resumeFrom?.progress;
    this.progress = r
      ? { ...r, skipped: [...r.skipped], nonFinite: { rows: r.nonFinite.rows, first: [...r.nonFinite.first] } }
      : {
          formatVersion: PROGRESS_VERSION,
          key,
          itemsDone: 0,
          rows: 0,
          dim: null,
          skipped: [],
          seconds: 0,
          featuresSha256: EMPTY_SHA256,
          labelsSha256: EMPTY_SHA256,
          nonFinite: { rows: 0, first: [] },
        };
    this.featuresHash = resumeFrom?.featuresHash ?? createHash('sha256');
    this.labelsHash = resumeFrom?.labelsHash ?? createHash('sha256');
    this.labels = this.io(
      LABELS_FILE,
      () => new NpyRowWriter(join(this.partial, LABELS_FILE), '<i8', [], this.progress.rows, !resuming),
    );
    if (this.progress.dim !== null && resuming) {
      const dim = this.progress.dim;
      this.features = this.io(
        FEATURES_FILE,
        () => new NpyRowWriter(join(this.partial, FEATURES_FILE), '<f4', [dim], this.progress.rows, false),
      );
    }
  }

  private io<T>(name: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw fromSystemError(e, join(this.partial, name), 'writing');
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
        this.features = this.io(
          FEATURES_FILE,
          () => new NpyRowWriter(join(this.partial, FEATURES_FILE), '<f4', [dim], 0, true),
        );
      } else if (dim !== this.progress.dim) {
        throw new FcprobeError(
          'BAD_MODEL',
          `The model's output size changed between batches (${this.progress.dim} then ${dim}).`,
        );
      }
      const f = features.subarray(0, n * dim);
      this.countNonFinite(f, n, dim);
      const l = BigInt64Array.from(labels, (v) => BigInt(v));
      const fw = this.features;
      this.io(FEATURES_FILE, () => fw.append(f, n));
      this.io(LABELS_FILE, () => this.labels.append(l, n));
      this.featuresHash.update(asBytes(f));
      this.labelsHash.update(asBytes(l));
    }
    this.progress.rows += n;
    this.progress.itemsDone += itemsHandled;
    this.progress.skipped.push(...skipped);
    this.progress.seconds = seconds;
    this.uncommitted = true;
    if (performance.now() - this.lastCommit >= this.commitEverySeconds * 1000) this.commit();
  }

  private countNonFinite(f: Float32Array, n: number, dim: number): void {
    const nf = this.progress.nonFinite;
    for (let i = 0; i < n; i++) {
      for (let j = i * dim, end = j + dim; j < end; j++) {
        if (!Number.isFinite(f[j]!)) {
          nf.rows++;
          if (nf.first.length < 10) nf.first.push(this.progress.rows + i);
          break;
        }
      }
    }
  }

  /** Makes every appended batch durable: after this returns, a crash cannot lose them. */
  commit(): void {
    if (!this.uncommitted) return;
    this.io(FEATURES_FILE, () => this.features?.sync());
    this.io(LABELS_FILE, () => this.labels.sync());
    this.progress.featuresSha256 = this.featuresHash.copy().digest('hex');
    this.progress.labelsSha256 = this.labelsHash.copy().digest('hex');
    this.io(PROGRESS_FILE, () => writeFileAtomic(join(this.partial, PROGRESS_FILE), JSON.stringify(this.progress)));
    this.lastCommit = performance.now();
    this.uncommitted = false;
  }

  /**
   * Publishes the finished arrays and then the manifest, with the size and sha256 of both arrays' data bytes
   * filled in. `allowEmpty`: a set with no row is valid (an empty shard); without it, no row is BAD_DATA.
   */
  finish(manifest: FeatureManifest, allowEmpty = false): FeatureManifest {
    if (this.features === null) {
      if (!allowEmpty) {
        const sk = this.progress.skipped;
        const eg = sk
          .slice(0, 3)
          .map((x) => `${x.file}: ${x.reason}`)
          .join('; ');
        // The files are named here: nothing else lists them before this error.
        throw new FcprobeError(
          'BAD_DATA',
          sk.length > 0
            ? `No image could be decoded (all ${sk.length} were skipped, e.g. ${eg}): nothing to write.`
            : 'No image to extract: nothing to write.',
        );
      }
      const dim = manifest.featureDim;
      this.features = this.io(
        FEATURES_FILE,
        () => new NpyRowWriter(join(this.partial, FEATURES_FILE), '<f4', [dim], 0, true),
      );
    }
    const fw = this.features;
    this.io(FEATURES_FILE, () => fw.finish());
    this.io(LABELS_FILE, () => this.labels.finish());
    const rows = this.progress.rows;
    const full: FeatureManifest = {
      ...manifest,
      nonFiniteRows: this.progress.nonFinite.rows,
      checksums: {
        features: { dataBytes: rows * manifest.featureDim * 4, sha256: this.featuresHash.digest('hex') },
        labels: { dataBytes: rows * 8, sha256: this.labelsHash.digest('hex') },
      },
    };
    try {
      renameSync(join(this.partial, FEATURES_FILE), join(this.outDir, FEATURES_FILE));
      renameSync(join(this.partial, LABELS_FILE), join(this.outDir, LABELS_FILE));
      syncDir(this.outDir);
      writeFileAtomic(join(this.outDir, MANIFEST_FILE), `${JSON.stringify(full, null, 1)}\n`);
    } catch (e) {
      throw fromSystemError(e, this.outDir, 'publishing into');
    }
    rmSync(this.partial, { recursive: true, force: true });
    return full;
  }

  /** Closes both files; safe after finish() and after a failed write. */
  close(): void {
    this.features?.close();
    this.labels.close();
  }
}
