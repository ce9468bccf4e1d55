/**
 * `extract`: dataset listing -> decoded tensors (batchPrefetch.ts) -> encoder (worker thread) -> features on
 * disk (FeatureWriter). Batches b+1 and b+2 decode while batch b is inferred.
 */
import { createHash } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  rmdirSync,
  statSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import sharp from 'sharp';
import { FcprobeError, badOption } from '../errors.js';
import { EXTRACT_DEFAULTS, EXTRACT_OPTIONS } from '../options.js';
import { optionValue } from '../validate.js';
import { EncoderWorker } from './encoderWorker.js';
import { defaultDecodeConcurrency } from './sessionOptions.js';
import { checkProvidersInstalled, parseProviders } from './providers.js';
import type { DatasetItem, DatasetListing } from '../dataset/listing.js';
import type { FeatureManifest, ModelInfo, SkippedFile } from '../features/manifest.js';
import {
  clearOutput,
  FeatureWriter,
  type OutputState,
  type ResumePoint,
  readOutputState,
  verifyFinished,
  verifyPartial,
} from '../features/writer.js';
import { acquireLock } from '../features/lock.js';
import { ensureWritableDir } from '../io/atomic.js';
import { externalDataLocations } from '../io/onnxExternal.js';
import { compareOrigin, describeOriginMismatch, originOf, type OriginOf } from '../features/origin.js';
import { type ExternalDataFile, featureKey } from '../features/key.js';
import { hashWithRows, sha256File } from '../io/hash.js';
import { FCPROBE_VERSION } from '../version.js';
import { BatchPrefetcher } from './batchPrefetch.js';
import { prepareModel, type PreparedModel } from './modelCheck.js';
import type { ExtractOptions, ExtractResult } from './options.js';

export type { ExtractOptions, ExtractProgress, ExtractResult } from './options.js';

export function shardRange(total: number, index: number, count: number): { start: number; end: number } {
  return { start: Math.floor((index * total) / count), end: Math.floor(((index + 1) * total) / count) };
}

/** hashValue({ classes, classMap, items: [[file, label], ...] }), streamed (the key of existing features). */
export function listingHash(listing: DatasetListing): string {
  const items = listing.items;
  const head: Record<string, unknown> = { classes: listing.classes, classMap: listing.classMap };
  // Tar shards: a rewritten or replaced shard changes the key even when its member names stay.
  if (listing.tars) head.tars = listing.tars.map((t) => [t.file, t.size, t.mtimeMs]);
  return hashWithRows(head, 'items', items.length, (i) => {
    const item = items[i] as DatasetItem;
    return item.source ? [item.file, item.label, item.source.offset, item.source.size] : [item.file, item.label];
  });
}

/** Everything extractFeatures needs before the model is loaded: checked options and the items to do. */
interface ExtractRequest {
  opts: ExtractOptions;
  notice: (message: string) => void;
  modelPath: string;
  outDir: string;
  listing: DatasetListing;
  batchSize: number;
  providers: ReturnType<typeof parseProviders>;
  /** This run's items (the shard's slice when sharding). */
  items: DatasetItem[];
  shard: FeatureManifest['shard'];
  sha256: string;
  /** The model's external-data files and the images' stamps: both part of the key. */
  external: ExternalDataFile[];
  images: NonNullable<FeatureManifest['images']>;
}

/** The loaded model and the feature key it gives with this request. */
interface ExtractTarget {
  prepared: PreparedModel;
  model: Omit<ModelInfo, 'featureDim'>;
  listHash: string;
  key: string;
}

