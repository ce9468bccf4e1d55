/**
 * Joins the directories of `extract --shard k/n` runs into one directory identical in content to an
 * unsharded run (features, labels, file order), after checking that they belong together.
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { FcprobeError } from '../errors.js';
import { ensureWritableDir } from '../io/atomic.js';
import { loadFeatureSet, type FeatureManifest, type FeatureSet } from '../features/manifest.js';
import { acquireLock } from '../features/lock.js';
import { clearOutput, FeatureWriter, readOutputState, verifyFinished } from '../features/writer.js';
import { featureKey } from '../features/key.js';
import { checkOrigin, originOf } from '../features/origin.js';
import { FCPROBE_VERSION } from '../version.js';

export interface MergeResult {
  outDir: string;
  rows: number;
  shards: number;
  manifest: FeatureManifest;
}

/** The fields every shard of one `extract --shard` run shares. */
const SHARD_ORIGIN_FIELDS = Object.freeze(['model', 'output', 'pool', 'preprocess', 'listing', 'featureDim'] as const);
/** A shard with no row (more shards than images) may not know the feature size: it adds nothing to compare. */
const EMPTY_SHARD_ORIGIN_FIELDS = Object.freeze(['model', 'output', 'pool', 'preprocess', 'listing'] as const);

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/** Loads the shard directories and checks that they are the complete shards of one run, by index. */
function loadShardSet(shardDirs: string[]): { first: FeatureManifest; totalItems: number; shards: FeatureSet[] } {
  if (shardDirs.length === 0) throw new FcprobeError('BAD_OPTION', 'Give at least one shard directory to merge.');
  const sets: FeatureSet[] = shardDirs.map((d) => loadFeatureSet(d));
  const firstSet = sets[0];
  if (!firstSet?.manifest.shard)
    throw new FcprobeError('MISMATCH', `${shardDirs[0]} is not a shard (extracted without --shard).`);
  const first = firstSet.manifest;
  const count = firstSet.manifest.shard.count;
  const byIndex = new Map<number, FeatureSet>();
  for (const s of sets) {
    const m = s.manifest;
    const where = s.dir;
    if (!m.shard) throw new FcprobeError('MISMATCH', `${where} is not a shard (extracted without --shard).`);
    checkOrigin(
      originOf(first),
      originOf(m),
      m.rows > 0 && first.rows > 0 ? SHARD_ORIGIN_FIELDS : EMPTY_SHARD_ORIGIN_FIELDS,
      {
        subject: `${where} does not belong with ${firstSet.dir}: it was extracted with another`,
        hint: 'Merge the shards of one `extract --shard` run (same model, output, pooling, preprocessing, folder).',
      },
    );
    if (m.shard.count !== count)
      throw new FcprobeError(
        'MISMATCH',
        `${where} is shard ${m.shard.index}/${m.shard.count}, others are of ${count}.`,
      );
    if (!same(m.model.external, first.model.external) || !same(m.images, first.images))
      throw new FcprobeError(
        'MISMATCH',
        `${where} was extracted from other model weights or other image files (external data, sizes or times differ).`,
      );
    const twin = byIndex.get(m.shard.index);
    if (twin)
      throw new FcprobeError('MISMATCH', `Shard ${m.shard.index}/${count} is given twice (${twin.dir} and ${where}).`);
    const why = verifyFinished(s.dir, m, true);
    if (why !== null)
      throw new FcprobeError(
        'BAD_FEATURES',
        `${where} does not match its manifest: ${why}.`,
        'Extract that shard again.',
      );
    byIndex.set(m.shard.index, s);
  }
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length)
    throw new FcprobeError(
      'MISMATCH',
      `Shards ${missing.map((i) => `${i}/${count}`).join(', ')} are missing.`,
      'Merge needs every shard of the set.',
    );
  // Every index below count is present (checked above), in index order.
  const shards = Array.from({ length: count }, (_, i) => byIndex.get(i) as FeatureSet);
  return { first, totalItems: firstSet.manifest.shard.totalItems, shards };
}

