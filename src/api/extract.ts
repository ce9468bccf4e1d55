/**
 * `extract`: dataset listing -> decoded tensors -> encoder (worker thread) -> features on disk.
 * Decoding of batch b+1 overlaps inference of batch b; every batch is committed before the next is written.
 */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { FcprobeError, badOption } from '../errors.js';
import { resolvePreprocess, type PreprocessOverrides } from '../image/preprocessSpec.js';
import { EncoderWorker } from '../infer/encoderWorker.js';
import { DecodePool, ImageDecodeError, sharedBatchBuffer } from '../infer/decodePool.js';
import { decodeWorkers, defaultDecodeConcurrency } from '../infer/sessionOptions.js';
import { checkProvidersInstalled, INSTALL_HINT, parseProviders } from '../infer/providers.js';
import type { InitReply, ProviderName, TensorMeta } from '../infer/protocol.js';
import type { DatasetItem, DatasetListing } from '../io/datasetListing.js';
import type { FeatureManifest, ModelInfo, PreprocessSpec, SkippedFile } from '../io/featureManifest.js';
import { clearOutput, FeatureWriter, readOutputState } from '../io/featureWriter.js';
import { featureKey } from '../io/featureKey.js';
import { hashWithRows, sha256File } from '../io/hash.js';
import { FCPROBE_VERSION } from '../version.js';

/**
 * Batches decoded ahead of the one being inferred. 2 keeps decoding busy across batch boundaries (the next
 * batch's images queue behind the current ones instead of waiting for the loop); bench/NOTES.md has the figures.
 */
const PREFETCH = 2;

export interface ExtractOptions {
  modelPath: string;
  listing: DatasetListing;
  outDir: string;
  preprocess?: PreprocessOverrides;
  /** Output tensor to read; default: the only output, or one named features/embedding/image_embeds/pooler_output. */
  outputName?: string;
  pool?: 'cls' | 'mean';
  /** Comma-separated provider list as given to --ep; default: best installed. */
  providers?: string;
  threads?: number;
  batchSize?: number;
  /** Images decoded at once (on one decode worker thread per core); default: 4 per core, at least 8. */
  decodeConcurrency?: number;
  /** Commit (fsync) appended rows at most this often; default 2. A crash redoes at most this much work. */
  commitEverySeconds?: number;
  shard?: { index: number; count: number };
  strict?: boolean;
  force?: boolean;
  /** What to do with finished features made from other inputs: 'error' (default) or replace them. */
  onStale?: 'error' | 'replace';
  onProgress?: (p: ExtractProgress) => void;
  onNotice?: (message: string) => void;
  /** Checked after every batch; when it returns true the run commits what it has and stops with INTERRUPTED. */
  shouldStop?: () => boolean;
}

export interface ExtractProgress {
  done: number;
  total: number;
  skipped: number;
  imagesPerSecond: number;
  etaSeconds: number | null;
}

export interface ExtractResult {
  status: 'extracted' | 'already-done';
  outDir: string;
  manifest: FeatureManifest;
  provider: string;
  rows: number;
  skipped: SkippedFile[];
  seconds: number;
}

const FEATURE_OUTPUT_NAMES = ['features', 'embedding', 'embeddings', 'image_embeds', 'pooler_output', 'output'];

function chooseOutput(outputs: TensorMeta[], requested: string | undefined, modelPath: string): TensorMeta {
  if (requested !== undefined) {
    const o = outputs.find((x) => x.name === requested);
    if (!o) throw badOption('--output', `one of the model's outputs (${outputs.map((x) => x.name).join(', ')})`, requested);
    return o;
  }
  if (outputs.length === 1) return outputs[0]!;
  const named = FEATURE_OUTPUT_NAMES.map((n) => outputs.find((o) => o.name === n)).find((o) => o !== undefined);
  if (named) return named;
  throw new FcprobeError('BAD_OPTION', `${modelPath} has several outputs (${outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ')}); choose one with --output.`);
}

