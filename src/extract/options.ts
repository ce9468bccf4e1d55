/** What `extractFeatures` takes and returns (apart so that the model preflight can share them). */
import type { DatasetListing } from '../dataset/listing.js';
import type { FeatureManifest, SkippedFile } from '../features/manifest.js';
import type { PreprocessOverrides } from '../image/preprocessSpec.js';

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