/**
 * Runs an ONNX encoder over every image of a listing and writes its features to `outDir`: features.npy
 * (float32 [rows, featureDim], row i = manifest.files[i]), labels.npy (int64 [rows], indices into
 * manifest.classes) and manifest.json (model sha256, resolved preprocessing, provider, file list). Images are
 * decoded, resized, cropped and normalized as `preprocess` says (default: the torchvision preset; the crop
 * follows a static model input size). The work is resumable: an interrupted run continues where it stopped,
 * and a finished directory made from the same inputs is returned as `'already-done'` without recomputing.
 * Undecodable images are skipped and listed in manifest.skipped (with `strict`, they fail the run).
 *
 * @returns where the features are, how many rows, the provider used and the wall time in seconds.
 * @throws FcprobeError BAD_OPTION for a bad batch size, thread count or commit interval; NOT_FOUND when the
 *   model file is missing; BAD_MODEL when it is unreadable or not an image encoder fcprobe can run; BAD_DATA
 *   for an empty listing or (with `strict`) an undecodable image; IO when `outDir` is not writable;
 *   PROVIDER_UNAVAILABLE when an explicitly requested execution provider is not installed; MISMATCH when
 *   `outDir` holds features of other inputs (unless `force` or `onStale: 'replace'`) or an unfinished run
 *   with another batch size; INTERRUPTED when `shouldStop` returned true (rows done so far are kept).
 *
 * @example
 * ```js
 * const r = await extractFeatures({
 *   modelPath: 'teacher.onnx',
 *   listing: scanImageFolder('photos/train'),
 *   outDir: 'work/teacher-train',
 *   preprocess: { preset: 'clip' },
 *   onProgress: (p) => console.log(`${p.done}/${p.total} images, ${p.imagesPerSecond.toFixed(0)}/s`),
 * });
 * console.log(r.status, r.rows, r.manifest.featureDim);
 * ```
 */
