/**
 * `extract`: dataset listing -> decoded tensors (batchPrefetch.ts) -> encoder (worker thread) -> features on
 * disk (FeatureWriter). Batches b+1 and b+2 decode while batch b is inferred.
 */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { FcprobeError, badOption } from '../errors.js';
import { EncoderWorker } from './encoderWorker.js';
import { defaultDecodeConcurrency } from './sessionOptions.js';
import { checkProvidersInstalled, parseProviders } from './providers.js';
import type { DatasetItem, DatasetListing } from '../dataset/listing.js';
import type { FeatureManifest, ModelInfo, SkippedFile } from '../features/manifest.js';
import { clearOutput, FeatureWriter, readOutputState, type OutputState } from '../features/writer.js';
import { compareOrigin, describeOriginMismatch, originOf, type OriginOf } from '../features/origin.js';
import { featureKey } from '../features/key.js';
import { hashWithRows, sha256File } from '../io/hash.js';
import { FCPROBE_VERSION } from '../version.js';
import { BatchPrefetcher } from './batchPrefetch.js';
import { prepareModel, type PreparedModel } from './modelCheck.js';
import type { ExtractOptions, ExtractResult } from './options.js';

export type { ExtractOptions, ExtractProgress, ExtractResult } from './options.js';

function checkWritable(outDir: string): void {
  try {
    mkdirSync(outDir, { recursive: true });
    accessSync(outDir, constants.W_OK);
  } catch (e) {
    throw new FcprobeError(
      'IO',
      `Cannot write to output directory ${outDir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
    );
  }
}

export function shardRange(total: number, index: number, count: number): { start: number; end: number } {
  return { start: Math.floor((index * total) / count), end: Math.floor(((index + 1) * total) / count) };
}

/** hashValue({ classes, classMap, items: [[file, label], ...] }), streamed (the key of existing features). */
export function listingHash(listing: DatasetListing): string {
  const items = listing.items;
  return hashWithRows({ classes: listing.classes, classMap: listing.classMap }, 'items', items.length, (i) => {
    const item = items[i] as DatasetItem;
    return [item.file, item.label];
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
  const worker = new EncoderWorker();
  let writer: FeatureWriter | null = null;
  let prefetch: BatchPrefetcher | null = null;
  try {
    const target = await loadTarget(worker, req);
    const state = readOutputState(req.outDir, target.key);
    if (state.kind === 'done' && !opts.force) return alreadyDone(req.outDir, state.manifest);
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
  }
}

/** Validates the options, model file, output directory and providers before the first image is decoded. */
async function resolveRequest(opts: ExtractOptions): Promise<ExtractRequest> {
  const modelPath = resolve(opts.modelPath);
  const outDir = resolve(opts.outDir);
  const listing = opts.listing;
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw badOption('--batch', 'a positive integer', opts.batchSize);
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1))
    throw badOption('--threads', 'a positive integer', opts.threads);
  if (
    opts.commitEverySeconds !== undefined &&
    !(opts.commitEverySeconds >= 0 && Number.isFinite(opts.commitEverySeconds))
  )
    throw badOption('--commit-every', 'a non-negative number of seconds', opts.commitEverySeconds);
  if (!existsSync(modelPath) || !statSync(modelPath).isFile())
    throw new FcprobeError('BAD_MODEL', `Model file ${opts.modelPath} does not exist.`);
  try {
    accessSync(modelPath, constants.R_OK);
  } catch {
    throw new FcprobeError('BAD_MODEL', `Model file ${opts.modelPath} is not readable.`);
  }
  if (listing.items.length === 0) throw new FcprobeError('BAD_DATA', `No images found in ${listing.root}.`);
  checkWritable(outDir);
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
  const notice = opts.onNotice ?? (() => {});
  return { opts, notice, modelPath, outDir, listing, batchSize, providers, items, shard, sha256 };
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
  });
  const { ready, input, output, spec } = prepared;
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
  };
  const key = featureKey({
    sha256,
    outputName: output.name,
    pool: model.pool,
    inputType: input.type,
    spec,
    listHash,
    shard,
  });
  return { prepared, model, listHash, key };
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
    // Every input of the key is compared; an empty list means a key computed differently (another format).
    const message =
      diffs.length > 0
        ? describeOriginMismatch(`${opts.outDir} holds features made with a different`, diffs)
        : `${opts.outDir} holds features made with other extraction settings.`;
    if (opts.onStale !== 'replace')
      throw new FcprobeError('MISMATCH', message, 'Rerun with --force to replace them, or choose another --out.');
    notice(`${message} Extracting again.`);
  }
  if (state.kind === 'stale-partial')
    notice(`Discarding an unfinished extraction in ${opts.outDir} made from other inputs.`);
  const resumeFrom = state.kind === 'resume' && !opts.force ? state.progress : null;
  if (resumeFrom)
    notice(`Resuming ${opts.outDir}: ${resumeFrom.itemsDone} of ${req.items.length} images already done.`);
  else clearOutput(req.outDir);
  const w = new FeatureWriter(req.outDir, target.key, resumeFrom, opts.commitEverySeconds ?? 2);
  if (w.progress.itemsDone % req.batchSize !== 0) {
    w.close();
    throw new FcprobeError(
      'MISMATCH',
      `${opts.outDir}: the unfinished run used another --batch; rerun with the same --batch or with --force.`,
    );
  }
  return w;
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
  const { listing, items } = req;
  const seconds = w.progress.seconds;
  const manifest: FeatureManifest = {
    format: 'fcprobe-features',
    formatVersion: 1,
    fcprobeVersion: FCPROBE_VERSION,
    key: target.key,
    model: { ...target.model, featureDim: w.progress.dim ?? 0 },
    preprocess: target.prepared.spec,
    executionProvider: target.prepared.ready.provider,
    dataRoot: listing.root,
    classes: listing.classes,
    classMap: listing.classMap,
    files: filesInRowOrder(items, w.progress.skipped),
    skipped: w.progress.skipped,
    ignored: listing.ignored,
    listHash: target.listHash,
    shard: req.shard,
    rows: w.progress.rows,
    featureDim: w.progress.dim ?? 0,
    timing: { seconds, imagesPerSecond: seconds > 0 ? items.length / seconds : 0 },
    createdAt: new Date().toISOString(),
  };
  w.finish(manifest);
  return manifest;
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
