/**
 * `fcprobe models pull`: a catalog name or hf: reference -> the cache, verified against the catalog's checksum
 * or the lock file's (written by the first pull), with the graph's external-data files fetched alongside.
 * The graph is published last, so a graph in the cache always has its external data next to it.
 *
 * Part files live under `<cache>/partial/<owner>/<repo>/<revision>/`, never beside the published files, so no
 * name the model declares can be another file's temporary name; that folder's `.fcprobe.lock` (src/io/lock.ts)
 * is held for the whole pull, so two pulls of one revision never write the same part file at once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ensureWritableDir } from '../io/atomic.js';
import { posix } from 'node:path';
import { badOption, FcprobeError } from '../errors.js';
import { acquireLock } from '../io/lock.js';
import { hasControl, redactSecrets } from '../io/terminal.js';
import { readLock, verifyCached, writeLockEntry, type LockedFile } from './cache.js';
import { findCatalogEntry, withExportScripts, type CatalogEntry } from './catalog.js';
import { discardPart, downloadToPart, publish } from './download.js';
import { externalDataLocations } from './externalData.js';
import { HUB_PREPROCESS_FILE } from './hubPreprocess.js';
import {
  cachePath,
  formatHubRef,
  hubUrl,
  isHubRef,
  parseHubRef,
  partialFolder,
  partPath,
  type HubRef,
} from './reference.js';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubTarget {
  ref: HubRef;
  /** Checksum the catalog pins (null: the lock file's, or record on first pull). */
  catalogSha256: string | null;
  entry: CatalogEntry | null;
}

/**
 * A catalog name or hf: reference -> what to fetch. Throws BAD_OPTION for an unknown name, and for a catalog
 * model with no published export (its hint is the export command).
 */
export function hubTarget(spec: string): HubTarget {
  if (isHubRef(spec)) return { ref: parseHubRef(spec), catalogSha256: null, entry: null };
  const entry = findCatalogEntry(spec);
  if (!entry)
    throw badOption(
      'the model',
      'a catalog name (see `fcprobe models list`) or hf:<owner>/<repo>/<path>.onnx[@<revision>]',
      spec,
    );
  if (entry.export.kind !== 'hub')
    throw new FcprobeError(
      'BAD_OPTION',
      `No published ONNX export of ${entry.name} (${entry.title}) is known, so it cannot be pulled.`,
      withExportScripts(
        `Make one: ${entry.export.command} (see models/export/README.md), then pass the .onnx file's path.`,
      ),
    );
  const e = entry.export;
  return { ref: { repo: e.repo, path: e.path, revision: e.revision }, catalogSha256: e.sha256, entry };
}

export interface PullOptions {
  cacheDir: string;
  endpoint?: string | undefined;
  token?: string | undefined;
  /** Pin for an hf: reference (overrides the lock; the catalog's own pin wins over both for a name). */
  sha256?: string | undefined;
  retries?: number | undefined;
  /** Seconds without a byte (or without an answer) before a transfer is abandoned (default 60). */
  stallTimeoutS?: number | undefined;
  onProgress?: ((file: string, done: number, total: number | null) => void) | undefined;
  /** Hears about a stale pull lock taken over. */
  onNotice?: ((message: string) => void) | undefined;
}

/**
 * Checks the endpoint and token before anything is sent. A token with a control character (CR/LF would split
 * the Authorization header) is refused without echoing it; an endpoint with user:password@ is refused with the
 * credentials redacted (fetch would refuse it with the full URL in its message).
 */
export function checkHubAccess(endpoint: string, token: string | undefined): void {
  if (token !== undefined && (hasControl(token) || /\s/.test(token)))
    throw new FcprobeError(
      'BAD_OPTION',
      'HF_TOKEN contains a control character or white space (a line break?); its value is not shown.',
      'Set HF_TOKEN to the token alone, e.g. HF_TOKEN=$(tr -d "\\r\\n" < token-file).',
    );
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    throw badOption('HF_ENDPOINT', 'an http(s) URL such as https://huggingface.co', redactSecrets(endpoint));
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw badOption('HF_ENDPOINT', 'an http(s) URL such as https://huggingface.co', redactSecrets(endpoint));
  if (u.username || u.password)
    throw new FcprobeError(
      'BAD_OPTION',
      `HF_ENDPOINT must not contain credentials (${redactSecrets(endpoint)}).`,
      'Put the access token in HF_TOKEN instead; it is sent only to that endpoint.',
    );
}

