/**
 * Joins the directories of `extract --shard k/n` runs into one directory identical in content to an
 * unsharded run (features, labels, file order), after checking that they belong together.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { FcprobeError } from '../errors.js';
import { loadFeatureSet, type FeatureManifest, type FeatureSet } from '../features/manifest.js';
import { clearOutput, FeatureWriter, readOutputState } from '../features/writer.js';
import { featureKey } from '../features/key.js';
import { FCPROBE_VERSION } from '../version.js';

export interface MergeResult {
  outDir: string;
  rows: number;
  shards: number;
  manifest: FeatureManifest;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function mergeShards(shardDirs: string[], outDirArg: string, force = false): MergeResult {
  if (shardDirs.length === 0) throw new FcprobeError('BAD_OPTION', 'Give at least one shard directory to merge.');
  const sets: FeatureSet[] = shardDirs.map((d) => loadFeatureSet(d));
  const first = sets[0]!.manifest;
  if (!first.shard) throw new FcprobeError('MISMATCH', `${shardDirs[0]} is not a shard (extracted without --shard).`);
  const count = first.shard.count;
  const byIndex = new Map<number, FeatureSet>();
  for (const s of sets) {
    const m = s.manifest;
    const where = s.dir;
    if (!m.shard) throw new FcprobeError('MISMATCH', `${where} is not a shard (extracted without --shard).`);
    if (m.model.sha256 !== first.model.sha256)
      throw new FcprobeError(
        'MISMATCH',
        `${where} was extracted with another model (sha256 ${m.model.sha256.slice(0, 12)} vs ${first.model.sha256.slice(0, 12)}).`,
      );
    if (!same(m.preprocess, first.preprocess))
      throw new FcprobeError('MISMATCH', `${where} was extracted with other preprocessing.`);
    if (m.model.outputName !== first.model.outputName || m.model.pool !== first.model.pool)
      throw new FcprobeError('MISMATCH', `${where} read another output or pooling.`);
    if (m.listHash !== first.listHash)
      throw new FcprobeError(
        'MISMATCH',
        `${where} was extracted from another file list (different folder contents or classes).`,
      );
    if (m.shard.count !== count)
      throw new FcprobeError(
        'MISMATCH',
        `${where} is shard ${m.shard.index}/${m.shard.count}, others are of ${count}.`,
      );
    if (m.featureDim !== first.featureDim)
      throw new FcprobeError('MISMATCH', `${where} has feature size ${m.featureDim}, others ${first.featureDim}.`);
    if (byIndex.has(m.shard.index))
      throw new FcprobeError(
        'MISMATCH',
        `Shard ${m.shard.index}/${count} is given twice (${byIndex.get(m.shard.index)!.dir} and ${where}).`,
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

  const outDir = resolve(outDirArg);
  mkdirSync(outDir, { recursive: true });
  const key = featureKey({
    sha256: first.model.sha256,
    outputName: first.model.outputName,
    pool: first.model.pool,
    inputType: first.model.inputType,
    spec: first.preprocess,
    listHash: first.listHash,
    shard: null,
  });
  const state = readOutputState(outDir, key);
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
  const files: string[] = [];
  const skipped: FeatureManifest['skipped'] = [];
  let seconds = 0;
  const chunk = 4096;
  try {
    for (let i = 0; i < count; i++) {
      const s = byIndex.get(i)!;
      const labels = s.labels();
      const r = s.open();
      try {
        for (let start = 0; start < s.rows; start += chunk) {
          const n = Math.min(chunk, s.rows - start);
          const f = r.readFloat32Rows(start, n);
          writer.addBatch(new Float32Array(f), s.dim, labels.subarray(start, start + n), 0, [], 0);
        }
        if (s.rows === 0) writer.addBatch(new Float32Array(0), s.dim, new Int32Array(0), 0, [], 0);
      } finally {
        r.close();
      }
      files.push(...s.manifest.files);
      skipped.push(...s.manifest.skipped);
      seconds += s.manifest.timing.seconds;
    }
    const total = first.shard.totalItems;
    const manifest: FeatureManifest = {
      ...first,
      fcprobeVersion: FCPROBE_VERSION,
      key,
      files,
      skipped,
      shard: null,
      rows: files.length,
      timing: { seconds, imagesPerSecond: seconds > 0 ? total / seconds : 0 },
      createdAt: new Date().toISOString(),
    };
    writer.finish(manifest);
    return { outDir, rows: files.length, shards: count, manifest };
  } catch (e) {
    writer.close();
    throw e;
  }
}
