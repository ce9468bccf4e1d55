/**
 * Batches of decoded images, in list order, decoded ahead of inference on the decode worker pool: while batch b
 * is inferred, batches b+1 .. b+PREFETCH decode into a ring of shared buffers.
 */
import { resolve } from 'node:path';
import pLimit from 'p-limit';
import { FcprobeError } from '../errors.js';
import { DecodePool, ImageDecodeError, sharedBatchBuffer } from './decodePool.js';
import { decodeWorkers } from './sessionOptions.js';
import { DEFAULT_DECODE_PIXEL_BUDGET, filePixels, PixelBudget } from './pixelBudget.js';
import type { DatasetItem } from '../dataset/listing.js';
import type { SkippedFile } from '../features/manifest.js';
import type { PreprocessSpec } from '../image/preprocessSpec.js';

/**
 * Batches decoded ahead of the one being inferred. 2 keeps decoding busy across batch boundaries (the next
 * batch's images queue behind the current ones instead of waiting for the loop); bench/NOTES.md has the figures.
 */
export const PREFETCH = 2;

export interface DecodedBatch {
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
async function decodeBatch(
  pool: DecodePool,
  data: Float32Array,
  items: DatasetItem[],
  root: string,
  spec: PreprocessSpec,
  limit: ReturnType<typeof pLimit>,
  strict: boolean,
  budget: PixelBudget,
): Promise<DecodedBatch> {
  const per = 3 * spec.crop * spec.crop;
  const failed: (string | null)[] = await Promise.all(
    items.map((it, i) =>
      limit(async () => {
        // A tar member is a byte range of its shard (tarListing.ts).
        const file = resolve(root, it.source?.path ?? it.file);
        const range = it.source ? { offset: it.source.offset, size: it.source.size } : null;
        // Admission in list order (p-limit starts tasks in order, the budget serves them first come first served).
        const release = await budget.acquire(await filePixels(file, budget.budget, range?.offset ?? 0, range?.size));
        try {
          await pool.decodeInto(file, spec, data, i * per, range);
          return null;
        } catch (e) {
          if (!(e instanceof ImageDecodeError)) throw e;
          return e.message.split('\n')[0] ?? 'decode failed';
        } finally {
          release();
        }
      }),
    ),
  );
  // Decodes finish in any order; --strict names the first bad file in list order, the same on every run.
  const firstBad = failed.findIndex((f) => f !== null);
  if (strict && firstBad >= 0) {
    throw new FcprobeError(
      'BAD_DATA',
      `Cannot decode ${items[firstBad]!.file}: ${failed[firstBad]}`,
      'Without --strict, undecodable files are skipped and listed in the manifest.',
    );
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

export interface PrefetchOptions {
  items: DatasetItem[];
  batchSize: number;
  /** Index of the first batch to decode (a resumed run starts after the committed ones). */
  firstBatch: number;
  root: string;
  spec: PreprocessSpec;
  /** Images decoded at once, over all prefetched batches; the shared limit keeps them in list order. */
  concurrency: number;
  strict: boolean;
  /** Pixels decoded at once, at most (see pixelBudget.ts); default DEFAULT_DECODE_PIXEL_BUDGET. */
  pixelBudget?: number | undefined;
}

export class BatchPrefetcher {
  private readonly pool: DecodePool;
  private readonly limit: ReturnType<typeof pLimit>;
  /** The decode admission (its `peak` is the largest sum of pixels decoded at once). */
  readonly budget: PixelBudget;
  private readonly queue: Promise<DecodedBatch>[] = [];
  // Batch b decodes into ring[b % (PREFETCH + 1)]: when batch b + PREFETCH starts (after batch b is taken),
  // the buffer it reuses held batch b - 1, whose inference has finished.
  private readonly ring: Float32Array[];
  private readonly nBatches: number;
  private queued: number;

  constructor(private readonly o: PrefetchOptions) {
    this.pool = new DecodePool(decodeWorkers(o.concurrency));
    this.limit = pLimit(o.concurrency);
    this.budget = new PixelBudget(o.pixelBudget ?? DEFAULT_DECODE_PIXEL_BUDGET);
    this.ring = Array.from({ length: PREFETCH + 1 }, () =>
      sharedBatchBuffer(o.batchSize * 3 * o.spec.crop * o.spec.crop),
    );
    this.nBatches = Math.ceil(o.items.length / o.batchSize);
    this.queued = o.firstBatch;
    this.fill();
  }

  private fill(): void {
    const { items, batchSize } = this.o;
    while (this.queued < this.nBatches && this.queue.length < PREFETCH) {
      const b = this.queued++;
      const p = decodeBatch(
        this.pool,
        this.ring[b % this.ring.length]!,
        items.slice(b * batchSize, Math.min(items.length, (b + 1) * batchSize)),
        this.o.root,
        this.o.spec,
        this.limit,
        this.o.strict,
        this.budget,
      );
      // Keep a rejected prefetch from surfacing as an unhandled rejection if we stop early.
      p.catch(() => {});
      this.queue.push(p);
    }
  }

  /** The next batch in order. Its buffer stays untouched until the batch after next has been taken. */
  async next(): Promise<DecodedBatch> {
    const p = this.queue.shift();
    if (!p) throw new RangeError('BatchPrefetcher.next: no batches left');
    const cur = await p;
    this.fill();
    return cur;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