export interface PullResult {
  key: string;
  path: string;
  sha256: string;
  size: number;
  /** 'cached': already there and verified; 'downloaded': fetched now. */
  status: 'cached' | 'downloaded';
  externalData: LockedFile[];
  /** The checksum was recorded now (no catalog pin, no lock entry before). */
  recorded: boolean;
  /**
   * Repository paths of the files fetched now with no pinned sha256 to check them against (catalog, --sha256 or
   * lock file): trusted on first use, and recorded in the lock file from now on.
   */
  unpinned: string[];
}

/**
 * The repository's preprocessor_config.json at the same revision, into a part file (published with the graph),
 * or null when the repository has none (HTTP 404). Checked against the lock's record when there is one; parsed
 * here so that a file that is not JSON fails the pull rather than a later extract.
 */
async function fetchPreprocessorConfig(
  endpoint: string,
  ref: HubRef,
  opts: PullOptions,
  common: Omit<Parameters<typeof downloadToPart>[2], 'label' | 'expectedSha256'>,
  locked: LockedFile | null | undefined,
): Promise<{ part: string; dest: string; file: LockedFile } | null> {
  const key = formatHubRef(ref);
  const dest = cachePath(opts.cacheDir, ref, HUB_PREPROCESS_FILE);
  let r: Awaited<ReturnType<typeof downloadToPart>>;
  try {
    r = await downloadToPart(hubUrl(endpoint, ref, HUB_PREPROCESS_FILE), dest, {
      ...common,
      part: partPath(opts.cacheDir, ref, HUB_PREPROCESS_FILE),
      expectedSha256: locked?.sha256 ?? null,
      label: `${key} (${HUB_PREPROCESS_FILE})`,
      onProgress: (d, t) => opts.onProgress?.(HUB_PREPROCESS_FILE, d, t),
    });
  } catch (e) {
    if (e instanceof FcprobeError && e.code === 'NOT_FOUND' && !locked) return null;
    throw e;
  }
  try {
    JSON.parse(readFileSync(r.path, 'utf8'));
  } catch {
    discardPart(r.path);
    throw new FcprobeError(
      'BAD_MODEL',
      `${key}: the repository's ${HUB_PREPROCESS_FILE} is not JSON.`,
      'Give the preprocessing with flags when extracting, or fix the file in the repository.',
    );
  }
  return { part: r.path, dest, file: { path: HUB_PREPROCESS_FILE, sha256: r.sha256, size: r.size } };
}

