/**
 * fcprobe's model cache and its lock file. The cache is `$FCPROBE_CACHE`, else `$XDG_CACHE_HOME/fcprobe`,
 * else `~/.cache/fcprobe` (`%LOCALAPPDATA%\fcprobe\Cache` on Windows). The lock file
 * `<cache>/fcprobe-models.lock.json` records the sha256 of every file the first pull wrote, so a later pull
 * or a run that finds different bytes fails instead of silently using them. It lives next to the files it
 * describes (not in the working folder) because runs resolve names from any folder (a cluster job's, say),
 * and copying the cache folder carries its record along.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { FcprobeError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { parseJsonText } from '../io/json.js';

export const LOCK_FILE = 'fcprobe-models.lock.json';

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FCPROBE_CACHE) return env.FCPROBE_CACHE;
  if (process.platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'fcprobe', 'Cache');
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'fcprobe');
  return join(homedir(), '.cache', 'fcprobe');
}

export interface LockedFile {
  /** Path inside the repository. */
  path: string;
  sha256: string;
  size: number;
}

export interface LockEntry extends LockedFile {
  url: string;
  /** The commit the hub said it served (X-Repo-Commit), when it said. */
  commit: string | null;
  pulledAt: string;
  /** External-data files of the graph, fetched with it. */
  externalData: LockedFile[];
  /**
   * The repository's preprocessor_config.json, fetched with the graph (null: the repository has none; absent in
   * lock files of older fcprobe versions, whose pulls did not look for it).
   */
  preprocessorConfig?: LockedFile | null;
}

export interface LockFile {
  format: 'fcprobe-models-lock';
  version: 1;
  /** Keyed by the canonical reference, hf:owner/repo/path@revision. */
  models: Record<string, LockEntry>;
}

const HEX64 = /^[0-9a-f]{64}$/;

function lockedFileOk(v: unknown): v is LockedFile {
  const f = v as LockedFile;
  return (
    typeof f === 'object' &&
    f !== null &&
    typeof f.path === 'string' &&
    typeof f.sha256 === 'string' &&
    HEX64.test(f.sha256) &&
    Number.isSafeInteger(f.size) &&
    f.size >= 0
  );
}

/** Reads and checks the cache's lock file; an absent file is an empty lock. Throws IO when it is corrupt. */
export function readLock(cacheDir: string): LockFile {
  const path = join(cacheDir, LOCK_FILE);
  if (!existsSync(path)) return { format: 'fcprobe-models-lock', version: 1, models: {} };
  const raw = parseJsonText(
    readFileSync(path, 'utf8'),
    (why) => new FcprobeError('IO', `The model lock file ${path} is not valid JSON: ${why}`),
  ).value;
  const l = raw as LockFile;
  const bad = (): never => {
    throw new FcprobeError(
      'IO',
      `The model lock file ${path} is not an fcprobe model lock (format fcprobe-models-lock, version 1).`,
      'Move it away and pull the models again; their checksums are recorded anew.',
    );
  };
  if (typeof l !== 'object' || l === null || l.format !== 'fcprobe-models-lock' || l.version !== 1) bad();
  if (typeof l.models !== 'object' || l.models === null) bad();
  for (const e of Object.values(l.models)) {
    if (!lockedFileOk(e) || !Array.isArray(e.externalData) || !e.externalData.every(lockedFileOk)) bad();
    const pc = e.preprocessorConfig;
    if (pc !== undefined && pc !== null && !lockedFileOk(pc)) bad();
  }
  return l;
}

/** Adds or replaces one entry (read-modify-write, atomic rename). */
export function writeLockEntry(cacheDir: string, key: string, entry: LockEntry): void {
  const lock = readLock(cacheDir);
  lock.models[key] = entry;
  const sorted = Object.fromEntries(Object.entries(lock.models).sort(([a], [b]) => a.localeCompare(b)));
  writeFileAtomic(join(cacheDir, LOCK_FILE), `${JSON.stringify({ ...lock, models: sorted }, null, 2)}\n`);
}

/** sha256 of a file, read synchronously in 4 MiB pieces (used where a caller needs the answer before going on). */
export function sha256FileSync(path: string): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(4 << 20);
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/**
 * Checks a cached model and its external data against the lock entry (size, then sha256). Throws MISMATCH
 * naming the file when the bytes differ, NOT_FOUND when an external-data file is missing.
 */
export function verifyCached(graphPath: string, key: string, entry: LockEntry): void {
  const dir = dirname(graphPath);
  const base = entry.path.includes('/') ? entry.path.slice(0, entry.path.lastIndexOf('/') + 1) : '';
  const files: [string, LockedFile][] = [
    [graphPath, entry],
    ...entry.externalData.map((f): [string, LockedFile] => [join(dir, ...f.path.slice(base.length).split('/')), f]),
  ];
  for (const [path, f] of files) {
    if (!existsSync(path))
      throw new FcprobeError(
        'NOT_FOUND',
        `${key}: ${path} is missing from the cache.`,
        `Pull it again: fcprobe models pull ${key}`,
      );
    const size = statSync(path).size;
    const sha = size === f.size ? sha256FileSync(path) : null;
    if (sha !== f.sha256)
      throw new FcprobeError(
        'MISMATCH',
        `${key}: the cached ${path} is not the file that was pulled ` +
          `(${sha === null ? `${size} bytes, recorded ${f.size}` : `sha256 ${sha}, recorded ${f.sha256}`}).`,
        `Delete it and pull again: rm '${path}' && fcprobe models pull ${key}`,
      );
  }
}
