/**
 * Decode admission by pixels: the sum of the decoded sizes (width x height, read from each file's header) of
 * the images being decoded at once stays within a budget, so peak memory depends on the budget, not on the
 * images or the number of cores. Eight 16384x16384 PNGs (6 MB on disk) decoded at once took 6.5 GB; with the
 * default budget they decode one after another.
 */
import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { headerPixels } from '../image/imageSize.js';

/**
 * Default budget: 2^28 pixels (268 MP, sharp's own per-image limit in image/decode.ts), i.e. ~0.8 GB of
 * decoded RGB plus the decoder's working copies: one image at that limit decodes alone, and peak RSS stays
 * under ~2 GiB whatever the core count. Ordinary photos (0.2-12 MP) are not held back by it.
 */
export const DEFAULT_DECODE_PIXEL_BUDGET = 1 << 28;

/** Bytes of a file's start read to find its dimensions (JPEGs put EXIF, up to 64 KB, before the frame header). */
const HEADER_BYTES = 128 * 1024;

/**
 * Pixels the decoded image will hold, from the file's header; `fallback` when the header cannot be read or
 * is not understood (the decoder then reports a bad file, or the image is admitted as if it were that large).
 * `at` and `size`: a tar member's byte range (its header is read from there, never past its end).
 */
export async function filePixels(path: string, fallback: number, at = 0, size = HEADER_BYTES): Promise<number> {
  let fh: Awaited<ReturnType<typeof open>> | null = null;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const length = Math.min(HEADER_BYTES, size);
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, at);
    const px = headerPixels(buf.subarray(0, bytesRead));
    return px !== null && px > 0 ? px : fallback;
  } catch {
    return fallback;
  } finally {
    await fh?.close();
  }
}

/** A counting semaphore over pixels, first come first served. */
export class PixelBudget {
  private inFlight = 0;
  /** Largest sum of admitted pixels at any time (for tests and the benchmark). */
  peak = 0;
  private readonly waiting: { px: number; go: () => void }[] = [];

  /** budget: pixels; an image larger than the whole budget is admitted alone. */
  constructor(readonly budget: number) {
    if (!(Number.isInteger(budget) && budget > 0)) throw new RangeError(`pixel budget ${budget}`);
  }

  private fits(px: number): boolean {
    return this.inFlight === 0 || this.inFlight + px <= this.budget;
  }

  private take(px: number): void {
    this.inFlight += px;
    this.peak = Math.max(this.peak, this.inFlight);
  }

  /** Waits until `px` pixels fit, then holds them; call the returned function once to give them back. */
  async acquire(px: number): Promise<() => void> {
    if (this.waiting.length === 0 && this.fits(px)) this.take(px);
    else await new Promise<void>((go) => this.waiting.push({ px, go })); // wake() takes the pixels for us
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= px;
      this.wake();
    };
  }

  private wake(): void {
    // In order: a large image at the head is not overtaken by smaller ones behind it (no starvation).
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.px)) {
      const next = this.waiting.shift()!;
      this.take(next.px);
      next.go();
    }
  }
}
