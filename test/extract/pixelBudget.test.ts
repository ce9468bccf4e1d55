/**
 * Decode admission by pixels: with large images, the sum of the pixels decoded at once never exceeds the
 * budget (instrumented, not timed), every image is still decoded, and one image larger than the budget is
 * decoded alone rather than never.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { BatchPrefetcher } from '../../src/extract/batchPrefetch.js';
import { PixelBudget } from '../../src/extract/pixelBudget.js';
import { headerSize } from '../../src/image/imageSize.js';
import { resolvePreprocess } from '../../src/image/preprocessSpec.js';
import { tempDir } from '../helpers/fixtures.js';

async function png(path: string, w: number, h: number): Promise<void> {
  await sharp({ create: { width: w, height: h, channels: 3, background: { r: 10, g: 200, b: 30 } } })
    .png({ compressionLevel: 1 })
    .toFile(path);
}

describe('pixel budget', () => {
  it('headerSize reads PNG, JPEG and WebP dimensions', async () => {
    const dir = tempDir('fcprobe-px-');
    for (const [fmt, w, h] of [
      ['png', 301, 177],
      ['jpeg', 640, 33],
      ['webp', 99, 1000],
    ] as const) {
      const p = join(dir, `x.${fmt}`);
      await sharp({ create: { width: w, height: h, channels: 3, background: '#123456' } })
        .toFormat(fmt)
        .toFile(p);
      assert.deepEqual(headerSize(readFileSync(p)), { width: w, height: h }, fmt);
    }
  });

  it('PixelBudget admits in order, within the budget; a too-large request goes alone', async () => {
    const b = new PixelBudget(10);
    const r1 = await b.acquire(6);
    let second = false;
    const p2 = b.acquire(6).then((r) => {
      second = true;
      return r;
    });
    await Promise.resolve();
    assert.equal(second, false, '6 + 6 > 10 waits');
    r1();
    const r2 = await p2;
    r2();
    const big = await b.acquire(25);
    big();
    assert.equal(b.peak, 25, 'the oversized request ran alone');
  });

  it('eight 1500x1500 PNGs with a 5 MP budget: the pixels in flight never exceed it, all decoded', async () => {
    const dir = tempDir('fcprobe-px-');
    const items = [];
    for (let i = 0; i < 8; i++) {
      await png(join(dir, `${i}.png`), 1500, 1500);
      items.push({ file: `${i}.png`, label: 0 });
    }
    const spec = resolvePreprocess({ preset: 'torchvision', resize: 16, crop: 16 }, null);
    const budget = 5_000_000;
    const pf = new BatchPrefetcher({
      items,
      batchSize: 4,
      firstBatch: 0,
      root: dir,
      spec,
      concurrency: 8,
      strict: true,
      pixelBudget: budget,
    });
    try {
      const a = await pf.next();
      const b = await pf.next();
      assert.equal(a.rows + b.rows, 8);
    } finally {
      await pf.close();
    }
    assert.ok(pf.budget.peak <= budget, `peak ${pf.budget.peak} within ${budget}`);
    assert.ok(pf.budget.peak >= 1500 * 1500, 'the pixels were counted');
  });
});
