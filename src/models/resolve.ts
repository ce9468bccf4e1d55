/**
 * Model arguments everywhere (`extract --model`, `bench --model`, `run` flags and configs): a path, a catalog
 * name or an hf: reference. Names and references resolve to the cached file, verified against the lock file;
 * nothing is downloaded here (a model not pulled yet is an error that names the pull command), so a run never
 * reaches the network unless the user asked it to with `fcprobe models pull`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FcprobeError } from '../errors.js';
import { type LockedFile, readLock, verifyCached } from './cache.js';
import { hubPreprocessLayer } from './hubPreprocess.js';
import type { PreprocessLayer } from '../image/preprocessSpec.js';
import { findCatalogEntry, type CatalogEntry } from './catalog.js';
import { hubTarget } from './pull.js';
import { cachePath, formatHubRef, isHubRef } from './reference.js';

export interface ResolvedModel {
  /** Absolute path of the .onnx file. */
  path: string;
  /** The argument as given ("clip-vit-b16", "hf:...", or the path). */
  spec: string;
  /** Canonical hf: reference when the model came from the cache. */
  ref: string | null;
  /** sha256 recorded in the lock file and checked just now (null for a plain path: extract hashes it). */
  sha256: string | null;
  /** The catalog entry, for its preprocessing and output defaults. */
  entry: CatalogEntry | null;
  /**
   * What the catalog entry and the repository's preprocessor_config.json state about preprocessing (sources
   * 'catalog' and 'hub'), for resolvePreprocessLayers; empty for a plain path.
   */
  preprocessLayers: PreprocessLayer[];
}

/** True when `spec` is a model reference rather than a path (hf:..., or a catalog name that is not a file). */
export function isModelReference(spec: string, baseDir: string = process.cwd()): boolean {
  if (isHubRef(spec)) return true;
  return !existsSync(resolve(baseDir, spec)) && findCatalogEntry(spec) !== null;
}

/**
 * Resolves a model argument (see the module comment). A plain path is returned resolved against `baseDir`
 * and unchecked (the caller reports a missing file in its own words). Throws NOT_FOUND for a model that is
 * not pulled, MISMATCH when the cached bytes differ from the lock file's record, BAD_OPTION for a catalog
 * model without a published export.
 */
export function resolveModel(spec: string, cacheDir: string, baseDir: string = process.cwd()): ResolvedModel {
  if (!isModelReference(spec, baseDir))
    return { path: resolve(baseDir, spec), spec, ref: null, sha256: null, entry: null, preprocessLayers: [] };
  const target = hubTarget(spec);
  const key = formatHubRef(target.ref);
  const path = cachePath(cacheDir, target.ref);
  const locked = readLock(cacheDir).models[key];
  if (!existsSync(path) || !locked)
    throw new FcprobeError(
      'NOT_FOUND',
      `Model ${spec} is not in the cache (${cacheDir}).`,
      `Download it first: fcprobe models pull ${spec}   (fcprobe downloads nothing unless asked; FCPROBE_CACHE ` +
        `sets the cache folder)`,
    );
  if (target.catalogSha256 !== null && locked.sha256 !== target.catalogSha256)
    throw new FcprobeError(
      'MISMATCH',
      `${key}: the lock file records sha256 ${locked.sha256}, the catalog pins ${target.catalogSha256}.`,
    );
  verifyCached(path, key, locked);
  const entry = target.entry ?? findCatalogEntry(spec);
  const layers: PreprocessLayer[] = entry ? [{ source: 'catalog', values: { ...entry.preset } }] : [];
  const pc = locked.preprocessorConfig;
  if (pc) layers.push(hubPreprocessLayer(readVerifiedJson(cachePath(cacheDir, target.ref, pc.path), key, pc)));
  return { path, spec, ref: key, sha256: locked.sha256, entry, preprocessLayers: layers };
}

/** A small cached file checked against its lock record (size and sha256), parsed as JSON. */
function readVerifiedJson(path: string, key: string, f: LockedFile): unknown {
  const again = `Pull it again: fcprobe models pull ${key}`;
  if (!existsSync(path)) throw new FcprobeError('NOT_FOUND', `${key}: ${path} is missing from the cache.`, again);
  const bytes = readFileSync(path);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length !== f.size || sha !== f.sha256)
    throw new FcprobeError('MISMATCH', `${key}: the cached ${path} is not the file that was pulled.`, again);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new FcprobeError('MISMATCH', `${key}: the cached ${path} is not JSON.`, again);
  }
}