/** The model's static square input size, or null when H/W are symbolic. */
function checkInput(input: TensorMeta | undefined, modelPath: string): { size: number | null; type: 'float32' | 'float16' } {
  if (!input) throw new FcprobeError('BAD_MODEL', `${modelPath} has no inputs.`);
  const { shape, type } = input;
  if (type !== 'float32' && type !== 'float16') {
    throw new FcprobeError('BAD_MODEL', `${modelPath}: input "${input.name}" is ${type}; expected a float32 or float16 image tensor [N, 3, H, W].`);
  }
  const bad = shape.length !== 4 || (typeof shape[1] === 'number' && shape[1] !== 3);
  if (bad) {
    throw new FcprobeError('BAD_MODEL', `${modelPath}: input "${input.name}" has shape [${shape.join(', ')}]; expected an image tensor [N, 3, H, W].`,
      'fcprobe feeds NCHW RGB images; export the encoder with an NCHW input.');
  }
  const h = shape[2];
  const w = shape[3];
  if (typeof h === 'number' && typeof w === 'number') {
    if (h !== w) throw new FcprobeError('BAD_MODEL', `${modelPath}: input is ${h}x${w}; only square inputs are supported (center crop).`);
    return { size: h, type };
  }
  return { size: null, type };
}

function checkOutputShape(o: TensorMeta, pool: 'cls' | 'mean' | undefined, modelPath: string): void {
  const s = o.shape;
  const ok = s.length === 2 || (s.length === 4 && (s[2] === 1 || typeof s[2] === 'string') && (s[3] === 1 || typeof s[3] === 'string')) || s.length === 3;
  if (!ok) throw new FcprobeError('BAD_MODEL', `${modelPath}: output "${o.name}" has shape [${s.join(', ')}]; expected [N, D], [N, D, 1, 1] or [N, T, D].`);
  if (s.length === 3 && pool === undefined) {
    throw badOption('--pool', 'cls or mean for the token output ' + `"${o.name}" [${s.join(', ')}]`, undefined);
  }
}