export async function extractFeatures(opts: ExtractOptions): Promise<ExtractResult> {
  const started = performance.now();
  const req = await resolveRequest(opts);
  // One writer per output folder (features/lock.ts): a second process fails here, naming the holder.
  const lock = acquireLock(req.outDir, 'extract', req.notice);
  const worker = new EncoderWorker();
  let writer: FeatureWriter | null = null;
  let prefetch: BatchPrefetcher | null = null;
  let sharing = false;
  try {
    const target = await loadTarget(worker, req);
    let state = readOutputState(req.outDir, target.key);
    if (state.kind === 'corrupt') {
      if (!opts.force) throw state.error;
      req.notice(`${state.error.message} Replacing it (--force).`);
      state = { kind: 'fresh' };
    }
    if (state.kind === 'done' && !opts.force) {
      const why = verifyFinished(req.outDir, state.manifest, true);
      if (why === null) return alreadyDone(req.outDir, state.manifest);
      req.notice(`${opts.outDir} does not match its manifest (${why}): extracting again.`);
    }
    const shared = opts.force ? null : findShared(opts.sharedFrom ?? [], req.outDir, target.key);
    if (shared) {
      sharing = true;
      return { ...alreadyDone(shared.dir, shared.manifest), status: 'shared' };
    }
    const w = openWriter(req, target, state);
    writer = w;
    prefetch = new BatchPrefetcher({
      items: req.items,
      batchSize: req.batchSize,
      firstBatch: w.progress.itemsDone / req.batchSize,
      root: req.listing.root,
      spec: target.prepared.spec,
      concurrency: opts.decodeConcurrency ?? defaultDecodeConcurrency(),
      strict: opts.strict ?? false,
      pixelBudget: opts.decodePixelBudget,
    });
    await extractBatches(req, target, worker, w, prefetch);
    const manifest = publish(req, target, w);
    writer = null;
    return {
      status: 'extracted',
      outDir: req.outDir,
      manifest,
      provider: manifest.executionProvider,
      rows: manifest.rows,
      skipped: manifest.skipped,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    (writer as FeatureWriter | null)?.close();
    await (prefetch as BatchPrefetcher | null)?.close();
    await worker.close();
    lock.release();
    // Nothing was written for shared features: the folder made for the lock goes again if it is empty.
    if (sharing)
      try {
        rmdirSync(req.outDir);
      } catch {
        // not empty (an earlier run's files) or already gone: left as it is
      }
  }
}

/** Validates the options, model file, output directory and providers before the first image is decoded. */
async function resolveRequest(opts: ExtractOptions): Promise<ExtractRequest> {
  const modelPath = resolve(opts.modelPath);
  const outDir = resolve(opts.outDir);
  const listing = opts.listing;
  const batchSize = optionValue(EXTRACT_OPTIONS, 'batch', opts.batchSize);
  optionValue(EXTRACT_OPTIONS, 'threads', opts.threads);
  optionValue(EXTRACT_OPTIONS, 'commitEvery', opts.commitEverySeconds);
  if (opts.decodePixelBudget !== undefined && !(Number.isInteger(opts.decodePixelBudget) && opts.decodePixelBudget > 0))
    throw badOption('--decode-pixel-budget', 'a positive integer (pixels)', opts.decodePixelBudget);
  if (!existsSync(modelPath) || !statSync(modelPath).isFile())
    throw new FcprobeError('BAD_MODEL', `Model file ${opts.modelPath} does not exist.`);
  try {
    accessSync(modelPath, constants.R_OK);
  } catch {
    throw new FcprobeError('BAD_MODEL', `Model file ${opts.modelPath} is not readable.`);
  }
  if (listing.items.length === 0) throw new FcprobeError('BAD_DATA', `No images found in ${listing.root}.`);
  ensureWritableDir(outDir);
  const providers = parseProviders(opts.providers);
  if (providers.explicit) checkProvidersInstalled(providers.list);
  let items = listing.items;
  let shard: FeatureManifest['shard'] = null;
  if (opts.shard) {
    const { index, count } = opts.shard;
    const r = shardRange(items.length, index, count);
    shard = { index, count, start: r.start, end: r.end, totalItems: items.length };
    items = items.slice(r.start, r.end);
  }
  const sha256 = await sha256File(modelPath);
  const external = await externalDataFiles(modelPath);
  const images = await imagesHash(listing, opts.verifyContent ?? false);
  const notice = opts.onNotice ?? (() => {});
  return { opts, notice, modelPath, outDir, listing, batchSize, providers, items, shard, sha256, external, images };
}

/** Loads the model in the worker, checks it against the request and computes the feature key. */
async function loadTarget(worker: EncoderWorker, req: ExtractRequest): Promise<ExtractTarget> {
  const { opts, sha256, shard } = req;
  // The encoder worker gets the cores (--threads, default one per core); decoding takes what is left.
  const prepared = await prepareModel(worker, {
    ...opts,
    modelPath: req.modelPath,
    providers: req.providers.list,
    explicit: req.providers.explicit,
    threads: opts.threads ?? null,
    borderCrop: req.listing.borderCrop,
    batchSize: req.batchSize,
  });
  const { ready, input, output, spec } = prepared;
  checkBatchBuffer(spec.crop, req.batchSize);
  const firstInput = ready.inputs[0];
  if (!firstInput) throw new FcprobeError('BAD_MODEL', `Model file ${opts.modelPath} has no input.`);
  const listHash = listingHash(req.listing);
  const model: Omit<ModelInfo, 'featureDim'> = {
    path: opts.modelPath,
    sha256,
    inputName: firstInput.name,
    inputShape: firstInput.shape,
    inputType: input.type,
    outputName: output.name,
    outputShape: output.shape,
    pool: opts.pool ?? 'none',
    external: req.external,
  };
  const key = featureKey({
    sha256,
    external: req.external,
    imagesHash: req.images.hash,
    outputName: output.name,
    pool: model.pool,
    inputType: input.type,
    spec,
    listHash,
    shard,
  });
  return { prepared, model, listHash, key };
}

/**
 * The first of `dirs` (other than `outDir`) that holds finished features of this very key, verified against its
 * manifest's checksums; null when none does. The key, not a name, says the features are the same.
 */
function findShared(
  dirs: readonly string[],
  outDir: string,
  key: string,
): { dir: string; manifest: FeatureManifest } | null {
  for (const d of dirs) {
    const dir = resolve(d);
    if (dir === outDir) continue;
    const state = readOutputState(dir, key);
    if (state.kind === 'done' && verifyFinished(dir, state.manifest, true) === null)
      return { dir, manifest: state.manifest };
  }
  return null;
}

function alreadyDone(outDir: string, manifest: FeatureManifest): ExtractResult {
  return {
    status: 'already-done',
    outDir,
    manifest,
    provider: manifest.executionProvider,
    rows: manifest.rows,
    skipped: manifest.skipped,
    seconds: 0,
  };
}

/**
 * Decides what to do with what the output directory holds (refuse, replace, discard or resume) and opens the
 * writer accordingly.
 * @throws FcprobeError MISMATCH for finished features of other inputs (unless force or onStale 'replace'), or
 *   an unfinished run with another batch size.
 */
function openWriter(req: ExtractRequest, target: ExtractTarget, state: OutputState): FeatureWriter {
  const { opts, notice } = req;
  if (state.kind === 'stale' && !opts.force) {
    const request: OriginOf<(typeof EXTRACT_ORIGIN_FIELDS)[number]> = {
      modelSha256: req.sha256,
      modelPath: opts.modelPath,
      outputName: target.model.outputName,
      pool: target.model.pool,
      inputType: target.model.inputType,
      preprocess: target.prepared.spec,
      listHash: target.listHash,
      shard: req.shard,
    };
    const diffs = compareOrigin(originOf(state.manifest), request, EXTRACT_ORIGIN_FIELDS);
    const beyond = keyChanges(state.manifest, req);
    // Every input of the key is compared; an empty list means a key computed differently (another format).
    const message =
      diffs.length > 0
        ? describeOriginMismatch(`${opts.outDir} holds features made with a different`, diffs)
        : beyond.length > 0
          ? `${opts.outDir} holds features made with a different ${beyond.join(', ')}.`
          : `${opts.outDir} holds features made with other extraction settings.`;
    if (opts.onStale !== 'replace')
      throw new FcprobeError('MISMATCH', message, 'Rerun with --force to replace them, or choose another --out.');
    notice(`${message} Extracting again.`);
  }
  if (state.kind === 'stale-partial') notice(`Discarding an unfinished extraction in ${opts.outDir}: ${state.reason}.`);
  let resumeFrom: ResumePoint | null = null;
  if (state.kind === 'resume' && !opts.force) {
    // Nothing on disk is trusted: the committed rows are re-read and checked against their checksums.
    const v = verifyPartial(req.outDir, state.progress);
    if ('reason' in v)
      notice(`Cannot resume the unfinished extraction in ${opts.outDir} (${v.reason}): starting over.`);
    else if (v.progress.itemsDone % req.batchSize !== 0)
      throw new FcprobeError(
        'MISMATCH',
        `${opts.outDir}: the unfinished run used another --batch; rerun with the same --batch or with --force.`,
      );
    else {
      resumeFrom = v;
      notice(`Resuming ${opts.outDir}: ${v.progress.itemsDone} of ${req.items.length} images already done (verified).`);
    }
  }
  if (!resumeFrom) clearOutput(req.outDir);
  return new FeatureWriter(req.outDir, target.key, resumeFrom, opts.commitEverySeconds ?? EXTRACT_DEFAULTS.commitEvery);
}

/** The fields an existing output is compared on to say why it does not match the request. */
const EXTRACT_ORIGIN_FIELDS = Object.freeze([
  'model',
  'output',
  'pool',
  'inputType',
  'preprocess',
  'listing',
  'shard',
] as const);

/**
 * The batch loop: decoded batches (prefetched) -> encoder -> writer, with progress after every batch.
 * @throws FcprobeError INTERRUPTED when opts.shouldStop says so (after committing every finished batch).
 */
async function extractBatches(
  req: ExtractRequest,
  target: ExtractTarget,
  worker: EncoderWorker,
  w: FeatureWriter,
  batches: BatchPrefetcher,
): Promise<void> {
  const { opts, items, batchSize } = req;
  const { spec, output } = target.prepared;
  const firstBatch = w.progress.itemsDone / batchSize;
  const nBatches = Math.ceil(items.length / batchSize);
  const per = 3 * spec.crop * spec.crop;
  const t0 = performance.now();
  const previousSeconds = w.progress.seconds;
  let doneThisRun = 0;
  for (let b = firstBatch; b < nBatches; b++) {
    const cur = await batches.next();
    let features: Float32Array = new Float32Array(0);
    let dim = w.progress.dim ?? 0;
    if (cur.rows > 0) {
      const input = cur.data.subarray(0, cur.rows * per);
      const r = await worker.run(input, cur.rows, spec.crop, output.name, opts.pool ?? null);
      features = r.features;
      dim = r.dim;
    }
    const elapsed = (performance.now() - t0) / 1000;
    w.addBatch(features, dim, cur.labels, cur.items, cur.skipped, previousSeconds + elapsed);
    doneThisRun += cur.items;
    const rate = doneThisRun / Math.max(elapsed, 1e-9);
    opts.onProgress?.({
      done: w.progress.itemsDone,
      total: items.length,
      skipped: w.progress.skipped.length,
      imagesPerSecond: rate,
      etaSeconds: rate > 0 ? (items.length - w.progress.itemsDone) / rate : null,
    });
    if (opts.shouldStop?.() && b + 1 < nBatches) {
      w.commit();
      throw new FcprobeError(
        'INTERRUPTED',
        `Interrupted after ${w.progress.itemsDone} of ${items.length} images (all of them saved).`,
        'Rerun the same command to resume where it stopped.',
      );
    }
  }
}

/** Writes the manifest last, which turns the partial output into a finished feature set. */
function publish(req: ExtractRequest, target: ExtractTarget, w: FeatureWriter): FeatureManifest {
  const { listing, items, opts } = req;
  const nf = w.progress.nonFinite;
  if (nf.rows > 0) {
    const files = filesInRowOrder(items, w.progress.skipped);
    const named = nf.first.map((r) => `${r} (${files[r] ?? '?'})`).join(', ');
    const what =
      `${nf.rows} feature row${nf.rows > 1 ? 's hold' : ' holds'} NaN or infinite values: ` +
      `${named}${nf.rows > nf.first.length ? ', ...' : ''}`;
    if (opts.strict) {
      w.commit();
      throw new FcprobeError(
        'BAD_FEATURES',
        `${what}.`,
        'The model output overflowed for these images (a broken export, float16 range?); without --strict they are ' +
          'kept, counted in the manifest, and probe refuses them.',
      );
    }
    req.notice(`Warning: ${what} (counted in the manifest; probe will refuse them).`);
  }
  const featureDim = w.progress.dim ?? staticDim(target.prepared.output.shape);
  const seconds = w.progress.seconds;
  const manifest: FeatureManifest = {
    format: 'fcprobe-features',
    formatVersion: 1,
    fcprobeVersion: FCPROBE_VERSION,
    key: target.key,
    model: { ...target.model, featureDim },
    preprocess: target.prepared.spec,
    preprocessSource: target.prepared.provenance,
    executionProvider: target.prepared.ready.provider,
    dataRoot: listing.root,
    classes: listing.classes,
    classMap: listing.classMap,
    files: filesInRowOrder(items, w.progress.skipped),
    skipped: w.progress.skipped,
    ignored: listing.ignored,
    listHash: target.listHash,
    images: req.images,
    shard: req.shard,
    rows: w.progress.rows,
    featureDim,
    timing: { seconds, imagesPerSecond: seconds > 0 ? items.length / seconds : 0 },
    createdAt: new Date().toISOString(),
  };
  // An empty shard (more shards than images) is a valid, empty feature set.
  return w.finish(manifest, req.shard !== null);
}

/** Key inputs beyond origin.ts's fields that differ from a finished manifest, in words. */
function keyChanges(m: FeatureManifest, req: ExtractRequest): string[] {
  if (m.model.external === undefined || m.images === undefined) return ['cache key (made by an older fcprobe)'];
  const parts: string[] = [];
  if (JSON.stringify(m.model.external) !== JSON.stringify(req.external)) parts.push("model's external data");
  if (m.images.by !== req.images.by) parts.push(`image check (${m.images.by} then ${req.images.by})`);
  else if (m.images.hash !== req.images.hash)
    parts.push(req.images.by === 'stat' ? 'image sizes or modification times' : 'image contents');
  return parts;
}

/** sha256 of every external-data file the model references; BAD_MODEL when one is missing. */
async function externalDataFiles(modelPath: string): Promise<ExternalDataFile[]> {
  let locations: string[];
  try {
    locations = externalDataLocations(readFileSync(modelPath));
  } catch {
    return []; // not parseable here: onnxruntime's own check reports it as a bad model
  }
  const out: ExternalDataFile[] = [];
  for (const location of locations) {
    const p = resolve(dirname(modelPath), location);
    if (!existsSync(p))
      throw new FcprobeError(
        'BAD_MODEL',
        `The model ${modelPath} stores weights in ${location}, which does not exist.`,
      );
    out.push({ location, sha256: await sha256File(p) });
  }
  return out;
}

/**
 * Hash of the images of the whole listing (shards agree on it): each file's size and modification time
 * (milliseconds), or with `content` the sha256 of each file's bytes. A file that cannot be read counts as null
 * (extraction then skips it and lists why).
 */
/** sha256 (hex) of `size` bytes from byte `offset` of `path`; throws when the file ends before. */
function sha256Range(path: string, offset: number, size: number): string {
  const buf = Buffer.allocUnsafe(size);
  const fd = openSync(path, 'r');
  try {
    if (readSync(fd, buf, 0, size, offset) !== size) throw new Error('short read');
  } finally {
    closeSync(fd);
  }
  return createHash('sha256').update(buf).digest('hex');
}

async function imagesHash(listing: DatasetListing, content: boolean): Promise<NonNullable<FeatureManifest['images']>> {
  const items = listing.items;
  const stamp: unknown[] = new Array(items.length);
  // Every member of a tar shard has its shard's stamp: one stat per shard, not one per member (50,000 stats of
  // ten files took 130 ms per extraction call on the CIFAR-10 training set, cached calls included).
  const statOf = new Map<string, [number, number] | null>();
  for (const [i, item] of items.entries()) {
    // A tar member (tarListing.ts): its shard's stamp, or the sha256 of its own bytes.
    const p = resolve(listing.root, item.source?.path ?? item.file);
    try {
      if (content && item.source) stamp[i] = sha256Range(p, item.source.offset, item.source.size);
      else if (content) stamp[i] = await sha256File(p);
      else if (item.source) {
        let st = statOf.get(p);
        if (st === undefined) {
          st = statStamp(p);
          statOf.set(p, st);
        }
        stamp[i] = st;
      } else stamp[i] = statStamp(p);
    } catch {
      stamp[i] = null;
    }
  }
  const by = content ? 'content' : 'stat';
  return { hash: hashWithRows({ by }, 'files', items.length, (i) => stamp[i]), by };
}

/** [size, modification time in ms] of a file, or null when it cannot be read (stamped as such in the key). */
function statStamp(path: string): [number, number] | null {
  try {
    const st = statSync(path);
    return [st.size, Math.round(st.mtimeMs)];
  } catch {
    return null;
  }
}

/** The feature size the model declares (last output axis), for a shard with no row; 0 when symbolic. */
function staticDim(shape: (number | string)[]): number {
  const d = shape[shape.length - 1];
  return typeof d === 'number' && d > 0 ? d : 0;
}

/** Largest batch buffer (batch x 3 x crop x crop float32): three of them are allocated (batchPrefetch.ts). */
const MAX_BATCH_BUFFER_BYTES = 2 ** 31;

/**
 * A huge --crop or --batch made the batch buffer allocation throw a RangeError ("Invalid typed array length");
 * say what fits instead. `cropFixed`: the input size is the model's (bench), so only --batch can change.
 * Shared by extract and bench.
 */
export function checkBatchBuffer(crop: number, batchSize: number, cropFixed = false): void {
  if (batchSize * 3 * crop * crop * 4 <= MAX_BATCH_BUFFER_BYTES) return;
  if (cropFixed)
    throw badOption(
      '--batch',
      `at most ${Math.floor(MAX_BATCH_BUFFER_BYTES / (12 * crop * crop))} for the model's ${crop}x${crop} input ` +
        '(a batch of float32 images must fit in 2 GiB)',
      batchSize,
      'Lower --batch.',
    );
  const maxCrop = Math.floor(Math.sqrt(MAX_BATCH_BUFFER_BYTES / (batchSize * 12)));
  throw badOption(
    '--crop',
    `at most ${maxCrop} with --batch ${batchSize} (a batch of float32 images must fit in 2 GiB)`,
    crop,
    'Lower --crop (and --resize), or --batch.',
  );
}

function filesInRowOrder(items: DatasetItem[], skipped: SkippedFile[]): string[] {
  const skip = new Set(skipped.map((s) => s.file));
  return items.filter((i) => !skip.has(i.file)).map((i) => i.file);
}

/** sharp's own thread pool per image; concurrency comes from decoding several images at once. */
export function configureSharp(threadsPerImage = 1): void {
  sharp.concurrency(threadsPerImage);
  sharp.cache(false);
}