/** Downloads (or finds) one model; see the module comment. Errors as downloadToPart's. */
export async function pullModel(spec: string, opts: PullOptions): Promise<PullResult> {
  const target = hubTarget(spec);
  const { ref } = target;
  if (opts.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(opts.sha256))
    throw badOption('--sha256', '64 lower-case hex digits', opts.sha256);
  const key = formatHubRef(ref);
  const endpoint = opts.endpoint ?? DEFAULT_ENDPOINT;
  checkHubAccess(endpoint, opts.token);
  const authOrigin = new URL(endpoint).origin;
  const locked = readLock(opts.cacheDir).models[key];
  const expected = target.catalogSha256 ?? opts.sha256 ?? locked?.sha256 ?? null;
  if (locked && expected !== null && locked.sha256 !== expected)
    throw new FcprobeError(
      'MISMATCH',
      `${key}: the lock file records sha256 ${locked.sha256}, but ` +
        `${target.catalogSha256 ? 'the catalog pins' : '--sha256 asks for'} ${expected}.`,
      'Remove the entry from fcprobe-models.lock.json in the cache if the new checksum is the right one.',
    );
  const dest = cachePath(opts.cacheDir, ref);
  // Already there: verify it (and its external data) against the record instead of trusting the file's presence.
  if (existsSync(dest) && locked) {
    verifyCached(dest, key, locked);
    return {
      key,
      path: dest,
      sha256: locked.sha256,
      size: locked.size,
      status: 'cached',
      externalData: locked.externalData,
      recorded: false,
      unpinned: [],
    };
  }
  // Before any transfer (but after the cached case: a read-only shared cache still serves what it holds): an
  // unusable cache ($FCPROBE_CACHE on /proc, a read-only mount) fails at once (IO, exit 6).
  ensureWritableDir(opts.cacheDir);
  const common = {
    token: opts.token,
    authOrigin,
    retries: opts.retries,
    stallTimeoutS: opts.stallTimeoutS,
  };
  const partDir = partialFolder(opts.cacheDir, ref);
  ensureWritableDir(partDir);
  const lock = acquireLock(partDir, `models pull ${key}`, opts.onNotice);
  try {
    return await pullLocked();
  } finally {
    lock.release();
  }

  async function pullLocked(): Promise<PullResult> {
    const graph = await downloadToPart(hubUrl(endpoint, ref), dest, {
      ...common,
      part: partPath(opts.cacheDir, ref),
      expectedSha256: expected,
      label: key,
      onProgress: (d, t) => opts.onProgress?.(ref.path, d, t),
    });
    const external: LockedFile[] = [];
    const unpinned = expected === null ? [ref.path] : [];
    const extParts: [string, string][] = [];
    try {
      const dir = posix.dirname(ref.path);
      for (const rel of externalDataLocations(graph.path, key)) {
        const path = dir === '.' ? rel : `${dir}/${rel}`;
        // The weights file cannot be the graph itself: publishing it would replace the graph with its weights.
        if (path === ref.path || path === HUB_PREPROCESS_FILE)
          throw new FcprobeError(
            'BAD_MODEL',
            `${key}: a tensor's external data location "${rel}" is ` +
              `${path === ref.path ? 'the graph file itself' : `the repository's ${HUB_PREPROCESS_FILE}`}.`,
            'The export is broken: external data must live in a file of its own (e.g. model.onnx.data).',
          );
        const extDest = cachePath(opts.cacheDir, ref, path);
        const pinned = locked?.externalData.find((f) => f.path === path)?.sha256 ?? null;
        const r = await downloadToPart(hubUrl(endpoint, ref, path), extDest, {
          ...common,
          part: partPath(opts.cacheDir, ref, path),
          expectedSha256: pinned,
          label: `${key} (external data ${path})`,
          onProgress: (d, t) => opts.onProgress?.(path, d, t),
        });
        external.push({ path, sha256: r.sha256, size: r.size });
        if (pinned === null) unpinned.push(path);
        extParts.push([r.path, extDest]);
      }
    } catch (e) {
      // The graph's part stays for a resume only if it is not the problem; a bad graph is removed.
      if (e instanceof FcprobeError && e.code === 'BAD_MODEL') discardPart(graph.path);
      throw e;
    }
    const processor = await fetchPreprocessorConfig(endpoint, ref, opts, common, locked?.preprocessorConfig);
    if (processor && locked?.preprocessorConfig === undefined) unpinned.push(HUB_PREPROCESS_FILE);
    for (const [p, d] of extParts) publish(p, d);
    if (processor) publish(processor.part, processor.dest);
    publish(graph.path, dest);
    writeLockEntry(opts.cacheDir, key, {
      path: ref.path,
      sha256: graph.sha256,
      size: graph.size,
      url: hubUrl(endpoint, ref),
      commit: graph.commit,
      pulledAt: new Date().toISOString(),
      externalData: external,
      preprocessorConfig: processor?.file ?? null,
    });
    return {
      key,
      path: dest,
      sha256: graph.sha256,
      size: graph.size,
      status: 'downloaded',
      externalData: external,
      recorded: expected === null,
      unpinned,
    };
  }
}