function checkWritable(outDir: string): void {
  try {
    mkdirSync(outDir, { recursive: true });
    accessSync(outDir, constants.W_OK);
  } catch (e) {
    throw new FcprobeError('IO', `Cannot write to output directory ${outDir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
}

export function shardRange(total: number, index: number, count: number): { start: number; end: number } {
  return { start: Math.floor((index * total) / count), end: Math.floor(((index + 1) * total) / count) };
}

/** hashValue({ classes, classMap, items: [[file, label], ...] }), streamed (the key of existing features). */
export function listingHash(listing: DatasetListing): string {
  const items = listing.items;
  return hashWithRows({ classes: listing.classes, classMap: listing.classMap }, 'items', items.length, (i) => [items[i]!.file, items[i]!.label]);
}

interface DecodedBatch {
  data: Float32Array;
  labels: Int32Array;
  rows: number;
  items: number;
  skipped: SkippedFile[];
}

/**
 * Decodes one batch into `data` (a shared batch buffer), on the decode workers; each worker writes its image
 * into the image's slot, and rows of skipped files are closed up afterwards.
 */
async function decodeBatch(pool: DecodePool, data: Float32Array, items: DatasetItem[], root: string, spec: PreprocessSpec, limit: ReturnType<typeof pLimit>, strict: boolean): Promise<DecodedBatch> {
  const per = 3 * spec.crop * spec.crop;
  const failed: (string | null)[] = await Promise.all(items.map((it, i) => limit(async () => {
    try {
      await pool.decodeInto(resolve(root, it.file), spec, data, i * per);
      return null;
    } catch (e) {
      if (!(e instanceof ImageDecodeError)) throw e;
      return e.message.split('\n')[0] ?? 'decode failed';
    }
  })));
  // Decodes finish in any order; --strict names the first bad file in list order, the same on every run.
  const firstBad = failed.findIndex((f) => f !== null);
  if (strict && firstBad >= 0) {
    throw new FcprobeError('BAD_DATA', `Cannot decode ${items[firstBad]!.file}: ${failed[firstBad]}`, 'Without --strict, undecodable files are skipped and listed in the manifest.');
  }
  const labels = new Int32Array(failed.filter((f) => f === null).length);
  const skipped: SkippedFile[] = [];
  let row = 0;
  failed.forEach((reason, i) => {
    if (reason === null) {
      if (row !== i) data.copyWithin(row * per, i * per, (i + 1) * per);
      labels[row++] = items[i]!.label;
    } else {
      skipped.push({ file: items[i]!.file, reason });
    }
  });
  return { data, labels, rows: row, items: items.length, skipped };
}

export async function extractFeatures(opts: ExtractOptions): Promise<ExtractResult> {
  const started = performance.now();
  const notice = opts.onNotice ?? (() => {});
  const modelPath = resolve(opts.modelPath);
  const outDir = resolve(opts.outDir);
  const listing = opts.listing;
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw badOption('--batch', 'a positive integer', opts.batchSize);
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1)) throw badOption('--threads', 'a positive integer', opts.threads);
  if (opts.commitEverySeconds !== undefined && !(opts.commitEverySeconds >= 0 && Number.isFinite(opts.commitEverySeconds))) throw badOption('--commit-every', 'a non-negative number of seconds', opts.commitEverySeconds);

  // Validate everything before the first image is decoded.
  if (!existsSync(modelPath) || !statSync(modelPath).isFile()) throw new FcprobeError('NOT_FOUND', `Model file ${opts.modelPath} does not exist.`);
  try { accessSync(modelPath, constants.R_OK); } catch { throw new FcprobeError('BAD_MODEL', `Model file ${opts.modelPath} is not readable.`); }
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

  // The worker gets the cores; decoding waits on it most of the time and takes what is left.
  const threads = opts.threads ?? null;
  const worker = new EncoderWorker();
  let writer: FeatureWriter | null = null;
  let pool: DecodePool | null = null;
  try {
    const { ready, input, output, spec } = await prepareModel(worker, { ...opts, modelPath, providers, explicit, threads, borderCrop: listing.borderCrop });
    return await runExtraction(worker, ready.provider);

    async function runExtraction(enc: EncoderWorker, provider: ProviderName): Promise<ExtractResult> {
      {
        const lHash = listingHash(listing);
        const model: Omit<ModelInfo, 'featureDim'> = {
          path: opts.modelPath, sha256, inputName: ready.inputs[0]!.name, inputShape: ready.inputs[0]!.shape, inputType: input.type,
          outputName: output.name, outputShape: output.shape, pool: opts.pool ?? 'none',
        };
        const key = featureKey({ sha256, outputName: output.name, pool: model.pool, inputType: input.type, spec, listHash: lHash, shard });
        const state = readOutputState(outDir, key);
        if (state.kind === 'done' && !opts.force) {
          return { status: 'already-done', outDir, manifest: state.manifest, provider: state.manifest.executionProvider, rows: state.manifest.rows, skipped: state.manifest.skipped, seconds: 0 };
        }
        if (state.kind === 'stale' && !opts.force) {
          const what = describeChange(state.manifest, sha256, spec, lHash, shard);
          if (opts.onStale !== 'replace') {
            throw new FcprobeError('MISMATCH', `${opts.outDir} holds features made with a different ${what}.`, 'Rerun with --force to replace them, or choose another --out.');
          }
          notice(`${opts.outDir} holds features made with a different ${what}: extracting again.`);
        }
        if (state.kind === 'stale-partial') notice(`Discarding an unfinished extraction in ${opts.outDir} made from other inputs.`);
        if (state.kind === 'resume' && !opts.force) notice(`Resuming ${opts.outDir}: ${state.progress.itemsDone} of ${items.length} images already done.`);
        const resumeFrom = state.kind === 'resume' && !opts.force ? state.progress : null;
        if (!resumeFrom) clearOutput(outDir);
        writer = new FeatureWriter(outDir, key, resumeFrom, opts.commitEverySeconds ?? 2);
        const w = writer;
        const concurrency = opts.decodeConcurrency ?? defaultDecodeConcurrency();
        const limit = pLimit(concurrency);
        const decoders = new DecodePool(decodeWorkers(concurrency));
        pool = decoders;
        const firstBatch = Math.floor(w.progress.itemsDone / batchSize);
        if (w.progress.itemsDone % batchSize !== 0) throw new FcprobeError('MISMATCH', `${opts.outDir}: the unfinished run used another --batch; rerun with the same --batch or with --force.`);
        const nBatches = Math.ceil(items.length / batchSize);
        const t0 = performance.now();
        const previousSeconds = w.progress.seconds;
        let doneThisRun = 0;
        const batchItems = (b: number): DatasetItem[] => items.slice(b * batchSize, Math.min(items.length, (b + 1) * batchSize));
        // Decoding runs PREFETCH batches ahead of inference; the shared limit keeps their images in order.
        // Batch b decodes into ring[b % (PREFETCH + 1)]: when batch b + PREFETCH starts, the buffer it reuses
        // held batch b - 1, whose inference has finished.
        const queue: Promise<DecodedBatch>[] = [];
        const ring = Array.from({ length: PREFETCH + 1 }, () => sharedBatchBuffer(batchSize * 3 * spec.crop * spec.crop));
        let queued = firstBatch;
        const fill = (): void => {
          while (queued < nBatches && queue.length < PREFETCH) {
            const p = decodeBatch(decoders, ring[queued % ring.length]!, batchItems(queued++), listing.root, spec, limit, opts.strict ?? false);
            // Keep a rejected prefetch from surfacing as an unhandled rejection if we stop early.
            p.catch(() => {});
            queue.push(p);
          }
        };
        fill();
        for (let b = firstBatch; b < nBatches; b++) {
          const cur = await queue.shift()!;
          fill();
          let features: Float32Array = new Float32Array(0);
          let dim = w.progress.dim ?? 0;
          if (cur.rows > 0) {
            const r = await enc.run(cur.data.subarray(0, cur.rows * 3 * spec.crop * spec.crop), cur.rows, spec.crop, output.name, opts.pool ?? null);
            features = r.features;
            dim = r.dim;
          }
          const elapsed = (performance.now() - t0) / 1000;
          w.addBatch(features, dim, cur.labels, cur.items, cur.skipped, previousSeconds + elapsed);
          doneThisRun += cur.items;
          const rate = doneThisRun / Math.max(elapsed, 1e-9);
          opts.onProgress?.({
            done: w.progress.itemsDone, total: items.length, skipped: w.progress.skipped.length,
            imagesPerSecond: rate, etaSeconds: rate > 0 ? (items.length - w.progress.itemsDone) / rate : null,
          });
          if (opts.shouldStop?.() && b + 1 < nBatches) {
            w.commit();
            throw new FcprobeError('INTERRUPTED', `Interrupted after ${w.progress.itemsDone} of ${items.length} images (all of them saved).`,
              'Rerun the same command to resume where it stopped.');
          }
        }
        const seconds = w.progress.seconds;
        const manifest: FeatureManifest = {
          format: 'fcprobe-features', formatVersion: 1, fcprobeVersion: FCPROBE_VERSION, key,
          model: { ...model, featureDim: w.progress.dim ?? 0 },
          preprocess: spec, executionProvider: provider, dataRoot: listing.root,
          classes: listing.classes, classMap: listing.classMap,
          files: filesInRowOrder(items, w.progress.skipped),
          skipped: w.progress.skipped, ignored: listing.ignored, listHash: lHash, shard,
          rows: w.progress.rows, featureDim: w.progress.dim ?? 0,
          timing: { seconds, imagesPerSecond: seconds > 0 ? items.length / seconds : 0 },
          createdAt: new Date().toISOString(),
        };
        w.finish(manifest);
        writer = null;
        return { status: 'extracted', outDir, manifest, provider, rows: manifest.rows, skipped: manifest.skipped, seconds: (performance.now() - started) / 1000 };
      }
    }
  } finally {
    (writer as FeatureWriter | null)?.close();
    await (pool as DecodePool | null)?.close();
    await worker.close();
  }
}

export interface PreparedModel {
  ready: InitReply;
  input: { size: number | null; type: 'float32' | 'float16' };
  output: TensorMeta;
  spec: PreprocessSpec;
}

/** Loads the model in the worker and checks input, output and preprocessing against it: no image is touched. */
async function prepareModel(worker: EncoderWorker, o: {
  modelPath: string; providers: ProviderName[]; explicit: boolean; threads: number | null; outputName?: string; pool?: 'cls' | 'mean';
  preprocess?: PreprocessOverrides; borderCrop: number; onNotice?: (m: string) => void;
}): Promise<PreparedModel> {
  let ready: InitReply;
  try {
    ready = await worker.init({ modelPath: o.modelPath, providers: o.providers, threads: o.threads });
  } catch (e) {
    if (e instanceof FcprobeError && e.code === 'PROVIDER_UNAVAILABLE' && o.explicit) {
      throw new FcprobeError('PROVIDER_UNAVAILABLE', e.message, o.providers.map((p) => INSTALL_HINT[p]).filter(Boolean).join(' '));
    }
    throw e;
  }
  for (const f of ready.providerFailures) o.onNotice?.(`Execution provider ${f.provider} unavailable (${f.reason}); using the next one.`);
  const input = checkInput(ready.inputs[0], o.modelPath);
  const output = chooseOutput(ready.outputs, o.outputName, o.modelPath);
  checkOutputShape(output, o.pool, o.modelPath);
  const spec = resolvePreprocess({ ...o.preprocess, borderCrop: o.preprocess?.borderCrop ?? (o.borderCrop || undefined) }, input.size);
  return { ready, input, output, spec };
}

export interface ModelCheck {
  provider: string;
  inputShape: (number | string)[];
  outputName: string;
  outputShape: (number | string)[];
  preprocess: PreprocessSpec;
}

/**
 * Preflight for multi-step commands (`run`): loads the model and validates options exactly as extract would,
 * so that a broken second model fails before the first one's hours of extraction.
 */
export async function inspectModel(o: Pick<ExtractOptions, 'modelPath' | 'outputName' | 'pool' | 'providers' | 'threads' | 'preprocess'>): Promise<ModelCheck> {
  const modelPath = resolve(o.modelPath);
  if (!existsSync(modelPath) || !statSync(modelPath).isFile()) throw new FcprobeError('NOT_FOUND', `Model file ${o.modelPath} does not exist.`);
  const { list: providers, explicit } = parseProviders(o.providers);
  if (explicit) checkProvidersInstalled(providers);
  const worker = new EncoderWorker();
  try {
    const p = await prepareModel(worker, { ...o, modelPath, providers, explicit, threads: o.threads ?? null, borderCrop: 0 });
    return { provider: p.ready.provider, inputShape: p.ready.inputs[0]!.shape, outputName: p.output.name, outputShape: p.output.shape, preprocess: p.spec };
  } finally {
    await worker.close();
  }
}

function filesInRowOrder(items: DatasetItem[], skipped: SkippedFile[]): string[] {
  const skip = new Set(skipped.map((s) => s.file));
  return items.filter((i) => !skip.has(i.file)).map((i) => i.file);
}

function describeChange(m: FeatureManifest, sha256: string, spec: PreprocessSpec, lHash: string, shard: FeatureManifest['shard']): string {
  const parts: string[] = [];
  if (m.model.sha256 !== sha256) parts.push('model (sha256 differs)');
  if (JSON.stringify(m.preprocess) !== JSON.stringify(spec)) parts.push('preprocessing');
  if (m.listHash !== lHash) parts.push('file list');
  if (JSON.stringify(m.shard) !== JSON.stringify(shard)) parts.push('shard');
  return parts.length ? parts.join(', ') : 'output or pooling';
}

export function relativeTo(root: string, p: string): string {
  return relative(root, p).split('\\').join('/');
}

/** sharp's own thread pool per image; concurrency comes from decoding several images at once. */
export function configureSharp(threadsPerImage = 1): void {
  sharp.concurrency(threadsPerImage);
  sharp.cache(false);
}
