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
import type { PreprocessSpec } from '../image/preprocessSpec.js';
import { clearOutput, FeatureWriter, readOutputState } from '../features/writer.js';
import { featureKey } from '../features/key.js';
import { hashWithRows, sha256File } from '../io/hash.js';
import { FCPROBE_VERSION } from '../version.js';
import { BatchPrefetcher } from './batchPrefetch.js';
import { prepareModel } from './modelCheck.js';
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
  return hashWithRows({ classes: listing.classes, classMap: listing.classMap }, 'items', items.length, (i) => [
    items[i]!.file,
    items[i]!.label,
  ]);
}

export async function extractFeatures(opts: ExtractOptions): Promise<ExtractResult> {
  const started = performance.now();
  const notice = opts.onNotice ?? (() => {});
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

  // Validate everything before the first image is decoded.
  if (!existsSync(modelPath) || !statSync(modelPath).isFile())
    throw new FcprobeError('NOT_FOUND', `Model file ${opts.modelPath} does not exist.`);
  try {
    accessSync(modelPath, constants.R_OK);
  } catch {
    throw new FcprobeError('BAD_MODEL', `Model file ${opts.modelPath} is not readable.`);
  }
  if (listing.items.length === 0) throw new FcprobeError('BAD_DATA', `No images found in ${listing.root}.`);
  checkWritable(outDir);
  const { list: providers, explicit } = parseProviders(opts.providers);
  if (explicit) checkProvidersInstalled(providers);
  let items = listing.items;
  let shard: FeatureManifest['shard'] = null;
  if (opts.shard) {
    const { index, count } = opts.shard;
    const r = shardRange(items.length, index, count);
    shard = { index, count, start: r.start, end: r.end, totalItems: items.length };
    items = items.slice(r.start, r.end);
  }
  const sha256 = await sha256File(modelPath);

  const worker = new EncoderWorker();
  let writer: FeatureWriter | null = null;
  let prefetch: BatchPrefetcher | null = null;
  try {
    // The encoder worker gets the cores (--threads, default one per core); decoding takes what is left.
    const { ready, input, output, spec } = await prepareModel(worker, {
      ...opts,
      modelPath,
      providers,
      explicit,
      threads: opts.threads ?? null,
      borderCrop: listing.borderCrop,
    });
    const provider = ready.provider;
    const lHash = listingHash(listing);
    const model: Omit<ModelInfo, 'featureDim'> = {
      path: opts.modelPath,
      sha256,
      inputName: ready.inputs[0]!.name,
      inputShape: ready.inputs[0]!.shape,
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
      listHash: lHash,
      shard,
    });

    const state = readOutputState(outDir, key);
    if (state.kind === 'done' && !opts.force) {
      return {
        status: 'already-done',
        outDir,
        manifest: state.manifest,
        provider: state.manifest.executionProvider,
        rows: state.manifest.rows,
        skipped: state.manifest.skipped,
        seconds: 0,
      };
    }
    if (state.kind === 'stale' && !opts.force) {
      const what = describeChange(state.manifest, sha256, spec, lHash, shard);
      if (opts.onStale !== 'replace') {
        throw new FcprobeError(
          'MISMATCH',
          `${opts.outDir} holds features made with a different ${what}.`,
          'Rerun with --force to replace them, or choose another --out.',
        );
      }
      notice(`${opts.outDir} holds features made with a different ${what}: extracting again.`);
    }
    if (state.kind === 'stale-partial')
      notice(`Discarding an unfinished extraction in ${opts.outDir} made from other inputs.`);
    if (state.kind === 'resume' && !opts.force)
      notice(`Resuming ${opts.outDir}: ${state.progress.itemsDone} of ${items.length} images already done.`);
    const resumeFrom = state.kind === 'resume' && !opts.force ? state.progress : null;
    if (!resumeFrom) clearOutput(outDir);
    const w = new FeatureWriter(outDir, key, resumeFrom, opts.commitEverySeconds ?? 2);
    writer = w;
    if (w.progress.itemsDone % batchSize !== 0)
      throw new FcprobeError(
        'MISMATCH',
        `${opts.outDir}: the unfinished run used another --batch; rerun with the same --batch or with --force.`,
      );

    const firstBatch = w.progress.itemsDone / batchSize;
    const nBatches = Math.ceil(items.length / batchSize);
    const per = 3 * spec.crop * spec.crop;
    const batches = new BatchPrefetcher({
      items,
      batchSize,
      firstBatch,
      root: listing.root,
      spec,
      concurrency: opts.decodeConcurrency ?? defaultDecodeConcurrency(),
      strict: opts.strict ?? false,
    });
    prefetch = batches;
    const t0 = performance.now();
    const previousSeconds = w.progress.seconds;
    let doneThisRun = 0;
    for (let b = firstBatch; b < nBatches; b++) {
      const cur = await batches.next();
      let features: Float32Array = new Float32Array(0);
      let dim = w.progress.dim ?? 0;
      if (cur.rows > 0) {
        const r = await worker.run(
          cur.data.subarray(0, cur.rows * per),
          cur.rows,
          spec.crop,
          output.name,
          opts.pool ?? null,
        );
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

    const seconds = w.progress.seconds;
    const manifest: FeatureManifest = {
      format: 'fcprobe-features',
      formatVersion: 1,
      fcprobeVersion: FCPROBE_VERSION,
      key,
      model: { ...model, featureDim: w.progress.dim ?? 0 },
      preprocess: spec,
      executionProvider: provider,
      dataRoot: listing.root,
      classes: listing.classes,
      classMap: listing.classMap,
      files: filesInRowOrder(items, w.progress.skipped),
      skipped: w.progress.skipped,
      ignored: listing.ignored,
      listHash: lHash,
      shard,
      rows: w.progress.rows,
      featureDim: w.progress.dim ?? 0,
      timing: { seconds, imagesPerSecond: seconds > 0 ? items.length / seconds : 0 },
      createdAt: new Date().toISOString(),
    };
    w.finish(manifest);
    writer = null;
    return {
      status: 'extracted',
      outDir,
      manifest,
      provider,
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

function filesInRowOrder(items: DatasetItem[], skipped: SkippedFile[]): string[] {
  const skip = new Set(skipped.map((s) => s.file));
  return items.filter((i) => !skip.has(i.file)).map((i) => i.file);
}

function describeChange(
  m: FeatureManifest,
  sha256: string,
  spec: PreprocessSpec,
  lHash: string,
  shard: FeatureManifest['shard'],
): string {
  const parts: string[] = [];
  if (m.model.sha256 !== sha256) parts.push('model (sha256 differs)');
  if (JSON.stringify(m.preprocess) !== JSON.stringify(spec)) parts.push('preprocessing');
  if (m.listHash !== lHash) parts.push('file list');
  if (JSON.stringify(m.shard) !== JSON.stringify(shard)) parts.push('shard');
  return parts.length ? parts.join(', ') : 'output or pooling';
}

/** sharp's own thread pool per image; concurrency comes from decoding several images at once. */
export function configureSharp(threadsPerImage = 1): void {
  sharp.concurrency(threadsPerImage);
  sharp.cache(false);
}
