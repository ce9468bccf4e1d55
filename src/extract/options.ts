/** What `extractFeatures` takes and returns (apart so that the model preflight can share them). */
import type { DatasetListing } from '../dataset/listing.js';
import type { FeatureManifest, SkippedFile } from '../features/manifest.js';
import type { PreprocessOverrides } from '../image/preprocessSpec.js';

export interface ExtractOptions {
  modelPath: string;
  listing: DatasetListing;
  outDir: string;
  preprocess?: PreprocessOverrides | undefined;
  /** Output tensor to read; default: the only output, or one named features/embedding/image_embeds/pooler_output. */
  outputName?: string | undefined;
  pool?: 'cls' | 'mean' | undefined;
  /** Comma-separated provider list as given to --ep; default: best installed. */
  providers?: string | undefined;
  threads?: number | undefined;
  batchSize?: number | undefined;
  /** Images decoded at once (on one decode worker thread per core); default: 4 per core, at least 8. */
  decodeConcurrency?: number | undefined;
  /** Commit (fsync) appended rows at most this often; default 2. A crash redoes at most this much work. */
  commitEverySeconds?: number | undefined;
  shard?: { index: number; count: number } | undefined;
  strict?: boolean | undefined;
  force?: boolean | undefined;
  /** What to do with finished features made from other inputs: 'error' (default) or replace them. */
  onStale?: 'error' | 'replace' | undefined;
  onProgress?: ((p: ExtractProgress) => void) | undefined;
  onNotice?: ((message: string) => void) | undefined;
  /** Checked after every batch; when it returns true the run commits what it has and stops with INTERRUPTED. */
  shouldStop?: (() => boolean) | undefined;
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