/**
 * Joins the feature directories of an `extract` run split with `shard` into one directory with the same
 * features, labels and file order as an unsharded run. Shards may be given in any order.
 *
 * @param shardDirs - one directory per shard, all `count` of them.
 * @param outDirArg - the merged directory (created).
 * @param force - replace `outDirArg` when it holds other features.
 * @throws FcprobeError BAD_OPTION when no directory is given; NOT_FOUND or BAD_FEATURES when a directory is
 *   not a finished feature directory; MISMATCH when the shards come from different models, preprocessing,
 *   outputs or file lists, a shard is missing or given twice, or `outDirArg` holds other features.
 */
export function mergeShards(shardDirs: string[], outDirArg: string, force = false): MergeResult {
  // --force clears the output before reading the shards: an output that is one of them would be destroyed.
  const outReal = realOrResolved(outDirArg);
  const clash = shardDirs.find((d) => realOrResolved(d) === outReal);
  if (clash !== undefined)
    throw new FcprobeError(
      'BAD_OPTION',
      `The output folder ${outDirArg} is one of the shards to merge (${clash}).`,
      'Choose another --out: merging writes a new folder and leaves the shards as they are.',
    );
  const loaded = loadShardSet(shardDirs);
  const outDir = resolve(outDirArg);
  ensureWritableDir(outDir);
  const lock = acquireLock(outDir, 'merge');
  try {
    return mergeInto(loaded, outDir, outDirArg, force);
  } finally {
    lock.release();
  }
}

function mergeInto(
  { first, totalItems, shards }: ReturnType<typeof loadShardSet>,
  outDir: string,
  outDirArg: string,
  force: boolean,
): MergeResult {
  const dim = shards.find((s) => s.rows > 0)?.dim ?? first.featureDim;
  const key = featureKey({
    sha256: first.model.sha256,
    external: first.model.external ?? [],
    imagesHash: first.images?.hash ?? '',
    outputName: first.model.outputName,
    pool: first.model.pool,
    inputType: first.model.inputType,
    spec: first.preprocess,
    listHash: first.listHash,
    shard: null,
  });
  const state = readOutputState(outDir, key);
  if (state.kind === 'corrupt' && !force) throw state.error;
  if (state.kind === 'done' && !force)
    throw new FcprobeError(
      'MISMATCH',
      `${outDirArg} already holds merged features.`,
      'Use --force to write them again.',
    );
  if (state.kind === 'stale' && !force)
    throw new FcprobeError(
      'MISMATCH',
      `${outDirArg} holds other features.`,
      'Use --force to replace them, or choose another output directory.',
    );
  clearOutput(outDir);
  const writer = new FeatureWriter(outDir, key, null);
  try {
    for (const s of shards) appendShard(writer, s, dim);
    const files = shards.flatMap((s) => s.manifest.files);
    const seconds = shards.reduce((t, s) => t + s.manifest.timing.seconds, 0);
    const manifest: FeatureManifest = {
      ...first,
      fcprobeVersion: FCPROBE_VERSION,
      key,
      files,
      skipped: shards.flatMap((s) => s.manifest.skipped),
      shard: null,
      rows: files.length,
      featureDim: dim,
      model: { ...first.model, featureDim: dim },
      timing: { seconds, imagesPerSecond: seconds > 0 ? totalItems / seconds : 0 },
      createdAt: new Date().toISOString(),
    };
    const published = writer.finish(manifest, true);
    return { outDir, rows: files.length, shards: shards.length, manifest: published };
  } catch (e) {
    writer.close();
    throw e;
  }
}

/** Streams one shard's rows and labels into the writer, 4096 rows at a time. */
function appendShard(writer: FeatureWriter, s: FeatureSet, dim: number): void {
  const chunk = 4096;
  const labels = s.labels();
  const r = s.open();
  try {
    for (let start = 0; start < s.rows; start += chunk) {
      const n = Math.min(chunk, s.rows - start);
      const f = r.readFloat32Rows(start, n);
      writer.addBatch(new Float32Array(f), dim, labels.subarray(start, start + n), 0, [], 0);
    }
  } finally {
    r.close();
  }
}
