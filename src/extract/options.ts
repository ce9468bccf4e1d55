/** What `extractFeatures` takes and returns (apart so that the model preflight can share them). */
import type { DatasetListing } from '../dataset/listing.js';
import type { FeatureManifest, SkippedFile } from '../features/manifest.js';
import type { PreprocessLayer, PreprocessOverrides } from '../image/preprocessSpec.js';
import type { PoolName } from '../options.js';

/** Options of {@link extractFeatures}. */
export interface ExtractOptions {
  /** The ONNX encoder: one image input [N, 3, H, W] (float32 or float16). */
  modelPath: string;
  /** The images in row order, from `scanImageFolder` or `listDataset`. */
  listing: DatasetListing;
  /** Output directory (created); holds features.npy, labels.npy and manifest.json when done. */
  outDir: string;
  /**
   * Preset ('torchvision', 'clip', 'inception') and per-field values the caller states (source 'flag'); sizes in
   * pixels. They win over every other source; see docs/preprocessing.md for the order.
   */
  preprocess?: PreprocessOverrides | undefined;
  /**
   * Lower sources (run config, catalog entry, hub preprocessor_config.json), ranked by their `source`; the model's
   * own `fcprobe.preprocess` metadata is read from the file and need not be given.
   */
  preprocessLayers?: readonly PreprocessLayer[] | undefined;
  /** The model's name in notices and warnings (default: its path). */
  modelName?: string | undefined;
  /** Output tensor to read; default: the only output, or one named features/embedding/image_embeds/pooler_output. */
  outputName?: string | undefined;
  /** Reduce a [N, tokens, D] output to [N, D]: the first token ('cls') or the mean over tokens. */
  pool?: PoolName | undefined;
  /** Comma-separated provider list as given to --ep; default: best installed. */
  providers?: string | undefined;
  /** onnxruntime intra-op threads for the encoder; default: one per core. */
  threads?: number | undefined;
  /** Images per inference call (default: EXTRACT_DEFAULTS.batch). */
  batchSize?: number | undefined;
  /** Images decoded at once (on one decode worker thread per core); default: 4 per core, at least 8. */
  decodeConcurrency?: number | undefined;
  /** Sum of the pixels (width x height) of the images decoded at once, at most; see extract/pixelBudget.ts. */
  decodePixelBudget?: number | undefined;
  /**
   * Commit (fsync) appended rows at most this often (default: EXTRACT_DEFAULTS.commitEvery). A crash redoes at most
   * this much work.
   */
  commitEverySeconds?: number | undefined;
  /** Process only slice `index` (0-based) of `count` equal slices of the listing; join them with mergeShards. */
  shard?: { index: number; count: number } | undefined;
  /** Fail on the first undecodable image instead of skipping it. */
  strict?: boolean | undefined;
  /** Recompute even when `outDir` holds finished or partial features. */
  force?: boolean | undefined;
  /** Key the cache on a hash of every image's bytes instead of its size and modification time. */
  verifyContent?: boolean | undefined;
  /** What to do with finished features made from other inputs: 'error' (default) or replace them. */
  onStale?: 'error' | 'replace' | undefined;
  /**
   * Finished feature folders that may already hold exactly these features (`run` passes the folders it has
   * extracted from the same listing, e.g. a distilled student's backbone and the same file as a student of its
   * own). When `outDir` does not hold them, the first of these whose manifest has this request's key (model
   * sha256, output, pooling, preprocessing, listing and images: never the model's name) and whose arrays match
   * the manifest's checksums is returned as `'shared'`, and nothing is extracted or written. The caller keeps
   * these folders from being rewritten meanwhile (run holds its work folder's lock).
   */
  sharedFrom?: readonly string[] | undefined;
  /** Called after every batch. */
  onProgress?: ((p: ExtractProgress) => void) | undefined;
  /** One-line notices (resuming, replacing stale features). */
  onNotice?: ((message: string) => void) | undefined;
  /** Checked after every batch; when it returns true the run commits what it has and stops with INTERRUPTED. */
  shouldStop?: (() => boolean) | undefined;
}

/** Progress of one extraction, reported after every batch. */
export interface ExtractProgress {
  /** Images processed so far (including earlier runs that this one resumes), of `total`. */
  done: number;
  total: number;
  /** Images skipped as undecodable so far. */
  skipped: number;
  /** Throughput of this run, images per second. */
  imagesPerSecond: number;
  /** Estimated seconds left at that rate; null before any image is done. */
  etaSeconds: number | null;
}

/** What {@link extractFeatures} produced. */
export interface ExtractResult {
  /**
   * 'already-done': `outDir` held finished features of the same inputs and nothing was computed; 'shared': a
   * folder of `sharedFrom` held them (`outDir` is then that folder) and nothing was computed.
   */
  status: 'extracted' | 'already-done' | 'shared';
  /** Absolute path of the feature directory (a `sharedFrom` folder when 'shared'). */
  outDir: string;
  manifest: FeatureManifest;
  /** Execution provider that ran the encoder ('cpu', 'cuda', ...). */
  provider: string;
  /** Rows written (images minus skipped ones). */
  rows: number;
  skipped: SkippedFile[];
  /** Wall time of this call in seconds (0 when already done). */
  seconds: number;
}
